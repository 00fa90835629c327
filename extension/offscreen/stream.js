// The live stream from the Engage server (server-sent events), kept in the offscreen
// document because MV3 service workers are suspended when idle and would drop it.
//
// The worker hands over a URL with a one-minute ticket. EventSource reconnects by
// itself after a network error (resuming with Last-Event-ID) while the ticket is valid;
// once the server refuses the URL (expired ticket, server back after a restart) the
// connection is closed for good and we ask the worker for a fresh ticket, backing off.

const BACKOFF_MS = [1000, 2000, 5000, 10000, 30000];

export function createStream({ onEvent, onState, needTicket }) {
  let source = null;
  let state = "idle";
  let failures = 0;
  let retryTimer = null;

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

  function scheduleNewTicket() {
    clearTimeout(retryTimer);
    const delay = BACKOFF_MS[Math.min(failures, BACKOFF_MS.length - 1)];
    failures += 1;
    retryTimer = setTimeout(() => {
      retryTimer = null;
      Promise.resolve(needTicket()).catch(() => scheduleNewTicket());
    }, delay);
  }

  function connect(url) {
    close();
    setState("connecting");
    const es = new EventSource(url);
    source = es;
    es.addEventListener("open", () => {
      if (source !== es) return;
      failures = 0;
      setState("open");
    });
    es.addEventListener("engagement", (message) => {
      if (source !== es) return;
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

  function disconnect() {
    close();
    failures = 0;
    setState("idle");
    return { state };
  }

  return { connect, disconnect, status: () => ({ state }) };
}
