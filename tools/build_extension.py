"""Build the Gmail extension: ``build/extension/`` (Chrome's "Load unpacked") and
``build/engage-extension.zip`` (the same files, for the Chrome Web Store or a policy
install).

What goes in, and from where:

- ``extension/`` as it is (manifest, worker, content script, offscreen document, side
  panel, options page, icons), without caches;
- Pyodide's runtime from npm ``pyodide`` (``node_modules/pyodide``, version pinned in
  package.json): only ``pyodide.mjs``, ``pyodide.asm.mjs``, ``pyodide.asm.wasm``,
  ``python_stdlib.zip`` and ``pyodide-lock.json``, into ``pyodide/``;
- ``tools/pyodide_boot.mjs`` (the one way client_py is loaded) into ``lib/``;
- the client_py wheel (``tools/build_client_wheel.py``) and the tzdata wheel
  (``tools/pyodide_wheels.py --product``) into ``wheels/``, listed in
  ``wheels/wheels.json`` for the offscreen worker.

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
import struct
import sys
import time
import zipfile
import zlib
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
ROOT = TOOLS.parent
SOURCE = ROOT / "extension"
OUT = ROOT / "build" / "extension"
ZIP = ROOT / "build" / "engage-extension.zip"
PYODIDE_DIR = ROOT / "node_modules" / "pyodide"
PYODIDE_FILES = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json")
ICON_SIZES = (16, 32, 48, 128)

sys.path.insert(0, str(TOOLS))
import build_client_wheel  # noqa: E402  (a sibling script, not a package)
import pyodide_wheels  # noqa: E402


class BuildError(RuntimeError):
    """The extension cannot be built; the message says what to do."""


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
        raise BuildError(f"{directory} lacks {', '.join(missing)}")
    return version


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
    try:
        client_wheel = build_client_wheel.build_client_wheel(isolated=isolated)
        product_wheels = pyodide_wheels.ensure_wheels(include_tests=False)
    except RuntimeError as error:
        raise BuildError(str(error)) from error
    if out.exists():
        shutil.rmtree(out)
    copy_sources(out)
    write_manifest_version(out)
    (out / "pyodide").mkdir()
    for name in PYODIDE_FILES:
        shutil.copy2(PYODIDE_DIR / name, out / "pyodide" / name)
    (out / "lib").mkdir(exist_ok=True)
    shutil.copy2(TOOLS / "pyodide_boot.mjs", out / "lib" / "pyodide_boot.mjs")
    (out / "wheels").mkdir()
    wheels = [client_wheel, *product_wheels]
    for wheel in wheels:
        shutil.copy2(wheel, out / "wheels" / wheel.name)
    (out / "wheels" / "wheels.json").write_text(
        json.dumps({"wheels": [w.name for w in wheels]}, indent=2) + "\n", encoding="utf-8")
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


# -- icons ---------------------------------------------------------------------------
# Chrome needs PNG icons; these are drawn here (an envelope on Engage's blue rounded
# square, with a "seen" dot) and written with zlib + struct, so no image library is
# needed. Run with --icons after changing the drawing; the PNGs are kept in extension/.

_BLUE = (26, 115, 232)
_WHITE = (255, 255, 255)
_GREEN = (52, 168, 83)


def _coverage(size: int, inside) -> list[list[float]]:
    """Anti-aliased coverage of a shape (4x4 samples per pixel), in unit coordinates."""
    samples = 4
    rows = []
    for y in range(size):
        row = []
        for x in range(size):
            hits = 0
            for sy in range(samples):
                for sx in range(samples):
                    u = (x + (sx + 0.5) / samples) / size
                    v = (y + (sy + 0.5) / samples) / size
                    hits += inside(u, v)
            row.append(hits / samples**2)
        rows.append(row)
    return rows


def _rounded_square(u: float, v: float, r: float = 0.22) -> bool:
    dx = max(r - u, 0, u - (1 - r))
    dy = max(r - v, 0, v - (1 - r))
    return dx * dx + dy * dy <= r * r


def _envelope(u: float, v: float) -> bool:
    left, right, top, bottom, stroke = 0.2, 0.8, 0.3, 0.72, 0.075
    if not (left <= u <= right and top <= v <= bottom):
        return False
    if u < left + stroke or u > right - stroke or v < top + stroke or v > bottom - stroke:
        return True  # the outline
    # The flap: a V from the top corners to the centre.
    middle = (left + right) / 2
    depth = 0.22
    flap_v = top + depth * (1 - abs(u - middle) / (middle - left))
    return abs(v - flap_v) < stroke * 0.8


def _dot(u: float, v: float) -> bool:
    return (u - 0.78) ** 2 + (v - 0.26) ** 2 <= 0.13**2


def icon_pixels(size: int) -> list[list[tuple[int, int, int, int]]]:
    base = _coverage(size, _rounded_square)
    env = _coverage(size, _envelope)
    dot = _coverage(size, _dot)
    ring = _coverage(size, lambda u, v: (u - 0.78) ** 2 + (v - 0.26) ** 2 <= 0.17**2)
    pixels = []
    for y in range(size):
        row = []
        for x in range(size):
            alpha = max(base[y][x], ring[y][x])
            color = list(_BLUE)
            for layer, paint in ((env[y][x], _WHITE), (ring[y][x], _WHITE), (dot[y][x], _GREEN)):
                color = [round(c * (1 - layer) + p * layer) for c, p in zip(color, paint)]
            row.append((*color, round(255 * alpha)))
        pixels.append(row)
    return pixels


def png_bytes(pixels: list[list[tuple[int, int, int, int]]]) -> bytes:
    height, width = len(pixels), len(pixels[0])
    raw = b"".join(b"\x00" + bytes(channel for px in row for channel in px) for row in pixels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def write_icons(dest: Path = SOURCE / "icons") -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    paths = []
    for size in ICON_SIZES:
        path = dest / f"icon{size}.png"
        path.write_bytes(png_bytes(icon_pixels(size)))
        paths.append(path)
    return paths


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
