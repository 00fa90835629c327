// The options page: sign in, the tracking settings stored on the server, and a short
// status of the live stream and the Python engine. Everything goes through the worker.
const { TARGET, MSG, request, listen } = globalThis.EngageMessages;

const $ = (id) => document.getElementById(id);
const { t, localizePage } = globalThis.EngageI18n;
localizePage(document);

function ask(id, payload) {
  return request(TARGET.WORKER, id, payload, { timeoutMs: 20000 });
}

function show(id, visible) {
  $(id).hidden = !visible;
}

function setStatus(id, text, kind = "") {
  const el = $(id);
  el.textContent = text;
  el.dataset.kind = kind;
}

function fillZones() {
  const list = $("zones");
  if (list.childElementCount) return;
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  for (const zone of ["UTC", ...zones]) {
    const option = document.createElement("option");
    option.value = zone;
    list.appendChild(option);
  }
}

function describeStream(stream) {
  const names = { open: "streamOpen", connecting: "streamConnecting", reconnecting: "streamReconnecting",
    closed: "streamClosed", idle: "streamIdle" };
  return stream ? (names[stream.state] ? t(names[stream.state]) : stream.state) : "–";
}

function describePython(python) {
  if (!python) return t("pythonStarting");
  if (python.state === "ready") {
    const seconds = ((python.coldStartMs ?? python.timings?.totalMs ?? 0) / 1000)
      .toLocaleString(globalThis.EngageI18n.uiLanguage(), { minimumFractionDigits: 1, maximumFractionDigits: 1 });
    return t("pythonReady", [seconds]);
  }
  return python.state === "failed" ? t("pythonFailed", [python.error]) : t("pythonStarting");
}

function describeSend(timings) {
  const last = timings && timings[timings.length - 1];
  if (!last) return t("noSendYet");
  const what = last.applied ? "tracked" : `not tracked (${last.reason})`;
  return `${what}, held ${Math.round(last.holdFromReleaseMs)} ms`;
}

function render(state) {
  show("signin", !state.signedIn);
  show("account", state.signedIn);
  show("settings", state.signedIn);
  show("health", true);
  const d = state.diagnostics || {};
  $("health-stream").textContent = describeStream(d.stream);
  $("health-python").textContent = describePython(d.python);
  $("health-send").textContent = describeSend(d.sendTimings);
  if (!state.signedIn) return;
  $("account-email").textContent = state.user.email;
  $("account-org").textContent = state.org.name;
  $("account-server").textContent = state.serverUrl;
  const domains = state.org.internal_domains || [];
  $("account-domains").textContent = domains.length
    ? t("companyDomains", [domains.join(", ")])
    : t("noCompanyDomains");
  const s = state.settings || {};
  $("auto_insert").checked = Boolean(s.auto_insert);
  $("notify_on_open").checked = Boolean(s.notify_on_open);
  for (const radio of document.querySelectorAll('input[name="insert_at"]')) radio.checked = radio.value === (s.insert_at || "last");
  for (const radio of document.querySelectorAll('input[name="notify_mode"]')) radio.checked = radio.value === (s.notify_mode || "each");
  fillHours(s.digest_hour ?? 9);
  $("quiet_start").value = s.quiet_start || "";
  $("quiet_end").value = s.quiet_end || "";
  $("blocklist").value = (s.blocklist || []).join("\n");
  $("time_zone").value = s.time_zone || "UTC";
  fillZones();
}

function fillHours(selected) {
  const select = $("digest_hour");
  if (!select.options.length) {
    for (let hour = 0; hour < 24; hour += 1) select.append(new Option(`${String(hour).padStart(2, "0")}:00`, String(hour)));
  }
  select.value = String(selected);
}

async function refresh() {
  render(await ask(MSG.GET_STATE));
}

$("signin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = $("signin-button");
  button.disabled = true;
  setStatus("signin-status", t("signingIn"));
  try {
    const state = await ask(MSG.SIGN_IN, {
      serverUrl: $("server").value,
      email: $("email").value,
      password: $("password").value,
    });
    $("password").value = "";
    setStatus("signin-status", "");
    render(state);
  } catch (error) {
    setStatus("signin-status", error.message, "error");
  } finally {
    button.disabled = false;
  }
});

$("signout").addEventListener("click", async () => {
  render(await ask(MSG.SIGN_OUT));
});

$("settings-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = $("save");
  button.disabled = true;
  setStatus("settings-status", t("saving"));
  try {
    const blocklist = $("blocklist").value.split(/[\n,;]+/).map((s) => s.trim()).filter(Boolean);
    const insertAt = document.querySelector('input[name="insert_at"]:checked');
    const state = await ask(MSG.SAVE_SETTINGS, {
      auto_insert: $("auto_insert").checked,
      notify_on_open: $("notify_on_open").checked,
      insert_at: insertAt ? insertAt.value : "last",
      notify_mode: document.querySelector('input[name="notify_mode"]:checked')?.value || "each",
      digest_hour: Number($("digest_hour").value || 9),
      // Both or neither: half a quiet period means none.
      quiet_start: $("quiet_start").value && $("quiet_end").value ? $("quiet_start").value : null,
      quiet_end: $("quiet_start").value && $("quiet_end").value ? $("quiet_end").value : null,
      blocklist,
      time_zone: $("time_zone").value.trim() || "UTC",
    });
    render(state);
    setStatus("settings-status", t("saved"), "ok");
  } catch (error) {
    const fields = error.details?.details?.json;
    const detail = fields ? ` ${Object.values(fields).flat().join(" ")}` : "";
    setStatus("settings-status", `${error.message}${detail}`, "error");
  } finally {
    button.disabled = false;
  }
});

listen(TARGET.PAGES, {
  [MSG.STATE_CHANGED]: () => refresh(),
  [MSG.ENGAGEMENT]: () => null,
});

refresh().catch((error) => setStatus("signin-status", error.message, "error"));
