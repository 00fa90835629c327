"""The README's first command, as a new user runs it: ``./scripts/run.sh`` in a fresh
``git clone`` with no virtual environment, no node_modules and no build.

It gets nothing from the test environment: its own ``.venv`` is created by run.sh in
the clone (pip's and npm's download caches are shared, the installed packages are not),
and the environment it inherits has this test run's virtual environment, PYTHONPATH and
ENGAGE_* settings taken out. The clone is of the committed HEAD, so this checks what is
committed. scripts/test.sh installs the test extras only into the checkout's own .venv,
which the clone never sees, so nothing the run command needs can be masked by them.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.live_server import ROOT, free_port

GIF_MAGIC = b"GIF89a"


def _fresh_env(port: int) -> dict:
    """The caller's environment without anything of this test run's Python set-up."""
    venv_bins = {str(Path(sys.prefix) / "bin"), str(ROOT / ".venv" / "bin")}
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ENGAGE_", "PYTHON", "PIP_REQUIRE", "npm_"))
           and k not in {"VIRTUAL_ENV", "DATABASE_URL", "GEOIP_DATABASE", "HOST", "PORT"}}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if p and p.rstrip("/") not in venv_bins)
    env["PORT"] = str(port)
    return env


def _get(url: str, timeout: float = 10):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=20)
        except ProcessLookupError:
            pass
    # Nothing of the group may outlive it (granian's workers, the writer).
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def test_run_sh_serves_from_a_clean_clone_with_a_fresh_venv(tmp_path):
    clone = tmp_path / "engage"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=120)
    for absent in (".venv", "node_modules", "build", "dist", "instance"):
        assert not (clone / absent).exists(), f"a fresh clone has no {absent}/"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "run.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(["./scripts/run.sh"], cwd=clone, env=_fresh_env(port),
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + 540
        while True:
            output = log_path.read_text(errors="replace")
            assert proc.poll() is None, f"run.sh exited with {proc.returncode}:\n{output[-4000:]}"
            assert time.monotonic() < deadline, f"run.sh did not serve in time:\n{output[-4000:]}"
            try:
                status, _, _ = _get(url + "/healthz", timeout=2)
                if status == 200:
                    break
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(1)

        # The virtual environment is the clone's own, freshly made.
        assert (clone / ".venv" / "bin" / "engage").is_file()

        status, headers, body = _get(url + "/p/abcdefghijklmnop1234.gif")
        assert status == 200 and headers["Content-Type"] == "image/gif" and body.startswith(GIF_MAGIC)

        status, headers, body = _get(url + "/panel")
        assert status == 200 and headers.get_content_type() == "text/html"
        assert b"<html" in body.lower()

        status, headers, body = _get(url + "/addin/manifest.xml")
        assert status == 200 and b"<OfficeApp" in body
        assert url.encode() in body, "the add-in manifest names this server"

        output = log_path.read_text(errors="replace")
        found = re.search(r"Gmail extension:\s+(\S+)", output)
        assert found, f"run.sh prints the extension's folder:\n{output[-3000:]}"
        folder = Path(found.group(1))
        assert folder.resolve().is_relative_to(clone.resolve())
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["manifest_version"] == 3
        assert list(folder.glob("wheels/client_py-*.whl")), "the extension carries the client_py wheel"

        # A fresh server waits for its first admin and says where to go.
        assert "waiting for its first admin" in output
        setup = re.search(rf"({re.escape(url)}/setup/\S+)", output)
        assert setup, f"run.sh's server prints the setup link:\n{output[-3000:]}"
        status, headers, body = _get(setup.group(1))
        assert status == 200 and b"Set up Engage" in body
    finally:
        _stop(proc)
