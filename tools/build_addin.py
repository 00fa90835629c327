"""Build what the Outlook add-in's pages load besides their own files: ``build/addin/``.

The pages, scripts, styles, icons and the manifest template live in ``office_addin/``
(``commands/``, ``taskpane/``, ``shared/``, ``icons/``) and are served from there, under
the same folders (server/addin.py). What they need that is *built* goes here, and is
served at ``/addin/`` itself (``shared/engine.mjs`` loads it from one level up):

- ``pyodide/``, ``wheels/`` and ``lib/``, as the Gmail extension gets them
  (``tools/bundle.py``): Pyodide's runtime files from ``node_modules/pyodide``
  (``npm ci``), the client_py and tzdata wheels with ``wheels/wheels.json`` naming them
  in the order the pages unpack them, and the shared JavaScript (``lib/pyodide_boot.mjs``);
- ``windows_zones.json``: Windows time zone names to IANA ones (CLDR's windowsZones, as
  tzlocal ships it), for the task pane to show times in Outlook's time zone.

Files whose size and modification time already match are not copied again, so a
second build takes about as long as building the client_py wheel.

``--icons`` redraws ``office_addin/icons/icon-<size>.png`` (``tools/icons.py``, the same
logo as the extension's); the icons are kept in the repository, so a normal build leaves
them alone.

Usage::

    python tools/build_addin.py            # prints build/addin
    python tools/build_addin.py --icons    # also redraws the icons
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
ROOT = TOOLS.parent
OUT = ROOT / "build" / "addin"
ICON_DIR = ROOT / "office_addin" / "icons"
ICON_SIZES = (16, 32, 64, 80, 128)

sys.path.insert(0, str(TOOLS))
import bundle  # noqa: E402  (a sibling script, not a package)
import icons  # noqa: E402


def build(out: Path = OUT) -> Path:
    """Lay out ``out`` as described in the module docstring and return it."""
    bundle.write_runtime(out)
    _write_if_changed(out / "windows_zones.json", json.dumps(windows_zones(), sort_keys=True) + "\n")
    return out


def windows_zones() -> dict[str, str]:
    """Windows time zone name -> IANA name, from tzlocal's copy of CLDR's table."""
    from tzlocal.windows_tz import win_tz

    return dict(win_tz)


def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def draw_icons(folder: Path = ICON_DIR) -> list[Path]:
    """Redraw ``office_addin/icons/icon-<size>.png`` (tools/icons.py: one logo for both clients)."""
    return icons.write_icons(folder, ICON_SIZES, "icon-{size}.png")


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
