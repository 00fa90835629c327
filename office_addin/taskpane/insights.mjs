// The Insights view of the task pane and of /panel: GET /api/v1/insights rendered by
// client_py (engage_addin.insights_html: charts and words, every value escaped there),
// its period and team controls, and the CSV export.
import { startEngine } from "../shared/engine.mjs";
import { $, Api, apiFailure, setStatus, shownSettings } from "./view.mjs";

const view = { open: false, period: "30d", team: false, loading: null };

function insightsPath(path) {
  const params = new URLSearchParams({ period: view.period, scope: view.team ? "team" : "me" });
  const tz = shownSettings().time_zone;
  if (tz) params.set("tz", tz);
  return `${path}?${params}`;
}

export async function loadInsights() {
  try {
    const data = await Api.request("GET", insightsPath("/insights"));
    const engine = await startEngine();
    const { html } = engine.call("insights_html", data,
      { ...shownSettings(), locale: globalThis.EngageStrings.language() });
    const host = $("insights");
    host.innerHTML = html; // client_py escaped every value; no scripts or handlers in it
    host.dataset.loaded = `${data.scope}:${data.period.name}`; // what is shown (tests wait on it)
    setStatus("");
  } catch (error) {
    if (error.code === "team_view_off" || error.status === 403) view.team = false;
    apiFailure(error, "Could not load the insights");
  }
}

export function showInsights(open) {
  view.open = open;
  $("insights-toggle").setAttribute("aria-pressed", open ? "true" : "false");
  $("insights").hidden = !open;
  // The threads, the activity feed and their controls make way while it is open.
  for (const id of ["views", "columns"]) $(id).hidden = open;
  document.querySelector(".toolbar").hidden = open;
  if (open) loadInsights();
}

async function exportCsv() {
  const response = await fetch(`${Api.publicUrl()}/api/v1${insightsPath("/insights/export.csv")}`, {
    headers: { Authorization: `Bearer ${Api.token()}` }, credentials: "omit", cache: "no-store",
  });
  if (!response.ok) {
    setStatus(`Could not export: HTTP ${response.status}`, "error");
    return;
  }
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = (response.headers.get("Content-Disposition") || "").match(/filename="([^"]+)"/)?.[1] || "engage.csv";
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export function wireInsights() {
  $("insights-toggle").addEventListener("click", () => showInsights(!view.open));
  const host = $("insights");
  host.addEventListener("change", (event) => {
    const action = event.target.dataset.action;
    if (action === "period") view.period = event.target.value;
    else if (action === "team") view.team = event.target.checked;
    else return;
    loadInsights();
  });
  host.addEventListener("click", (event) => {
    if (event.target.closest('[data-action="export"]')) {
      event.preventDefault();
      exportCsv();
    }
  });
}
