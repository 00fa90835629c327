// The worker's half of the send path: decide, register with the server, plan the body.
//
// The content script gives a budget (what is left of SEND_BUDGET_MS); every step here
// stays inside it, the server call included (it is aborted at its share), so a slow or
// dead server costs at most the budget and the email goes out untouched.
import "../shared/constants.js";
import "../shared/messages.js";
import { sessionCall } from "./api.js";
import * as broadcast from "./broadcast.js";
import { python } from "./engine.js";
import { remindAfterSend } from "./followup.js";
import { threadForGmailId } from "./self_view.js";
import * as store from "./store.js";

const { SERVER_SHARE } = globalThis.EngageConfig;
const { EngageError, MSG } = globalThis.EngageMessages;
const PLAN_RESERVE_MS = 40; // client_py's plan and the reply's trip back
// Reminders chosen in a compose, by message id: set once the email went out tracked.
const pendingReminders = new Map();

/** client_py's automatic-tracking decision for these recipients (client_py/calls.py). */
function autoInsert(session, recipients, options) {
  return python("auto_insert", { recipients, org: session.me.org, settings: session.me.settings }, options);
}

/** The compose toggle's question: would this email be tracked automatically? */
export async function decide({ recipients = [] }) {
  const session = await store.getSession();
  if (!session) return { signedIn: false, decision: null };
  const result = await autoInsert(session, recipients, { timeoutMs: 3000 });
  return { signedIn: true, ...result };
}

// The pixel's token is chosen here (the server takes it at registration: MessageIn's
// pixel_token, at least 128 random bits), so the pixel can go into Gmail's draft as soon
// as the email is known to be tracked, before anything is registered.
const PIXEL_TOKEN = /^[A-Za-z0-9_-]{22,64}$/;

function newPixelToken() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The address the server gives a pixel with this token (server/api/messages.py pixel_url). */
function pixelUrlOf(session, token) {
  return `${session.me.public_url}/p/${token}.gif`;
}

function whereOf(session) {
  return session.me.settings?.insert_at === "first" ? "first" : "last";
}

/**
 * {body, token?} -> {ok, token, pixelUrl, plan}: the DOM edits that put a tracked
 * email's pixel into its draft (client_py's place for it; links untouched: they are
 * rewritten only at Send). The same token again when the draft lost its pixel.
 */
export async function draftPixel({ body, token }) {
  const session = await store.getSession();
  if (!session) return { ok: false, reason: "signed_out" };
  const pixelToken = PIXEL_TOKEN.test(token || "") ? token : newPixelToken();
  const pixelUrl = pixelUrlOf(session, pixelToken);
  const plan = await python("plan", { body, pixel_url: pixelUrl, where: whereOf(session), tracked: {} },
    { timeoutMs: 3000 });
  return { ok: true, token: pixelToken, pixelUrl, plan };
}

function notTracked(reason, extra = {}) {
  return { track: false, reason, ...extra };
}

/**
 * {compose: {recipients, subject, threadId, draftId, mode, body, pixelToken?}, budgetMs} ->
 * {track: false, reason} or {track: true, plan, message, timings}.
 */
// What each press registered, by the send path's id for it (send_guard.js sendId): the
// page may give up waiting (the budget ran out) before the server answers, and its
// outcome then has no message id. FORGET marks a press whose email, once registered,
// is to be forgotten at once.
const FORGET = Symbol("forget");
const registrations = new Map();
const REGISTRATIONS_KEEP = 50;

function noteRegistered(sendId, messageId) {
  if (!sendId) return;
  const pending = registrations.get(sendId);
  registrations.delete(sendId);
  if (pending === FORGET) {
    forgetRegistered({ messageId, reason: "late" });
    return;
  }
  remember(sendId, messageId);
}

function remember(sendId, value) {
  registrations.set(sendId, value);
  while (registrations.size > REGISTRATIONS_KEEP) registrations.delete(registrations.keys().next().value);
}

