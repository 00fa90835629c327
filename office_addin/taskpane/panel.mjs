// The Engagement panel: the add-in's task pane, and the web panel at /panel (the same
// page in a plain browser). client_py renders the panel (engage_addin.panel_html, all
// values escaped there); this script fetches, wires the controls to the API and keeps
// it live: server-sent events, with polling while the stream is down.
import { startEngine } from "../shared/engine.mjs";

const Api = globalThis.EngageApi;
const engineBooting = startEngine();
const $ = (id) => document.getElementById(id);

const LIVE_REFRESH_DEBOUNCE_MS = 80;
const POLL_MS = 1500; // only while the live stream is down
const PAGE_SIZE = 50;
const SEARCH_DEBOUNCE_MS = 250;

const state = {
  inOutlook: false,
  me: null,
  threads: [],
  unread: 0,
  hidden: 0,
  nextCursor: null,
  expanded: new Set(),
  source: null,
  live: false,
  pollTimer: null,
  reconnectMs: 1000,
  refreshTimer: null,
  refreshing: null,
  refreshAgain: false,
  renderedKey: null,
  pendingNotices: [],
};

// -- small helpers --------------------------------------------------------------------
function setView(view, status) {
  $("app").dataset.view = view;
  $("signin").hidden = view !== "signin";
  $("main").hidden = view !== "main";
  $("settings-toggle").hidden = view !== "main";
  setStatus(status || "");
}

function setStatus(text, kind) {
  const status = $("status");
  status.textContent = text;
  status.hidden = !text;
  status.dataset.kind = kind || "info";
}

let toastTimer = null;
function toast(text) {
  const box = $("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 8000);
}

function setLive(on) {
  state.live = on;
  const live = $("live");
  live.dataset.live = on ? "on" : "off";
  live.title = on ? "Live: new opens appear at once" : "Reconnecting: checking every few seconds";
  live.querySelector(".live-text").textContent = on ? "Live" : "Offline";
  if (on) stopPolling();
  else startPolling();
}

function query() {
  return {
    q: $("q").value.trim(),
    period: $("period").value,
    category: $("category").value,
    domain: $("domain").value.trim(),
    sequence: $("sequence").value.trim(),
    step: /^[1-9][0-9]{0,3}$/.test($("step").value.trim()) ? Number($("step").value.trim()) : null,
  };
}

async function officeHost() {
  const office = globalThis.Office;
  if (!office || typeof office.onReady !== "function") return null;
  const info = await Promise.race([
    office.onReady(),
    new Promise((resolve) => setTimeout(() => resolve(null), 5000)),
  ]);
  return info && info.host ? info.host : null;
}

function apiFailure(error, what) {
  if (error && error.status === 401) {
    signedOut("Your sign-in has ended. Sign in again.");
    return;
  }
  setStatus(`${what}: ${(error && error.message) || error}`, "error");
}

// -- sign-in ---------------------------------------------------------------------------
function signedOut(message) {
  closeLive();
  if (Api.token()) Api.signOut();
  state.me = null;
  state.threads = [];
  setView("signin");
  const error = $("signin-error");
  error.textContent = message || "";
  error.hidden = !message;
  $("signin-email").focus();
}

async function signIn(event) {
  event.preventDefault();
  const email = $("signin-email").value.trim();
  const password = $("signin-password").value;
  const error = $("signin-error");
  if (!email || !password) {
    error.textContent = "Enter your email and password.";
    error.hidden = false;
    return;
  }
  $("signin-submit").disabled = true;
  try {
    const answer = await Api.request("POST", "/auth/signin", {
      email, password, label: state.inOutlook ? "Outlook add-in" : "Web panel",
    }, { token: null });
    await Api.setToken(answer.token);
    Api.rememberMe({ user: answer.user, org: answer.org, settings: answer.settings, public_url: Api.publicUrl() });
    $("signin-password").value = "";
    error.hidden = true;
    await start();
  } catch (failure) {
    error.textContent = failure.status === 401 ? "Wrong email or password." : failure.message;
    error.hidden = false;
  } finally {
    $("signin-submit").disabled = false;
  }
}

// -- the panel ---------------------------------------------------------------------------
async function start() {
  setView("main", "Loading your tracked emails…");
  try {
    state.me = await Api.me({ timeoutMs: 15000 });
  } catch (error) {
    apiFailure(error, "Engage cannot be reached");
    if (error.status !== 401) setTimeout(start, 5000);
    return;
  }
  fillSettings();
  await refresh();
  connectLive();
}

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
async function refresh() {
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
        const key = JSON.stringify([page, query(), state.me.settings]);
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
        apiFailure(error, "Could not load your tracked emails");
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

function scheduleRefresh() {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(refresh, LIVE_REFRESH_DEBOUNCE_MS);
}

async function showMore() {
  if (!state.nextCursor) return;
  try {
    const page = await Api.request("GET", threadsPath(state.nextCursor));
    const known = new Set(state.threads.map((t) => t.thread_id));
    state.threads = state.threads.concat(page.threads.filter((t) => !known.has(t.thread_id)));
    state.nextCursor = page.next_cursor;
    state.renderedKey = null;
    await render();
  } catch (error) {
    apiFailure(error, "Could not load more");
  }
}

async function render() {
  const engine = await engineBooting;
  const q = query();
  const html = engine.call("panel_html",
    { threads: state.threads, unread: state.unread, hidden_by_window: state.hidden },
    state.me.settings, { text: q.q, period: q.period, domain: q.domain || null,
                         sequence: q.sequence || null, step: q.step });
  const host = $("panel");
  // client_py escapes every value and emits no scripts or handlers (client_py/render.py).
  host.innerHTML = html;
  for (const article of host.querySelectorAll("article.engage-thread")) {
    if (state.expanded.has(article.dataset.threadId)) setExpanded(article, true);
  }
  $("more").hidden = !state.nextCursor;
  document.title = state.unread ? `(${state.unread}) Engage` : "Engage: Engagement";
}

function setExpanded(article, open) {
  const toggle = article.querySelector(".engage-thread-toggle");
  const list = document.getElementById(toggle.getAttribute("aria-controls"));
  toggle.setAttribute("aria-expanded", open ? "true" : "false");
  if (list) list.hidden = !open;
}

function threadOf(threadId) {
  return state.threads.find((t) => t.thread_id === threadId) || null;
}

async function onPanelClick(event) {
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
      await Api.request("PATCH", "/threads", { thread_id: threadId, viewed: true }).then(refresh, (e) => apiFailure(e, "Could not mark it as seen"));
    }
  } else if (action === "pin" || action === "unpin") {
    target.disabled = true;
    await Api.request("PATCH", "/threads", { thread_id: threadId, pinned: action === "pin" })
      .then(refresh, (e) => apiFailure(e, "Could not change the pin"));
  } else if (action === "open") {
    event.preventDefault();
    await openEmail(threadId, target.dataset.messageId);
  }
}

