"""What the Gmail extension's build and the Outlook add-in's build both put in: one
definition of each, so the two clients cannot drift apart.

- ``pyodide/``: the files a page needs from npm ``pyodide`` to boot (``PYODIDE_FILES``,
  docs/pyodide.md), at the version package.json pins;
- ``wheels/``: the client_py wheel (``build_client_wheel.py``) and the tzdata wheel
  (``pyodide_wheels.py --product``), with ``wheels/wheels.json`` naming them in the
  order a page unpacks them: ``{"wheels": ["client_py-….whl", "tzdata-….whl"]}``;
- ``lib/``: the JavaScript both clients load (``LIB_FILES``: the Pyodide loader, and
  ``client_js/``: the live-stream client and the one error class), copied as it is.

A sibling script, not a package: the build scripts put ``tools/`` on ``sys.path``.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
ROOT = TOOLS.parent
PYODIDE_DIR = ROOT / "node_modules" / "pyodide"
# What a page needs from the npm package to boot (docs/pyodide.md).
PYODIDE_FILES = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json")
# Shared JavaScript, copied into each build's lib/ under the same name.
LIB_FILES = (TOOLS / "pyodide_boot.mjs", ROOT / "client_js" / "stream.mjs", ROOT / "client_js" / "engage_error.js")
WHEELS_JSON = "wheels.json"

if str(TOOLS) not in sys.path:
    sys.path.insert(0, str(TOOLS))
import build_client_wheel  # noqa: E402  (a sibling script, not a package)
import pyodide_wheels  # noqa: E402


class BuildError(RuntimeError):
    """A client cannot be built; the message says what to do."""


def pinned_pyodide_version() -> str:
    with open(ROOT / "package.json", encoding="utf-8") as file:
        return json.load(file)["dependencies"]["pyodide"]


def check_pyodide(directory: Path = PYODIDE_DIR) -> str:
    """The installed Pyodide's version; raises BuildError unless it is the pinned one."""
    manifest = directory / "package.json"
    if not manifest.is_file():
        raise BuildError(f"{directory} is missing: run `npm ci` first")
    version = json.loads(manifest.read_text(encoding="utf-8"))["version"]
    if version != pinned_pyodide_version():
        raise BuildError(f"node_modules has pyodide {version}, package.json pins {pinned_pyodide_version()}: "
                         "run `npm ci`")
    missing = [name for name in PYODIDE_FILES if not (directory / name).is_file()]
    if missing:
        raise BuildError(f"{directory} lacks {', '.join(missing)}: run `npm ci`")
    return version


def client_wheels(isolated: bool = True) -> list[Path]:
    """The wheels a client unpacks, in order: client_py first (tzdata is its dependency)."""
    try:
        client = build_client_wheel.build_client_wheel(isolated=isolated)
        product = pyodide_wheels.ensure_wheels(include_tests=False)
    except RuntimeError as error:
        raise BuildError(str(error)) from error
    if not product:
        raise BuildError("pyodide_wheels.py gave no product wheel (tzdata)")
    return [client, *product]


def copy_if_changed(source: Path, target: Path) -> None:
    """Copy unless ``target`` has ``source``'s size and modification time already."""
    if target.exists():
        a, b = source.stat(), target.stat()
        if a.st_size == b.st_size and int(a.st_mtime) == int(b.st_mtime):
            return
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)


def write_pyodide(out: Path, directory: Path = PYODIDE_DIR) -> None:
    for name in PYODIDE_FILES:
        copy_if_changed(directory / name, out / "pyodide" / name)


def write_wheels(out: Path, wheels: list[Path]) -> Path:
    """``out/wheels/`` holding exactly ``wheels`` and the list naming them; returns the list."""
    folder = out / "wheels"
    folder.mkdir(parents=True, exist_ok=True)
    names = [wheel.name for wheel in wheels]
    for old in folder.glob("*.whl"):
        if old.name not in names:
            old.unlink()  # a previous version: never offer two
    for wheel in wheels:
        copy_if_changed(wheel, folder / wheel.name)
    listing = folder / WHEELS_JSON
    listing.write_text(json.dumps({"wheels": names}, indent=2) + "\n", encoding="utf-8")
    return listing


def write_lib(out: Path) -> None:
    for source in LIB_FILES:
        copy_if_changed(source, out / "lib" / source.name)


def write_runtime(out: Path, isolated: bool = True) -> list[Path]:
    """Everything above into ``out``; returns the wheels."""
    check_pyodide()
    wheels = client_wheels(isolated=isolated)
    write_pyodide(out)
    write_wheels(out, wheels)
    write_lib(out)
    return wheels
