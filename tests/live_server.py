"""A real Engage server in another process, over real HTTP: granian serving
``server.wsgi:app`` on a free port, migrated by ``engage db upgrade``, with an org
and a user made by the real command line. Used by end-to-end, fault and browser
tests (``live_server`` fixtures build on it)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENGAGE = [sys.executable, "-m", "server.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    instance: Path
    database_url: str
    geo_db: str | None = None
    workers: int = 1
    port: int = field(default_factory=free_port)
    extra_env: dict = field(default_factory=dict)
    # "granian": the workers drain the spool themselves; "serve": `engage serve`, as in
    # production (granian workers plus one writer process).
    mode: str = "granian"
    proc: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ENGAGE_")}
        env.update({
            "DATABASE_URL": self.database_url,
            "ENGAGE_INSTANCE_PATH": str(self.instance),
            "ENGAGE_PUBLIC_URL": self.url,
            "PYTHONPATH": str(ROOT),
            "ENGAGE_RETENTION_INTERVAL": "3600",
            "ENGAGE_STREAMS_PER_PROCESS": "6",  # granian runs 8 blocking threads here
        })
        if self.geo_db:
            env["GEOIP_DATABASE"] = self.geo_db
        env.update(self.extra_env)
        return env

    def cli(self, *args: str, input: str | None = None, env: dict | None = None) -> str:
        out = subprocess.run([*ENGAGE, *args], cwd=ROOT, env={**self.env(), **(env or {})}, input=input,
                             capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise RuntimeError(f"engage {' '.join(args)} failed: {out.stdout}\n{out.stderr}")
        return out.stdout

    def migrate(self) -> None:
        self.cli("db", "upgrade")

    def start(self) -> "LiveServer":
        self.instance.mkdir(parents=True, exist_ok=True)
        self.log_path = self.instance / f"server-{self.port}.log"
        with open(self.log_path, "ab") as log:  # the child keeps its own copy of the descriptor
            if self.mode == "serve":
                command = [*ENGAGE, "serve", "--host", "127.0.0.1", "--port", str(self.port),
                           "--workers", str(self.workers)]
            else:
                command = [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1",
                           "--port", str(self.port), "--workers", str(self.workers), "--blocking-threads", "8",
                           "--no-ws", "server.wsgi:app"]
            self.proc = subprocess.Popen(
                command,
                cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.2)
        raise RuntimeError(f"server did not answer: {self.log_path.read_text()[-3000:]}")

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

    def create_user(self, email="ann@acme.example", org="Acme", domains=("acme.example",),
                    password="correct horse battery", admin=False, ranges=()) -> str:
        """Create org and user with the real CLI; return an API token."""
        args = ["create-org", org]
        for d in domains:
            args += ["--domain", d]
        for r in ranges:
            args += ["--range", r]
        self.cli(*args)
        self.cli("create-user", email, "--org", org, *(["--admin"] if admin else []),
                 env={"ENGAGE_PASSWORD": password})
        return self.cli("token", email).strip().splitlines()[-1]

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
