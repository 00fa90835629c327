// The Engagement side panel. The list itself is client_py's render_panel output (every
// value escaped there), asked from the worker, which asks the server and the offscreen
// document. This page adds the search and filter controls, one delegated listener on
// client_py's data-action hooks, and live refresh when the worker reports engagement.
import * as followup from "./followup.js";

const { TARGET, MSG, request, listen } = globalThis.EngageMessages;

const $ = (id) => document.getElementById(id);
globalThis.EngageI18n.localizePage(document); // the page's own words; the list is client_py's
const panel = $("panel");
const LIVE_DEBOUNCE_MS = 80;
const CLOCK_REFRESH_MS = 60000;
const SEARCH_DEBOUNCE_MS = 250;

const view = {
  threads: [],
  nextCursor: null,
  expanded: new Set(),
  cssLoaded: false,
  rendering: null,
  again: false,
  focus: "", // the thread a click on a mark asked for
  focused: "",
};

function ask(id, payload, timeoutMs = 15000) {
  return request(TARGET.WORKER, id, payload, { timeoutMs });
}

function query() {
  const step = $("step").value.trim();
  return {
    text: $("q").value.trim(),
    period: $("period").value,
    domain: $("domain").value.trim() || null,
    sequence: $("sequence").value.trim() || null,
    step: step ? Number(step) : null,
  };
}

function filtered(q) {
  return Boolean(q.text || q.period !== "all" || q.domain || q.sequence || q.step);
}

function notice(text) {
  $("notice").textContent = text || "";
  $("notice").hidden = !text;
}

function restoreExpanded() {
  for (const article of panel.querySelectorAll("article.engage-thread")) {
    if (!view.expanded.has(article.dataset.threadId)) continue;
    const toggle = article.querySelector('[data-action="toggle"]');
    const list = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
    if (toggle && list) {
      toggle.setAttribute("aria-expanded", "true");
      list.hidden = false;
    }
  }
}

// A click on a mark in Gmail opens this panel on that thread, expanded: the worker
// says which (MARK_FOCUS), at start-up or, when the panel is open, by a broadcast.
function showFocused() {
  const id = view.focus;
  if (!id || view.focused === id) return;
  const article = [...panel.querySelectorAll("article.engage-thread")].find((a) => a.dataset.threadId === id);
  if (!article) return;
  view.focused = id;
  view.expanded.add(id);
  restoreExpanded();
  article.classList.add("engage-focused");
  article.scrollIntoView({ block: "start" });
  panel.dataset.focused = id; // tests wait on it
}

async function renderNow({ more = false } = {}) {
  const q = query();
  $("clear").hidden = !filtered(q);
  const state = await ask(MSG.GET_STATE);
  $("signed-out").hidden = state.signedIn;
  followup.setSignedIn(state.signedIn);
  $("filters").hidden = !state.signedIn || followup.currentView() === "feed";
  if (!state.signedIn) {
    panel.replaceChildren();
    $("more").hidden = true;
    notice("");
    return;
  }
  const result = await ask(MSG.PANEL_RENDER, {
    query: q,
    cursor: more ? view.nextCursor : null,
    keep: more ? view.threads : [],
    withCss: !view.cssLoaded,
  });
  if (result.css) {
    $("engage-panel-css").textContent = result.css;
    view.cssLoaded = true;
  }
  view.threads = result.threads;
  view.nextCursor = result.nextCursor;
  const scroll = document.scrollingElement.scrollTop;
  // An extension page (no Trusted Types here); client_py escaped every value.
  panel.innerHTML = result.html;
  restoreExpanded();
  document.scrollingElement.scrollTop = scroll;
  $("more").dataset.hasMore = view.nextCursor ? "true" : "";
  $("more").hidden = !view.nextCursor || followup.currentView() === "feed" || insights.open;
  followup.refreshDue();
  showFocused();
  panel.dataset.query = JSON.stringify(q); // what this list answers (tests wait on it)
  notice("");
}

/** Render, coalescing calls that arrive while a render is running. */
async function render(options) {
  if (view.rendering) {
    view.again = true;
    return view.rendering;
  }
  view.rendering = renderNow(options)
    .catch((error) => notice(error.code === "unreachable" || error.code === "timeout"
      ? `${error.message} Showing what was last loaded.`
      : error.message))
    .finally(() => {
      view.rendering = null;
      if (view.again) {
        view.again = false;
        render();
      }
    });
  return view.rendering;
}

let liveTimer = null;
function renderSoon(delay = LIVE_DEBOUNCE_MS) {
  clearTimeout(liveTimer);
  liveTimer = setTimeout(() => render(), delay);
}

function threadOf(el) {
  return el.closest("article.engage-thread");
}

