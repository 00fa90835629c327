"""Build the Gmail extension: ``build/extension/`` (Chrome's "Load unpacked") and
``build/engage-extension.zip`` (the same files, for the Chrome Web Store or a policy
install).

What goes in, and from where:

- ``extension/`` as it is (manifest, worker, content script, offscreen document, side
  panel, options page, icons), without caches;
- what the add-in gets too (``tools/bundle.py``): Pyodide's runtime from npm
  ``pyodide`` into ``pyodide/``; the client_py and tzdata wheels into ``wheels/``,
  listed in ``wheels/wheels.json`` for the offscreen worker; the shared JavaScript
  (``tools/pyodide_boot.mjs``, the one way client_py is loaded) into ``lib/``.

Nothing is fetched at run time: the extension holds all of its code (Chrome Web Store
policy for Manifest V3: no remote code).  The manifest's version is the repository's
(pyproject.toml).  Archive entries are sorted and dated ``SOURCE_DATE_EPOCH``, so the
same inputs give the same zip.

Usage::

    python tools/build_extension.py                 # prints the folder and the zip
    python tools/build_extension.py --no-isolation  # build the wheel without pip's env
    python tools/build_extension.py --icons         # redraw extension/icons/*.png
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
import zipfile
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
ROOT = TOOLS.parent
SOURCE = ROOT / "extension"
OUT = ROOT / "build" / "extension"
ZIP = ROOT / "build" / "engage-extension.zip"
ICON_SIZES = (16, 32, 48, 128)

sys.path.insert(0, str(TOOLS))
import build_client_wheel  # noqa: E402  (a sibling script, not a package)
import bundle  # noqa: E402
import icons  # noqa: E402
from bundle import BuildError, check_pyodide  # noqa: E402,F401  (part of this script's interface)


def copy_sources(out: Path) -> None:
    shutil.copytree(SOURCE, out, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*"))


def write_manifest_version(out: Path) -> dict:
    path = out / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["version"] = build_client_wheel.project_version()
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def build(out: Path = OUT, zip_path: Path = ZIP, isolated: bool = True) -> tuple[Path, Path]:
    """Build the folder and the zip; return both paths."""
    check_pyodide()
    wheels = bundle.client_wheels(isolated=isolated)
    if out.exists():
        shutil.rmtree(out)
    copy_sources(out)
    write_manifest_version(out)
    bundle.write_pyodide(out)
    bundle.write_wheels(out, wheels)
    bundle.write_lib(out)
    write_zip(out, zip_path)
    return out, zip_path


def _zip_date() -> tuple[int, int, int, int, int, int]:
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "1704067200"))
    return time.gmtime(max(epoch, 315532800))[:6]  # zip dates start in 1980


def write_zip(folder: Path, zip_path: Path) -> Path:
    """Zip ``folder``'s files (paths relative to it), sorted, with fixed dates."""
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    date = _zip_date()
    tmp = zip_path.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), date_time=date)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes())
    tmp.replace(zip_path)
    return zip_path


def write_icons(dest: Path = SOURCE / "icons") -> list[Path]:
    """Redraw ``extension/icons/icon<size>.png`` (tools/icons.py: one logo for both clients)."""
    return icons.write_icons(dest, ICON_SIZES, "icon{size}.png")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-isolation", action="store_true", help="build the client_py wheel without isolation")
    parser.add_argument("--icons", action="store_true", help="redraw extension/icons/*.png and stop")
    args = parser.parse_args(argv)
    if args.icons:
        for path in write_icons():
            print(path)
        return 0
    try:
        folder, archive = build(isolated=not args.no_isolation)
    except BuildError as error:
        print(f"build_extension: {error}", file=sys.stderr)
        return 1
    print(folder)
    print(archive)
    return 0


if __name__ == "__main__":
    sys.exit(main())
