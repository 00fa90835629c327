// The offscreen document that runs client_py (Pyodide) and the live stream: starting
// it, and calling into it. One document for the whole extension, started when the
// browser or the extension starts and whenever the worker wakes up without it.
import "../shared/messages.js";

const { TARGET, MSG, request } = globalThis.EngageMessages;
const PATH = "offscreen/offscreen.html";

let creating = null;
let startedAt = null;

async function hasDocument() {
  const contexts = await chrome.runtime.getContexts({
    contextTypes: ["OFFSCREEN_DOCUMENT"],
    documentUrls: [chrome.runtime.getURL(PATH)],
  });
  return contexts.length > 0;
}

/** Start the offscreen document unless it runs; safe to call from every event. */
export async function ensureEngine() {
  if (await hasDocument()) return false;
  if (!creating) {
    startedAt = Date.now();
    creating = chrome.offscreen
      .createDocument({
        url: PATH,
        reasons: ["WORKERS"],
        justification: "Runs Engage's Python rules (Pyodide) in a worker and keeps the live "
          + "connection to your Engage server.",
      })
      .catch((error) => {
        // Two wake-ups racing: the other one created it.
        if (!/single offscreen/i.test(String(error?.message))) throw error;
      })
      .finally(() => {
        creating = null;
      });
  }
  await creating;
  return true;
}

/** When this worker last started the document (for the cold-start measurement). */
export function engineStartedAt() {
  return startedAt;
}

/** Call `fn` of engage_bridge.py with `args`; throws EngageError (timeout included). */
export async function python(fn, args = {}, { timeoutMs = 5000 } = {}) {
  await ensureEngine();
  return request(TARGET.OFFSCREEN, MSG.PYTHON, { fn, args }, { timeoutMs });
}

/** Send a stream command to the offscreen document. */
export async function streamCommand(id, payload = {}) {
  await ensureEngine();
  return request(TARGET.OFFSCREEN, id, payload, { timeoutMs: 5000 });
}

