"""The counters and gauges Engage keeps for ``GET /metrics`` (server/monitoring.py
serves them), with the official ``prometheus_client``.

A leaf: it imports nothing of the server, so the hit path can count. Under ``engage
serve`` every process (granian's workers and the writer) writes its values to files
in ``PROMETHEUS_MULTIPROC_DIR`` (set by ``engage serve`` before they start: the library
picks its mode when it is imported) and the worker answering ``/metrics`` adds them
up. Without that variable (tests, one process) the values are this process's own.

What is measured at scrape time rather than counted (the spool's backlog, the writer's
lock, the Salesforce outbox) is read from the spool's files and the database by
server/monitoring.py, so it is true whichever process answers."""

from __future__ import annotations

import atexit
import itertools
import os
import threading
import time

from prometheus_client import Counter, Gauge, disable_created_metrics

disable_created_metrics()  # no *_created series: nobody graphs when a counter was made

KINDS = ("open", "click")

HITS_ANSWERED = Counter("engage_hits_answered", "Hits answered (image or redirect served)", ["kind"])
HITS_STORED = Counter("engage_hits_stored", "Answered hits stored in the database", ["kind"])
HITS_LOST = Counter("engage_hits_lost", "Answered hits neither the spool nor the database could take", ["kind"])
DATABASE_ERRORS = Counter("engage_database_errors", "Failed database operations", ["where"])
WRITER_RESTARTS = Counter("engage_writer_restarts", "Times engage serve restarted a writer that died")
# livesum: only live processes count (server/monitoring.py forgets the files of dead ones).
LIVE_STREAMS = Gauge("engage_live_streams", "Live streams open", multiprocess_mode="livesum")


class Tally:
    """A counter for the pixel's path: ``inc`` only counts in this process (one C call,
    atomic under the GIL, whatever thread); the count reaches the real counter within
    ``FLUSH_SECONDS`` (a daemon thread, started by the first ``inc`` of each process),
    when this process serves ``/metrics`` and when it exits. prometheus_client's own
    ``inc`` takes a lock and, in multiprocess mode, checks the pid and writes the value
    into a mapped file: ~3 us a pixel in process and ~10 us of a web worker's CPU under
    load (bench/README.md, tenth session). A worker killed outright loses at most that
    second's count, never a hit."""

    def __init__(self, child):
        self.child = child
        self._reset()

    def _reset(self) -> None:
        self._bumps = itertools.count()
        self._lock = threading.Lock()
        self._reads = 0  # the calls ``flush`` made itself
        self._flushed = 0
        self.inc = self._first_inc

    def _first_inc(self) -> None:
        self.inc = self._bumps.__next__
        _start_flusher()
        self.inc()

    def flush(self) -> None:
        with self._lock:
            counted = next(self._bumps) - self._reads  # this call counts itself: take it off
            self._reads += 1
            if counted > self._flushed:
                self.child.inc(counted - self._flushed)
                self._flushed = counted


FLUSH_SECONDS = 1.0
TALLIES: list[Tally] = []
_flusher: list = []  # this process's flushing thread, once started
_flusher_lock = threading.Lock()


def flush_tallies() -> None:
    for tally in TALLIES:
        tally.flush()


def _flush_every() -> None:
    while True:
        time.sleep(FLUSH_SECONDS)
        flush_tallies()


def _start_flusher() -> None:
    with _flusher_lock:
        if not _flusher:
            _flusher.append(threading.Thread(target=_flush_every, name="engage-metrics-flush", daemon=True))
            _flusher[0].start()


def _forked() -> None:
    """In a forked child (granian's workers): what the parent counted is the parent's to
    report, and its thread did not come along."""
    global _flusher_lock
    _flusher.clear()
    _flusher_lock = threading.Lock()
    for tally in TALLIES:
        tally._reset()


ANSWERED = {kind: Tally(HITS_ANSWERED.labels(kind)) for kind in KINDS}  # bound once: the pixel path is hot
TALLIES.extend(ANSWERED.values())
os.register_at_fork(after_in_child=_forked)
atexit.register(flush_tallies)
STORED = {kind: HITS_STORED.labels(kind) for kind in KINDS}
LOST = {kind: HITS_LOST.labels(kind) for kind in KINDS}
