// "That is me, not the recipient": when the sender looks at a tracked email in Gmail
// (their Sent folder, the conversation with the reply), Gmail loads its images through
// Google's image proxy, which the sender's declarativeNetRequest rule cannot see. So
// the content script tells the worker, which tells the server (POST
// /threads/self-view), and the server files proxy loads of that thread around now as
// `self`.
//
// Two signals, whichever comes first: an image of ours appearing in a shown message
// (its proxied address ends in "#<public URL>/p/<token>.gif"), and the conversation id
// in the URL or heading when a conversation opens.
//
// A classic script: defines `globalThis.EngageReadingView`.
(() => {
  "use strict";
  if (globalThis.EngageReadingView) return;
  const G = globalThis.EngageGmail;
  const link = globalThis.EngageContent;
  const { MSG } = globalThis.EngageMessages;

  const reported = new WeakSet();
  let pending = [];
  let timer = null;
  let lastThread = "";

  function flush() {
    timer = null;
    const pixels = [...new Set(pending)];
    pending = [];
    const gmailThreadId = G.openThreadId(document);
    if (!pixels.length && (!gmailThreadId || gmailThreadId === lastThread)) return;
    lastThread = gmailThreadId || lastThread;
    link.ask(MSG.SELF_VIEW, { pixels, gmailThreadId }, 5000).catch(() => {});
  }

  function schedule() {
    // Batch the images of one conversation into one report, but do not wait: the
    // proxy is fetching them right now.
    if (!timer) timer = setTimeout(flush, 0);
  }

  /** Look at nodes Gmail just added; called by main.js for every mutation batch. */
  function scan(nodes) {
    if (!link.context.signedIn || !link.context.publicUrl) return;
    for (const node of nodes) {
      if (node.nodeType !== 1) continue;
      for (const img of G.pixelImages(node, link.context.publicUrl)) {
        if (reported.has(img)) continue;
        reported.add(img);
        pending.push(G.unproxied(img.getAttribute("src") || ""));
      }
    }
    if (pending.length) schedule();
  }

  function onNavigate() {
    if (link.context.signedIn && G.openThreadId(document)) schedule();
  }

  window.addEventListener("hashchange", onNavigate);
  globalThis.EngageReadingView = Object.freeze({ scan, onNavigate });
})();
