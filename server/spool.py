"""The hit spool: answer the recipient first, store the hit right after, lose none.

The pixel and click endpoints append each hit as one JSON line to this process's
spool file (one ``write`` to a file opened ``O_APPEND``) and answer at once. A
``write`` that returned is in the kernel's page cache, so a process killed with
``kill -9`` keeps it. A writer thread reads the new lines, records them in batches
(classification, geolocation, thread aggregates, stream wake-ups) and commits.

- Replays are harmless: each hit carries the ``hit_id`` it was given when answered,
  and a hit whose id is already stored is skipped.
- Database unavailable: the batch fails, nothing advances, the writer retries with
  backoff; the spool grows on disk and the recipients notice nothing.
- A dead process's spool (its file lock is free) is taken over and drained by a
  live one, at start and every ``RECOVER_SECONDS``.
- Disk full (the append fails): the hit is recorded straight into the database
  instead, and the failure is logged loudly; if that fails too the image is still
  served and the log says a hit was lost.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)

PREFIX = "hits-"
SUFFIX = ".jsonl"
ROTATE_BYTES = 4 * 1024 * 1024
RECOVER_SECONDS = 30.0


def new_hit_id() -> str:
    return uuid.uuid4().hex


class Spool:
    def __init__(self, directory: str | Path, ingest: Callable[[list[dict]], None]):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.ingest = ingest
        self.path = self.dir / f"{PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}{SUFFIX}"
        self._fd: int | None = None  # opened on first use: a CLI command never makes a file
        self._read = None
        self._offset = 0
        self._lock = threading.Lock()  # appends vs. truncation
        self._drain_lock = threading.Lock()  # one drain at a time
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.failures = 0
        self.lost = 0
        self._last_disk_alarm = 0.0

    def _open(self) -> None:
        with self._lock:
            if self._fd is None:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # "this file's owner is alive"
                self._read = open(self.path, "rb")
                self._fd = fd

    # -- the hot path ---------------------------------------------------------------
    def append(self, record: dict) -> bool:
        """Write one hit; True once it is safe from a crash of this process."""
        line = (json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n").encode(
            "utf-8", "surrogateescape")
        try:
            if self._fd is None:
                self._open()
            with self._lock:
                written = os.write(self._fd, line)
            if written != len(line):
                raise OSError(f"short write to the spool ({written} of {len(line)} bytes)")
        except OSError as err:
            self._disk_alarm(err)
            return False
        self._wake.set()
        return True

    def _disk_alarm(self, err: OSError) -> None:
        now = time.monotonic()
        if now - self._last_disk_alarm > 10:
            self._last_disk_alarm = now
            log.critical("SPOOL WRITE FAILED (%s) at %s: hits go straight to the database; "
                         "free disk space now", err, self.path)

    # -- the writer -----------------------------------------------------------------
    def start(self, app) -> None:
        self._thread = threading.Thread(target=self._run, args=(app,), name="engage-spool", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=10)

    def _run(self, app) -> None:
        backoff = 0.05
        next_recover = 0.0
        while not self._stop.is_set():
            self._wake.wait(timeout=0.5)
            self._wake.clear()
            try:
                with app.app_context():
                    if time.monotonic() >= next_recover:
                        self.recover_orphans()
                        next_recover = time.monotonic() + RECOVER_SECONDS
                    self.drain()
                backoff = 0.05
            except Exception:
                self.failures += 1
                log.exception("spool: could not store hits (database unavailable?); retrying in %.1fs "
                              "— nothing is lost, %d bytes waiting", backoff, self.pending_bytes())
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
                self._wake.set()

    def pending_bytes(self) -> int:
        if self._fd is None:
            return 0
        try:
            return os.fstat(self._fd).st_size - self._offset
        except OSError:
            return -1

    def drain(self, batch: int = 500) -> int:
        """Store every complete line written so far; returns how many hits were read."""
        done = 0
        if self._fd is None:
            return 0
        with self._drain_lock:
            while True:
                self._read.seek(self._offset)
                chunk = self._read.read(256 * 1024)
                end = chunk.rfind(b"\n")
                if end < 0:
                    break
                lines = chunk[: end + 1].splitlines()
                records = [r for r in (_parse(l, self.path) for l in lines) if r is not None]
                for i in range(0, len(records), batch):
                    self.ingest(records[i:i + batch])
                self._offset += end + 1
                done += len(lines)
            self._maybe_truncate()
        return done

    def _maybe_truncate(self) -> None:
        with self._lock:
            size = os.fstat(self._fd).st_size
            if size == self._offset and size >= ROTATE_BYTES:
                os.ftruncate(self._fd, 0)
                self._offset = 0

    def recover_orphans(self) -> int:
        """Drain the spool files of processes that died, then delete them."""
        taken = 0
        for path in sorted(self.dir.glob(f"{PREFIX}*{SUFFIX}")):
            if path == self.path:
                continue
            try:
                fd = os.open(path, os.O_RDONLY)
            except FileNotFoundError:
                continue
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # its owner is alive
                with os.fdopen(os.dup(fd), "rb") as f:
                    data = f.read()
                records = [r for r in (_parse(l, path) for l in data.split(b"\n") if l.strip()) if r is not None]
                for i in range(0, len(records), 500):
                    self.ingest(records[i:i + 500])
                os.unlink(path)
                taken += len(records)
                log.info("spool: recovered %d hits from %s", len(records), path.name)
            finally:
                os.close(fd)
        return taken

    def close(self) -> None:
        self.stop()
        with self._lock:
            if self._fd is not None:
                self._read.close()
                os.close(self._fd)
                self._fd = None


def _parse(line: bytes, path: Path) -> dict | None:
    try:
        record = json.loads(line.decode("utf-8", "surrogateescape"))
        record["at"] = datetime.fromisoformat(record["at"]).astimezone(timezone.utc)
        return record
    except (ValueError, KeyError, TypeError):
        # A torn last line from a crash mid-write was never answered: skip it.
        log.warning("spool: skipping an unreadable line in %s", path.name)
        return None
