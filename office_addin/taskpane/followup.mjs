// Follow-up reminders and the activity feed in the task pane and /panel: the "Due"
// section above the threads, the Remind-me menu on each thread, and the feed beside
// them (side by side on a desktop screen, switched in a narrow pane). client_py
// renders all of it (engage_addin's feed_html, due_html; values escaped there).
import { startEngine } from "../shared/engine.mjs";
import { openEmail, threadOf } from "./open_email.mjs";
import { $, Api, apiFailure, shownSettings, state } from "./view.mjs";

const FEED_TICK_MS = 30000; // client_py.feed.TICK_SECONDS
const FEED_PAGE = 30;
const feed = { items: [], nextCursor: null, loading: null };
let refreshThreads = () => {};

function settings() {
  return { ...shownSettings(), locale: globalThis.EngageStrings.language() };
}

async function renderFeed() {
  const engine = await startEngine();
  const { html } = engine.call("feed_html", feed.items, settings(), null, Boolean(feed.nextCursor));
  $("feed").innerHTML = html; // client_py escaped every value
  $("feed").dataset.items = String(feed.items.length);
}

/** The feed's first page again (or the next one, `more`). */
export async function refreshFeed({ more = false } = {}) {
  if (!state.me) return;
  if (feed.loading) return feed.loading;
  feed.loading = (async () => {
    const params = new URLSearchParams({ limit: String(FEED_PAGE) });
    if (more && feed.nextCursor) params.set("cursor", feed.nextCursor);
    const page = await Api.request("GET", `/feed?${params}`);
    feed.items = more ? feed.items.concat(page.items) : page.items;
    feed.nextCursor = page.next_cursor;
    await renderFeed();
  })().catch((error) => apiFailure(error, "Could not load the activity")).finally(() => { feed.loading = null; });
  return feed.loading;
}

export async function refreshDue() {
  if (!state.me) return;
  try {
    const { reminders } = await Api.request("GET", "/reminders?status=due");
    const engine = await startEngine();
    $("due").innerHTML = engine.call("due_html", reminders, settings()).html;
  } catch (error) {
    apiFailure(error, "Could not load your reminders");
  }
}

/** After the threads were rendered, and on every live event. */
export function refreshFollowup() {
  refreshDue();
  refreshFeed();
}

function showView(view) {
  $("columns").dataset.view = view;
  for (const button of $("views").querySelectorAll("button[data-view]")) {
    button.setAttribute("aria-pressed", String(button.dataset.view === view));
  }
}

async function act(promise, what) {
  try {
    await promise;
  } catch (error) {
    apiFailure(error, what);
  }
  refreshThreads();
  refreshDue();
}

async function onClick(event) {
  const target = event.target.closest("[data-action]");
  if (!target) return;
  const { action, threadId } = target.dataset;
  const id = target.dataset.reminderId;
  if (action === "open-thread") {
    event.preventDefault();
    await openEmail(threadId, threadOf(threadId)?.latest_message_id);
  } else if (action === "remind") {
    await act(Api.request("POST", "/reminders", { thread_id: threadId, condition: target.dataset.condition,
      in_days: Number(target.dataset.days) }), "Could not set the reminder");
  } else if (action === "remind-date") {
    const date = target.closest(".engage-remind-row")?.querySelector("input.engage-remind-date")?.value;
    if (date) {
      await act(Api.request("POST", "/reminders", { thread_id: threadId, condition: target.dataset.condition,
        on_date: date }), "Could not set the reminder");
    }
  } else if (action === "reminder-snooze") {
    await act(Api.request("POST", `/reminders/${encodeURIComponent(id)}/snooze`, { in_days: Number(target.dataset.days) }),
      "Could not snooze the reminder");
  } else if (action === "reminder-done") {
    await act(Api.request("POST", `/reminders/${encodeURIComponent(id)}/done`), "Could not finish the reminder");
  } else if (action === "reminder-cancel") {
    await act(Api.request("DELETE", `/reminders/${encodeURIComponent(id)}`), "Could not cancel the reminder");
  } else if (action === "feed-more") {
    await refreshFeed({ more: true });
  }
}

/** `refresh`: the threads' refresh (paging.mjs), after a reminder changed. */
export function wireFollowup({ refresh }) {
  refreshThreads = refresh;
  $("due").addEventListener("click", onClick);
  $("feed").addEventListener("click", onClick);
  $("panel").addEventListener("click", (event) => {
    if (event.target.closest(".engage-remind, .engage-remind-set")) onClick(event);
  });
  $("views").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-view]");
    if (button) showView(button.dataset.view);
  });
  setInterval(() => { if (feed.items.length) renderFeed(); }, FEED_TICK_MS); // "2 min ago" ticks
}
