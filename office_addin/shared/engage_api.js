// Engage's add-in pages, shared part (a classic script, loaded before the others):
// the server API client, where the sign-in token lives, the task-pane-open flag,
// Outlook item ids of tracked emails, and the hand-over of the Python engine.
//
// Token storage: the task pane signs in and keeps the token in localStorage, which
// every Engage page of this origin shares inside Outlook on the web (the task pane and
// the UI-less runtime are frames of the same top-level Outlook page, so they also share
// a storage partition). Inside Outlook it is also saved to Office.context.roamingSettings
// (stored in the user's mailbox) as a fallback, for runtimes that do not share the
// browser's storage with the task pane. Signing out clears both.
(function (global) {
  "use strict";

  const KEYS = {
    token: "engage.token",
    me: "engage.me",
    pane: "engage.taskpane",
    outlookIds: "engage.outlookIds",
    outbox: "engage.outbox",
    notices: "engage.notices",
  };
  const MAX_OUTBOX = 200;
  const MAX_NOTICES = 5;
  const ROAMING_TOKEN = "engageToken";
  const PANE_FRESH_MS = 6000; // the task pane refreshes its flag every 2 s
  const MAX_REMEMBERED_IDS = 500;

  function publicUrl() {
    const meta = global.document && document.querySelector('meta[name="engage-public-url"]');
    const value = meta && meta.content && !meta.content.startsWith("${") ? meta.content : global.location.origin;
    return value.replace(/\/+$/, "");
  }

  function storage() {
    try {
      return global.localStorage || null;
    } catch (error) {
      return null; // storage blocked: behave as signed out
    }
  }

  function readJson(key) {
    const store = storage();
    try {
      return store ? JSON.parse(store.getItem(key) || "null") : null;
    } catch (error) {
      return null;
    }
  }

  function writeJson(key, value) {
    const store = storage();
    if (store) store.setItem(key, JSON.stringify(value));
  }

  function roaming() {
    const office = global.Office;
    return office && office.context && office.context.roamingSettings ? office.context.roamingSettings : null;
  }

  /** Save roaming settings; resolves either way (the token is in localStorage too). */
  function saveRoaming(settings) {
    return new Promise((resolve) => {
      try {
        settings.saveAsync((result) => {
          if (result.status !== "succeeded") console.warn("Engage: roaming settings not saved", result.error);
          resolve();
        });
      } catch (error) {
        resolve();
      }
    });
  }

  function token() {
    const store = storage();
    const local = store && store.getItem(KEYS.token);
    if (local) return local;
    const settings = roaming();
    const saved = settings && settings.get(ROAMING_TOKEN);
    return typeof saved === "string" && saved ? saved : null;
  }

  async function setToken(value) {
    const store = storage();
    if (store) store.setItem(KEYS.token, value);
    const settings = roaming();
    if (settings) {
      settings.set(ROAMING_TOKEN, value);
      await saveRoaming(settings);
    }
  }

  async function signOut() {
    const store = storage();
    if (store) {
      store.removeItem(KEYS.token);
      store.removeItem(KEYS.me);
    }
    const settings = roaming();
    if (settings) {
      settings.remove(ROAMING_TOKEN);
      await saveRoaming(settings);
    }
  }

  // An error answer of the API, or no answer (status 0): the one EngageError of
  // client_js/engage_error.js (lib/engage_error.js, loaded before this file).
  const EngageError = global.EngageError;

  async function request(method, path, body, options) {
    const opts = options || {};
    const headers = { Accept: "application/json" };
    const bearer = opts.token === undefined ? token() : opts.token;
    if (bearer) headers.Authorization = `Bearer ${bearer}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), opts.timeoutMs || 15000);
    let response;
    try {
      response = await fetch(`${publicUrl()}/api/v1${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal,
        credentials: "omit",
        cache: "no-store",
      });
    } catch (error) {
      const timedOut = error && error.name === "AbortError";
      throw new EngageError(timedOut ? "timeout" : "unreachable",
        timedOut ? "The Engage server did not answer in time." : "The Engage server cannot be reached.");
    } finally {
      clearTimeout(timer);
    }
    let payload = null;
    try {
      payload = await response.json();
    } catch (error) {
      payload = null;
    }
    if (!response.ok) {
      const err = (payload && payload.error) || {};
      const code = response.status === 401 ? "unauthorized" : err.code || `http_${response.status}`;
      throw new EngageError(code, err.message || `The Engage server answered ${response.status}.`,
        { status: response.status, ...(err.details ? { details: err.details } : {}) });
    }
    return payload;
  }

  /** GET /me, remembered for the runtime (which must decide quickly on send). */
  async function me(options) {
    const opts = options || {};
    const cached = readJson(KEYS.me);
    if (cached && opts.maxAgeMs !== undefined && Date.now() - cached.at <= opts.maxAgeMs) return cached.me;
    try {
      const fresh = await request("GET", "/me", undefined, { timeoutMs: opts.timeoutMs });
      writeJson(KEYS.me, { at: Date.now(), me: fresh });
      return fresh;
    } catch (error) {
      if (cached && opts.staleOk && error.status === 0) return cached.me;
      throw error;
    }
  }

  function rememberMe(value) {
    writeJson(KEYS.me, { at: Date.now(), me: value });
  }

  function updateCachedSettings(settings) {
    const cached = readJson(KEYS.me);
    if (cached) writeJson(KEYS.me, { at: cached.at, me: { ...cached.me, settings } });
  }

  // -- "is the Engage task pane open?" -----------------------------------------------
  function markPaneOpen() {
    writeJson(KEYS.pane, { until: Date.now() + PANE_FRESH_MS });
  }

  function markPaneClosed() {
    const store = storage();
    if (store) store.removeItem(KEYS.pane);
  }

  function paneOpen() {
    const flag = readJson(KEYS.pane);
    return Boolean(flag && flag.until > Date.now());
  }

  // -- Outlook item ids of emails Engage registered (to open them from the panel) ----
  function rememberOutlookId(messageId, outlookItemId) {
    if (!messageId || !outlookItemId) return;
    const ids = readJson(KEYS.outlookIds) || {};
    ids[messageId] = outlookItemId;
    const keys = Object.keys(ids);
    for (const old of keys.slice(0, Math.max(0, keys.length - MAX_REMEMBERED_IDS))) delete ids[old];
    writeJson(KEYS.outlookIds, ids);
  }

  function outlookIdFor(messageId) {
    const ids = readJson(KEYS.outlookIds) || {};
    return ids[messageId] || null;
  }

  // -- "an email was just tracked": the runtime tells open panels to refresh ----------
  const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel("engage") : null;

  function announceTracked(messageId) {
    if (channel) channel.postMessage({ type: "tracked", messageId });
  }

  function onTracked(listener) {
    if (channel) channel.addEventListener("message", (event) => {
      if (event.data && event.data.type === "tracked") listener(event.data);
    });
  }

  // -- registrations that could not reach the server when the email was sent ----------
  // The email went out with its pixel (queued at compose time with appendOnSendAsync,
  // so it cannot be taken back at send): register it as soon as the server answers. A
  // registration carries the pixel token, so sending one twice registers one email.
  function queueRegistration(payload) {
    const outbox = (readJson(KEYS.outbox) || []).filter((p) => p.pixel_token !== payload.pixel_token);
    outbox.push(payload);
    writeJson(KEYS.outbox, outbox.slice(-MAX_OUTBOX));
  }

  let flushing = null;

  /** Send what the outbox holds; keeps only what failed for want of a server. */
  function flushRegistrations() {
    if (flushing || !token()) return flushing || Promise.resolve(0);
    flushing = (async () => {
      let sent = 0;
      for (const payload of readJson(KEYS.outbox) || []) {
        try {
          const message = await request("POST", "/messages", payload, { timeoutMs: 10000 });
          sent += 1;
          if (payload.client_message_id) rememberOutlookId(message.id, payload.client_message_id);
          announceTracked(message.id);
        } catch (error) {
          if (error.status === 0 || error.status >= 500 || error.status === 401) continue; // try again later
          console.warn("Engage: registration refused", error); // 4xx: it never will be
        }
        const left = (readJson(KEYS.outbox) || []).filter((p) => p.pixel_token !== payload.pixel_token);
        writeJson(KEYS.outbox, left);
      }
      return sent;
    })().finally(() => {
      flushing = null;
    });
    return flushing;
  }

  // -- what happened to an email on send, for the task pane to tell -------------------
  // After a send the compose window is gone with its notifications, so the runtime also
  // leaves the words here and the task pane shows them.
  function leaveNotice(text) {
    const notices = (readJson(KEYS.notices) || []).concat([{ at: Date.now(), text }]);
    writeJson(KEYS.notices, notices.slice(-MAX_NOTICES));
    if (channel) channel.postMessage({ type: "notice", text });
  }

  /** The notices left since the last call (and forget them). */
  function takeNotices() {
    const notices = readJson(KEYS.notices) || [];
    const store = storage();
    if (store) store.removeItem(KEYS.notices);
    return notices.map((n) => n.text);
  }

  function onNotice(listener) {
    if (channel) channel.addEventListener("message", (event) => {
      if (event.data && event.data.type === "notice") {
        takeNotices();
        listener(event.data.text);
      }
    });
  }

  // -- the Python engine (office_addin/engine.mjs provides it) ------------------------
  let provideEngine;
  const engine = new Promise((resolve) => {
    provideEngine = resolve;
  });
  let engineState = "starting";

  global.EngageApi = {
    KEYS,
    publicUrl,
    token,
    setToken,
    signOut,
    request,
    me,
    rememberMe,
    updateCachedSettings,
    markPaneOpen,
    markPaneClosed,
    paneOpen,
    rememberOutlookId,
    outlookIdFor,
    announceTracked,
    onTracked,
    queueRegistration,
    flushRegistrations,
    leaveNotice,
    takeNotices,
    onNotice,
    /** The engine once engine.mjs has booted it (rejects if it could not start). */
    engineReady: () => engine,
    provideEngine(promise) {
      promise.then(() => { engineState = "ready"; }, () => { engineState = "failed"; });
      provideEngine(promise);
    },
    engineState: () => engineState,
  };
})(typeof window !== "undefined" ? window : globalThis);
