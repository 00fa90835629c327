// Marks in Gmail's lists and conversations: the worker's half.
//
// The content script (content/list_marks.js) asks for every thread id the rows in
// view name, and for the pixels of the messages an open conversation shows, in one
// message per batch; this module asks the server (POST /threads/marks, at most 200
// ids a request: two of Gmail's 100-row pages) for what it has not cached, and
// remembers the answer, "not tracked" included. The stream drops a thread's entries
// (an open, a click, a new email sent) and tells the Gmail tabs to ask again.
import "../shared/messages.js";
import { sessionCall } from "./api.js";
import { pixelToken } from "./self_view.js";
import * as store from "./store.js";

const { TARGET, MSG, notify } = globalThis.EngageMessages;
const GMAIL_THREAD_ID = /^[0-9a-f]{12,20}$/i;
const PER_REQUEST = 200; // the server's limit
const MAX_IDS = 1000; // one ask: a list longer than Gmail ever shows at once is cut
const MAX_PIXELS = 50;
const KEEP_MS = 2 * 60 * 1000; // "last 2 hours ago" stays about right; events refresh sooner
const CACHE_SIZE = 5000;

const cache = new Map(); // "t:<Gmail id>" | "p:<token>" -> {mark|null, thread, at}
const stats = { requests: 0, asked: 0, lookups: 0 };
const changedAt = new Map(); // server thread id -> when the stream last said it changed

function cached(key) {
  const entry = cache.get(key);
  if (!entry || Date.now() - entry.at > KEEP_MS) return undefined;
  return entry;
}

function remember(key, mark, thread) {
  cache.delete(key); // re-inserted: the Map's order is the age order
  cache.set(key, { mark, thread, at: Date.now() });
  while (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value);
}

async function ask(session, threadIds, tokens) {
  const lang = chrome.i18n.getUILanguage();
  const out = { threads: {}, pixels: {} };
  for (let i = 0; i < Math.max(threadIds.length, tokens.length ? 1 : 0); i += PER_REQUEST) {
    const body = { thread_ids: threadIds.slice(i, i + PER_REQUEST), pixel_tokens: i ? [] : tokens, lang };
    stats.requests += 1;
    stats.asked += body.thread_ids.length;
    const answer = await sessionCall(session, "POST", "/threads/marks", { body, timeoutMs: 8000 });
    Object.assign(out.threads, answer.threads || {});
    Object.assign(out.pixels, answer.pixels || {});
  }
  return out;
}

/**
 * {threadIds: [Gmail ids], pixels: [pixel addresses]} -> {threads: {Gmail id: mark},
 * pixels: {address: mark}}; ids that are not tracked are absent. A mark is {state,
 * title, threadId}.
 */
export async function lookup({ threadIds = [], pixels = [] }) {
  const session = await store.getSession();
  if (!session) return { threads: {}, pixels: {} };
  stats.lookups += 1;
  const ids = [...new Set(threadIds.filter((id) => typeof id === "string" && GMAIL_THREAD_ID.test(id)))]
    .slice(0, MAX_IDS).map((id) => id.toLowerCase());
  const tokenOf = new Map();
  for (const url of pixels.slice(0, MAX_PIXELS)) {
    const token = typeof url === "string" ? pixelToken(session.me.public_url, url) : null;
    if (token) tokenOf.set(url, token);
  }
  const aliases = await store.aliases();
  // Replies are registered under Gmail's id; a new email reaches it through an alias.
  const serverId = (id) => aliases[id] || id;
  const missingIds = ids.filter((id) => cached(`t:${id}`) === undefined);
  const missingTokens = [...new Set(tokenOf.values())].filter((t) => cached(`p:${t}`) === undefined);
  const fresh = new Map(); // this answer, for this caller, whether it may be kept or not
  if (missingIds.length || missingTokens.length) {
    const asked = Date.now();
    const answer = await ask(session, [...new Set(missingIds.map(serverId))], missingTokens);
    // An event that arrived while we asked may be newer than the answer: do not keep it.
    const keep = (thread) => !thread || !(changedAt.get(thread) >= asked);
    for (const id of missingIds) {
      const mark = answer.threads[serverId(id)];
      const value = mark ? { ...mark, threadId: serverId(id) } : null;
      fresh.set(`t:${id}`, value);
      if (keep(serverId(id))) remember(`t:${id}`, value, serverId(id));
    }
    for (const token of missingTokens) {
      const mark = answer.pixels[token];
      const value = mark ? { state: mark.state, title: mark.title, threadId: mark.thread_id } : null;
      fresh.set(`p:${token}`, value);
      if (keep(mark && mark.thread_id)) remember(`p:${token}`, value, mark ? mark.thread_id : null);
    }
  }
  const markOf = (key) => (fresh.has(key) ? fresh.get(key) : cached(key)?.mark);
  const out = { threads: {}, pixels: {} };
  for (const id of ids) {
    const mark = markOf(`t:${id}`);
    if (mark) out.threads[id] = mark;
  }
  for (const [url, token] of tokenOf) {
    const mark = markOf(`p:${token}`);
    if (mark) out.pixels[url] = mark;
  }
  await store.setDiagnostic("marks", { ...stats, at: Date.now() });
  return out;
}

