// What every part of the Engagement panel shares: the page's elements, the state of
// what is shown, the status line and toast, the search controls, and what an API
// failure shows (a 401 means signed out: signin.mjs registers what to do then).
export const Api = globalThis.EngageApi;
export const $ = (id) => document.getElementById(id);
/** The page's own words (shared/strings.js) in Office's or the browser's language. */
export const t = (key, params) => globalThis.EngageStrings.t(key, params);

export const state = {
  inOutlook: false,
  me: null,
  threads: [],
  unread: 0,
  hidden: 0,
  nextCursor: null,
  expanded: new Set(),
  live: false,
  refreshTimer: null,
  refreshing: null,
  refreshAgain: false,
  renderedKey: null,
  pendingNotices: [],
  outlookZone: null, // Outlook's time zone (IANA name), the default for times shown
};

const TZ_CHOSEN_KEY = "engage.tzChosen"; // the user picked a time zone here: Outlook's is no longer the default

/** The settings the panel is shown with: times in Outlook's time zone until the user
 *  picks one here (the server's default, UTC, is nobody's choice). */
export function shownSettings() {
  const settings = state.me.settings;
  const chosen = localStorage.getItem(TZ_CHOSEN_KEY) === "1";
  if (state.outlookZone && !chosen && settings.time_zone === "UTC") return { ...settings, time_zone: state.outlookZone };
  return settings;
}

/** The user picked a time zone in Customization: Outlook's is no longer the default. */
export function chooseTimeZone() {
  localStorage.setItem(TZ_CHOSEN_KEY, "1");
}

export function setView(view, status) {
  $("app").dataset.view = view;
  $("signin").hidden = view !== "signin";
  $("main").hidden = view !== "main";
  $("settings-toggle").hidden = view !== "main";
  setStatus(status || "");
}

export function setStatus(text, kind) {
  const status = $("status");
  status.textContent = text;
  status.hidden = !text;
  status.dataset.kind = kind || "info";
}

let toastTimer = null;
export function toast(text) {
  const box = $("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 8000);
}

export function query() {
  return {
    q: $("q").value.trim(),
    period: $("period").value,
    category: $("category").value,
    domain: $("domain").value.trim(),
    sequence: $("sequence").value.trim(),
    step: /^[1-9][0-9]{0,3}$/.test($("step").value.trim()) ? Number($("step").value.trim()) : null,
  };
}

let signedOutHandler = () => {};
/** What apiFailure does on a 401 (signin.mjs: back to the sign-in form). */
export function onSignedOut(handler) {
  signedOutHandler = handler;
}

export function apiFailure(error, what) {
  if (error && error.status === 401) {
    // With no token the user has just signed out (a refresh that was scheduled went
    // without one): nothing ended, so nothing to say.
    if (Api.token()) signedOutHandler(t("pane.signinEnded"));
    return;
  }
  setStatus(t("pane.fail", { what, reason: reasonOf(error) }), "error");
}

/** Why an API call failed, in the pane's language: no answer, a late one, a server
 *  error; for a refusal (4xx), the server's own explanation. */
export function reasonOf(error) {
  const code = error && error.code;
  if (code === "unreachable") return t("pane.error.unreachable");
  if (code === "timeout") return t("pane.error.timeout");
  if (error && error.status >= 500) return t("pane.error.status", { status: error.status });
  return (error && error.message) || String(error);
}

export function debounce(fn, ms) {
  let timer = null;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };
}
