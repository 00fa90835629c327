"""client_py imports only standard library modules that every runtime it runs on has.

The rulebook runs on CPython 3.11 (server) and on Pyodide's Python 3.14 (browser), so
an import must be in the standard library of both, be shipped by Pyodide, and need no
I/O, process or thread.  This module runs on both runtimes: under Pyodide it reads the
sources installed from the client_py wheel.
"""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

import pytest

import client_py

PACKAGE_DIR = Path(client_py.__file__).resolve().parent
MODULE_FILES = sorted(PACKAGE_DIR.rglob("*.py"))

#: Removed from the standard library by Python 3.14 (PEP 594, PEP 632, 3.12's imp):
#: still importable on the server's 3.11, gone in Pyodide.
REMOVED_BY_3_14 = frozenset({
    "aifc", "asynchat", "asyncore", "audioop", "cgi", "cgitb", "chunk", "crypt",
    "distutils", "imghdr", "imp", "lib2to3", "mailcap", "msilib", "nis", "nntplib",
    "ossaudiodev", "pipes", "smtpd", "sndhdr", "spwd", "sunau", "telnetlib", "uu", "xdrlib",
})

#: In ``sys.stdlib_module_names`` but not importable in Pyodide 314 (checked there).
MISSING_IN_PYODIDE = frozenset({
    "_multiprocessing", "curses", "dbm", "ensurepip", "grp", "idlelib", "msvcrt", "nt",
    "pwd", "pydoc_data", "readline", "resource", "syslog", "tkinter", "turtle",
    "turtledemo", "venv", "winreg", "winsound",
})

#: Importable, but they do I/O or start threads or processes, which the rulebook must not.
IO_MODULES = frozenset({
    "asyncio", "concurrent", "ftplib", "http.client", "http.server", "imaplib",
    "multiprocessing", "poplib", "select", "selectors", "signal", "smtplib", "socket",
    "socketserver", "sqlite3", "ssl", "subprocess", "threading", "urllib.request",
    "webbrowser",
})


def _module_id(path: Path) -> str:
    return path.relative_to(PACKAGE_DIR).as_posix()


def imported_names(source: str) -> list[str]:
    """Every absolute module name a source imports; ``from a import b`` gives a and a.b."""
    names: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def why_not_allowed(name: str) -> str | None:
    """The reason client_py may not import ``name``, or None when it may."""
    top = name.partition(".")[0]
    if top == "client_py" or top == "__future__":
        return None
    if top in REMOVED_BY_3_14:  # before the next check: 3.14 does not list them at all
        return "removed from the standard library by Python 3.14"
    if top not in sys.stdlib_module_names:
        return "not in the standard library"
    if top in MISSING_IN_PYODIDE:
        return "not shipped by Pyodide"
    if any(name == io or name.startswith(io + ".") for io in IO_MODULES):
        return "does I/O, threads or processes"
    return None


def test_package_has_its_modules() -> None:
    # Guards the parametrized tests below against silently running on nothing.
    assert {"__init__.py", "model.py", "errors.py"} <= {p.name for p in MODULE_FILES}


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("json", None),
        ("client_py.model", None),
        ("collections.abc", None),
        ("requests", "not in the standard library"),
        ("cgi", "removed from the standard library by Python 3.14"),
        ("pwd", "not shipped by Pyodide"),
        ("urllib.request", "does I/O, threads or processes"),
        ("urllib.parse", None),
        ("threading", "does I/O, threads or processes"),
    ],
)
def test_why_not_allowed(name: str, reason: str | None) -> None:
    assert why_not_allowed(name) == reason


def test_imported_names_sees_from_imports() -> None:
    source = "import os.path\nfrom urllib import request, parse\nfrom . import model\n"
    assert imported_names(source) == [
        "os.path", "urllib", "urllib.request", "urllib.parse",
    ]


@pytest.mark.parametrize("path", MODULE_FILES, ids=_module_id)
def test_module_imports_only_allowed_stdlib(path: Path) -> None:
    offenders = {
        name: reason
        for name in imported_names(path.read_text(encoding="utf-8"))
        if (reason := why_not_allowed(name)) is not None
    }
    assert offenders == {}


@pytest.mark.parametrize("path", MODULE_FILES, ids=_module_id)
def test_module_imports_on_this_runtime(path: Path) -> None:
    parts = path.relative_to(PACKAGE_DIR).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    module = importlib.import_module(".".join(("client_py", *parts)))
    assert Path(module.__file__).resolve() == path
