// The Customization section: the user's settings (PATCH /settings) and who is signed in.
import { render } from "./paging.mjs";
import { $, Api, apiFailure, chooseTimeZone, shownSettings, state, t, toast } from "./view.mjs";


function validZone(name) {
  try {
    new Intl.DateTimeFormat("en", { timeZone: name });
    return true;
  } catch (error) {
    return false;
  }
}

/** Outlook's time zone as an IANA name. Outlook gives its Windows name ("Tokyo Standard
 *  Time"; in Outlook on the web the calendar's time zone), windows_zones.json maps it. */
export async function outlookTimeZone() {
  const mailbox = globalThis.Office && Office.context && Office.context.mailbox;
  const name = mailbox && mailbox.userProfile && mailbox.userProfile.timeZone;
  if (!name) return null;
  if (validZone(name)) return name;
  try {
    const response = await fetch("windows_zones.json", { cache: "no-cache" });
    const zone = response.ok ? (await response.json())[name] : null;
    return zone && validZone(zone) ? zone : null;
  } catch (error) {
    return null;
  }
}

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

export function fillSettings() {
  const settings = shownSettings();
  $("set-auto").checked = Boolean(settings.auto_insert);
  $("set-notify").checked = Boolean(settings.notify_on_open);
  $("set-insert").value = settings.insert_at === "first" ? "first" : "last";
  const select = $("set-tz");
  select.replaceChildren(...timeZones(settings.time_zone).map((zone) => new Option(
    zone === state.outlookZone ? t("pane.settings.tzOutlook", { zone: zone.replace(/_/g, " ") }) : zone.replace(/_/g, " "),
    zone)));
  select.value = settings.time_zone;
  const user = state.me.user || {};
  $("who").textContent = t("pane.signedInAs", { email: user.email || "" });
}

async function saveSetting(change) {
  try {
    const settings = await Api.request("PATCH", "/settings", change);
    state.me = { ...state.me, settings };
    Api.updateCachedSettings(settings);
    toast(t("pane.saved"));
    await render();
  } catch (error) {
    fillSettings();
    apiFailure(error, t("pane.fail.save"));
  }
}

export function wireSettings() {
  $("settings-toggle").addEventListener("click", () => {
    const open = $("settings").hidden;
    $("settings").hidden = !open;
    $("settings-toggle").setAttribute("aria-expanded", open ? "true" : "false");
  });
  $("set-auto").addEventListener("change", (e) => saveSetting({ auto_insert: e.target.checked }));
  $("set-notify").addEventListener("change", (e) => saveSetting({ notify_on_open: e.target.checked }));
  $("set-insert").addEventListener("change", (e) => saveSetting({ insert_at: e.target.value }));
  $("set-tz").addEventListener("change", (e) => {
    chooseTimeZone();
    saveSetting({ time_zone: e.target.value });
  });
}
