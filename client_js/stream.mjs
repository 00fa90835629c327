// The live stream from the Engage server (server-sent events), one client for both
// clients: the extension's offscreen document (kept there because MV3 service workers
// are suspended when idle and would drop it) and the add-in's task pane. It uses no
// chrome.* or Office API; tools/bundle.py copies it into each build's lib/.
//
// A stream URL carries a ticket that opens one stream, once. When the stream breaks,
// EventSource retries that URL by itself (after the server's jittered `retry:` hint);
// the used ticket is refused, the connection is closed for good and we ask for a fresh
// ticket (`needTicket`, which answers by calling `connect` with a new URL), backing off
// with jitter (after a server restart thousands of clients must not all come back in
// the same second), and resume after the last event we got (`last_event_id`: a new
// EventSource sends no Last-Event-ID). A refused ticket request that says
// `Retry-After` (a server opening too many streams at once) is waited out, spread
// over up to 1.5 times as long; an EventSource cannot read a refused stream's
// headers, so a refused stream itself only backs off.
//
// States, reported through `onState`: "idle" (not wanted), "connecting", "open",
// "reconnecting" (EventSource retrying the same URL), "closed" (waiting to ask for a
// new ticket).

const BACKOFF_MS = [1000, 2000, 5000, 10000, 30000];

/** The backoff step, spread over half to one and a half times itself. */
export function jittered(ms, random = Math.random) {
  return Math.round(ms * (0.5 + random()));
}

/**
 * How long a refused ticket request asked us to wait, in ms (0: it did not say): the
 * server's `Retry-After`, which Engage's errors carry as `details.retry_after`
 * (EngageError keeps the server's details under `details.details`). A server opening
 * too many streams at once (a reconnect storm) refuses tickets with 503 and this.
 */
export function retryAfterMs(error) {
  const details = (error && error.details) || {};
  const seconds = Number((details.details && details.details.retry_after) ?? details.retry_after);
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 600) * 1000 : 0;
}

/** Wait at least what the server asked, spread over up to half as long again. */
export function honoured(retryAfter, random = Math.random) {
  return Math.round(retryAfter * (1 + random() / 2));
}

function withLastEventId(url, lastEventId) {
  if (!lastEventId) return url;
  const u = new URL(url);
  u.searchParams.set("last_event_id", lastEventId);
  return u.toString();
}

export function createStream({ onEvent, onState, needTicket }) {
  let source = null;
  let state = "idle";
  let failures = 0;
  let retryTimer = null;
  let wanted = false; // until disconnect(): a late needTicket failure must not retry
  let lastEventId = "";

  function setState(next) {
    if (next === state) return;
    state = next;
    onState(state);
  }

  function close() {
    clearTimeout(retryTimer);
    retryTimer = null;
    if (source) {
      source.close();
      source = null;
    }
  }

  function askForTicket() {
    Promise.resolve()
      .then(needTicket)
      .catch((error) => {
        if (!wanted) return;
        setState("closed");
        scheduleNewTicket(retryAfterMs(error));
      });
  }

  function scheduleNewTicket(retryAfter = 0) {
    clearTimeout(retryTimer);
    const backoff = jittered(BACKOFF_MS[Math.min(failures, BACKOFF_MS.length - 1)]);
    const delay = retryAfter ? Math.max(backoff, honoured(retryAfter)) : backoff;
    failures += 1;
    retryTimer = setTimeout(() => {
      retryTimer = null;
      askForTicket();
    }, delay);
  }

  function connect(url) {
    close();
    wanted = true;
    setState("connecting");
    const es = new EventSource(withLastEventId(url, lastEventId));
    source = es;
    es.addEventListener("open", () => {
      if (source !== es) return;
      failures = 0;
      setState("open");
    });
    es.addEventListener("engagement", (message) => {
      if (source !== es) return;
      if (message.lastEventId) lastEventId = message.lastEventId;
      let data;
      try {
        data = JSON.parse(message.data);
      } catch {
        return; // a garbled message is not worth losing the stream over
      }
      onEvent(data);
    });
    es.addEventListener("error", () => {
      if (source !== es) return;
      if (es.readyState === EventSource.CLOSED) {
        source = null;
        setState("closed");
        scheduleNewTicket();
      } else {
        setState("reconnecting");
      }
    });
    return { state };
  }

  /** Ask for a first ticket now (a failed ask is retried, backing off). */
  function start() {
    close();
    wanted = true;
    failures = 0;
    askForTicket();
    return { state };
  }

  function disconnect() {
    close();
    wanted = false;
    failures = 0;
    lastEventId = ""; // signed out: the next sign-in (maybe someone else) starts afresh
    setState("idle");
    return { state };
  }

  return { connect, start, disconnect, status: () => ({ state }) };
}
