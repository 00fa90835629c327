// Numbers and names every part of the extension agrees on. A classic script, like
// shared/messages.js, defining `globalThis.EngageConfig`.
(() => {
  "use strict";
  if (globalThis.EngageConfig) return;
  globalThis.EngageConfig = Object.freeze({
    // The most the send path may hold an email back, from the click (or Ctrl+Enter)
    // to Gmail's own send handler. Past it the email goes out untouched.
    SEND_BUDGET_MS: 400,
    // Of that budget, the share the worker may spend waiting for the server; the rest
    // covers messaging, client_py's plan and the DOM edit.
    SERVER_SHARE: 0.7,
    // Where "open in Gmail" goes when no Gmail tab is open.
    GMAIL_BASE_URL: "https://mail.google.com/mail/u/0/",
    // Thread ids the extension invents for new emails (Gmail gives the thread its
    // own id only once it is sent): "gmail-draft:<Gmail's draft id>".
    DRAFT_THREAD_PREFIX: "gmail-draft:",
    // The side panel asks for this many threads at a time.
    PANEL_PAGE_SIZE: 50,
    // Polling when the live stream is down (Chrome's floor for alarms is 30 s).
    POLL_MINUTES: 0.5,
    // How long a "the sender is viewing this thread" report suppresses notifications
    // for that thread (the server re-files proxy loads for 120 s).
    SELF_VIEW_QUIET_MS: 120000,
  });
})();