async function onPanelDoubleClick(event) {
  const counter = event.target.closest('[data-action="reset-counter"]');
  if (!counter || !event.ctrlKey) return;
  event.preventDefault();
  await Api.request("POST", "/counter/reset").then(refresh, (e) => apiFailure(e, "Could not reset the counter"));
}

/** The Outlook item id of a tracked email: the server's, else the one this browser kept. */
function outlookIdOf(thread, messageId) {
  const message = thread && (thread.messages || []).find((m) => m.id === messageId);
  return (message && message.client_message_id) || Api.outlookIdFor(messageId);
}

async function openEmail(threadId, messageId) {
  const itemId = outlookIdOf(threadOf(threadId), messageId);
  // Opening it loads its tracking image through Outlook: that is the sender, not a read.
  const selfView = Api.request("POST", "/threads/self-view", { thread_id: threadId }).catch(() => undefined);
  if (state.inOutlook) {
    if (!itemId) {
      toast("Outlook cannot open this email from here (it was tracked elsewhere): find it in Sent Items.");
      return;
    }
    await selfView;
    try {
      Office.context.mailbox.displayMessageForm(itemId);
    } catch (error) {
      toast(`Outlook could not open it: ${error.message}`);
    }
    return;
  }
  await selfView;
  const url = itemId
    ? `https://outlook.office.com/owa/?ItemID=${encodeURIComponent(itemId)}&exvsurl=1&viewmodel=ReadMessageItem`
    : "https://outlook.office.com/mail/sentitems";
  window.open(url, "_blank", "noopener");
}

// -- live updates ----------------------------------------------------------------------
function closeLive() {
  if (state.source) state.source.close();
  state.source = null;
  stopPolling();
}

function startPolling() {
  if (state.pollTimer || !state.me) return;
  state.pollTimer = setInterval(refresh, POLL_MS);
}

function stopPolling() {
  clearInterval(state.pollTimer);
  state.pollTimer = null;
}

async function connectLive() {
  closeLive();
  if (!Api.token()) return;
  let ticket;
  try {
    ticket = await Api.request("POST", "/stream/tickets");
  } catch (error) {
    if (error.status === 401) return apiFailure(error);
    setLive(false);
    setTimeout(connectLive, state.reconnectMs);
    state.reconnectMs = Math.min(state.reconnectMs * 2, 30000);
    return;
  }
  const source = new EventSource(`${Api.publicUrl()}/api/v1/stream?ticket=${encodeURIComponent(ticket.ticket)}`);
  state.source = source;
  source.addEventListener("open", () => {
    state.reconnectMs = 1000;
    setLive(true);
    scheduleRefresh(); // catch up on what happened while disconnected
  });
  source.addEventListener("engagement", (message) => {
    let data = null;
    try {
      data = JSON.parse(message.data);
    } catch (error) {
      return;
    }
    if (data.counts && state.me && state.me.settings.notify_on_open) state.pendingNotices.push(data);
    scheduleRefresh();
  });
  source.addEventListener("error", () => {
    if (source !== state.source) return;
    if (source.readyState === EventSource.CLOSED) {
      // Refused (an expired ticket, say): a new ticket, after a pause.
      setLive(false);
      state.source = null;
      setTimeout(connectLive, state.reconnectMs);
      state.reconnectMs = Math.min(state.reconnectMs * 2, 30000);
    } else {
      setLive(false); // the browser reconnects by itself; poll meanwhile
    }
  });
}

