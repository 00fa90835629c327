// The service worker: routes messages to one module per concern, and starts the
// engine (the offscreen document with Pyodide and the live stream) whenever the
// browser, the extension or the worker itself starts.
//
//   account.js      sign-in, settings, the options page's state
//   send_flow.js    the send path: decide, register, plan
//   self_view.js    the sender's own views of tracked emails
//   replies.js      recipients' replies seen in Gmail, reported to the server
//   panel.js        the Engagement side panel
//   live.js         stream, polling, counter, notifications (badge.js draws them)
//   followup.js     follow-up reminders and the activity feed
//   marks.js        the marks in Gmail's lists and conversations
//   pixel_block.js  declarativeNetRequest rule for the sender's own pixel loads
//   engine.js       the offscreen document;  store.js  all storage;  api.js  the server
//
// Listeners are registered synchronously at the top level, as MV3 requires for the
// worker to be woken by them.
import "../lib/engage_error.js";
import "../shared/constants.js";
import "../shared/messages.js";
import * as account from "./account.js";
import * as badge from "./badge.js";
import * as broadcast from "./broadcast.js";
import { engineStartedAt, ensureEngine } from "./engine.js";
import * as followup from "./followup.js";
import * as insights from "./insights.js";
import * as live from "./live.js";
import * as marks from "./marks.js";
import * as panel from "./panel.js";
import * as replies from "./replies.js";
import { blockPixels } from "./pixel_block.js";
import * as selfView from "./self_view.js";
import * as sendFlow from "./send_flow.js";
import * as store from "./store.js";

const { TARGET, MSG, EngageError, listen } = globalThis.EngageMessages;

// Who may ask for what. Everything comes from this extension (sender.id); Gmail's tab
// (the content script, which shares a page with Gmail's own scripts and whatever they
// load) may only ask for what the send path and the reading view need; sign-in, the
// account, settings, the panel and the stream answer only the extension's own pages.
const EXTENSION_ORIGIN = new URL(chrome.runtime.getURL("")).origin;
const GMAIL_ORIGIN = "https://mail.google.com";
const FROM_GMAIL = new Set([MSG.HELLO, MSG.DECIDE, MSG.DRAFT_PIXEL, MSG.PREPARE_SEND, MSG.VERIFY_BODY,
  MSG.SEND_OUTCOME, MSG.SELF_VIEW, MSG.REPLIES_SEEN, MSG.OPEN_OPTIONS, MSG.MARKS, MSG.MARK_OPEN,
  MSG.SENT_SEEN]);

function originOf(url) {
  try {
    return new URL(url).origin;
  } catch {
    return "";
  }
}

function fromGmailTab(sender) {
  return sender?.id === chrome.runtime.id && originOf(sender?.url || "") === GMAIL_ORIGIN && Boolean(sender.tab);
}

function senderChecked(handlers) {
  const out = {};
  for (const [id, handler] of Object.entries(handlers)) {
    out[id] = (payload, sender) => {
      const from = originOf(sender?.url || "");
      const ours = sender?.id === chrome.runtime.id;
      if (ours && (from === EXTENSION_ORIGIN || (from === GMAIL_ORIGIN && sender.tab && FROM_GMAIL.has(id)))) {
        return handler(payload, sender);
      }
      throw new EngageError("forbidden_sender", `${id} is not answered for ${from || "this sender"}`);
    };
  }
  return out;
}

// The token lives in chrome.storage.local (kept across restarts); content scripts must
// not read it (store.js): only the extension's own pages and this worker may.
store.restrictStorage();
const SIDE_PANEL_PATH = "sidepanel/sidepanel.html";
const REFRESH_ME_EVERY = 20; // polls (10 minutes)
let polls = 0;

async function hello(_payload, sender) {
  if (sender.tab?.id !== undefined) {
    await chrome.sidePanel.setOptions({ tabId: sender.tab.id, path: SIDE_PANEL_PATH, enabled: true });
  }
  return broadcast.gmailContext(await store.getSession());
}

async function engineReady(info) {
  const startedAt = engineStartedAt();
  await store.setDiagnostic("python", {
    ...info,
    // From the moment this worker asked for the document to Python being ready.
    coldStartMs: startedAt ? Date.now() - startedAt : null,
  });
  if (info.state === "ready") {
    const session = await store.getSession();
    if (session) await live.refreshCounter().catch(() => {});
  }
  broadcast.toPages(MSG.STATE_CHANGED, {});
}

