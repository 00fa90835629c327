// The side panel's requests: threads from the server rendered by client_py, pins,
// "viewed" marks, the counter reset, and opening a thread in Gmail.
import "../shared/constants.js";
import "../shared/messages.js";
import { sessionCall } from "./api.js";
import * as badge from "./badge.js";
import * as broadcast from "./broadcast.js";
import { python } from "./engine.js";
import * as store from "./store.js";

const { MSG, EngageError } = globalThis.EngageMessages;
const { GMAIL_BASE_URL, PANEL_PAGE_SIZE } = globalThis.EngageConfig;
const GMAIL_THREAD_ID = /^[0-9a-f]{12,20}$/i;
const GMAIL_ACCOUNT_URL = /^https:\/\/mail\.google\.com\/mail\/u\/\d+\//;

/** The panel's search and filters as GET /threads parameters. */
export function threadParams(query = {}, cursor = null) {
  const params = new URLSearchParams({ limit: String(PANEL_PAGE_SIZE) });
  if (query.text) params.set("q", query.text);
  if (query.period && query.period !== "all") params.set("period", query.period);
  if (query.domain) params.set("domain", query.domain);
  if (query.sequence) params.set("sequence", query.sequence);
  if (query.step !== null && query.step !== undefined && query.step !== "") params.set("step", String(query.step));
  if (cursor) params.set("cursor", cursor);
  return params;
}

async function signedIn() {
  const session = await store.getSession();
  if (!session) throw new EngageError("signed_out", "Sign in to Engage first.");
  return session;
}

/**
 * {query, cursor, keep: [threads already shown], withCss} -> {html, threads, nextCursor,
 * unread, css?}. `keep` + the new page are rendered together ("Show more").
 */
export async function render({ query = {}, cursor = null, keep = [], withCss = false }) {
  const session = await signedIn();
  const page = await sessionCall(session, "GET", `/threads?${threadParams(query, cursor)}`);
  const threads = cursor ? [...keep, ...page.threads] : page.threads;
  const settings = session.me.settings || {};
  const { html, unread } = await python("panel_html", {
    page: { threads, unread: page.unread, hidden_by_window: page.hidden_by_window || 0 },
    // client_py renders the panel in the browser's language (client_py/i18n.py).
    settings: { ...settings, locale: chrome.i18n.getUILanguage(), with_reminders: true },
    query,
  });
  badge.showUnread(page.unread).catch(() => {});
  const result = { html, threads, nextCursor: page.next_cursor, unread, timeZone: settings.time_zone };
  if (withCss) result.css = (await python("panel_css")) + (await python("followup_css"));
  return result;
}

export async function pin({ threadId, pinned }) {
  const session = await signedIn();
  const state = await sessionCall(session, "PATCH", "/threads", { body: { thread_id: threadId, pinned } });
  await badge.showUnread(state.unread);
  broadcast.toPages(MSG.ENGAGEMENT, { unread: state.unread });
  return state;
}

export async function viewed({ threadId }) {
  const session = await signedIn();
  const state = await sessionCall(session, "PATCH", "/threads", { body: { thread_id: threadId, viewed: true } });
  await badge.showUnread(state.unread);
  return state;
}

export async function resetCounter() {
  const session = await signedIn();
  const counter = await sessionCall(session, "POST", "/counter/reset");
  await badge.showUnread(counter.unread);
  broadcast.toPages(MSG.ENGAGEMENT, { unread: counter.unread });
  return counter;
}

/** The Gmail address of a thread: "#all/<Gmail id>", else a search for the subject. */
export async function gmailHash(threadId, subject) {
  let gmailId = GMAIL_THREAD_ID.test(threadId) ? threadId : null;
  if (!gmailId) {
    const aliases = await store.aliases();
    gmailId = Object.keys(aliases).find((key) => aliases[key] === threadId) || null;
  }
  if (gmailId) return `#all/${gmailId}`;
  // A new email whose Gmail id this browser has not seen yet: find it in Sent.
  const words = subject ? `in:sent subject:"${subject.replace(/"/g, "")}"` : "in:sent";
  return `#search/${encodeURIComponent(words)}`;
}

/** Open a thread's latest email in Gmail: in the current Gmail tab if there is one. */
export async function openInGmail({ threadId, subject = "" }) {
  const hash = await gmailHash(threadId, subject);
  const tabs = await chrome.tabs.query({ url: "https://mail.google.com/*" });
  const tab = tabs.find((t) => t.active) || tabs[0];
  const base = (tab && GMAIL_ACCOUNT_URL.exec(tab.url || "")?.[0]) || GMAIL_BASE_URL;
  const url = `${base}${hash}`;
  if (tab) {
    await chrome.tabs.update(tab.id, { url, active: true });
    await chrome.windows.update(tab.windowId, { focused: true }).catch(() => {});
  } else {
    await chrome.tabs.create({ url });
  }
  return { url };
}
