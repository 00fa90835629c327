// Run tests/client_py with pytest inside Pyodide (Python 3.14, WebAssembly) under Node.js,
// against the client_py *wheel*, entirely offline from node_modules and local wheels.
//
//   python tools/build_client_wheel.py && python tools/pyodide_wheels.py
//   node tests/pyodide/run_pytest.mjs [--summary-json FILE] [--wheel W.whl ...] [-- PYTEST ARGS]
//
// Prints pytest's output and exits with pytest's exit code. Pytest gets the same options
// as on CPython: the repository's pyproject.toml is copied into Pyodide's file system, so
// its [tool.pytest.ini_options] apply, plus `-W error -p no:cacheprovider -q`. Arguments
// after `--` replace the default test path (tests/client_py, relative to the repository).
//
// Only tests/client_py is mounted (NODEFS), not the repository: `client_py` must come from
// the wheel, not from the source tree. tests/__init__.py, tests/conftest.py and the plugins
// it names (tests/fixtures/*.py) are copied in, as pytest on CPython reads them too. Writes nothing into the repository: no bytecode,
// no pytest cache, Hypothesis' example database in Pyodide's in-memory /tmp.

import { existsSync, readdirSync, readFileSync, statSync, writeFileSync, writeSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { bootPyodide } from "../../tools/pyodide_boot.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const FIXED_OPTIONS = ["-W", "error", "-p", "no:cacheprovider", "-q"];
const DEFAULT_PATHS = ["tests/client_py"];

function parseArgs(argv) {
  const options = { wheels: [], summaryJson: null, pytestArgs: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") { options.pytestArgs = argv.slice(i + 1); break; }
    else if (arg === "--wheel") options.wheels.push(resolve(argv[++i]));
    else if (arg === "--summary-json") options.summaryJson = resolve(argv[++i]);
    else throw new Error(`unknown argument ${arg} (pytest arguments go after --)`);
  }
  return options;
}

/** The client_py wheel from dist/ and the pinned wheels from build/pyodide-wheels/. */
function defaultWheels() {
  const dist = join(ROOT, "dist");
  const ours = existsSync(dist) ? readdirSync(dist).filter((f) => /^client_py-.*\.whl$/.test(f)) : [];
  const pinnedDir = join(ROOT, "build", "pyodide-wheels");
  const pinned = existsSync(pinnedDir) ? readdirSync(pinnedDir).filter((f) => f.endsWith(".whl")) : [];
  if (ours.length !== 1 || pinned.length === 0) {
    throw new Error(
      `need exactly one dist/client_py-*.whl (found ${ours.length}) and build/pyodide-wheels/*.whl ` +
        `(found ${pinned.length}): run python tools/build_client_wheel.py && python tools/pyodide_wheels.py`,
    );
  }
  // Testing an old wheel against new tests fails confusingly: refuse it.
  const wheel = join(dist, ours[0]);
  const sources = join(ROOT, "client_py");
  const newest = Math.max(...readdirSync(sources, { recursive: true })
    .filter((f) => f.endsWith(".py"))
    .map((f) => statSync(join(sources, f)).mtimeMs));
  if (newest > statSync(wheel).mtimeMs) {
    throw new Error(`${ours[0]} is older than client_py/: run python tools/build_client_wheel.py`);
  }
  return [wheel, ...pinned.map((f) => join(pinnedDir, f))];
}

// Python side: counts what pytest collected and how each test ended, so the CPython
// test can check that nothing was silently skipped or left uncollected.
const RUN_PYTEST = `
import json, os, platform, sys, time
import pytest

class _Summary:
    def __init__(self):
        self.collected = 0
        self.outcomes = {}

    def pytest_collection_finish(self, session):
        self.collected = len(session.items)

    def pytest_terminal_summary(self, terminalreporter):
        self.outcomes = {key: len(reports) for key, reports in terminalreporter.stats.items() if key}

sys.dont_write_bytecode = True  # never write __pycache__ into the mounted tests folder
sys.argv = ["pytest"]
os.chdir(ROOT)
_summary = _Summary()
_started = time.perf_counter()
_code = int(pytest.main(list(ARGS), plugins=[_summary]))
json.dumps({
    "exit_code": _code,
    "python_version": platform.python_version(),
    "platform": sys.platform,
    "collected": _summary.collected,
    "outcomes": _summary.outcomes,
    "pytest_seconds": round(time.perf_counter() - _started, 3),
    # Where the tests found client_py: site-packages, i.e. the wheel.
    "client_py_file": getattr(sys.modules.get("client_py"), "__file__", None),
})
`;

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const wheels = options.wheels.length ? options.wheels : defaultWheels();
  const indexURL = pathToFileURL(join(ROOT, "node_modules", "pyodide") + "/").href;
  if (!existsSync(fileURLToPath(indexURL))) throw new Error("node_modules/pyodide is missing: run npm ci");

  const { pyodide, timings } = await bootPyodide({
    indexURL,
    wheels: wheels.map((w) => pathToFileURL(w).href),
    pyodideOptions: {
      env: {
        HOME: "/home/pyodide",
        HYPOTHESIS_STORAGE_DIRECTORY: "/tmp/hypothesis",
        PYTHONDONTWRITEBYTECODE: "1",
      },
    },
  });
  // Synchronous writes: nothing is lost when the process exits right after.
  const write = (fd) => ({ write: (bytes) => writeSync(fd, bytes) });
  pyodide.setStdout(write(1));
  pyodide.setStderr(write(2));

  // Same paths inside Pyodide as on the host, so tracebacks and test ids read the same.
  pyodide.mountNodeFS(join(ROOT, "tests", "client_py"), join(ROOT, "tests", "client_py"));
  pyodide.FS.writeFile(join(ROOT, "pyproject.toml"), readFileSync(join(ROOT, "pyproject.toml")));
  // What pytest on CPython also reads above tests/client_py: tests/ as a package, its
  // shared conftest.py and the fixture plugins that names (standard library and pytest
  // only at import time, by their own rule).
  for (const name of ["__init__.py", "conftest.py"]) {
    const file = join(ROOT, "tests", name);
    if (existsSync(file)) pyodide.FS.writeFile(file, readFileSync(file));
  }
  const fixtures = join(ROOT, "tests", "fixtures");
  pyodide.FS.mkdirTree(fixtures);
  for (const name of readdirSync(fixtures).filter((f) => f.endsWith(".py"))) {
    pyodide.FS.writeFile(join(fixtures, name), readFileSync(join(fixtures, name)));
  }

  const args = [...FIXED_OPTIONS, ...(options.pytestArgs.length ? options.pytestArgs : DEFAULT_PATHS)];
  const globals = pyodide.toPy({ ROOT, ARGS: args });
  const summary = JSON.parse(pyodide.runPython(RUN_PYTEST, { globals }));
  summary.boot_seconds = +(timings.bootMs / 1000).toFixed(3);
  summary.unpack_seconds = +(timings.unpackMs / 1000).toFixed(3);
  summary.pyodide_version = pyodide.version;
  summary.wheels = wheels.map((w) => w.slice(w.lastIndexOf("/") + 1));
  process.stderr.write(
    `pyodide ${pyodide.version}: boot ${summary.boot_seconds}s, unpack ${wheels.length} wheels ` +
      `${summary.unpack_seconds}s, pytest ${summary.pytest_seconds}s\n`,
  );
  if (options.summaryJson) writeFileSync(options.summaryJson, JSON.stringify(summary, null, 2));
  return summary.exit_code;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`run_pytest.mjs: ${error.stack ?? error}\n`);
    process.exit(3); // pytest's "internal error"
  },
);
