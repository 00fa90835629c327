// The Engagement panel: the add-in's task pane, and the web panel at /panel (the same
// page in a plain browser). client_py renders the panel (engage_addin.panel_html, all
// values escaped there); these modules fetch, wire the controls to the API and keep
// it live: server-sent events, with polling while the stream is down.
//
//   panel.mjs       this entry: start-up, opening the panel, wiring the controls
//   view.mjs        shared state, status line, toast, search controls, API failures
//   signin.mjs      signing in and out
//   paging.mjs      GET /threads pages, "Show more", rendering, clicks in the list
//   open_email.mjs  opening a tracked email in Outlook
//   settings.mjs    the Customization section
//   live.mjs        the live stream, and polling while it is down
//   followup.mjs    follow-up reminders (the Due section) and the activity feed
//   insights.mjs    the Insights view (client_py's charts), its controls, the CSV export
//   item_mark.mjs   the mark of the email selected in Outlook's reading pane
import { startEngine } from "../shared/engine.mjs";
import { wireFollowup } from "./followup.mjs";
import { wireInsights } from "./insights.mjs";
import { showItemMark, watchSelection } from "./item_mark.mjs";
import { connectLive } from "./live.mjs";
import { onPanelClick, onPanelDoubleClick, refresh, scheduleRefresh, showMore } from "./paging.mjs";
import { fillSettings, outlookTimeZone, wireSettings } from "./settings.mjs";
import { signedOut, signIn } from "./signin.mjs";
import { $, Api, apiFailure, debounce, setStatus, setView, state, t, toast } from "./view.mjs";

const engineBooting = startEngine();
const SEARCH_DEBOUNCE_MS = 250;

async function officeHost() {
  const office = globalThis.Office;
  if (!office || typeof office.onReady !== "function") return null;
  const info = await Promise.race([
    office.onReady(),
    new Promise((resolve) => setTimeout(() => resolve(null), 5000)),
  ]);
  return info && info.host ? info.host : null;
}

async function start() {
  setView("main", t("pane.loadingEmails"));
  try {
    state.me = await Api.me({ timeoutMs: 15000 });
  } catch (error) {
    apiFailure(error, t("pane.fail.reach"));
    if (error.status !== 401) setTimeout(start, 5000);
    return;
  }
  fillSettings();
  await refresh();
  connectLive();
  showItemMark();
}

function wire() {
  $("signin-form").addEventListener("submit", (event) => signIn(event, start));
  $("panel").addEventListener("click", onPanelClick);
  $("panel").addEventListener("dblclick", onPanelDoubleClick);
  $("more").addEventListener("click", showMore);
  $("q").addEventListener("input", debounce(refresh, SEARCH_DEBOUNCE_MS));
  $("domain").addEventListener("input", debounce(refresh, SEARCH_DEBOUNCE_MS));
  $("sequence").addEventListener("input", debounce(refresh, SEARCH_DEBOUNCE_MS));
  $("step").addEventListener("input", debounce(refresh, SEARCH_DEBOUNCE_MS));
  $("period").addEventListener("change", refresh);
  $("category").addEventListener("change", refresh);
  wireSettings();
  wireFollowup({ refresh });
  wireInsights();
  $("signout").addEventListener("click", () => signedOut(""));
  // What the runtime could not say on an email once it was sent.
  Api.onNotice((text) => toast(text));
  Api.onTracked(() => {
    if (state.me) scheduleRefresh(); // the runtime just tracked an email: list it
  });
}

async function main() {
  wire();
  state.inOutlook = (await officeHost()) === "Outlook";
  // The page's words in Office's display language (outside Outlook, the browser's).
  globalThis.EngageStrings.use(state.inOutlook ? Office.context.displayLanguage : navigator.language);
  globalThis.EngageStrings.apply(document);
  if (state.inOutlook) state.outlookZone = await outlookTimeZone();
  watchSelection();
  document.documentElement.dataset.host = state.inOutlook ? "outlook" : "browser";
  if (state.inOutlook) {
    // Tells the runtime (commands.js) to put the tracking image on the first line.
    Api.markPaneOpen();
    setInterval(Api.markPaneOpen, 2000);
    window.addEventListener("pagehide", Api.markPaneClosed);
  }
  const left = Api.takeNotices();
  if (left.length) toast(left.join(" · "));
  if (Api.token()) {
    Api.flushRegistrations();
    await start();
  } else {
    signedOut("");
  }
}

main().catch((error) => setStatus(t("pane.fail.start", { message: error.message }), "error"));
engineBooting.catch((error) => setStatus(t("pane.fail.engine", { message: error.message }), "error"));
