// Live engagement: the stream (held by the offscreen document), the polling fallback
// (chrome.alarms), the badge counter and notifications.
//
// The stream is what makes an open show up within a second or two; polling every
// POLL_MINUTES only repairs the counter when the stream is down (Chrome does not run
// alarms more often than every 30 s).
import "../shared/messages.js";
import "../shared/constants.js";
import { sessionCall } from "./api.js";
import * as badge from "./badge.js";
import * as broadcast from "./broadcast.js";
import { python, streamCommand } from "./engine.js";
import * as followup from "./followup.js";
import { recentlyViewed } from "./self_view.js";
import * as store from "./store.js";

const { MSG } = globalThis.EngageMessages;
const { POLL_MINUTES } = globalThis.EngageConfig;
export const POLL_ALARM = "engage-poll";
// Gmail proxy loads may be the sender's own view, reported a moment later.
const PROXY_NOTIFY_DELAY_MS = 1200;

export async function schedulePolling() {
  // Re-creating an alarm restarts its period: only create it when it is missing.
  if (await chrome.alarms.get(POLL_ALARM)) return;
  await chrome.alarms.create(POLL_ALARM, { periodInMinutes: POLL_MINUTES, delayInMinutes: POLL_MINUTES });
}

/** Open the stream unless it is open or opening. */
export async function ensureStream({ force = false } = {}) {
  const session = await store.getSession();
  if (!session) return "idle";
  if (!force) {
    const status = await streamCommand(MSG.STREAM_STATUS).catch(() => ({ state: "idle" }));
    if (["open", "connecting", "reconnecting"].includes(status.state)) return status.state;
  }
  const { ticket } = await sessionCall(session, "POST", "/stream/tickets", { timeoutMs: 8000 });
  const url = `${session.serverUrl}/api/v1/stream?ticket=${encodeURIComponent(ticket)}`;
  const result = await streamCommand(MSG.STREAM_CONNECT, { url });
  return result.state;
}

export async function stopStream() {
  await streamCommand(MSG.STREAM_DISCONNECT).catch(() => {});
}

/** Ask the server for the counter and show it. */
export async function refreshCounter() {
  const session = await store.getSession();
  if (!session) return null;
  const { unread, reminders_due: due } = await sessionCall(session, "GET", "/counter");
  await badge.showUnread(unread);
  broadcast.toPages(MSG.ENGAGEMENT, { unread });
  if (due) await followup.checkDue(due).catch((error) => console.warn("Engage: reminders not checked", error));
  return unread;
}

async function threadInfo(session, threadId) {
  // The thread with brand-new activity is at the top of the list: one small page is enough.
  const page = await sessionCall(session, "GET", "/threads?limit=20");
  return page.threads.find((t) => t.thread_id === threadId) || null;
}

async function maybeNotify(session, event) {
  if (!event.counts) return;
  if (event.verdict === "gmail") await new Promise((r) => setTimeout(r, PROXY_NOTIFY_DELAY_MS));
  if (recentlyViewed(event.thread_id)) {
    await refreshCounter(); // the server re-files it as the sender's own view
    return;
  }
  const thread = await threadInfo(session, event.thread_id);
  const notifyAll = Boolean(session.me.settings?.notify_on_open);
  if (!thread || !(thread.pinned || notifyAll)) return;
  // client_py decides (client_py/notify.py): counted verdicts only, quiet hours, the
  // daily digest instead, and opens within a minute of the last one join it.
  const entry = { ...event, subject: thread.subject };
  const events = [...group.events, entry];
  const decision = await python("notification_for", {
    events, settings: { ...session.me.settings, locale: chrome.i18n.getUILanguage() },
    last_shown_at: group.shownAt ? new Date(group.shownAt).toISOString() : null,
  });
  if (!decision.show) {
    await store.setDiagnostic("lastNotification", { skipped: decision.why, thread_id: event.thread_id, at: Date.now() });
    return;
  }
  if (!decision.group) group.events = [];
  if (group.id) await badge.clearNotification(group.id);
  group.events = decision.group ? events : [entry];
  group.shownAt = Date.now();
  group.id = await badge.notifyText({ threadId: event.thread_id, title: decision.title, message: decision.message });
  await store.setDiagnostic("lastNotification", {
    id: group.id, thread_id: event.thread_id, grouped: group.events.length, title: decision.title, at: Date.now(),
  });
}

// The notification on screen and the events it stands for (a minute's opens join it).
const group = { id: null, events: [], shownAt: 0 };
const DIGEST_KEY = "lastDigestAt";

/** The daily digest (notify_mode "digest"): one notification a day at the user's hour. */
export async function maybeDigest(now = new Date()) {
  const session = await store.getSession();
  if (!session || session.me.settings?.notify_mode !== "digest") return null;
  const last = (await chrome.storage.local.get(DIGEST_KEY))[DIGEST_KEY] || null;
  const settings = { ...session.me.settings, locale: chrome.i18n.getUILanguage() };
  const probe = await python("digest_for", { items: [], settings, now: now.toISOString(), last_digest_at: last });
  if (!probe.show) return null;
  const since = new Date(now.getTime() - 24 * 3600 * 1000).toISOString();
  const page = await sessionCall(session, "GET", `/feed?limit=100&since=${encodeURIComponent(since)}`);
  const digest = await python("digest_for", { items: page.items, settings, now: now.toISOString(), last_digest_at: last });
  await chrome.storage.local.set({ [DIGEST_KEY]: now.toISOString() });
  const id = await badge.notifyText({ threadId: "", title: digest.title, message: digest.message, id: "engage-digest" });
  await store.setDiagnostic("lastDigest", { id, title: digest.title, message: digest.message, at: Date.now() });
  return digest;
}

/** One `engagement` message from the stream. */
export async function onStreamEvent({ event }) {
  const session = await store.getSession();
  if (!session || !event) return;
  if (typeof event.unread === "number") await badge.showUnread(event.unread);
  broadcast.toPages(MSG.ENGAGEMENT, { event, unread: event.unread });
  await store.setDiagnostic("lastEvent", { id: event.id, thread_id: event.thread_id, at: Date.now() });
  await maybeNotify(session, event).catch((error) => console.warn("Engage: notification skipped", error));
}

export async function onStreamState({ state }) {
  await store.setDiagnostic("stream", { state, at: Date.now() });
  broadcast.toPages(MSG.STATE_CHANGED, { stream: state });
  // Events while the stream was down were not delivered: catch up on the counter.
  if (state === "open") await refreshCounter().catch(() => {});
}

export async function onNeedTicket() {
  return ensureStream({ force: true });
}

export async function onPollAlarm() {
  await refreshCounter().catch(() => {});
  await ensureStream().catch(() => {});
  await maybeDigest().catch((error) => console.warn("Engage: digest skipped", error));
}
