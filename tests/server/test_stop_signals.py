"""Stopping `engage serve` never hangs.

Measured before this was fixed (2026-12-01, 20 starts and stops of `engage serve` with
SIGTERM to its process group, as systemd's default KillMode=control-group and a
terminal's Ctrl-C deliver it): about one stop in three waited until killed, for two
reasons, both tested here:

- a granian worker still building the app when the signal came lost it (it had
  inherited a handler that only flags the parent's server object) and then served on;
- granian's main process, signalled twice (the group's signal and `engage serve`'s own
  forwarded one), ran its handler again while the first held ``Event.set``'s lock, on
  the same thread: a deadlock.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from server.cli import once, web_command
from server.granian_run import deferred, patch
from tests.live_server import ROOT, free_port, wait_answering


def test_a_second_stop_signal_while_the_first_holds_the_lock_neither_hangs_nor_is_lost():
    """What a signal arriving inside the first handler's ``Event.set`` amounts to: the
    handler called again, on the thread that holds the event's lock."""
    stopped = threading.Event()
    handler = deferred(lambda *_: stopped.set())
    with stopped._cond:  # the first signal's handler, interrupted inside Event.set
        handler(signal.SIGTERM, None)  # granian's own handler would wait here for ever
        assert not stopped.is_set()
    assert stopped.wait(5), "the stop was lost"
    assert handler.told


def test_engage_serves_own_handlers_run_their_stop_once():
    stops = []
    handler = once(lambda: stops.append(1))
    handler(signal.SIGTERM, None)
    handler(signal.SIGTERM, None)
    assert stops == [1]


def test_granians_main_process_handlers_are_the_deferred_ones():
    from granian.server import common

    assert patch() is True
    assert common.set_main_signals.engage_deferred
    assert patch() is True  # twice is harmless
    cmd = web_command("127.0.0.1", 5000, 2, 8)
    assert cmd[1:3] == ["-m", "server.granian_run"]
    assert cmd[cmd.index("--workers-kill-timeout") + 1] == "10"


def _granian(tmp_path, workers: int, start_seconds: float):
    """granian (through server.granian_run, as engage serve starts it) serving
    tests/fixtures/slow_start_app.py, whose workers take ``start_seconds`` to start."""
    port, starting = free_port(), tmp_path / "starting"
    log = tmp_path / "granian.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ENGAGE_TEST_STARTING_FILE": str(starting),
           "ENGAGE_TEST_START_SECONDS": str(start_seconds)}
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "server.granian_run", "--interface", "wsgi",
                                 "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
                                 "--workers-kill-timeout", "10", "tests.fixtures.slow_start_app:app"],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    return proc, port, starting, log


@pytest.mark.parametrize("workers", [1, 2])
def test_a_worker_told_to_stop_while_it_starts_stops(tmp_path, workers):
    """The worker is signalled (with the rest of the group) while it builds the app: the
    whole server is gone in well under granian's 10 s kill timeout, and it is gone
    because the worker stopped, not because granian killed it."""
    proc, port, starting, log = _granian(tmp_path, workers, start_seconds=6)
    try:
        deadline = time.monotonic() + 30
        while not starting.exists():
            assert time.monotonic() < deadline and proc.poll() is None, log.read_text()
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGTERM)  # the group, as systemd and Ctrl-C do
        started = time.monotonic()
        proc.wait(timeout=30)
        took = time.monotonic() - started
        text = log.read_text()
        assert "refused to gracefully stop" not in text, text
        assert took < 5, f"took {took:.1f} s to stop\n{text}"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_a_started_server_still_stops_gracefully(tmp_path):
    """The start-up guard is gone once the worker serves: SIGTERM is granian's graceful
    stop again (the worker says it stopped)."""
    proc, port, starting, log = _granian(tmp_path, 1, start_seconds=0)
    try:
        wait_answering(f"http://127.0.0.1:{port}/", proc, timeout=30, log=log)
        os.killpg(proc.pid, signal.SIGTERM)
        os.kill(proc.pid, signal.SIGTERM)  # and a second one, forwarded
        assert proc.wait(timeout=15) == 0
        text = log.read_text()
        assert "Stopped worker-1" in text and "Unexpected exit" not in text, text
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
