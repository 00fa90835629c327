// The side panel's follow-up parts: the "Due" section above the threads, the Remind-me
// menu on each thread, and the Activity view (the feed). client_py renders all of it
// (client_py/reminder_view.py, client_py/feed.py; values escaped there); this module
// asks the worker, switches views and answers the data-action hooks.
const { TARGET, MSG, request } = globalThis.EngageMessages;

const $ = (id) => document.getElementById(id);
const FEED_TICK_MS = 30000; // client_py.feed.TICK_SECONDS: "2 min ago" keeps moving

const feedState = { items: [], nextCursor: null, loaded: false, rendering: null };
let onNotice = () => {};
let openThread = () => {};

function ask(id, payload = {}, timeoutMs = 15000) {
  return request(TARGET.WORKER, id, payload, { timeoutMs });
}

export function currentView() {
  return document.body.dataset.view || "threads";
}

function showView(view) {
  document.body.dataset.view = view;
  for (const button of $("views").querySelectorAll("button[data-view]")) {
    button.setAttribute("aria-pressed", String(button.dataset.view === view));
  }
  const feed = view === "feed";
  $("feed").hidden = !feed;
  $("panel").hidden = feed;
  $("due").hidden = feed;
  $("filters").hidden = feed || $("views").hidden;
  $("more").hidden = feed || !$("more").dataset.hasMore;
  if (feed) refreshFeed();
}

/** The Due section: called with every render of the threads. */
export async function refreshDue() {
  try {
    const { html, due } = await ask(MSG.PANEL_DUE);
    $("due").innerHTML = html; // an extension page; client_py escaped every value
    $("due").dataset.due = String(due);
  } catch (error) {
    if (error.code !== "signed_out") onNotice(error.message);
  }
}

/** The feed, from the server (first page again) or, with `tick`, from what is loaded. */
export async function refreshFeed({ tick = false, more = false } = {}) {
  if (currentView() !== "feed") return;
  if (feedState.rendering) return feedState.rendering;
  feedState.rendering = (async () => {
    const answer = tick && feedState.loaded
      ? await ask(MSG.PANEL_FEED_TICK, { items: feedState.items, more: Boolean(feedState.nextCursor) })
      : await ask(MSG.PANEL_FEED, more ? { cursor: feedState.nextCursor, keep: feedState.items } : {});
    if (!tick || !feedState.loaded) {
      feedState.items = answer.items;
      feedState.nextCursor = answer.nextCursor;
      feedState.loaded = true;
    }
    $("feed").innerHTML = answer.html;
    $("feed").dataset.items = String(feedState.items.length);
  })().catch((error) => onNotice(error.message)).finally(() => { feedState.rendering = null; });
  return feedState.rendering;
}

async function onClick(event) {
  const target = event.target.closest("[data-action]");
  if (!target) return;
  const action = target.dataset.action;
  const threadId = target.dataset.threadId;
  if (action === "open-thread") {
    event.preventDefault();
    await openThread(threadId);
  } else if (action === "remind") {
    await ask(MSG.PANEL_REMIND, { threadId, condition: target.dataset.condition, days: Number(target.dataset.days) })
      .catch((error) => onNotice(error.message));
  } else if (action === "remind-date") {
    const row = target.closest(".engage-remind-row");
    const date = row?.querySelector("input.engage-remind-date")?.value;
    if (!date) return;
    await ask(MSG.PANEL_REMIND, { threadId, condition: target.dataset.condition, date })
      .catch((error) => onNotice(error.message));
  } else if (action === "feed-more") {
    await refreshFeed({ more: true });
  } else if (action.startsWith("reminder-")) {
    await ask(MSG.PANEL_REMINDER_ACTION, {
      id: target.dataset.reminderId, action: action.slice("reminder-".length), days: Number(target.dataset.days || 1),
    }).catch((error) => onNotice(error.message));
  }
}

/** Wire the module: `notice` shows a message, `open` opens a thread in Gmail. */
export function initFollowup({ notice, open }) {
  onNotice = notice;
  openThread = open;
  document.addEventListener("click", (event) => {
    if (event.target.closest("#feed, #due, .engage-remind, .engage-remind-set")) onClick(event);
  });
  $("views").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-view]");
    if (button) showView(button.dataset.view);
  });
  setInterval(() => refreshFeed({ tick: true }), FEED_TICK_MS);
}

/** Signed in or out: the view switch shows only when there is something to switch. */
export function setSignedIn(signedIn) {
  $("views").hidden = !signedIn;
  if (!signedIn) {
    $("due").replaceChildren();
    $("feed").replaceChildren();
    feedState.loaded = false;
    showView("threads");
  }
}

/** New engagement arrived (the stream, a reply, a reminder): the feed's first page again. */
export function onEngagement() {
  feedState.loaded = false;
  refreshFeed();
}
