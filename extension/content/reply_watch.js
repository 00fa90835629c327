// Replies: a recipient's message arriving in a tracked conversation. Gmail shows the
// messages of the open conversation oldest first; whenever that list changes (a
// conversation opens, a new message arrives while it is open) the content script
// tells the worker which messages it shows, and the worker (background/replies.js)
// reports those from a recipient after the user's tracked email to the server.
//
// A classic script: defines `globalThis.EngageReplyWatch`.
(() => {
  "use strict";
  if (globalThis.EngageReplyWatch) return;
  const G = globalThis.EngageGmail;
  const link = globalThis.EngageContent;
  const { MSG } = globalThis.EngageMessages;

  let lastKey = "";
  let timer = null;

  function flush() {
    timer = null;
    const gmailThreadId = G.openThreadId(document);
    if (!gmailThreadId) return;
    const messages = G.conversationMessages(document);
    const key = `${gmailThreadId}:${messages.map((m) => m.id).join(",")}`;
    if (!messages.length || key === lastKey) return;
    lastKey = key;
    link.ask(MSG.REPLIES_SEEN, { gmailThreadId, messages }, 10000).catch(() => { lastKey = ""; });
  }

  /** Called by main.js for every mutation batch and navigation. */
  function check() {
    if (!link.context.signedIn) return;
    if (!timer) timer = setTimeout(flush, 50);
  }

  window.addEventListener("hashchange", check);
  globalThis.EngageReplyWatch = Object.freeze({ check });
})();
