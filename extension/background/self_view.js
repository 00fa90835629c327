// The sender is looking at one of their tracked emails in Gmail: tell the server
// (POST /threads/self-view) so that Gmail proxy loads of that thread around now are
// filed as `self`, and keep quiet about them here (no notification).
//
// The content script reports pixel addresses it saw in shown messages and the id of
// the open conversation. A pixel address names a tracked email by its token; this
// browser remembers which thread each token it sent belongs to (store.sentEmails),
// and learns which Gmail conversation that is, for "open in Gmail" and for replies.
import "../shared/constants.js";
import { sessionCall } from "./api.js";
import * as store from "./store.js";

const { SELF_VIEW_QUIET_MS } = globalThis.EngageConfig;
const REPORT_AGAIN_MS = 20000; // the server's window is 120 s; do not report on every scroll
// The proxy fetches the pixel at the very moment the view is reported, and the server
// may store that hit just after handling the report (its hits are ingested in
// batches): a second report a little later re-files what the first one missed.
const FOLLOW_UP_MS = 2000;

const viewed = new Map(); // thread id -> when the sender was last seen viewing it
const reportedAt = new Map();
let onReclassified = () => {};

/** Called with the thread id when the server re-filed loads as the sender's own. */
export function setReclassifiedHandler(handler) {
  onReclassified = handler;
}

async function post(session, threadId) {
  const answer = await sessionCall(session, "POST", "/threads/self-view", { body: { thread_id: threadId } });
  if (answer.reclassified) await onReclassified(threadId);
  return answer;
}

function followUp(session, threadId) {
  setTimeout(() => {
    // Whatever it re-filed, show the server's counter as it now is.
    post(session, threadId).then(() => onReclassified(threadId), () => {});
  }, FOLLOW_UP_MS);
}

export function recentlyViewed(threadId) {
  const at = viewed.get(threadId);
  return at !== undefined && Date.now() - at < SELF_VIEW_QUIET_MS;
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The token of a pixel address of `publicUrl`, or null. */
export function pixelToken(publicUrl, url) {
  const match = new RegExp(`^${escapeRegExp(publicUrl)}/p/([A-Za-z0-9_-]+)\\.gif(?:[?#].*)?$`).exec(url || "");
  return match ? match[1] : null;
}

/** The thread id registered with the server for a Gmail conversation id, if known. */
export async function threadForGmailId(gmailThreadId) {
  if (!gmailThreadId) return null;
  const aliases = await store.aliases();
  return aliases[gmailThreadId] || null;
}

export async function reportSelfView({ pixels = [], gmailThreadId = "" }) {
  const session = await store.getSession();
  if (!session) return { reported: [] };
  const sent = await store.sentEmails();
  const threads = new Set();
  for (const url of pixels) {
    const token = pixelToken(session.me.public_url, url);
    const entry = token && sent[token];
    if (!entry) continue;
    threads.add(entry.thread_id);
    // A new email's thread id was made up before Gmail gave it one: remember Gmail's.
    if (gmailThreadId && gmailThreadId !== entry.thread_id) await store.addAlias(gmailThreadId, entry.thread_id);
  }
  if (gmailThreadId) {
    // Replies are registered under Gmail's own id, new emails reach it by an alias.
    // Other conversations are reported only when they show a pixel of ours (tracked
    // from another browser): the server need not hear of every conversation opened.
    const alias = await threadForGmailId(gmailThreadId);
    const known = Object.values(sent).some((entry) => entry.thread_id === gmailThreadId);
    if (alias) threads.add(alias);
    else if (known || pixels.length) threads.add(gmailThreadId);
  }
  const now = Date.now();
  const reported = [];
  for (const threadId of threads) {
    viewed.set(threadId, now);
    if (now - (reportedAt.get(threadId) || 0) < REPORT_AGAIN_MS) continue;
    reportedAt.set(threadId, now);
    try {
      const answer = await post(session, threadId);
      reported.push({ thread_id: threadId, reclassified: answer.reclassified });
      followUp(session, threadId);
    } catch (error) {
      // 404: a conversation this user never tracked. Anything else: try again next time.
      if (error.details?.status !== 404) reportedAt.delete(threadId);
    }
  }
  await store.setDiagnostic("lastSelfView", { threads: [...threads], reported, at: now });
  return { reported };
}
