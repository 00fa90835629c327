"""What the pixel counts and stamps without paying prometheus_client's lock and datetime's
formatting on every hit (bench/README.md, tenth session): the answered-hits counter an
operator graphs is exact once flushed, reaches /metrics within a second from every
worker, and starts from zero in a forked worker; the time a hit was answered reads as
``datetime.isoformat`` would write it."""

from __future__ import annotations

import os
import threading
import time
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest
from prometheus_client import Counter
from prometheus_client.parser import text_string_to_metric_families

from server import metrics
from server.hitpath import answer
from tests.live_server import LiveServer, recipient_fetch


@pytest.fixture
def tally_and_counter():
    """A Tally on a counter of its own, flushed by the process's flusher like the pixel's."""
    counter = Counter("engage_test_tally", "a test counter", registry=None)
    tally = metrics.Tally(counter)
    metrics.TALLIES.append(tally)
    yield tally, counter
    metrics.TALLIES.remove(tally)


def test_counts_from_many_threads_reach_the_counter_exactly(tally_and_counter):
    tally, counter = tally_and_counter

    def bump():
        for _ in range(5_000):
            tally.inc()

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for t in threads:
        t.start()
    for _ in range(20):
        tally.flush()  # flushing meanwhile neither loses nor repeats a count
    for t in threads:
        t.join()
    tally.flush()
    tally.flush()
    assert counter._value.get() == 40_000


def test_counts_reach_the_counter_within_a_second_without_a_scrape(tally_and_counter):
    tally, counter = tally_and_counter
    for _ in range(3):
        tally.inc()
    deadline = time.monotonic() + 3 * metrics.FLUSH_SECONDS
    while counter._value.get() != 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert counter._value.get() == 3


def test_a_forked_worker_counts_its_own_hits_only(tally_and_counter):
    tally, counter = tally_and_counter
    for _ in range(5):
        tally.inc()
    tally.flush()
    tally.inc()
    tally.inc()  # not flushed when the worker forks
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: nothing of the parent's count is its to report
        try:
            tally.inc()
            tally.flush()
            os.write(write, str(counter._value.get() - 5).encode())  # what its flush added
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    assert os.read(read, 100) == b"1.0"
    os.close(read)
    tally.flush()
    assert counter._value.get() == 7


def _answered(server) -> float:
    with urllib.request.urlopen(server.url + "/metrics", timeout=10) as r:
        text = r.read().decode()
    return sum(s.value for family in text_string_to_metric_families(text) for s in family.samples
               if s.name == "engage_hits_answered_total" and s.labels.get("kind") == "open")


def test_every_workers_answered_pixels_reach_metrics_within_a_second(tmp_path, geo_db):
    server = LiveServer(instance=tmp_path, database_url=f"sqlite:///{tmp_path / 'engage.db'}", geo_db=geo_db,
                        workers=2, mode="serve", extra_env={"ENGAGE_TRUSTED_PROXIES": "127.0.0.1/32"})
    server.migrate()
    server.start()
    try:
        token = server.create_user()
        status, message, _ = server.request("POST", "/api/v1/messages", {
            "subject": "Counted", "recipients": [{"name": "R", "address": "r@prospect.example"}],
            "thread_id": "count-1", "mode": "manual", "client": "gmail"}, token=token)
        assert status == 201
        for i in range(40):  # new connections each: both workers answer some
            assert recipient_fetch(message["pixel_url"], ip=f"81.2.69.{100 + i}")[0] == 200
        deadline = time.monotonic() + 2 * metrics.FLUSH_SECONDS + 1
        while _answered(server) != 40 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _answered(server) == 40
    finally:
        server.stop()


def test_the_answer_time_reads_as_isoformat_writes_it():
    before = datetime.now(timezone.utc)
    text = answer.answered_at()
    after = datetime.now(timezone.utc)
    at = datetime.fromisoformat(text)
    assert before - timedelta(milliseconds=1) <= at <= after + timedelta(milliseconds=1)
    assert text == at.isoformat(timespec="microseconds")
    assert answer.answered_at() >= text  # the same second's text, a later microsecond


def test_a_test_clock_stamps_the_hits(monkeypatch):
    frozen = datetime(2026, 3, 1, 9, 30, tzinfo=timezone.utc)
    monkeypatch.setattr(answer, "utcnow", lambda: frozen)
    assert answer.answered_at() == frozen.isoformat()
