"""engage serve's web workers run their event loop (the live streams, the pixel) on
uvloop where it is installed, unless the operator picked a loop with granian's own
GRANIAN_LOOP: asyncio's loop answered the pixel at a fraction of the rate
(bench/README.md, issue 12, fifth session)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from server.cli import web_command
from tests.live_server import LiveServer, recipient_fetch

uvloop = pytest.importorskip("uvloop")


def test_the_workers_run_on_uvloop(monkeypatch):
    monkeypatch.delenv("GRANIAN_LOOP", raising=False)
    cmd = web_command("127.0.0.1", 5000, 2, 8)
    assert cmd[cmd.index("--loop") + 1] == "uvloop"
    assert cmd[-1] == "server.rsgi:app"


def test_an_operators_granian_loop_wins(monkeypatch):
    monkeypatch.setenv("GRANIAN_LOOP", "asyncio")
    assert "--loop" not in web_command("127.0.0.1", 5000, 2, 8)


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def test_a_served_worker_answers_the_pixel_from_a_uvloop_loop(tmp_path, geo_db):
    server = LiveServer(instance=tmp_path, database_url=f"sqlite:///{tmp_path / 'engage.db'}", geo_db=geo_db,
                        workers=1, mode="rsgi", extra_env={"ENGAGE_TRUSTED_PROXIES": "127.0.0.1/32"})
    server.migrate()
    server.start()
    try:
        token = server.create_user()
        status, message, _ = server.request("POST", "/api/v1/messages", {
            "subject": "Loop", "recipients": [{"name": "R", "address": "r@prospect.example"}],
            "thread_id": "loop-1", "mode": "manual", "client": "gmail"}, token=token)
        assert status == 201
        assert recipient_fetch(message["pixel_url"])[0] == 200
        workers = _children(server.proc.pid)
        assert workers
        for pid in workers:
            maps = Path(f"/proc/{pid}/maps").read_text()
            assert re.search(r"uvloop/loop\.cpython[^/\n]*\.so", maps), "the worker's loop is uvloop's"
    finally:
        server.stop()
