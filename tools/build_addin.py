"""Build what the Outlook add-in's pages load besides their own files: ``build/addin/``.

The pages, scripts, styles, icons and the manifest template live in ``office_addin/``
(``commands/``, ``taskpane/``, ``shared/``, ``icons/``) and are served from there, under
the same folders (server/addin.py). What they need that is *built* goes here, and is
served at ``/addin/`` itself (``shared/engine.mjs`` loads it from one level up):

- ``pyodide/``: Pyodide's runtime files copied from ``node_modules/pyodide`` (``npm ci``);
- ``wheels/``: the client_py wheel (``tools/build_client_wheel.py``) and the tzdata
  wheel (``tools/pyodide_wheels.py --product``), with ``wheels.json`` naming them in the
  order the pages unpack them;
- ``pyodide_boot.mjs``: the shared loader, copied from ``tools/``.

Files whose size and modification time already match are not copied again, so a
second build takes about as long as building the client_py wheel.

``--icons`` redraws ``office_addin/icons/icon-<size>.png`` (pure Python: zlib + struct);
the icons are kept in the repository, so a normal build leaves them alone.

Usage::

    python tools/build_addin.py            # prints build/addin
    python tools/build_addin.py --icons    # also redraws the icons
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "addin"
PYODIDE_PACKAGE = ROOT / "node_modules" / "pyodide"
# What a page needs from the npm package to boot (docs/pyodide.md).
PYODIDE_FILES = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json")
ICON_DIR = ROOT / "office_addin" / "icons"
ICON_SIZES = (16, 32, 64, 80, 128)


def _run_tool(*args: str) -> list[Path]:
    """Run one of tools/*.py and return the paths it prints, one per line."""
    result = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return [Path(line) for line in result.stdout.split() if line.endswith(".whl")]


def _copy_if_changed(source: Path, target: Path) -> None:
    if target.exists():
        a, b = source.stat(), target.stat()
        if a.st_size == b.st_size and int(a.st_mtime) == int(b.st_mtime):
            return
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)


def build(out: Path = OUT) -> Path:
    """Lay out ``out`` as described in the module docstring and return it."""
    missing = [name for name in PYODIDE_FILES if not (PYODIDE_PACKAGE / name).is_file()]
    if missing:
        raise RuntimeError(f"{PYODIDE_PACKAGE} lacks {', '.join(missing)}: run `npm ci` first")
    client_wheels = _run_tool("tools/build_client_wheel.py")
    tz_wheels = _run_tool("tools/pyodide_wheels.py", "--product")
    wheels = [*client_wheels, *tz_wheels]
    if len(client_wheels) != 1 or not tz_wheels:
        raise RuntimeError(f"expected the client_py and tzdata wheels, got {wheels}")

    for name in PYODIDE_FILES:
        _copy_if_changed(PYODIDE_PACKAGE / name, out / "pyodide" / name)
    _copy_if_changed(ROOT / "tools" / "pyodide_boot.mjs", out / "pyodide_boot.mjs")
    wheel_dir = out / "wheels"
    wheel_dir.mkdir(parents=True, exist_ok=True)
    for old in wheel_dir.glob("*.whl"):
        if old.name not in {w.name for w in wheels}:
            old.unlink()  # a previous version: never offer two
    for wheel in wheels:
        _copy_if_changed(wheel, wheel_dir / wheel.name)
    # client_py first: tzdata is only its dependency.
    (wheel_dir / "wheels.json").write_text(json.dumps([w.name for w in wheels]) + "\n")
    return out


# -- icons -----------------------------------------------------------------------------

def _png(width: int, height: int, rgba_rows: list[bytes]) -> bytes:
    """A PNG file (8-bit RGBA, no interlace) from rows of RGBA bytes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + row for row in rgba_rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def _coverage(size: int, x: int, y: int, inside) -> float:
    """Fraction of pixel (x, y) inside the shape, from 4x4 samples (anti-aliasing)."""
    hits = 0
    for i in range(4):
        for j in range(4):
            u = (x + (i + 0.5) / 4) / size
            v = (y + (j + 0.5) / 4) / size
            hits += inside(u, v)
    return hits / 16


def _in_rounded_square(u: float, v: float, radius: float = 0.22) -> bool:
    cx = min(max(u, radius), 1 - radius)
    cy = min(max(v, radius), 1 - radius)
    return (u - cx) ** 2 + (v - cy) ** 2 <= radius ** 2


def _in_envelope(u: float, v: float) -> bool:
    """A white envelope outline: the frame and the flap's V, in unit coordinates."""
    left, right, top, bottom, stroke = 0.2, 0.8, 0.3, 0.72, 0.065
    if not (left <= u <= right and top <= v <= bottom):
        return False
    if u - left < stroke or right - u < stroke or v - top < stroke or bottom - v < stroke:
        return True
    # The flap: two lines from the top corners to the centre at v = 0.55.
    mid_u, mid_v = 0.5, 0.55
    for x0 in (left, right):
        dx, dy = mid_u - x0, mid_v - top
        t = ((u - x0) * dx + (v - top) * dy) / (dx * dx + dy * dy)
        if 0 <= t <= 1:
            px, py = x0 + t * dx, top + t * dy
            if math.hypot(u - px, v - py) < stroke * 0.55:
                return True
    return False


def _in_dot(u: float, v: float) -> bool:
    """The "opened" dot at the top right corner of the envelope."""
    return math.hypot(u - 0.76, v - 0.3) <= 0.13


def draw_icon(size: int) -> bytes:
    """Engage's icon at ``size`` pixels: a blue rounded square, a white envelope, a green dot."""
    blue, white, green, ring = (26, 115, 232), (255, 255, 255), (30, 142, 62), (26, 115, 232)
    rows = []
    for y in range(size):
        row = bytearray()
        for x in range(size):
            base = _coverage(size, x, y, _in_rounded_square)
            env = _coverage(size, x, y, _in_envelope)
            dot = _coverage(size, x, y, _in_dot)
            halo = _coverage(size, x, y, lambda u, v: math.hypot(u - 0.76, v - 0.3) <= 0.17)
            r, g, b = blue
            for colour, amount in ((white, env), (ring, halo - dot), (green, dot)):
                r = round(r + (colour[0] - r) * amount)
                g = round(g + (colour[1] - g) * amount)
                b = round(b + (colour[2] - b) * amount)
            row += bytes((r, g, b, round(255 * base)))
        rows.append(bytes(row))
    return _png(size, size, rows)


def draw_icons(folder: Path = ICON_DIR) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for size in ICON_SIZES:
        path = folder / f"icon-{size}.png"
        path.write_bytes(draw_icon(size))
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--icons", action="store_true", help="redraw office_addin/icons/*.png")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    try:
        if args.icons:
            draw_icons()
        print(build(args.out))
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
