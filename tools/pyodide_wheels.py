"""Fetch the pure-Python wheels that Pyodide needs, into build/pyodide-wheels/.

Pyodide's own package index (a CDN) cannot be reached from this project's machines, and
micropip would need it, so every third-party wheel Pyodide runs is downloaded here from
PyPI with pip, as ``py3-none-any`` wheels for Python 3.14, and handed to Pyodide as
files (``pyodide.unpackArchive(bytes, "wheel")``).

The versions are pinned in one place, :data:`PRODUCT_WHEELS` and :data:`TEST_WHEELS`:

* the product (extension, add-in) needs only ``tzdata``: Pyodide has no system time zone
  database and ``zoneinfo`` falls back to this package;
* the Pyodide test run needs pytest and its dependencies, and Hypothesis with its one
  dependency.  Hypothesis 6.156 and later ship compiled (Rust) wheels only, so 6.155.7,
  the last pure-Python release, is pinned here while CPython may use a newer one.

Wheels already on disk are reused, wheels of other versions are removed, so the folder
always holds exactly the pinned set.  Usage::

    python tools/pyodide_wheels.py            # product + test wheels, prints their paths
    python tools/pyodide_wheels.py --product  # tzdata only
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WHEEL_DIR = ROOT / "build" / "pyodide-wheels"

#: What client_py itself needs at run time in Pyodide.
PRODUCT_WHEELS: dict[str, str] = {
    "tzdata": "2026.6",
}

#: What running tests/client_py under Pyodide needs besides the product wheels.
TEST_WHEELS: dict[str, str] = {
    "pytest": "9.2.0",
    "iniconfig": "2.3.1",
    "packaging": "26.4",
    "pluggy": "1.7.0",
    "pygments": "2.21.0",
    # Last pure-Python release: later ones are compiled for CPython platforms only.
    "hypothesis": "6.155.7",
    "sortedcontainers": "2.4.0",
}

PYODIDE_PYTHON_VERSION = "3.14"


def _normalized(name: str) -> str:
    """A project name as it is spelled in wheel file names (PEP 427 / PEP 503)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def _wheel_project_and_version(path: Path) -> tuple[str, str]:
    name, version = path.name.split("-")[:2]
    return _normalized(name), version


def _pins(include_tests: bool) -> dict[str, str]:
    pins = dict(PRODUCT_WHEELS)
    if include_tests:
        pins.update(TEST_WHEELS)
    return pins


def ensure_wheels(include_tests: bool = True, dest: Path = WHEEL_DIR) -> list[Path]:
    """Make ``dest`` hold the pinned wheels and return their paths, sorted by name.

    Downloads only what is missing (one pip call); removes wheels of unpinned versions.
    Raises ``RuntimeError`` if pip fails or a downloaded wheel is not pure Python.
    """
    dest.mkdir(parents=True, exist_ok=True)
    pins = _pins(include_tests)
    all_pins = {_normalized(n): v for n, v in _pins(True).items()}
    wanted = {_normalized(n): v for n, v in pins.items()}

    for path in dest.glob("*.whl"):
        project, version = _wheel_project_and_version(path)
        if all_pins.get(project) != version:
            path.unlink()  # a stale pin: never hand Pyodide two versions of one project

    present = {_wheel_project_and_version(p): p for p in dest.glob("*.whl")}
    missing = [name for name, version in pins.items()
               if (_normalized(name), version) not in present]
    if missing:
        command = [
            sys.executable, "-m", "pip", "download", "--quiet",
            "--only-binary=:all:", "--no-deps",
            "--python-version", PYODIDE_PYTHON_VERSION,
            "--implementation", "py", "--platform", "any",
            "--dest", str(dest),
            *(f"{name}=={pins[name]}" for name in missing),
        ]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"pip download failed:\n{result.stdout}{result.stderr}")

    paths = []
    for path in sorted(dest.glob("*.whl")):
        if _wheel_project_and_version(path)[0] not in wanted:
            continue
        if not path.name.endswith("-none-any.whl"):
            raise RuntimeError(f"{path.name} is not a pure-Python wheel; Pyodide cannot use it")
        paths.append(path)
    if len(paths) != len(wanted):
        raise RuntimeError(f"expected {len(wanted)} wheels in {dest}, found {len(paths)}")
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--product", action="store_true",
                        help="only the wheels the product needs (tzdata), not the test ones")
    parser.add_argument("--dest", type=Path, default=WHEEL_DIR)
    args = parser.parse_args(argv)
    for path in ensure_wheels(include_tests=not args.product, dest=args.dest):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
