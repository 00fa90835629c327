// Signing in and out, the signed-in user's settings, and the state the options page
// shows.
import "../shared/messages.js";
import { apiCall, normalizeServerUrl, sessionCall } from "./api.js";
import * as badge from "./badge.js";
import * as broadcast from "./broadcast.js";
import * as live from "./live.js";
import { blockPixels, unblockPixels } from "./pixel_block.js";
import * as store from "./store.js";

const { MSG, EngageError } = globalThis.EngageMessages;
const SETTING_KEYS = ["auto_insert", "notify_on_open", "blocklist", "insert_at", "time_zone",
  "notify_mode", "digest_hour", "quiet_start", "quiet_end"];

export async function state() {
  const session = await store.getSession();
  const diagnostics = await store.diagnostics();
  if (!session) return { signedIn: false, diagnostics };
  return {
    signedIn: true,
    serverUrl: session.serverUrl,
    publicUrl: session.me.public_url,
    user: session.me.user,
    org: session.me.org,
    settings: session.me.settings,
    diagnostics,
  };
}

async function changed() {
  const session = await store.getSession();
  broadcast.toPages(MSG.STATE_CHANGED, {});
  await broadcast.toGmailTabs(session).catch(() => {});
}

function browserTimeZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

export async function signIn({ serverUrl, email, password }) {
  const server = normalizeServerUrl(serverUrl);
  if (!email || !password) throw new EngageError("missing", "Enter your email and password.");
  const result = await apiCall(server, "POST", "/auth/signin", {
    body: { email: email.trim(), password, label: "Gmail extension (Chrome)" },
    timeoutMs: 15000,
  });
  let me = await apiCall(server, "GET", "/me", { token: result.token });
  // Times in the panel are shown in the user's zone: a new account still on the
  // server's default (UTC) gets this browser's zone.
  const zone = browserTimeZone();
  if (me.settings?.time_zone === "UTC" && zone !== "UTC") {
    try {
      const settings = await apiCall(server, "PATCH", "/settings", { token: result.token, body: { time_zone: zone } });
      me = { ...me, settings };
    } catch {
      // A zone the server does not know: keep UTC.
    }
  }
  await store.setSession({ serverUrl: server, token: result.token, me });
  await blockPixels(me.public_url);
  await live.ensureStream({ force: true }).catch((error) => console.warn("Engage: stream not started", error));
  await live.refreshCounter().catch(() => {});
  await changed();
  return state();
}

export async function signOut() {
  await store.clearSession();
  await unblockPixels();
  await live.stopStream();
  await badge.clearBadge();
  await changed();
  return state();
}

export async function saveSettings(changes) {
  const session = await store.getSession();
  const body = {};
  for (const key of SETTING_KEYS) if (key in changes) body[key] = changes[key];
  const settings = await sessionCall(session, "PATCH", "/settings", { body });
  await store.setSettings(settings);
  await changed();
  await live.refreshCounter().catch(() => {});
  return state();
}

/** Re-read the user, org and settings (admins change internal domains on the server). */
export async function refreshMe() {
  const session = await store.getSession();
  if (!session) return null;
  try {
    const me = await sessionCall(session, "GET", "/me");
    await store.setMe(me);
    if (me.public_url !== session.me.public_url) await blockPixels(me.public_url);
    return me;
  } catch (error) {
    if (error.code === "unauthorized") {
      // The token was revoked on the server: sign out here too, and say so.
      await signOut();
      await badge.showProblem("Engage: signed out by the server. Sign in again.");
    }
    throw error;
  }
}
