"""Engage's logo as PNG icons, for both clients: an envelope on Engage's blue rounded
square, with a green "seen" dot in a white ring.

Chrome and Outlook both need PNG icons, at different sizes and file names
(``build_extension.py --icons``, ``build_addin.py --icons``); both draw them here, so
the two clients show one logo. Pure Python (zlib + struct): no image library. The PNGs
are kept in the repository; redraw them after changing the drawing.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

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


def draw_icon(size: int) -> bytes:
    """The logo at ``size`` x ``size`` pixels, as PNG file bytes."""
    return png_bytes(icon_pixels(size))


def write_icons(folder: Path, sizes: tuple[int, ...], name: str) -> list[Path]:
    """``folder/<name.format(size=…)>`` for each size; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for size in sizes:
        path = folder / name.format(size=size)
        path.write_bytes(draw_icon(size))
        paths.append(path)
    return paths