/** Forget what is cached for a thread (its server id) and tell the Gmail tabs. */
export async function changed(threadId) {
  if (!threadId) return;
  changedAt.set(threadId, Date.now());
  if (changedAt.size > CACHE_SIZE) changedAt.delete(changedAt.keys().next().value);
  const gmailIds = new Set();
  for (const [key, entry] of cache) {
    if (entry.thread === threadId || key === `t:${threadId}`) {
      cache.delete(key);
      if (key.startsWith("t:")) gmailIds.add(key.slice(2));
    }
  }
  const aliases = await store.aliases();
  for (const [gmailId, id] of Object.entries(aliases)) if (id === threadId) gmailIds.add(gmailId);
  if (GMAIL_THREAD_ID.test(threadId)) gmailIds.add(threadId.toLowerCase());
  const tabs = await chrome.tabs.query({ url: "https://mail.google.com/*" });
  const payload = { threadIds: [...gmailIds], serverIds: [threadId] };
  for (const tab of tabs) notify(TARGET.GMAIL, MSG.MARKS_CHANGED, payload, { tabId: tab.id });
}

/** A stream event: that thread's marks are stale. */
export function onStreamEvent({ event }) {
  if (event?.thread_id) changed(event.thread_id).catch(() => {});
}

// A new email is registered under the id its compose window had ("draft:…"); Gmail's
// id of its conversation appears only in the "Message sent" toast. Pair the two when
// they come within PAIR_MS of each other, and only one of each: two new emails sent at
// once are left to the alias the reading view learns when their conversation is opened.
const PAIR_MS = 15000;
let sentNew = []; // [{threadId, at}] tracked new emails, not yet paired
let toasts = []; // [{gmailId, at}]

async function pair() {
  const now = Date.now();
  sentNew = sentNew.filter((s) => now - s.at < PAIR_MS);
  toasts = toasts.filter((t) => now - t.at < PAIR_MS);
  if (sentNew.length !== 1 || toasts.length !== 1) {
    if (sentNew.length > 1 || toasts.length > 1) sentNew = toasts = []; // ambiguous: guess nothing
    return;
  }
  const [{ threadId }] = sentNew;
  const [{ gmailId }] = toasts;
  sentNew = [];
  toasts = [];
  await store.addAlias(gmailId, threadId);
  await store.setDiagnostic("marksAlias", { gmailId, threadId, at: now });
  await changed(threadId);
}

/** A send went out: a reply's conversation may now have a mark; a new email waits for its toast. */
export function onSendOutcome(outcome) {
  if (!outcome?.applied || !outcome.threadId) return;
  if (GMAIL_THREAD_ID.test(outcome.threadId)) {
    changed(outcome.threadId).catch(() => {}); // a reply: registered under Gmail's id
    return;
  }
  sentNew.push({ threadId: outcome.threadId, at: Date.now() });
  pair().catch(() => {});
}

/** Gmail's toast named the message just sent (content/list_marks.js). */
export async function onSentSeen({ gmailId = "" }) {
  if (!GMAIL_THREAD_ID.test(gmailId)) return { paired: false };
  toasts.push({ gmailId: gmailId.toLowerCase(), at: Date.now() });
  await pair();
  return { paired: true };
}

/** Everything cached belongs to the account that was signed in. */
export function clear() {
  cache.clear();
}

let focus = null; // {threadId, at}: the thread a click on a mark asked the panel to show
let opening = Promise.resolve();
const FOCUS_KEEP_MS = 10000;

/**
 * A click on a mark opens the side panel. sidePanel.open() counts as the user's click
 * only while Chrome dispatches the message (not in a promise callback, not after an
 * await: GoogleChrome/chrome-extensions-samples #1477), so this listener of its own
 * calls it synchronously; the panel keeps its path and is told the thread afterwards
 * (openThread, focusRequest). Registered at the worker's top level.
 */
export function listenForClicks(fromGmail) {
  chrome.runtime.onMessage.addListener((message, sender) => {
    if (message?.to !== TARGET.WORKER || message.id !== MSG.MARK_OPEN || !fromGmail(sender)) return false;
    opening = chrome.sidePanel.open({ tabId: sender.tab.id });
    opening.catch(() => {}); // reported by openThread
    return false; // the reply is openThread's
  });
}

/** A click on a mark (after listenForClicks opened the panel): show that thread there. */
export async function openThread({ threadId = "" }, sender) {
  if (sender?.tab?.id === undefined) return { opened: false };
  const id = String(threadId).slice(0, 300);
  focus = { threadId: id, at: Date.now() };
  try {
    await opening;
  } catch (error) {
    await store.setDiagnostic("markOpen", { threadId: id, error: String(error?.message || error), at: Date.now() });
    throw error;
  }
  notify(TARGET.PAGES, MSG.MARK_FOCUS, { threadId: id });
  await store.setDiagnostic("markOpen", { threadId: id, at: Date.now() });
  return { opened: true, threadId: id };
}

/** The side panel starting: the thread a mark's click asked for, once. */
export function focusRequest() {
  const wanted = focus && Date.now() - focus.at < FOCUS_KEEP_MS ? focus.threadId : "";
  focus = null;
  return { threadId: wanted };
}
