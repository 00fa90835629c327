// The list of tracked emails: fetching a page of GET /threads, "Show more", rendering
// it with client_py (engage_addin.panel_html, all values escaped there), and the
// clicks inside it (expand, pin, mark seen, reset the counter).
import { startEngine } from "../shared/engine.mjs";
import { refreshFollowup } from "./followup.mjs";
import { openEmail, threadOf } from "./open_email.mjs";
import { $, Api, apiFailure, query, setStatus, shownSettings, state, t, toast } from "./view.mjs";

const LIVE_REFRESH_DEBOUNCE_MS = 80;
const PAGE_SIZE = 50;

function threadsPath(cursor) {
  const q = query();
  // A refresh keeps what "Show more" loaded (up to the API's 100).
  const limit = cursor ? PAGE_SIZE : Math.min(100, Math.max(PAGE_SIZE, state.threads.length));
  const params = new URLSearchParams({ limit: String(limit), category: q.category, period: q.period });
  if (q.q) params.set("q", q.q);
  if (q.domain) params.set("domain", q.domain);
  if (q.sequence) params.set("sequence", q.sequence);
  if (q.step) params.set("step", String(q.step));
  if (cursor) params.set("cursor", cursor);
  return `/threads?${params}`;
}

/** Fetch the first page again and render; calls during a fetch run once after it. */
export async function refresh() {
  if (state.refreshing) {
    state.refreshAgain = true;
    return state.refreshing;
  }
  state.refreshing = (async () => {
    do {
      state.refreshAgain = false;
      try {
        const page = await Api.request("GET", threadsPath(null));
        // Polling asks often: re-render (and lose focus, selection) only on a change.
        const key = JSON.stringify([page, query(), shownSettings()]);
        if (key !== state.renderedKey) {
          state.threads = page.threads;
          state.unread = page.unread;
          state.hidden = page.hidden_by_window;
          state.nextCursor = page.next_cursor;
          await render();
          state.renderedKey = key;
        }
        setStatus("");
      } catch (error) {
        apiFailure(error, t("pane.fail.load"));
      }
    } while (state.refreshAgain);
  })();
  try {
    await state.refreshing;
  } finally {
    state.refreshing = null;
  }
  announceOpens();
}

export function scheduleRefresh() {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(refresh, LIVE_REFRESH_DEBOUNCE_MS);
}

export async function showMore() {
  if (!state.nextCursor) return;
  try {
    const page = await Api.request("GET", threadsPath(state.nextCursor));
    const known = new Set(state.threads.map((t) => t.thread_id));
    state.threads = state.threads.concat(page.threads.filter((t) => !known.has(t.thread_id)));
    state.nextCursor = page.next_cursor;
    state.renderedKey = null;
    await render();
  } catch (error) {
    apiFailure(error, t("pane.fail.more"));
  }
}

export async function render() {
  const engine = await startEngine();
  const q = query();
  const { html } = engine.call("panel_html",
    { threads: state.threads, unread: state.unread, hidden_by_window: state.hidden },
    // client_py renders the panel in Office's display language (client_py/i18n.py).
    { ...shownSettings(), locale: globalThis.EngageStrings.language(), with_reminders: true },
    { text: q.q, period: q.period, domain: q.domain || null,
                         sequence: q.sequence || null, step: q.step });
  const host = $("panel");
  // client_py escapes every value and emits no scripts or handlers (client_py/render.py).
  host.innerHTML = html;
  for (const article of host.querySelectorAll("article.engage-thread")) {
    if (state.expanded.has(article.dataset.threadId)) setExpanded(article, true);
  }
  $("more").hidden = !state.nextCursor;
  refreshFollowup(); // the Due section and the activity feed beside the threads
  document.title = state.unread ? t("pane.title.unread", { count: state.unread }) : t("pane.title");
}

function setExpanded(article, open) {
  const toggle = article.querySelector(".engage-thread-toggle");
  const list = document.getElementById(toggle.getAttribute("aria-controls"));
  toggle.setAttribute("aria-expanded", open ? "true" : "false");
  if (list) list.hidden = !open;
}

export async function onPanelClick(event) {
  const target = event.target.closest("[data-action]");
  if (!target || !$("panel").contains(target)) return;
  const article = target.closest("article.engage-thread");
  const threadId = article && article.dataset.threadId;
  const action = target.dataset.action;
  if (action === "toggle") {
    const open = target.getAttribute("aria-expanded") !== "true";
    setExpanded(article, open);
    if (open) state.expanded.add(threadId);
    else state.expanded.delete(threadId);
    if (open && article.dataset.unread === "true") {
      await Api.request("PATCH", "/threads", { thread_id: threadId, viewed: true }).then(refresh, (e) => apiFailure(e, t("pane.fail.seen")));
    }
  } else if (action === "pin" || action === "unpin") {
    target.disabled = true;
    await Api.request("PATCH", "/threads", { thread_id: threadId, pinned: action === "pin" })
      .then(refresh, (e) => apiFailure(e, t("pane.fail.pin")));
  } else if (action === "open") {
    event.preventDefault();
    await openEmail(threadId, target.dataset.messageId);
  }
}

export async function onPanelDoubleClick(event) {
  const counter = event.target.closest('[data-action="reset-counter"]');
  if (!counter || !event.ctrlKey) return;
  event.preventDefault();
  await Api.request("POST", "/counter/reset").then(refresh, (e) => apiFailure(e, t("pane.fail.counter")));
}

/** "Notify me when an email is opened": one line per new counted open or click. */
function announceOpens() {
  const notices = state.pendingNotices.splice(0);
  if (!notices.length) return;
  const lines = notices.map((data) => {
    const thread = threadOf(data.thread_id);
    const subject = (thread && thread.subject) || t("pane.notify.untitled");
    const what = t(data.kind === "click" ? "pane.notify.clicked" : "pane.notify.opened", { subject });
    const where = [data.location, data.device && data.device !== "unknown" ? data.device : ""].filter(Boolean).join(", ");
    return `${what}${where ? ` (${where})` : ""}`;
  });
  toast(lines.join(" · "));
}