/** "Notify me when an email is opened": one line per new counted open or click. */
function announceOpens() {
  const notices = state.pendingNotices.splice(0);
  if (!notices.length) return;
  const lines = notices.map((data) => {
    const thread = threadOf(data.thread_id);
    const subject = (thread && thread.subject) || "A tracked email";
    const verb = data.kind === "click" ? "Link clicked in" : "Opened:";
    const where = [data.location, data.device && data.device !== "unknown" ? data.device : ""].filter(Boolean).join(", ");
    return `${verb} “${subject}”${where ? ` (${where})` : ""}`;
  });
  toast(lines.join(" · "));
}

// -- customization ---------------------------------------------------------------------
function timeZones(current) {
  let zones = [];
  try {
    zones = Intl.supportedValuesOf("timeZone");
  } catch (error) {
    zones = [];
  }
  for (const zone of ["UTC", current, Intl.DateTimeFormat().resolvedOptions().timeZone]) {
    if (zone && !zones.includes(zone)) zones.unshift(zone);
  }
  return zones;
}

function fillSettings() {
  const settings = state.me.settings;
  $("set-auto").checked = Boolean(settings.auto_insert);
  $("set-notify").checked = Boolean(settings.notify_on_open);
  $("set-insert").value = settings.insert_at === "first" ? "first" : "last";
  const select = $("set-tz");
  select.replaceChildren(...timeZones(settings.time_zone).map((zone) => new Option(zone.replace(/_/g, " "), zone)));
  select.value = settings.time_zone;
  const user = state.me.user || {};
  $("who").textContent = `Signed in as ${user.email || ""}`;
}

async function saveSetting(change) {
  try {
    const settings = await Api.request("PATCH", "/settings", change);
    state.me = { ...state.me, settings };
    Api.updateCachedSettings(settings);
    toast("Saved.");
    await render();
  } catch (error) {
    fillSettings();
    apiFailure(error, "Could not save");
  }
}

// -- wiring -----------------------------------------------------------------------------
function debounce(fn, ms) {
  let timer = null;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };
}

function wire() {
  $("signin-form").addEventListener("submit", signIn);
  $("panel").addEventListener("click", onPanelClick);
  $("panel").addEventListener("dblclick", onPanelDoubleClick);
  $("more").addEventListener("click", showMore);
  $("q").addEventListener("input", debounce(refresh, SEARCH_DEBOUNCE_MS));
  $("domain").addEventListener("input", debounce(refresh, SEARCH_DEBOUNCE_MS));
  $("sequence").addEventListener("input", debounce(refresh, SEARCH_DEBOUNCE_MS));
  $("step").addEventListener("input", debounce(refresh, SEARCH_DEBOUNCE_MS));
  $("period").addEventListener("change", refresh);
  $("category").addEventListener("change", refresh);
  $("settings-toggle").addEventListener("click", () => {
    const open = $("settings").hidden;
    $("settings").hidden = !open;
    $("settings-toggle").setAttribute("aria-expanded", open ? "true" : "false");
  });
  $("set-auto").addEventListener("change", (e) => saveSetting({ auto_insert: e.target.checked }));
  $("set-notify").addEventListener("change", (e) => saveSetting({ notify_on_open: e.target.checked }));
  $("set-insert").addEventListener("change", (e) => saveSetting({ insert_at: e.target.value }));
  $("set-tz").addEventListener("change", (e) => saveSetting({ time_zone: e.target.value }));
  $("signout").addEventListener("click", () => signedOut(""));
  Api.onTracked(() => {
    if (state.me) scheduleRefresh(); // the runtime just tracked an email: list it
  });
}

async function main() {
  wire();
  state.inOutlook = (await officeHost()) === "Outlook";
  document.documentElement.dataset.host = state.inOutlook ? "outlook" : "browser";
  if (state.inOutlook) {
    // Tells the runtime (commands.js) to put the tracking image on the first line.
    Api.markPaneOpen();
    setInterval(Api.markPaneOpen, 2000);
    window.addEventListener("pagehide", Api.markPaneClosed);
  }
  if (Api.token()) await start();
  else signedOut("");
}

main().catch((error) => setStatus(`Engage could not start: ${error.message}`, "error"));
engineBooting.catch((error) => setStatus(`Engage could not start its engine: ${error.message}`, "error"));
