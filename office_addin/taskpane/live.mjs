// Keeping the panel live: the server's event stream through the stream client the
// extension uses too (lib/stream.mjs: tickets, EventSource, backing off), and polling
// while the stream is down.
import { createStream } from "../lib/stream.mjs";
import { refreshFeed } from "./followup.mjs";
import { showItemMark } from "./item_mark.mjs";
import { refresh, scheduleRefresh } from "./paging.mjs";
import { $, Api, apiFailure, state, t } from "./view.mjs";

const POLL_MS = 1500; // only while the live stream is down

let pollTimer = null;

function setLive(on) {
  state.live = on;
  const pill = $("live");
  pill.dataset.live = on ? "on" : "off";
  pill.title = on ? t("pane.live.title") : t("pane.offline.title");
  pill.querySelector(".live-text").textContent = on ? t("pane.live") : t("pane.offline");
  if (on) stopPolling();
  else startPolling();
}

function startPolling() {
  if (pollTimer || !state.me) return;
  pollTimer = setInterval(refresh, POLL_MS);
}

function stopPolling() {
  clearInterval(pollTimer);
  pollTimer = null;
}

/** A stream URL with a fresh ticket, handed to the stream; a 401 signs out. */
async function connectWithNewTicket() {
  if (!Api.token()) return stream.disconnect();
  let ticket;
  try {
    ticket = await Api.request("POST", "/stream/tickets");
  } catch (error) {
    if (error.status === 401) return apiFailure(error);
    throw error; // the stream client asks again, backing off
  }
  if (!Api.token()) return stream.disconnect(); // signed out meanwhile
  return stream.connect(`${Api.publicUrl()}/api/v1/stream?ticket=${encodeURIComponent(ticket.ticket)}`);
}

const stream = createStream({
  needTicket: connectWithNewTicket,
  onState(next) {
    if (next === "open") {
      setLive(true);
      scheduleRefresh(); // catch up on what happened while disconnected
    } else if (next === "reconnecting" || next === "closed") {
      setLive(false); // poll meanwhile
    }
  },
  onEvent(data) {
    if (data.counts && state.me && state.me.settings.notify_on_open) state.pendingNotices.push(data);
    scheduleRefresh();
    refreshFeed(); // the activity feed lists every event at once
    showItemMark();
  },
});

export function closeLive() {
  stream.disconnect();
  stopPolling();
}

export function connectLive() {
  closeLive();
  if (Api.token()) stream.start();
}
