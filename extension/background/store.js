// The one owner of the extension's storage. Nothing else reads or writes
// chrome.storage: content scripts, the side panel and the options page ask the worker
// (and content scripts cannot: restrictStorage).
//
// chrome.storage.local (kept across restarts):
//   session   {serverUrl, token, me: {user, org, settings, public_url}}  -- signed in
//   sent      {<pixel token>: {thread_id, message_id, subject, mode, at}} -- emails this
//             browser tracked, to recognise the sender's own views of them
//   aliases   {<Gmail thread id>: <thread id registered with the server>}
// chrome.storage.session (until the browser quits): diagnostics for the options page
// and the benchmark: pyodide start-up, the last send timings, the stream's state.

// Content scripts run in Gmail's page and may read chrome.storage.local by default:
// the session's API token must not be there for them. Trusted contexts only (the
// worker, the offscreen document, the options page and the side panel); Chrome keeps
// the setting across restarts.
export async function restrictStorage() {
  await chrome.storage.local.setAccessLevel({ accessLevel: "TRUSTED_CONTEXTS" });
  await chrome.storage.session.setAccessLevel({ accessLevel: "TRUSTED_CONTEXTS" });
}

const SENT_KEEP = 2000; // the newest tracked emails remembered locally
const TIMINGS_KEEP = 50;

let sessionCache; // undefined: not read yet; null: signed out

export async function getSession() {
  if (sessionCache === undefined) {
    const { session } = await chrome.storage.local.get("session");
    sessionCache = session || null;
  }
  return sessionCache;
}

export async function setSession(session) {
  sessionCache = session;
  await chrome.storage.local.set({ session });
}

export async function clearSession() {
  sessionCache = null;
  await chrome.storage.local.remove(["session", "sent", "aliases"]);
}

/** Replace the stored settings (after the server confirmed them). */
export async function setSettings(settings) {
  const session = await getSession();
  if (!session) return null;
  return setSession({ ...session, me: { ...session.me, settings } });
}

export async function setMe(me) {
  const session = await getSession();
  if (!session) return null;
  return setSession({ ...session, me: { ...session.me, ...me } });
}

/** Remember an email this browser tracked, keyed by its pixel token. */
export async function rememberSent(pixelToken, entry) {
  const { sent = {} } = await chrome.storage.local.get("sent");
  sent[pixelToken] = { ...entry, at: Date.now() };
  const tokens = Object.keys(sent);
  if (tokens.length > SENT_KEEP) {
    tokens.sort((a, b) => sent[a].at - sent[b].at);
    for (const old of tokens.slice(0, tokens.length - SENT_KEEP)) delete sent[old];
  }
  await chrome.storage.local.set({ sent });
}

/** Forget the email registered as `messageId` (it did not go out with its pixel). */
export async function forgetSent(messageId) {
  const { sent = {} } = await chrome.storage.local.get("sent");
  const tokens = Object.keys(sent).filter((token) => sent[token].message_id === messageId);
  if (!tokens.length) return;
  for (const token of tokens) delete sent[token];
  await chrome.storage.local.set({ sent });
}

export async function sentEmails() {
  const { sent = {} } = await chrome.storage.local.get("sent");
  return sent;
}

export async function aliases() {
  const { aliases: map = {} } = await chrome.storage.local.get("aliases");
  return map;
}

export async function addAlias(gmailThreadId, threadId) {
  const map = await aliases();
  if (map[gmailThreadId] === threadId) return;
  map[gmailThreadId] = threadId;
  await chrome.storage.local.set({ aliases: map });
}

export async function diagnostics() {
  return chrome.storage.session.get(null);
}

export async function setDiagnostic(key, value) {
  await chrome.storage.session.set({ [key]: value });
}

export async function addSendTiming(timing) {
  const { sendTimings = [] } = await chrome.storage.session.get("sendTimings");
  sendTimings.push(timing);
  await chrome.storage.session.set({ sendTimings: sendTimings.slice(-TIMINGS_KEEP) });
}
