// The offscreen document: relays Python calls to the Pyodide worker and keeps the
// live stream. Offscreen documents may use chrome.runtime only, so the service worker
// passes in what they need (the stream URL with its ticket) and owns everything else.
import "../lib/engage_error.js";
import "../shared/messages.js";
import { createStream } from "../lib/stream.mjs";

const { TARGET, MSG, EngageError, listen, notify } = globalThis.EngageMessages;

const worker = new Worker(new URL("./python_worker.js", import.meta.url), { type: "module" });
const pending = new Map();
let nextSeq = 1;
let python = { state: "booting" };

worker.onmessage = (event) => {
  const data = event.data || {};
  if ("ready" in data) {
    python = data.ready ? { state: "ready", timings: data.timings } : { state: "failed", error: data.error };
    if (!data.ready) console.error("Pyodide did not start:", data.error);
    notify(TARGET.WORKER, MSG.OFFSCREEN_READY, python);
    return;
  }
  const call = pending.get(data.seq);
  if (!call) return;
  pending.delete(data.seq);
  if (data.ok) call.resolve(data.value);
  else call.reject(new EngageError(data.error?.code || "python_failed", data.error?.message || "Python failed"));
};

worker.onerror = (event) => {
  python = { state: "failed", error: String(event.message || event) };
  for (const call of pending.values()) call.reject(new EngageError("python_failed", python.error));
  pending.clear();
};

function callPython({ fn, args }) {
  if (python.state === "failed") throw new EngageError("python_failed", python.error);
  return new Promise((resolve, reject) => {
    const seq = nextSeq++;
    pending.set(seq, { resolve, reject });
    worker.postMessage({ seq, fn, args });
  });
}

const stream = createStream({
  onEvent: (event) => notify(TARGET.WORKER, MSG.STREAM_EVENT, { event }),
  onState: (state) => notify(TARGET.WORKER, MSG.STREAM_STATE, { state }),
  needTicket: () => globalThis.EngageMessages.request(TARGET.WORKER, MSG.STREAM_NEED_TICKET),
});

listen(TARGET.OFFSCREEN, {
  [MSG.PYTHON]: callPython,
  [MSG.STREAM_CONNECT]: ({ url }) => stream.connect(url),
  [MSG.STREAM_DISCONNECT]: () => stream.disconnect(),
  [MSG.STREAM_STATUS]: () => ({ ...stream.status(), python }),
});
