// The side panel's Insights view: GET /api/v1/insights rendered by client_py
// (insights_html: the charts and words, every value escaped there), and the CSV export.
import "../shared/messages.js";
import { sessionCall } from "./api.js";
import { python } from "./engine.js";
import * as store from "./store.js";

const { EngageError } = globalThis.EngageMessages;
const PERIODS = new Set(["today", "7d", "30d", "90d"]);

async function signedIn() {
  const session = await store.getSession();
  if (!session) throw new EngageError("signed_out", "Sign in to Engage first.");
  return session;
}

function params(session, { period = "30d", scope = "me" } = {}) {
  const out = new URLSearchParams({ period: PERIODS.has(period) ? period : "30d", scope: scope === "team" ? "team" : "me" });
  const tz = session.me?.settings?.time_zone;
  if (tz) out.set("tz", tz);
  return out;
}

/** {period, scope} -> {html, scope, period}: the view in the browser's language. */
export async function render(request = {}) {
  const session = await signedIn();
  const data = await sessionCall(session, "GET", `/insights?${params(session, request)}`, { timeoutMs: 15000 });
  const settings = { ...(session.me?.settings || {}), locale: chrome.i18n.getUILanguage() };
  const { html } = await python("insights_html", { data, settings });
  return { html, scope: data.scope, period: data.period.name };
}

/** {period, scope} -> {csv, filename}: the period's emails and counted events. */
export async function exportCsv(request = {}) {
  const session = await signedIn();
  const response = await fetch(`${session.serverUrl}/api/v1/insights/export.csv?${params(session, request)}`, {
    headers: { Authorization: `Bearer ${session.token}` }, credentials: "omit", cache: "no-store",
    signal: AbortSignal.timeout(60000),
  });
  if (!response.ok) throw new EngageError(`http_${response.status}`, `The export failed (HTTP ${response.status}).`);
  const filename = (response.headers.get("Content-Disposition") || "").match(/filename="([^"]+)"/)?.[1] || "engage.csv";
  return { csv: await response.text(), filename };
}
