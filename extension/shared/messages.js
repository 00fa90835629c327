// Message ids and the one request/reply format shared by every part of the extension:
// the service worker, the offscreen document, the content script, the side panel and
// the options page. A classic script (content scripts cannot be ES modules) that ES
// modules load with `import "../shared/messages.js"`; it defines
// `globalThis.EngageMessages` and nothing else. Errors are the one EngageError of
// client_js/engage_error.js (lib/engage_error.js), loaded before this file everywhere.
//
// Every message is `{to, id, payload}`. `to` names the one context that answers it:
// chrome.runtime.sendMessage reaches every extension page at once, so each listener
// ignores messages addressed elsewhere and THROWS on an id it does not know (a typo
// must fail loudly, not time out). Replies are `{ok: true, value}` or
// `{ok: false, error: {code, message}}`.
(() => {
  "use strict";
  if (globalThis.EngageMessages) return;

  const TARGET = Object.freeze({
    WORKER: "worker", // background/service_worker.js: storage, server calls, badge
    OFFSCREEN: "offscreen", // offscreen/offscreen.js: Pyodide + client_py, live stream
    PAGES: "pages", // side panel and options page: broadcasts only, no replies expected
    GMAIL: "gmail", // content script in a Gmail tab (chrome.tabs.sendMessage)
  });

  const MSG = Object.freeze({
    // content script -> worker
    HELLO: "hello", // a Gmail tab started: enable the side panel there, return the context
    DECIDE: "decide", // would this compose be tracked automatically, and why
    DRAFT_PIXEL: "draft-pixel", // a tracked email's pixel, for its draft (not registered yet)
    PREPARE_SEND: "prepare-send", // register the email and plan the body edits
    VERIFY_BODY: "verify-body", // does the edited body hold the pixel and tracked links
    SEND_OUTCOME: "send-outcome", // what the send path did, with its timings
    SELF_VIEW: "self-view", // the sender is looking at a tracked email in Gmail
    REPLIES_SEEN: "replies-seen", // the messages of an open conversation: replies among them?
    OPEN_OPTIONS: "open-options",
    MARKS: "marks", // marks for Gmail thread ids in a list and pixels in a conversation
    MARK_OPEN: "mark-open", // a mark was clicked: its thread in the side panel
    SENT_SEEN: "sent-seen", // Gmail's "Message sent" toast named the sent message's id
    // options page / side panel -> worker
    GET_STATE: "get-state",
    SIGN_IN: "sign-in",
    SIGN_OUT: "sign-out",
    SAVE_SETTINGS: "save-settings",
    PANEL_RENDER: "panel-render",
    PANEL_PIN: "panel-pin",
    PANEL_VIEWED: "panel-viewed",
    PANEL_OPEN: "panel-open",
    COUNTER_RESET: "counter-reset",
    PANEL_FEED: "panel-feed", // the activity feed, rendered by client_py
    PANEL_FEED_TICK: "panel-feed-tick", // the same items again: relative times tick
    PANEL_DUE: "panel-due", // the Due section (follow-up reminders)
    PANEL_REMIND: "panel-remind", // set a reminder on a thread
    PANEL_REMINDER_ACTION: "panel-reminder-action", // snooze, done or cancel one
    INSIGHTS_RENDER: "insights-render",
    INSIGHTS_EXPORT: "insights-export",
    MARK_FOCUS: "mark-focus", // panel -> worker: which thread to show; worker -> panel: show it
    // offscreen -> worker
    OFFSCREEN_READY: "offscreen-ready",
    STREAM_EVENT: "stream-event",
    STREAM_STATE: "stream-state",
    STREAM_NEED_TICKET: "stream-need-ticket",
    // worker -> offscreen
    PYTHON: "python", // {fn, args}: call one function of offscreen/engage_bridge.py
    STREAM_CONNECT: "stream-connect",
    STREAM_DISCONNECT: "stream-disconnect",
    STREAM_STATUS: "stream-status",
    // worker -> Gmail tabs (chrome.tabs.sendMessage) and pages (broadcast)
    CONTEXT_CHANGED: "context-changed",
    ENGAGEMENT: "engagement", // new event or counter change: refresh what you show
    MARKS_CHANGED: "marks-changed", // these threads' marks are stale: ask again
    STATE_CHANGED: "state-changed", // signed in / out, settings saved, stream up / down
  });

  const KNOWN = new Set(Object.values(MSG));

  /** An error that crosses a message boundary as {code, message}. */
  const { EngageError } = globalThis;
  if (typeof EngageError !== "function") throw new Error("load lib/engage_error.js before shared/messages.js");

  function toWire(error) {
    return {
      code: error?.code || "internal",
      message: String(error?.message || error),
      ...(error?.details ? { details: error.details } : {}),
    };
  }

  const fromWire = EngageError.fromWire;

  function timeout(ms, what) {
    return new Promise((_, reject) =>
      setTimeout(() => reject(new EngageError("timeout", `${what} did not answer within ${ms} ms`)), ms));
  }

  /**
   * Send `id` to the context `to` and return its reply's value; throws EngageError.
   * `tabId` sends to a content script instead of the extension's own pages.
   */
  async function request(to, id, payload = {}, { timeoutMs = 0, tabId } = {}) {
    if (!KNOWN.has(id)) throw new EngageError("unknown_message", `Unknown message id ${JSON.stringify(id)}`);
    const message = { to, id, payload };
    const sent = tabId === undefined
      ? chrome.runtime.sendMessage(message)
      : chrome.tabs.sendMessage(tabId, message);
    const reply = await (timeoutMs > 0 ? Promise.race([sent, timeout(timeoutMs, `${to}/${id}`)]) : sent);
    if (!reply) throw new EngageError("no_reply", `${to} did not handle ${id}`);
    if (!reply.ok) throw fromWire(reply.error);
    return reply.value;
  }

  /** Send without waiting for anyone (broadcasts to pages that may not be open). */
  function notify(to, id, payload = {}, { tabId } = {}) {
    if (!KNOWN.has(id)) throw new EngageError("unknown_message", `Unknown message id ${JSON.stringify(id)}`);
    const message = { to, id, payload };
    const sent = tabId === undefined
      ? chrome.runtime.sendMessage(message)
      : chrome.tabs.sendMessage(tabId, message);
    // "Receiving end does not exist" just means no such page is open right now.
    Promise.resolve(sent).catch(() => {});
  }

  /**
   * Answer messages addressed to `target` with `handlers[id](payload, sender)`.
   * Handlers may be async. Unknown ids throw: the sender gets the error, and so does
   * this context's console.
   */
  function listen(target, handlers) {
    for (const id of Object.keys(handlers)) {
      if (!KNOWN.has(id)) throw new EngageError("unknown_message", `Handler for unknown message id ${id}`);
    }
    const listener = (message, sender, sendResponse) => {
      if (!message || message.to !== target) return false;
      const handler = Object.prototype.hasOwnProperty.call(handlers, message.id) ? handlers[message.id] : null;
      Promise.resolve()
        .then(() => {
          if (!handler) {
            throw new EngageError("unknown_message", `${target} has no handler for ${JSON.stringify(message.id)}`);
          }
          return handler(message.payload || {}, sender);
        })
        .then(
          (value) => sendResponse({ ok: true, value: value === undefined ? null : value }),
          (error) => {
            if (error?.code === "unknown_message" || !(error instanceof EngageError)) console.error(error);
            sendResponse({ ok: false, error: toWire(error) });
          },
        );
      return true; // the reply is asynchronous
    };
    chrome.runtime.onMessage.addListener(listener);
    return listener;
  }

  globalThis.EngageMessages = Object.freeze({ TARGET, MSG, EngageError, request, notify, listen, toWire });
})();