export async function prepareSend({ compose, budgetMs, sendId }) {
  const started = performance.now();
  const left = () => budgetMs - (performance.now() - started);
  const timings = {};
  const session = await store.getSession();
  if (!session) return notTracked("signed_out");
  if (compose.mode === "skip") return notTracked("skipped");

  // The pixel's address is known now: the draft's token (draft_pixel.js), else a new
  // one. So one trip to Python does it all before the server is asked: the body's
  // facts, the decision, and the plan (tracked links as placeholders).
  let pixelToken = PIXEL_TOKEN.test(compose.pixelToken || "") ? compose.pixelToken : newPixelToken();
  const pixelUrl = pixelUrlOf(session, pixelToken); // the one Python's plan puts in
  const where = whereOf(session);
  const threadLookup = threadForGmailId(compose.threadId); // storage, meanwhile
  const analysis = await python("prepare_send", {
    body: compose.body,
    tracking_host: session.me.public_url,
    recipients: compose.recipients,
    org: session.me.org,
    settings: session.me.settings,
    mode: compose.mode,
    pixel_url: pixelUrl,
    where,
    nonce: newPixelToken().slice(0, 12),
  }, { timeoutMs: Math.max(1, left()) });
  const inspected = analysis.body;
  timings.analyzeMs = performance.now() - started;
  if (inspected.kind !== "html") return notTracked("not_html", { decision: analysis.decision });
  if (!analysis.recipients.length) return notTracked("no_recipients", { decision: analysis.decision });
  if (compose.mode !== "manual" && !analysis.decision.applies) {
    return notTracked("decision", { decision: analysis.decision });
  }

  const serverMs = Math.floor((left() - PLAN_RESERVE_MS) * SERVER_SHARE);
  if (serverMs <= 0) return notTracked("late");
  const threadId = (await threadLookup) || compose.threadId;
  const mode = compose.mode === "manual" ? "manual" : "auto";
  const registerStart = performance.now();
  const register = (token, timeoutMs) => sessionCall(session, "POST", "/messages", {
    body: {
      subject: compose.subject || "",
      recipients: analysis.recipients,
      thread_id: threadId,
      mode,
      client: "gmail",
      links: inspected.links,
      client_message_id: compose.draftId || null,
      pixel_token: token, // the pixel already in the draft, or the one the plan puts in
    },
    timeoutMs,
  });
  let message;
  try {
    message = await register(pixelToken, serverMs);
  } catch (error) {
    // The draft's token is refused (409: a draft reopened from another account of this
    // server, whose pixel that token is): a fresh one, and client_py's plan below puts
    // its pixel in place of the draft's, if there is time for a second call.
    const again = Math.floor((left() - PLAN_RESERVE_MS) * SERVER_SHARE);
    if (!(error instanceof EngageError && error.status === 409 && compose.pixelToken) || again <= 0) throw error;
    pixelToken = newPixelToken();
    message = await register(pixelToken, again); // another pixel address: planned again below
  }
  timings.registerMs = performance.now() - registerStart;
  noteRegistered(sendId, message.id);

  const tracked = Object.fromEntries((message.links || []).map((l) => [l.url, l.tracked_url]));
  if (left() <= 0) throw new EngageError("late", "The budget ran out after registering.");
  const planStart = performance.now();
  let plan = message.pixel_url === pixelUrl ? filled(analysis.plan, analysis.placeholders, tracked) : null;
  timings.replanned = !plan;
  if (!plan) {
    // Not fillable (an unusual tracked address, another pixel address): client_py again.
    plan = await python("plan", { body: compose.body, pixel_url: message.pixel_url, where, tracked },
      { timeoutMs: Math.max(1, left()) });
  }
  timings.planMs = performance.now() - planStart;
  timings.totalMs = performance.now() - started;

  // Not awaited: the email is waiting.
  store.rememberSent(pixelToken, {
    thread_id: message.thread_id, message_id: message.id, subject: message.subject, mode,
  }).catch(() => {});
  if (compose.remind) pendingReminders.set(message.id, { threadId: message.thread_id, remind: compose.remind });
  return {
    track: true,
    mode,
    plan,
    message: { id: message.id, thread_id: message.thread_id, pixel_url: message.pixel_url },
    timings,
  };
}

// A tracked address the browser serialises in an attribute exactly as written (no
// character it would escape), so putting it for its placeholder changes nothing else.
const VERBATIM_URL = /^https?:\/\/[A-Za-z0-9._~:\/?#@!$'()*+,;=%-]+$/;

/** client_py's plan with each placeholder replaced by the server's tracked address, or
 *  null when one cannot be (no plan, a link the server did not answer, an odd address). */
function filled(plan, placeholders, tracked) {
  if (!plan) return null;
  let expected = plan.expected;
  const byPlaceholder = {};
  for (const [url, placeholder] of Object.entries(placeholders || {})) {
    const address = tracked[url];
    if (!address || !VERBATIM_URL.test(address)) return null;
    byPlaceholder[placeholder] = address;
    expected = expected.split(placeholder).join(address);
  }
  const links = [];
  for (const edit of plan.links) {
    if (!(edit.href in byPlaceholder)) return null;
    links.push({ ...edit, href: byPlaceholder[edit.href] });
  }
  return { ...plan, expected, links };
}

export async function verifyBody({ body, pixelUrl, trackedUrls }) {
  return python("verify", { body, pixel_url: pixelUrl, tracked_urls: trackedUrls }, { timeoutMs: 1000 });
}

export async function recordOutcome(outcome) {
  // A press dragged off Send sent nothing: no timing to keep, only the email to forget.
  if (!outcome.abandoned) await store.addSendTiming({ ...outcome, at: Date.now() });
  const reminder = outcome.messageId && pendingReminders.get(outcome.messageId);
  if (reminder) {
    pendingReminders.delete(outcome.messageId);
    if (outcome.applied) await remindAfterSend(reminder.threadId, reminder.remind);
  }
  // A new tracked email: the side panel lists it at once, "not opened yet".
  if (outcome.applied) broadcast.toPages(MSG.ENGAGEMENT, { sent: outcome.threadId });
  const known = outcome.sendId && registrations.get(outcome.sendId);
  if (!outcome.applied && (outcome.abandoned || outcome.noPixel) && !outcome.messageId && outcome.sendId) {
    if (typeof known === "string") await forgetRegistered({ ...outcome, messageId: known });
    else remember(outcome.sendId, FORGET); // registered later, if at all: forgotten then
  } else if (!outcome.applied && outcome.messageId) {
    if (outcome.abandoned || outcome.noPixel) await forgetRegistered(outcome);
    // Otherwise a pixel may have gone out with it (one the draft kept): kept, so its
    // opens are counted.
    else console.warn("Engage: registered but sent untracked:", outcome.messageId, outcome.reason);
  }
  return true;
}

/** Registered, then sent without its pixel (the budget ran out, the body changed under
 *  the edit) or not sent at all (a press dragged off Send): the server would keep an
 *  email that can never be opened, shown "not opened yet" for good. It is deleted (the
 *  server refuses once the email has a hit: then it keeps its history). */
async function forgetRegistered(outcome) {
  store.forgetSent(outcome.messageId).catch(() => {});
  try {
    const session = await store.getSession();
    if (session) await sessionCall(session, "DELETE", `/messages/${encodeURIComponent(outcome.messageId)}`);
  } catch (error) {
    console.warn("Engage: could not forget an email sent untracked:", outcome.messageId, outcome.reason, error);
  }
}
