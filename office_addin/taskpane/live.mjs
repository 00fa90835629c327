// Keeping the panel live: the server's event stream (a one-minute ticket, then
// EventSource), and polling while the stream is down.
import { refresh, scheduleRefresh } from "./paging.mjs";
import { $, Api, apiFailure, state } from "./view.mjs";

const POLL_MS = 1500; // only while the live stream is down

const live = {
  source: null,
  pollTimer: null,
  reconnectMs: 1000,
};

function setLive(on) {
  state.live = on;
  const pill = $("live");
  pill.dataset.live = on ? "on" : "off";
  pill.title = on ? "Live: new opens appear at once" : "Reconnecting: checking every few seconds";
  pill.querySelector(".live-text").textContent = on ? "Live" : "Offline";
  if (on) stopPolling();
  else startPolling();
}

export function closeLive() {
  if (live.source) live.source.close();
  live.source = null;
  stopPolling();
}

function startPolling() {
  if (live.pollTimer || !state.me) return;
  live.pollTimer = setInterval(refresh, POLL_MS);
}

function stopPolling() {
  clearInterval(live.pollTimer);
  live.pollTimer = null;
}

export async function connectLive() {
  closeLive();
  if (!Api.token()) return;
  let ticket;
  try {
    ticket = await Api.request("POST", "/stream/tickets");
  } catch (error) {
    if (error.status === 401) return apiFailure(error);
    setLive(false);
    setTimeout(connectLive, live.reconnectMs);
    live.reconnectMs = Math.min(live.reconnectMs * 2, 30000);
    return;
  }
  const source = new EventSource(`${Api.publicUrl()}/api/v1/stream?ticket=${encodeURIComponent(ticket.ticket)}`);
  live.source = source;
  source.addEventListener("open", () => {
    live.reconnectMs = 1000;
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
    if (source !== live.source) return;
    if (source.readyState === EventSource.CLOSED) {
      // Refused (an expired ticket, say): a new ticket, after a pause.
      setLive(false);
      live.source = null;
      setTimeout(connectLive, live.reconnectMs);
      live.reconnectMs = Math.min(live.reconnectMs * 2, 30000);
    } else {
      setLive(false); // the browser reconnects by itself; poll meanwhile
    }
  });
}