marks.listenForClicks(fromGmailTab);
listen(TARGET.WORKER, senderChecked({
  [MSG.HELLO]: hello,
  [MSG.DECIDE]: sendFlow.decide,
  [MSG.DRAFT_PIXEL]: sendFlow.draftPixel,
  [MSG.PREPARE_SEND]: sendFlow.prepareSend,
  [MSG.VERIFY_BODY]: sendFlow.verifyBody,
  [MSG.SEND_OUTCOME]: (outcome) => {
    marks.onSendOutcome(outcome);
    return sendFlow.recordOutcome(outcome);
  },
  [MSG.SELF_VIEW]: selfView.reportSelfView,
  [MSG.REPLIES_SEEN]: async (payload, sender) => {
    const answer = await replies.reportReplies(payload, sender);
    if (answer.reported?.length) marks.changed(payload.gmailThreadId).catch(() => {}); // a reply: green
    return answer;
  },
  [MSG.OPEN_OPTIONS]: () => chrome.runtime.openOptionsPage(),
  [MSG.MARKS]: marks.lookup,
  [MSG.MARK_OPEN]: marks.openThread,
  [MSG.SENT_SEEN]: marks.onSentSeen,
  [MSG.MARK_FOCUS]: marks.focusRequest,
  [MSG.GET_STATE]: account.state,
  [MSG.SIGN_IN]: (payload, sender) => {
    marks.clear(); // marks are the signed-in account's
    return account.signIn(payload, sender);
  },
  [MSG.SIGN_OUT]: (payload, sender) => {
    marks.clear();
    return account.signOut(payload, sender);
  },
  [MSG.SAVE_SETTINGS]: account.saveSettings,
  [MSG.PANEL_RENDER]: panel.render,
  [MSG.PANEL_PIN]: panel.pin,
  [MSG.PANEL_VIEWED]: panel.viewed,
  [MSG.PANEL_OPEN]: panel.openInGmail,
  [MSG.COUNTER_RESET]: panel.resetCounter,
  [MSG.PANEL_FEED]: followup.feed,
  [MSG.PANEL_FEED_TICK]: followup.feedTick,
  [MSG.PANEL_DUE]: followup.due,
  [MSG.PANEL_REMIND]: followup.remind,
  [MSG.PANEL_REMINDER_ACTION]: followup.reminderAction,
  [MSG.INSIGHTS_RENDER]: insights.render,
  [MSG.INSIGHTS_EXPORT]: insights.exportCsv,
  [MSG.OFFSCREEN_READY]: engineReady,
  [MSG.STREAM_EVENT]: (payload) => {
    marks.onStreamEvent(payload);
    return live.onStreamEvent(payload);
  },
  [MSG.STREAM_STATE]: live.onStreamState,
  [MSG.STREAM_NEED_TICKET]: live.onNeedTicket,
}));

chrome.alarms.onAlarm.addListener(async (alarm) => {
  if (alarm.name !== live.POLL_ALARM) return;
  await live.onPollAlarm();
  polls += 1;
  if (polls % REFRESH_ME_EVERY === 0) await account.refreshMe().catch(() => {});
});

chrome.notifications.onButtonClicked.addListener((notificationId, index) => {
  followup.onNotificationButton(notificationId, index).catch((error) => console.warn("Engage: reminder", error));
});

chrome.notifications.onClicked.addListener(async (notificationId) => {
  const threadId = badge.threadOfNotification(notificationId) || followup.reminderOfNotification(notificationId)?.threadId;
  if (!threadId) return;
  chrome.notifications.clear(notificationId);
  await panel.openInGmail({ threadId }).catch((error) => console.warn("Engage: cannot open thread", error));
});

chrome.action.onClicked.addListener(async () => {
  // Only fires where the side panel is not available (outside Gmail).
  const session = await store.getSession();
  if (!session) await chrome.runtime.openOptionsPage();
  else await chrome.tabs.create({ url: globalThis.EngageConfig.GMAIL_BASE_URL });
});

chrome.runtime.onInstalled.addListener(async ({ reason }) => {
  await chrome.sidePanel.setOptions({ enabled: false }); // Gmail tabs enable it (hello)
  if (reason === "install") await chrome.runtime.openOptionsPage();
});

// Opens the server re-filed as the sender's own no longer count: show the new counter.
selfView.setReclassifiedHandler(() => live.refreshCounter().catch(() => {}));

async function start() {
  await chrome.sidePanel.setPanelBehavior({ openPanelOnActionClick: true }).catch(() => {});
  await ensureEngine();
  await live.schedulePolling();
  const session = await store.getSession();
  if (!session) return;
  await blockPixels(session.me.public_url);
  await live.ensureStream().catch((error) => console.warn("Engage: stream not started", error));
}

// Registered so that the browser starts this worker (and so the engine) at start-up;
// start() below does the work on every start of the worker.
chrome.runtime.onStartup.addListener(() => {});
start().catch((error) => console.error("Engage: start-up failed", error));
