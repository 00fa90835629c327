// The content script's line to the service worker, and what it knows of the user:
// signed in or not, the tracking server's public address. Content scripts never touch
// storage or the server themselves.
//
// After the extension is updated or reloaded, a content script left in an open Gmail
// tab loses chrome.runtime ("Extension context invalidated"): every call then fails
// fast, and the send path sends the email untouched.
//
// A classic script: defines `globalThis.EngageContent`.
(() => {
  "use strict";
  if (globalThis.EngageContent) return;
  const { TARGET, EngageError, request, notify } = globalThis.EngageMessages;

  const context = { signedIn: false, publicUrl: "", autoInsert: true, ready: false };
  const listeners = new Set();

  function alive() {
    try {
      return Boolean(chrome.runtime && chrome.runtime.id);
    } catch {
      return false;
    }
  }

  async function ask(id, payload = {}, timeoutMs = 5000) {
    if (!alive()) throw new EngageError("extension_reloaded", "Engage was updated: reload Gmail to use it.");
    return request(TARGET.WORKER, id, payload, { timeoutMs });
  }

  function tell(id, payload = {}) {
    if (!alive()) return;
    try {
      notify(TARGET.WORKER, id, payload);
    } catch {
      // The extension went away under us: nothing to report to.
    }
  }

  function updateContext(next) {
    Object.assign(context, next || {}, { ready: true });
    for (const listener of listeners) listener(context);
  }

  function onContext(listener) {
    listeners.add(listener);
  }

  globalThis.EngageContent = { context, ask, tell, updateContext, onContext, alive };
})();
