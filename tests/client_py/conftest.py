"""Loading the real-world-shaped email bodies in ``bodies/``.

Standard library and pytest only, with paths relative to this file: the same tests
also run inside Pyodide under Node.js.  Files are read with ``newline=""`` so that the
CRLF line ends Outlook writes reach the code under test unchanged.
"""

from __future__ import annotations

from pathlib import Path

import pytest

BODIES_DIR = Path(__file__).parent / "bodies"


def body_names() -> list[str]:
    """File names of every fixture body, sorted."""
    return sorted(path.name for path in BODIES_DIR.glob("*.html"))


def read_body(name: str) -> str:
    """The exact text of one fixture body."""
    with open(BODIES_DIR / name, encoding="utf-8", newline="") as handle:
        return handle.read()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # A test asking for ``body_name`` runs once per fixture body, named after the file.
    if "body_name" in metafunc.fixturenames:
        metafunc.parametrize("body_name", body_names())


@pytest.fixture
def body(body_name: str) -> str:
    return read_body(body_name)


@pytest.fixture(name="read_body")
def read_body_fixture():
    """``read_body(name)`` for tests parametrized by their own tables."""
    return read_body


@pytest.fixture(name="body_names")
def body_names_fixture() -> list[str]:
    return body_names()
