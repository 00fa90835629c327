"""tools/build_extension.py and what it ships: a loadable folder and a zip holding the
extension, Pyodide's runtime (only the files it needs), the client_py and tzdata
wheels; no remote code; the manifest's promises (permissions, CSP, content scripts)."""

from __future__ import annotations

import hashlib
import json
import re
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "extension"
sys.path.insert(0, str(ROOT / "tools"))
import build_extension  # noqa: E402
import icons  # noqa: E402


@pytest.fixture(scope="module")
def manifest(extension_dir) -> dict:
    return json.loads((extension_dir / "manifest.json").read_text())


def files_of(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


def test_the_folder_holds_pyodide_the_wheels_and_nothing_extra(extension_dir):
    files = files_of(extension_dir)
    assert {f for f in files if f.startswith("pyodide/")} == {
        "pyodide/pyodide.mjs", "pyodide/pyodide.asm.mjs", "pyodide/pyodide.asm.wasm",
        "pyodide/python_stdlib.zip", "pyodide/pyodide-lock.json"}
    wheels = json.loads((extension_dir / "wheels" / "wheels.json").read_text())["wheels"]
    assert [w.split("-")[0] for w in wheels] == ["client_py", "tzdata"]
    assert {f"wheels/{w}" for w in wheels} | {"wheels/wheels.json"} == {f for f in files if f.startswith("wheels/")}
    assert "lib/pyodide_boot.mjs" in files
    assert (extension_dir / "lib" / "stream.mjs").read_bytes() == (ROOT / "client_js" / "stream.mjs").read_bytes()
    assert not [f for f in files if "__pycache__" in f or f.endswith((".pyc", ".map"))]
    # The source tree, copied as is.
    assert files_of(SOURCE) <= files


def test_the_zip_is_the_folder_and_is_reproducible(extension_dir, tmp_path):
    zip_path = ROOT / "build" / "engage-extension.zip"
    with zipfile.ZipFile(zip_path) as archive:
        names = archive.namelist()
        assert set(names) == files_of(extension_dir)
        assert names == sorted(names)
        assert archive.read("manifest.json") == (extension_dir / "manifest.json").read_bytes()
    again = build_extension.write_zip(extension_dir, tmp_path / "again.zip")
    assert hashlib.sha256(again.read_bytes()).digest() == hashlib.sha256(zip_path.read_bytes()).digest()


def test_manifest_version_is_the_repositorys(manifest):
    import tomllib

    with open(ROOT / "pyproject.toml", "rb") as file:
        assert manifest["version"] == tomllib.load(file)["project"]["version"]


def test_manifest_asks_for_what_it_uses_and_no_more(manifest, extension_dir):
    assert manifest["manifest_version"] == 3
    assert sorted(manifest["permissions"]) == sorted(
        ["storage", "offscreen", "sidePanel", "alarms", "notifications", "declarativeNetRequest"])
    assert manifest["host_permissions"] == ["https://mail.google.com/*"]
    assert manifest["background"] == {"service_worker": "background/service_worker.js", "type": "module"}
    (script,) = manifest["content_scripts"]
    assert script["matches"] == ["https://mail.google.com/*"] and script["run_at"] == "document_start"
    for path in [*script["js"], *script["css"]]:
        # In what Chrome loads: lib/ (shared with the add-in) is added by the build.
        assert (extension_dir / path).is_file(), path
        assert (SOURCE / path).is_file() or path.startswith("lib/"), path


def test_extension_pages_allow_webassembly_but_no_eval_or_remote_scripts(manifest):
    csp = manifest["content_security_policy"]["extension_pages"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
    assert directives["script-src"] == "'self' 'wasm-unsafe-eval'"
    assert "'unsafe-eval'" not in csp and "http" not in directives["script-src"]


# Loading code from elsewhere: a script element, import() or importScripts with a URL.
REMOTE_CODE = re.compile(r"""<script[^>]+src=["']https?:|import\s*\(\s*["'`]https?:|importScripts\s*\(\s*["'`]https?:"""
                         r"""|from\s+["']https?:""")


def test_no_remote_code(extension_dir):
    offenders = []
    for path in extension_dir.rglob("*"):
        if path.suffix in (".js", ".mjs", ".html") and "pyodide" not in path.parts:
            if REMOTE_CODE.search(path.read_text(encoding="utf-8")):
                offenders.append(path.name)
    assert offenders == []


# Parsing HTML from a string on Gmail's page: the content script must never.
HTML_SINKS = re.compile(r"\.(innerHTML|outerHTML)\s*=(?!=)|insertAdjacentHTML|document\.write|DOMParser"
                        r"|createContextualFragment|setHTMLUnsafe|parseHTMLUnsafe")


@pytest.mark.parametrize("path", sorted((SOURCE / "content").glob("*.js")), ids=lambda p: p.name)
def test_content_scripts_never_parse_html(path):
    # Chromium does not apply Gmail's Trusted Types to content scripts' isolated world
    # today, so the end-to-end tests could not catch this; the rule holds anyway.
    code = re.sub(r"/\*.*?\*/|(^|\s)//[^\n]*", " ", path.read_text(encoding="utf-8"), flags=re.S)
    assert [m.group(0) for m in HTML_SINKS.finditer(code)] == []


def test_message_ids_are_shared_constants():
    ids = re.findall(r'^\s+([A-Z_]+): "([a-z-]+)"', (SOURCE / "shared" / "messages.js").read_text(), re.M)
    names = {name for name, _ in ids}
    values = [value for _, value in ids if _ not in ("WORKER", "OFFSCREEN", "PAGES", "GMAIL")]
    assert len(values) == len(set(values)), "two message ids share a value"
    used = set()
    for path in SOURCE.rglob("*.js"):
        used |= set(re.findall(r"\bMSG\.([A-Z_]+)", path.read_text()))
    assert used <= names, f"unknown message ids used: {used - names}"


def test_a_missing_pyodide_install_is_a_clear_error(tmp_path):
    with pytest.raises(build_extension.BuildError, match="npm ci"):
        build_extension.check_pyodide(tmp_path / "node_modules" / "pyodide")


def test_icons_are_pngs_of_their_size():
    import struct

    for size in build_extension.ICON_SIZES:
        data = (SOURCE / "icons" / f"icon{size}.png").read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", data[16:24]) == (size, size)
        assert data == icons.draw_icon(size)  # drawn by the tool


def test_the_one_error_class_knows_every_code_client_py_answers_with():
    """client_js/engage_error.js (both clients' lib/) and client_py agree on the codes."""
    import subprocess

    import client_py.errors as errors
    from client_py import calls

    script = """
      require(process.argv[1]);
      const E = globalThis.EngageError;
      const wire = E.fromWire({ code: "not_html", message: "m" });
      const api = new E("http_500", "boom", { status: 500 });
      console.log(JSON.stringify({
        codes: Object.values(E.CODES),
        wire: [wire instanceof Error, wire.name, wire.code, wire.status, wire.fromServer],
        api: [api.status, api.fromServer, api.toWire()],
        noAnswer: [new E("timeout", "t").status, new E("unreachable", "u").fromServer],
      }));
    """
    result = subprocess.run(["node", "-e", script, str(ROOT / "client_js" / "engage_error.js")],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    python_codes = {cls.code for cls in (errors.EngageError, *errors.EngageError.__subclasses__())}
    python_codes |= {calls.UNKNOWN_FUNCTION, calls.BAD_CALL, calls.INTERNAL}
    python_codes.discard(errors.EngageError.code)  # the abstract base, never raised as such
    assert python_codes <= set(answer["codes"]), python_codes - set(answer["codes"])
    assert answer["wire"] == [True, "EngageError", "not_html", None, False]
    assert answer["api"] == [500, True, {"code": "http_500", "message": "boom", "details": {"status": 500}}]
    assert answer["noAnswer"] == [0, True]
