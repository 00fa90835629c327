// Starts the content script in a Gmail tab: says hello to the worker (which enables the
// Engagement side panel for this tab and tells us who is signed in), gives every
// compose window its toggle, and watches shown messages for the sender's own views.
// The send guard (send_guard.js) is already listening: it was installed at
// document_start, before Gmail's own scripts.
(() => {
  "use strict";
  const G = globalThis.EngageGmail;
  const Compose = globalThis.EngageCompose;
  const Reading = globalThis.EngageReadingView;
  const Replies = globalThis.EngageReplyWatch;
  const Marks = globalThis.EngageListMarks;
  const link = globalThis.EngageContent;
  const { TARGET, MSG, listen } = globalThis.EngageMessages;

  const SCAN_INTERVAL_MS = 150;
  let scanTimer = null;

  function scanComposes() {
    scanTimer = null;
    for (const body of G.bodies()) {
      const compose = G.composeOf(body);
      if (compose) Compose.attach(compose);
    }
  }

  function scheduleScan() {
    if (!scanTimer) scanTimer = setTimeout(scanComposes, SCAN_INTERVAL_MS);
  }

  async function hello() {
    try {
      link.updateContext(await link.ask(MSG.HELLO, {}, 10000));
    } catch {
      link.updateContext({ signedIn: false });
    }
  }

  listen(TARGET.GMAIL, {
    [MSG.CONTEXT_CHANGED]: (context) => {
      link.updateContext(context);
      return true;
    },
    [MSG.MARKS_CHANGED]: (payload) => Marks.changed(payload),
  });

  link.onContext(() => {
    Compose.refreshAll();
    if (document.documentElement) Reading.scan([document.documentElement]);
    Reading.onNavigate();
    Replies.check();
    Marks.reset();
  });

  function observe() {
    new MutationObserver((mutations) => {
      const added = [];
      for (const mutation of mutations) {
        for (const node of mutation.addedNodes) added.push(node);
      }
      if (!added.length) return;
      scheduleScan();
      Reading.scan(added);
      Replies.check();
    }).observe(document.documentElement, { childList: true, subtree: true });
    scanComposes();
    Reading.scan([document.documentElement]);
  }

  hello();
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", observe, { once: true });
  else observe();
})();
