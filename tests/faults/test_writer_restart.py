"""`engage serve` keeps serving when its writer dies: the writer is restarted (with
backoff), the log says so, pixels are answered meanwhile and every hit is stored."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import urllib.request

import sqlalchemy as sa

from tests.live_server import LiveServer, recipient_fetch


def _writers(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == parent and b"server.cli" in cmdline and b"writer" in cmdline:
            found.append(int(entry.name))
    return found


def _nice(pid: int) -> int:
    """The process's nice value (field 19 of /proc/<pid>/stat)."""
    return int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[16])


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _stored(url: str) -> int:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT count(*) FROM events")).scalar()
    finally:
        engine.dispose()


def test_a_killed_writer_is_restarted_and_no_hit_is_lost(tmp_path, geo_db):
    url = f"sqlite:///{tmp_path / 'engage.db'}"
    server = LiveServer(instance=tmp_path, database_url=url, geo_db=geo_db, workers=1, mode="serve",
                        extra_env={"ENGAGE_TRUSTED_PROXIES": "127.0.0.1/32", "ENGAGE_WRITERS": "2"})
    server.start()
    try:
        token = server.create_user()
        status, message, _ = server.request("POST", "/api/v1/messages", {
            "subject": "Hello", "recipients": [{"address": "rae@prospect.example"}], "thread_id": "t1",
            "mode": "manual", "client": "gmail"}, token=token)
        assert status == 201
        first = _wait(lambda: len(_writers(server.proc.pid)) == 2 and _writers(server.proc.pid), 30,
                      "the two writers")
        # The writers yield the cores to answering (ENGAGE_WRITER_NICE, default 10): the web
        # workers keep the priority they started with.
        _wait(lambda: all(_nice(pid) == _nice(server.proc.pid) + 10 for pid in first), 30, "the writers niced")
        # Pixels are answered while no writer runs; the hits wait in the spool.
        for pid in first:
            os.kill(pid, signal.SIGKILL)
        for i in range(5):
            assert recipient_fetch(message["pixel_url"], ip=f"81.2.69.{160 + i}")[0] == 200
        assert server.proc.poll() is None, "engage serve kept running"
        restarted = _wait(lambda: len([p for p in _writers(server.proc.pid) if p not in first]) == 2, 30,
                          "two new writers")
        assert restarted
        log = server.log_path.read_text()
        assert "ENGAGE WRITER EXITED (code -9): restarting it in 1 s" in log
        assert "Engage writer restarted" in log
        _wait(lambda: _stored(url) == 5, 30, "the spooled hits to be stored")

        def restarts():
            with urllib.request.urlopen(server.url + "/metrics", timeout=10) as r:
                return "engage_writer_restarts_total 2.0" in r.read().decode().splitlines()
        _wait(restarts, 30, "both restarts counted")
        assert recipient_fetch(message["pixel_url"])[0] == 200
    finally:
        server.stop()
