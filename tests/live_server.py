"""A real Engage server in another process, over real HTTP: granian serving
``server.wsgi:app`` on a free port (or ``engage serve``, as in production), migrated by
``engage db upgrade``, with an org and a user made by the real command line. Used by
end-to-end, fault and browser tests (their ``live`` fixtures build on it) and by the
benchmarks (bench/harness.py's ``Engage`` is one).

Standard library only: bench/ imports it without the test dependencies."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.fixtures.addresses import DOMAINS, LONDON, ORG, PASSWORD, USER
from tests.fixtures.agents import CHROME_WINDOWS

ROOT = Path(__file__).resolve().parents[1]
ENGAGE = [sys.executable, "-m", "server.cli"]
_MIGRATED: dict[tuple, Path] = {}  # the migrations' files -> a SQLite file they migrated (LiveServer.migrate)


# What every test server gets unless told otherwise: no retention sweep during a test,
# and, as granian runs 8 blocking threads here, room for 6 live streams.
# The spool's reserve is 1 MB, not 64: pytest keeps the folders of its last runs.
TEST_SETTINGS = {"ENGAGE_RETENTION_INTERVAL": "3600", "ENGAGE_STREAMS_PER_PROCESS": "6", "ENGAGE_SPOOL_RESERVE_MB": "1"}
# For extra_env: the server believes X-Forwarded-For from 127.0.0.1, so a test (or a
# benchmark) can play recipients opening from public addresses, and their proxies.
TRUST_LOCAL_PROXY = {"ENGAGE_TRUSTED_PROXIES": "127.0.0.1/32"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_answering(url: str, proc: subprocess.Popen | None = None, timeout: float = 60,
                   log: Path | None = None, below: int = 500) -> None:
    """Wait until ``url`` answers with a status below ``below``; fail at once if ``proc``
    exits meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{url}: the server exited\n{log.read_text()[-3000:] if log else ''}")
        try:
            with urllib.request.urlopen(url, timeout=3) as r:
                if r.status < below:
                    return
        except urllib.error.HTTPError as err:
            if err.code < below:
                return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {timeout:g}s\n{log.read_text()[-3000:] if log else ''}")


