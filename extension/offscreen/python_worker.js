// Pyodide + client_py, in a module worker of the offscreen document, so that a Python
// call never blocks the document's own event loop (the live stream, message relay).
//
// Boots once, as soon as the offscreen document starts (which the service worker does
// when the browser or the extension starts): sending an email never waits for it.
// Protocol: {seq, fn, args} in; {seq, ok, value | error} out; one {ready, timings |
// error} message when the boot finished or failed.
import { bootPyodide } from "../lib/pyodide_boot.mjs";

const started = performance.now();
const root = new URL("../", import.meta.url); // the extension's root folder

async function boot() {
  const listing = await fetch(new URL("wheels/wheels.json", root));
  if (!listing.ok) throw new Error(`wheels/wheels.json: HTTP ${listing.status}`);
  const { wheels } = await listing.json();
  const { pyodide, timings } = await bootPyodide({
    indexURL: new URL("pyodide/", root).href,
    wheels: wheels.map((name) => new URL(`wheels/${name}`, root).href),
  });
  const source = await (await fetch(new URL("offscreen/engage_bridge.py", root))).text();
  const site = pyodide.runPython("import sysconfig; sysconfig.get_path('purelib')");
  pyodide.FS.writeFile(`${site}/engage_bridge.py`, source);
  const importStart = performance.now();
  const bridge = pyodide.pyimport("engage_bridge"); // imports every client_py module it uses
  bridge.call("ping", "{}");
  const importMs = performance.now() - importStart;
  return {
    call: (fn, args) => JSON.parse(bridge.call(fn, JSON.stringify(args ?? {}))),
    timings: { ...timings, importMs, totalMs: performance.now() - started },
  };
}

const ready = boot();

ready.then(
  ({ timings }) => postMessage({ ready: true, timings }),
  (error) => postMessage({ ready: false, error: String(error?.stack || error) }),
);

self.onmessage = async (event) => {
  const { seq, fn, args } = event.data || {};
  let reply;
  try {
    const python = await ready;
    reply = python.call(fn, args);
  } catch (error) {
    reply = { ok: false, error: { code: "python_failed", message: String(error?.message || error) } };
  }
  postMessage({ seq, ...reply });
};
