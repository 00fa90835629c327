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

/** A notification with client_py's words (client_py/notify.py); `id` replaces one. */
export async function notifyText({ threadId, title, message, id = null }) {
  const notificationId = id || `engage-thread:${threadId}`;
  try {
    await chrome.notifications.create(notificationId, {
      type: "basic", iconUrl: chrome.runtime.getURL("icons/icon128.png"), title, message, priority: 1,
    });
  } catch (error) {
    console.warn("Engage: notification failed", error);
  }
  return notificationId;
}

export async function clearNotification(id) {
  await Promise.resolve(chrome.notifications.clear(id)).catch(() => {});
}

export function threadOfNotification(notificationId) {
  return notificationId.startsWith("engage-thread:") ? notificationId.slice("engage-thread:".length) : null;
}