@dataclass
class LiveServer:
    instance: Path
    database_url: str
    geo_db: str | None = None
    workers: int = 1
    port: int = field(default_factory=free_port)
    extra_env: dict = field(default_factory=dict)
    # "granian": the workers drain the spool themselves; "serve": `engage serve`, as in
    # production (granian workers plus one writer process); "rsgi": only the web
    # processes `engage serve` runs (server/rsgi.py), draining the spool themselves.
    # The default stays WSGI for now: the stream, fault and deploy tests pick "rsgi" or
    # "serve" themselves, and the default serves the extension's and the add-in's
    # browser suites, which would all need a full run to switch (2026-12-01: not done).
    mode: str = "granian"
    threads: int | None = None  # `engage serve --threads` (its own default if None)
    settings: dict = field(default_factory=lambda: dict(TEST_SETTINGS))
    proc: subprocess.Popen | None = None
    log_path: Path | None = None
    orgs: set = field(default_factory=set)  # made by create_user
    # Its own session (setsid), so a stop signals the whole tree and a terminal's Ctrl-C
    # does not. The benchmarks say False: a process group only, in the benchmark's own
    # session, so that the kernel's autogroup scheduling does not split the cores between
    # the server and the load generator on the same machine (bench/README.md, tenth session).
    own_session: bool = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ENGAGE_", "GRANIAN_"))}
        env.update({
            "DATABASE_URL": self.database_url,
            "ENGAGE_INSTANCE_PATH": str(self.instance),
            "ENGAGE_PUBLIC_URL": self.url,
            "PYTHONPATH": str(ROOT),
            **self.settings,
        })
        if self.geo_db:
            env["GEOIP_DATABASE"] = self.geo_db
        env.update(self.extra_env)
        return env

    def cli(self, *args: str, input: str | None = None, env: dict | None = None, timeout: float = 120) -> str:
        out = subprocess.run([*ENGAGE, *args], cwd=ROOT, env={**self.env(), **(env or {})}, input=input,
                             capture_output=True, text=True, timeout=timeout)
        if out.returncode != 0:
            raise RuntimeError(f"engage {' '.join(args)} failed: {out.stdout}\n{out.stderr}")
        return out.stdout

    def migrate(self) -> None:
        """``engage db upgrade``. A new SQLite file gets a copy of the one this process
        migrated first with the same migrations (the same file the command would make,
        without starting Python and Alembic again: about 2 s a server)."""
        path = Path(self.database_url[len("sqlite:///"):]) if self.database_url.startswith("sqlite:///") else None
        if path is None or path.exists():
            self.cli("db", "upgrade")
            return
        versions = sorted((ROOT / "server" / "migrations").rglob("*.py"))
        key = tuple((str(v), v.stat().st_mtime_ns, v.stat().st_size) for v in versions)
        template = _MIGRATED.get(key)
        if template is None or not template.exists():
            self.cli("db", "upgrade")
            folder = tempfile.mkdtemp(prefix="engage-migrated-")
            atexit.register(shutil.rmtree, folder, True)
            template = Path(folder) / "engage.db"
            # SQLite's backup API: a whole copy, with what is still in the -wal file.
            with contextlib.closing(sqlite3.connect(path)) as source, \
                    contextlib.closing(sqlite3.connect(template)) as copy:
                source.backup(copy)
            _MIGRATED[key] = template
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template, path)

    def command(self) -> list[str]:
        if self.mode == "serve":
            return [*ENGAGE, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(self.workers),
                    *(["--threads", str(self.threads)] if self.threads else [])]
        if self.mode == "rsgi":  # the web processes of `engage serve`, draining the spool themselves
            from server.cli import web_command

            return web_command("127.0.0.1", self.port, self.workers, 8)
        return [sys.executable, "-m", "server.granian_run", "--interface", "wsgi", "--host", "127.0.0.1",
                "--port", str(self.port), "--workers", str(self.workers), "--blocking-threads", "8",
                "--workers-kill-timeout", "10", "--no-ws", "server.wsgi:app"]

    def start(self, timeout: float = 60) -> "LiveServer":
        """Start the server and wait until /healthz answers (stopping it if it never does)."""
        self.instance.mkdir(parents=True, exist_ok=True)
        self.log_path = self.log_path or self.instance / f"server-{self.port}.log"
        with open(self.log_path, "ab") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(
                self.command(),
                cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                **({"start_new_session": True} if self.own_session else {"process_group": 0}),
            )
        try:
            wait_answering(self.url + "/healthz", self.proc, timeout=timeout, log=self.log_path, below=300)
        except RuntimeError:
            self.stop()
            raise
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=15)

    def kill9(self) -> None:
        self.stop(signal.SIGKILL)

    def create_user(self, email=USER, org=ORG, domains=DOMAINS, password=PASSWORD, admin=False, ranges=()) -> str:
        """Create the org (unless this server made it already) and the user with the
        real CLI; return an API token."""
        commands: list = []
        if org not in self.orgs:
            args = ["create-org", org]
            for d in domains:
                args += ["--domain", d]
            for r in ranges:
                args += ["--range", r]
            commands.append(args)
        commands += [{"env": {"ENGAGE_PASSWORD": password}},
                     ["create-user", email, "--org", org, *(["--admin"] if admin else [])], ["token", email]]
        out = self.cli_batch(commands)
        self.orgs.add(org)
        return out.strip().splitlines()[-1]

    def cli_batch(self, commands: list, timeout: float = 120) -> str:
        """Several CLI commands in one process (tests/engage_batch.py): what they printed."""
        out = subprocess.run([sys.executable, "-m", "tests.engage_batch"], cwd=ROOT, env=self.env(),
                             input=json.dumps(commands), capture_output=True, text=True, timeout=timeout)
        if out.returncode != 0:
            shown = [c for c in commands if isinstance(c, list)]  # not the password
            raise RuntimeError(f"engage {shown} failed: {out.stdout}\n{out.stderr}")
        return out.stdout

    # -- tiny HTTP client ----------------------------------------------------------
    def request(self, method: str, path: str, body=None, token: str | None = None,
                headers: dict | None = None, timeout: float = 10):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                raw = r.read()
                return r.status, (json.loads(raw) if r.headers.get_content_type() == "application/json" else raw), r.headers
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                payload = json.loads(raw)
            except ValueError:
                payload = raw
            return e.code, payload, e.headers


def recipient_fetch(url: str, ip: str = LONDON, user_agent: str = CHROME_WINDOWS) -> tuple[int, str | None]:
    """The recipient's mail app loading a tracking image (or following a tracked link)
    through a proxy the server trusts (X-Forwarded-For: ``ip``), redirects not followed:
    (status, Location)."""
    request = urllib.request.Request(url, headers={"User-Agent": user_agent, "X-Forwarded-For": ip,
                                                   "Accept": "image/avif,image/webp,image/*,*/*;q=0.8"})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=10) as response:
            response.read()
            return response.status, response.headers.get("Location")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location")
