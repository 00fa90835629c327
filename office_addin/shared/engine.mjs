// The Python engine of the add-in pages: Pyodide with client_py and engage_addin.py.
//
// Booting takes a few seconds, so every page starts it as soon as it loads (importing
// this module is enough) and waits for it only when it needs an answer. Only JSON
// strings cross into Python and back (engage_addin.call), so no Python object leaks.
import "../lib/engage_error.js";
import { bootPyodide } from "../lib/pyodide_boot.mjs";

const HERE = new URL("./", import.meta.url);
// What tools/build_addin.py built (pyodide/, wheels/, lib/) is served one level up, at /addin/.
const BASE = new URL("../", import.meta.url);

const { EngageError } = globalThis;

async function fetchText(url) {
  const response = await fetch(url, { cache: "no-cache" });
  if (!response.ok) throw new Error(`cannot load ${url}: HTTP ${response.status}`);
  return response.text();
}

async function boot() {
  const started = performance.now();
  const { wheels: wheelNames } = JSON.parse(await fetchText(new URL("wheels/wheels.json", BASE)));
  const glue = fetchText(new URL("engage_addin.py", HERE));
  const { pyodide, timings } = await bootPyodide({
    indexURL: new URL("pyodide/", BASE),
    wheels: wheelNames.map((name) => new URL(`wheels/${name}`, BASE)),
  });
  const sitePackages = pyodide.runPython("import sysconfig; sysconfig.get_path('purelib')");
  pyodide.FS.writeFile(`${sitePackages}/engage_addin.py`, await glue);
  pyodide.runPython("import importlib; importlib.invalidate_caches()");
  const module = pyodide.pyimport("engage_addin");
  const pyCall = module.call;
  return {
    timings: { ...timings, totalMs: performance.now() - started },
    /** Call engage_addin.<name>(...args); throws EngageError with client_py's code. */
    call(name, ...args) {
      const answer = JSON.parse(pyCall(name, JSON.stringify(args)));
      if (!answer.ok) throw EngageError.fromWire(answer.error);
      return answer.value;
    },
  };
}

let engine = null;

/** The engine, booting it on first use. */
export function startEngine() {
  if (!engine) engine = boot();
  return engine;
}

// Start at once and hand the promise to the classic scripts (commands.js).
const booting = startEngine();
booting.catch((error) => console.error("Engage: the Python engine did not start", error));
if (globalThis.EngageApi) globalThis.EngageApi.provideEngine(booting);
