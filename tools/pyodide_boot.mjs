// Boot Pyodide from local files and install given pure-Python wheels, without micropip
// and without any network: the one way client_py is loaded everywhere (Node tests,
// benchmark, the extension's offscreen page, the add-in's pages).
//
// Works in Node.js (>= 20) and in a browser page or offscreen document; it is an ES
// module with no dependencies. Pyodide's own files (pyodide.mjs, pyodide.asm.wasm,
// python_stdlib.zip, pyodide-lock.json, from the npm package) must be served under
// `indexURL`; the wheels are the client_py wheel (tools/build_client_wheel.py) and the
// tzdata wheel (tools/pyodide_wheels.py --product).
//
//   import { bootPyodide } from "./pyodide_boot.mjs";
//   const { pyodide, timings } = await bootPyodide({
//     indexURL: chrome.runtime.getURL("pyodide/"),          // or a file:// URL in Node
//     wheels: [chrome.runtime.getURL("wheels/client_py-0.1.0-py3-none-any.whl"),
//              chrome.runtime.getURL("wheels/tzdata-2026.6-py2.py3-none-any.whl")],
//   });
//   pyodide.pyimport("client_py.panel");
//
// Why not pyodide.loadPackage / micropip: both resolve names through Pyodide's package
// index on its CDN, which neither CI nor a locked-down browser may reach; unpacking a
// wheel is a plain file copy into site-packages and needs nothing else.

const IN_NODE = typeof process !== "undefined" && !!process.versions?.node;

/** Read a file:// URL (Node) or fetch any other URL, as a Uint8Array. */
export async function readBytes(url) {
  const href = String(url);
  if (IN_NODE && href.startsWith("file:")) {
    const [{ readFile }, { fileURLToPath }] = await Promise.all([
      import("node:fs/promises"),
      import("node:url"),
    ]);
    const buffer = await readFile(fileURLToPath(href));
    // Pyodide accepts plain typed arrays only, not Node's Buffer subclass.
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }
  const response = await fetch(href);
  if (!response.ok) throw new Error(`cannot load ${href}: HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/**
 * Start Pyodide and unpack `wheels` into its site-packages.
 *
 * @param {object} options
 * @param {string|URL} options.indexURL  folder holding Pyodide's files, ending in "/".
 * @param {Array<string|URL>} [options.wheels]  wheel URLs (file:// in Node), unpacked in order.
 * @param {object} [options.pyodideOptions]  passed to loadPyodide (env, stdout, stderr, ...).
 * @returns {Promise<{pyodide: object, timings: {bootMs: number, unpackMs: number}}>}
 */
export async function bootPyodide({ indexURL, wheels = [], pyodideOptions = {} }) {
  const index = String(indexURL).endsWith("/") ? String(indexURL) : `${indexURL}/`;
  const started = performance.now();
  // Start reading the wheels while Pyodide compiles: both are I/O bound.
  const wheelBytes = Promise.all(wheels.map(readBytes));
  const { loadPyodide } = await import(`${index}pyodide.mjs`);
  // In Node, Pyodide wants a file system path, not a file:// URL.
  const indexPath = IN_NODE && index.startsWith("file:")
    ? (await import("node:url")).fileURLToPath(index)
    : index;
  const pyodide = await loadPyodide({ ...pyodideOptions, indexURL: indexPath });
  const booted = performance.now();
  // unpackArchive extracts into the working directory unless told otherwise.
  const extractDir = pyodide.runPython("import sysconfig; sysconfig.get_path('purelib')");
  for (const bytes of await wheelBytes) pyodide.unpackArchive(bytes, "wheel", { extractDir });
  // Make modules unpacked after start-up importable (finders cache directory listings).
  pyodide.runPython("import importlib; importlib.invalidate_caches()");
  const unpacked = performance.now();
  return { pyodide, timings: { bootMs: booted - started, unpackMs: unpacked - booted } };
}
