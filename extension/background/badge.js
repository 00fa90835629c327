// The counter on the extension's icon, and desktop notifications of engagement.
// The badge text ("", "7", "99+") is client_py's render_counter_badge.
import { python } from "./engine.js";
import * as store from "./store.js";

const BADGE_COLOR = "#1a73e8";
const WARN_COLOR = "#b06000";
let shown = null;

export async function showUnread(unread) {
  if (typeof unread !== "number" || Number.isNaN(unread)) return;
  const text = await python("badge_text", { unread });
  if (text === shown) return;
  shown = text;
  await chrome.action.setBadgeBackgroundColor({ color: BADGE_COLOR });
  await chrome.action.setBadgeText({ text });
  await chrome.action.setTitle({ title: unread > 0 ? `Engage: ${unread} with new activity` : "Engage" });
  await store.setDiagnostic("unread", unread);
}

/** "!" on the icon: signed out, or the server refused our token. */
export async function showProblem(title) {
  shown = "!";
  await chrome.action.setBadgeBackgroundColor({ color: WARN_COLOR });
  await chrome.action.setBadgeText({ text: "!" });
  await chrome.action.setTitle({ title });
}

export async function clearBadge() {
  shown = "";
  await chrome.action.setBadgeText({ text: "" });
  await chrome.action.setTitle({ title: "Engage" });
}

/** One desktop notification per thread: a newer event replaces the older one. */
export async function notifyEngagement({ threadId, subject, event }) {
  // In the browser's language (_locales/), English where a message is missing.
  const say = (key, english) => chrome.i18n.getMessage(key) || english;
  const verb = event.kind === "click" ? say("notifyClicked", "Clicked") : say("notifyOpened", "Opened");
  const where = [event.device && event.device !== "unknown" ? event.device : null, event.location]
    .filter(Boolean)
    .join(" · ");
  const id = `engage-thread:${threadId}`;
  try {
    await chrome.notifications.create(id, {
      type: "basic",
      iconUrl: chrome.runtime.getURL("icons/icon128.png"),
      title: `${verb}: ${subject || say("noSubject", "(no subject)")}`,
      message: event.kind === "click" && event.url ? `${event.url}${where ? `\n${where}` : ""}` : where || say("justNow", "Just now"),
      priority: 1,
    });
  } catch (error) {
    console.warn("Engage: notification failed", error);
  }
  return id;
}

export function threadOfNotification(notificationId) {
  return notificationId.startsWith("engage-thread:") ? notificationId.slice("engage-thread:".length) : null;
}
