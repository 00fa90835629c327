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
import { streamCommand } from "./engine.js";
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
  const { unread } = await sessionCall(session, "GET", "/counter");
  await badge.showUnread(unread);
  broadcast.toPages(MSG.ENGAGEMENT, { unread });
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
  const id = await badge.notifyEngagement({ threadId: event.thread_id, subject: thread.subject, event });
  await store.setDiagnostic("lastNotification", { id, thread_id: event.thread_id, at: Date.now() });
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
}