async function onAction(event) {
  const target = event.target.closest("[data-action]");
  if (!target || !panel.contains(target)) return;
  const action = target.dataset.action;
  const article = threadOf(target);
  const threadId = target.dataset.threadId || article?.dataset.threadId;
  if (action === "toggle") {
    const open = target.getAttribute("aria-expanded") !== "true";
    target.setAttribute("aria-expanded", String(open));
    const list = document.getElementById(target.getAttribute("aria-controls"));
    if (list) list.hidden = !open;
    if (open) view.expanded.add(threadId);
    else view.expanded.delete(threadId);
    if (open && article?.dataset.unread === "true") {
      await ask(MSG.PANEL_VIEWED, { threadId }).catch(() => {});
      render();
    }
  } else if (action === "pin" || action === "unpin") {
    await ask(MSG.PANEL_PIN, { threadId, pinned: action === "pin" }).catch((e) => notice(e.message));
    render();
  } else if (action === "open") {
    event.preventDefault();
    const subject = article?.querySelector(".engage-subject")?.textContent || "";
    await ask(MSG.PANEL_OPEN, { threadId, subject }).catch((e) => notice(e.message));
  }
}

panel.addEventListener("click", (event) => {
  onAction(event);
});

// Ctrl+double-click (Cmd on a Mac) on the counter resets it.
panel.addEventListener("dblclick", async (event) => {
  const counter = event.target.closest('[data-action="reset-counter"]');
  if (!counter || !(event.ctrlKey || event.metaKey)) return;
  event.preventDefault();
  await ask(MSG.COUNTER_RESET).catch((e) => notice(e.message));
  render();
});

let searchTimer = null;
$("filters").addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => render(), SEARCH_DEBOUNCE_MS);
});
$("filters").addEventListener("submit", (event) => {
  event.preventDefault();
  render();
});
$("clear").addEventListener("click", () => {
  $("filters").reset();
  render();
});
$("more").addEventListener("click", () => render({ more: true }));
$("open-options").addEventListener("click", () => chrome.runtime.openOptionsPage());

listen(TARGET.PAGES, {
  [MSG.ENGAGEMENT]: () => {
    renderSoon();
    followup.onEngagement();
    return true;
  },
  [MSG.MARK_FOCUS]: ({ threadId }) => {
    focusOn(threadId);
    return true;
  },
  [MSG.STATE_CHANGED]: (change) => {
    if (!("stream" in change)) renderSoon(0);
    return true;
  },
});

followup.initFollowup({
  notice,
  open: (threadId) => ask(MSG.PANEL_OPEN, { threadId }).catch((e) => notice(e.message)),
});
// -- Insights: client_py's view (charts and words, escaped there), asked from the worker.
const insights = { open: false, period: "30d", team: false };

async function renderInsights() {
  const host = $("insights");
  try {
    const result = await ask(MSG.INSIGHTS_RENDER, { period: insights.period, scope: insights.team ? "team" : "me" });
    if (!view.cssLoaded) await render(); // the panel's stylesheet (client_py's) carries the view's too
    host.innerHTML = result.html; // an extension page; client_py escaped every value
    host.dataset.loaded = `${result.scope}:${result.period}`; // what is shown (tests wait on it)
    notice("");
  } catch (error) {
    if (error.status === 403) insights.team = false;
    notice(error.message);
  }
}

function showInsights(open) {
  insights.open = open;
  document.body.dataset.insights = open ? "open" : ""; // body's data-view is the Emails/Activity switch's
  $("insights-toggle").setAttribute("aria-pressed", String(open));
  $("insights").hidden = !open;
  const feed = followup.currentView() === "feed";
  panel.hidden = open || feed;
  $("due").hidden = open || feed;
  $("feed").hidden = open || !feed;
  $("views").hidden = open;
  $("more").hidden = open || feed || !view.nextCursor;
  if (open) renderInsights();
}

$("insights-toggle").addEventListener("click", () => showInsights(!insights.open));
$("insights").addEventListener("change", (event) => {
  const action = event.target.dataset.action;
  if (action === "period") insights.period = event.target.value;
  else if (action === "team") insights.team = event.target.checked;
  else return;
  renderInsights();
});
$("insights").addEventListener("click", async (event) => {
  if (!event.target.closest('[data-action="export"]')) return;
  event.preventDefault();
  try {
    const { csv, filename } = await ask(MSG.INSIGHTS_EXPORT, { period: insights.period, scope: insights.team ? "team" : "me" }, 60000);
    const url = URL.createObjectURL(new Blob([csv], { type: "text/csv" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = filename;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (error) {
    notice(error.message);
  }
});

function focusOn(threadId) {
  view.focus = threadId || "";
  view.focused = "";
  if (!view.focus) return;
  // The thread is in the Emails view: leave Insights and the Activity view for it.
  if (insights.open) showInsights(false);
  if (followup.currentView() === "feed") document.querySelector('#views button[data-view="threads"]')?.click();
  render();
}

ask(MSG.MARK_FOCUS).then(({ threadId }) => focusOn(threadId), () => {});
setInterval(() => render(), CLOCK_REFRESH_MS); // "2 min ago" must not stay put
render();
