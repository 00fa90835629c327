"""tests/client_py passes in Pyodide too: against the built wheel, every test, none skipped.

Builds the client_py wheel with the same command the extension and add-in builds use,
fetches the pinned test wheels, then runs tests/pyodide/run_pytest.mjs under Node.js and
compares what ran there with what CPython collects for the same folder.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "tests" / "pyodide" / "run_pytest.mjs"
PYODIDE_PACKAGE = ROOT / "node_modules" / "pyodide" / "package.json"
# Boot (~2 s) + the suite (a few times CPython's time); generous for a loaded 2-core CI.
PYODIDE_RUN_TIMEOUT_S = 300


def _run(command: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def client_wheel() -> Path:
    result = _run([sys.executable, "tools/build_client_wheel.py"])
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def pinned_wheels() -> list[Path]:
    result = _run([sys.executable, "tools/pyodide_wheels.py"])
    assert result.returncode == 0, result.stderr
    return [Path(line) for line in result.stdout.split()]


def cpython_collected_count() -> int:
    """How many tests CPython collects in tests/client_py (in a separate process)."""
    result = _run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                   "-p", "no:cacheprovider", "tests/client_py"])
    assert result.returncode == 0, result.stdout + result.stderr
    match = re.search(r"^(\d+) tests? collected", result.stdout, re.MULTILINE)
    assert match, result.stdout
    return int(match.group(1))


def test_wheel_holds_client_py_and_nothing_else(client_wheel: Path) -> None:
    names = zipfile.ZipFile(client_wheel).namelist()
    version = client_wheel.name.split("-")[1]
    assert client_wheel.name == f"client_py-{version}-py3-none-any.whl"
    assert {name.split("/")[0] for name in names} == {
        "client_py", f"client_py-{version}.dist-info",
    }
    sources = {path.relative_to(ROOT).as_posix() for path in (ROOT / "client_py").rglob("*.py")}
    assert {name for name in names if not name.startswith("client_py-")} == sources


def test_pinned_wheels_are_pure_python(pinned_wheels: list[Path]) -> None:
    projects = {path.name.split("-")[0].lower() for path in pinned_wheels}
    assert {"pytest", "hypothesis", "tzdata"} <= projects
    assert all(path.name.endswith("-none-any.whl") for path in pinned_wheels)


def test_client_tests_pass_in_pyodide(
    client_wheel: Path, pinned_wheels: list[Path], tmp_path: Path
) -> None:
    node = shutil.which("node")
    assert node, "Node.js is needed to run Pyodide"
    assert PYODIDE_PACKAGE.is_file(), "node_modules/pyodide is missing: run `npm ci`"
    expected = cpython_collected_count()
    summary_file = tmp_path / "summary.json"
    wheel_args = [arg for wheel in (client_wheel, *pinned_wheels) for arg in ("--wheel", str(wheel))]

    result = _run([node, str(RUNNER), "--summary-json", str(summary_file), *wheel_args],
                  timeout=PYODIDE_RUN_TIMEOUT_S)

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    summary = json.loads(summary_file.read_text())
    assert summary["python_version"].startswith("3.14."), summary
    assert "/site-packages/client_py/" in summary["client_py_file"], summary  # the wheel's
    assert summary["collected"] == expected, output
    counted = {key: summary["outcomes"].get(key, 0)
               for key in ("passed", "failed", "error", "skipped", "xfailed", "xpassed")}
    assert counted == {"passed": expected, "failed": 0, "error": 0, "skipped": 0,
                       "xfailed": 0, "xpassed": 0}, output
