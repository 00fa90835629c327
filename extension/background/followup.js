// Follow-up reminders and the activity feed for the side panel, and the desktop
// notifications of due reminders. The server owns reminders (they survive a new
// browser) and fires each once (server/reminders.py); this worker shows a due one
// once: it asks the server first (POST /reminders/<id>/notified answers `first` to
// one caller only), so two browsers of the same user do not both pop up.
import "../shared/messages.js";
import { sessionCall } from "./api.js";
import * as broadcast from "./broadcast.js";
import { python } from "./engine.js";
import * as store from "./store.js";

const { MSG, EngageError } = globalThis.EngageMessages;
const FEED_PAGE = 30;
const REMINDER_PREFIX = "engage-reminder:";
const shownReminders = new Set(); // ids this worker asked about already

async function signedIn() {
  const session = await store.getSession();
  if (!session) throw new EngageError("signed_out", "Sign in to Engage first.");
  return session;
}

function renderSettings(session) {
  return { ...(session.me.settings || {}), locale: chrome.i18n.getUILanguage() };
}

/** {more, keep} -> {html, items, nextCursor}: the activity feed rendered by client_py. */
export async function feed({ cursor = null, keep = [] } = {}) {
  const session = await signedIn();
  const params = new URLSearchParams({ limit: String(FEED_PAGE) });
  if (cursor) params.set("cursor", cursor);
  const page = await sessionCall(session, "GET", `/feed?${params}`);
  const items = cursor ? [...keep, ...page.items] : page.items;
  const { html } = await python("feed_html", {
    items, settings: renderSettings(session), more: Boolean(page.next_cursor),
  });
  return { html, items, nextCursor: page.next_cursor };
}

/** Render the feed again from items already loaded: the relative times tick. */
export async function feedTick({ items = [], more = false }) {
  const session = await signedIn();
  return python("feed_html", { items, settings: renderSettings(session), more });
}

/** The Due section: {html, due, reminders}. */
export async function due() {
  const session = await signedIn();
  const { reminders } = await sessionCall(session, "GET", "/reminders?status=due");
  const { html } = await python("due_html", { reminders, settings: renderSettings(session) });
  notifyDue(session, reminders).catch((error) => console.warn("Engage: reminder notification", error));
  return { html, due: reminders.length, reminders };
}

/** Set a reminder on a thread: {threadId, condition, days | date}. */
export async function remind({ threadId, condition, days = null, date = null }) {
  const session = await signedIn();
  const body = { thread_id: threadId, condition };
  if (date) body.on_date = date;
  else body.in_days = Number(days);
  const reminder = await sessionCall(session, "POST", "/reminders", { body });
  broadcast.toPages(MSG.ENGAGEMENT, { reminder: reminder.id });
  return reminder;
}

/** {id, action: snooze | done | cancel, days} on a reminder. */
export async function reminderAction({ id, action, days = 1 }) {
  const session = await signedIn();
  const path = `/reminders/${encodeURIComponent(id)}`;
  let result = null;
  if (action === "snooze") result = await sessionCall(session, "POST", `${path}/snooze`, { body: { in_days: Number(days) } });
  else if (action === "done") result = await sessionCall(session, "POST", `${path}/done`);
  else if (action === "cancel") result = await sessionCall(session, "DELETE", path);
  else throw new EngageError("bad_action", `No reminder action ${JSON.stringify(action)}`);
  const open = await Promise.resolve(chrome.notifications.getAll()).catch(() => ({}));
  for (const key of Object.keys(open || {})) {
    if (key.startsWith(`${REMINDER_PREFIX}${id}:`)) Promise.resolve(chrome.notifications.clear(key)).catch(() => {});
  }
  broadcast.toPages(MSG.ENGAGEMENT, { reminder: id });
  return result;
}

/** The reminder a compose asked for, once its email is registered (not awaited by Send). */
export async function remindAfterSend(threadId, remind_) {
  if (!remind_ || !remind_.condition) return null;
  try {
    const reminder = await remind({ threadId, ...remind_ });
    await store.setDiagnostic("lastComposeReminder", { id: reminder.id, thread_id: threadId, at: Date.now() });
    return reminder;
  } catch (error) {
    await store.setDiagnostic("lastComposeReminder", { error: error.message, thread_id: threadId, at: Date.now() });
    return null;
  }
}

/** Called with the counter's `reminders_due`: show what became due, once. */
export async function checkDue(count) {
  if (!count) return [];
  const session = await store.getSession();
  if (!session) return [];
  const { reminders } = await sessionCall(session, "GET", "/reminders?status=due");
  const shown = await notifyDue(session, reminders);
  if (shown.length) broadcast.toPages(MSG.ENGAGEMENT, { due: reminders.length });
  return shown;
}

/** A desktop notification for each due reminder no browser of this user showed yet. */
async function notifyDue(session, reminders) {
  const shown = [];
  for (const reminder of reminders) {
    if (reminder.notified_at || shownReminders.has(reminder.id)) continue;
    const alert = await python("reminder_alert", { reminder, settings: renderSettings(session) });
    if (!alert.show) continue; // quiet hours: asked again on a later poll
    shownReminders.add(reminder.id);
    const { first } = await sessionCall(session, "POST", `/reminders/${encodeURIComponent(reminder.id)}/notified`);
    if (!first) continue; // another browser of this user showed it
    const say = (key, english) => chrome.i18n.getMessage(key) || english;
    await chrome.notifications.create(`${REMINDER_PREFIX}${reminder.id}:${reminder.thread_id}`, {
      type: "basic",
      iconUrl: chrome.runtime.getURL("icons/icon128.png"),
      title: alert.title,
      message: alert.message,
      priority: 2,
      requireInteraction: true,
      buttons: [{ title: say("reminderSnooze", "Snooze 1 day") }, { title: say("reminderDone", "Done") }],
    });
    shown.push(reminder.id);
  }
  await store.setDiagnostic("lastReminderCheck", { due: reminders.length, shown, at: Date.now() });
  return shown;
}

/** {id, threadId} of a reminder's notification ("engage-reminder:<id>:<thread id>"), or null. */
export function reminderOfNotification(notificationId) {
  if (!notificationId.startsWith(REMINDER_PREFIX)) return null;
  const rest = notificationId.slice(REMINDER_PREFIX.length);
  const cut = rest.indexOf(":");
  return cut > 0 ? { id: rest.slice(0, cut), threadId: rest.slice(cut + 1) } : null;
}

/** A button of a reminder's notification: 0 snoozes a day, 1 marks it done. */
export async function onNotificationButton(notificationId, index) {
  const { id } = reminderOfNotification(notificationId) || {};
  if (!id) return;
  await reminderAction({ id, action: index === 0 ? "snooze" : "done", days: 1 });
  chrome.notifications.clear(notificationId);
}
