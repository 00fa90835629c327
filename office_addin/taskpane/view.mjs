// What every part of the Engagement panel shares: the page's elements, the state of
// what is shown, the status line and toast, the search controls, and what an API
// failure shows (a 401 means signed out: signin.mjs registers what to do then).
export const Api = globalThis.EngageApi;
export const $ = (id) => document.getElementById(id);

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
};

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
    signedOutHandler("Your sign-in has ended. Sign in again.");
    return;
  }
  setStatus(`${what}: ${(error && error.message) || error}`, "error");
}

export function debounce(fn, ms) {
  let timer = null;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };
}
