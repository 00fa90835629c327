"""tools/build_addin.py: what the pages load besides their own files, laid out as the
Gmail extension's build lays it out (tools/bundle.py), and the icons the manifest names."""

from __future__ import annotations

import json
import struct
import sys

from .conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import build_addin  # noqa: E402
import bundle  # noqa: E402
import icons  # noqa: E402


def test_the_build_holds_pyodide_the_wheels_in_order_and_the_loader(addin_build):
    assert sorted(p.name for p in (addin_build / "pyodide").iterdir()) == sorted(bundle.PYODIDE_FILES)
    wheels = json.loads((addin_build / "wheels" / "wheels.json").read_text())["wheels"]
    assert [w.split("-")[0] for w in wheels] == ["client_py", "tzdata"]
    assert sorted(p.name for p in (addin_build / "wheels").glob("*.whl")) == sorted(wheels)
    assert (addin_build / "lib" / "pyodide_boot.mjs").read_bytes() == (ROOT / "tools" / "pyodide_boot.mjs").read_bytes()
    # The live-stream client, the very file the extension ships.
    assert (addin_build / "lib" / "stream.mjs").read_bytes() == (ROOT / "client_js" / "stream.mjs").read_bytes()


def test_icons_are_the_extensions_logo_at_the_add_ins_sizes():
    for size in build_addin.ICON_SIZES:
        data = (ROOT / "office_addin" / "icons" / f"icon-{size}.png").read_bytes()
        assert struct.unpack(">II", data[16:24]) == (size, size)
        assert data == icons.draw_icon(size)
