"""The hit spool: answer the recipient first, store the hit right after, lose none.

Every server process appends each hit as one JSON line to its own spool file (one
``write`` to a file opened ``O_APPEND``) and answers at once. A ``write`` that
returned is in the kernel's page cache, so a process killed with ``kill -9`` keeps
it. One drainer at a time (whoever holds ``.drainer.lock``: the dedicated
``engage writer`` process that ``engage serve`` starts, else one of the server
processes) reads every spool file from where it stopped, records the hits in
batches (server/hitpath/drain.py) and then notes how far it got.

- Replays are harmless: each hit carries the ``hit_id`` it was given when answered,
  and a hit whose id is already stored is skipped. So the drainer may note its
  progress after committing, and a crash in between costs nothing but a re-read.
- Database unavailable: the batch fails, nothing advances, the drainer retries with
  backoff; the spool grows on disk and recipients notice nothing.
- A file whose owner is gone (its lock is free: the process died or moved on to a
  new file) is truncated and deleted once drained.
- Spool lines hold the canonical client address (the writer needs it once, to find
  its network and place). So that no address stays on disk, a process moves on to a
  new file once its file is ``RETIRE_SECONDS`` old, and lets an idle file go after
  ``RETIRE_SECONDS`` (a small thread per process): a drained file is gone within
  a minute even on a quiet server.
- Disk full (the append fails): the caller records the hit straight into the
  database instead, and the failure is logged loudly.
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
ROTATE_BYTES = 16 * 1024 * 1024
RETIRE_SECONDS = 20.0  # a file older than this is let go (then drained, truncated, deleted)
LOCK_NAME = ".drainer.lock"


def new_hit_id() -> str:
    return os.urandom(16).hex()  # 128 random bits, like uuid4, at a third of the cost


class Spool:
    """The append side, one per process."""

    def __init__(self, directory: str | Path):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._fd: int | None = None  # opened on first use: a CLI command never makes a file
        self._size = 0
        self._lock = threading.Lock()
        self.wake = threading.Event()  # set on every append: an in-process drainer reacts at once
        self.lost = 0
        self._last_alarm = 0.0
        self._opened = 0.0
        self.retire_seconds = RETIRE_SECONDS
        self._retirer: threading.Thread | None = None
        self._closed = threading.Event()

    def _new_file(self) -> None:
        path = self.dir / f"{PREFIX}{os.getpid()}-{time.time_ns()}-{uuid.uuid4().hex[:6]}{SUFFIX}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # "this file's owner is alive"
        old, self._fd, self._size = self._fd, fd, 0
        self._opened = time.monotonic()
        if old is not None:
            os.close(old)  # releases its lock: the drainer deletes it once drained
        if self._retirer is None or not self._retirer.is_alive():
            # Started here, in the process that writes (after a server's fork).
            self._retirer = threading.Thread(target=self._retire_loop, name="engage-spool-retire", daemon=True)
            self._retirer.start()

    def retire(self) -> bool:
        """Let the current file go if it is old enough (the drainer then deletes it)."""
        with self._lock:
            if self._fd is None or time.monotonic() - self._opened < self.retire_seconds:
                return False
            os.close(self._fd)
            self._fd = None
            return True

    def _retire_loop(self) -> None:
        while not self._closed.wait(min(5.0, self.retire_seconds / 2)):
            if self.retire():
                self.wake.set()  # an in-process drainer can take the file now
    def append(self, record: dict) -> bool:
        """Write one hit; True once it is safe from a crash of this process."""
        line = (json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n").encode(
            "utf-8", "surrogateescape")
        try:
            with self._lock:
                if (self._fd is None or self._size >= ROTATE_BYTES
                        or time.monotonic() - self._opened >= self.retire_seconds):
                    self._new_file()
                written = os.write(self._fd, line)
                self._size += written
            if written != len(line):
                raise OSError(f"short write to the spool ({written} of {len(line)} bytes)")
        except OSError as err:
            self._alarm(err)
            return False
        self.wake.set()
        return True

    def _alarm(self, err: OSError) -> None:
        now = time.monotonic()
        if now - self._last_alarm > 10:
            self._last_alarm = now
            log.critical("SPOOL WRITE FAILED (%s) in %s: hits go straight to the database; "
                         "free disk space now", err, self.dir)

    @property
    def fd(self) -> int | None:
        return self._fd

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


class Drainer:
    """The reading side: one at a time across processes, through a file lock."""

    def __init__(self, directory: str | Path, ingest: Callable[[list[dict]], int], wake: threading.Event | None = None):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.ingest = ingest
        self.wake = wake or threading.Event()
        self._lock_fd: int | None = None
        self._mutex = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.failures = 0

    def try_lead(self) -> bool:
        """Become the drainer if nobody is; keep the role until closed."""
        if self._lock_fd is not None:
            return True
        fd = os.open(self.dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._lock_fd = fd
        return True

    def drain_all(self, batch: int = 500) -> int:
        """Store every complete line in every spool file; returns how many were read.
        Does nothing (returns 0) when another process is the drainer."""
        with self._mutex:
            if not self.try_lead():
                return 0
            done = 0
            for path in sorted(self.dir.glob(f"{PREFIX}*{SUFFIX}")):
                done += self._drain_file(path, batch)
            return done

    def _drain_file(self, path: Path, batch: int) -> int:
        mark = path.with_name(path.name + ".offset")
        try:
            offset = int(mark.read_text()) if mark.exists() else 0
        except ValueError:
            offset = 0  # a torn mark: re-read from the start, replays are harmless
        # Asked before reading: once the owner is gone nothing more is appended, so a
        # file read to its end after that is complete and can go.
        gone = _owner_gone(path)
        try:
            f = open(path, "rb")
        except FileNotFoundError:
            return 0
        done = 0
        with f:
            while True:
                f.seek(offset)
                chunk = f.read(1024 * 1024)
                end = chunk.rfind(b"\n")
                if end < 0:
                    break
                records = [r for r in (_parse(l, path) for l in chunk[: end + 1].split(b"\n") if l) if r]
                for i in range(0, len(records), batch):
                    self.ingest(records[i:i + batch])
                offset += end + 1
                done += len(records)
                _write_mark(mark, offset)
            size = os.fstat(f.fileno()).st_size
        if offset >= size and gone:
            # Drained and nobody will write to it again (a torn last line from a
            # crash mid-write was never answered, so it is not a loss). Truncated
            # first: its lines hold client addresses, and a reader that still has
            # it open (or the disk's free blocks) must not keep them.
            try:
                os.truncate(path, 0)
            except FileNotFoundError:
                pass
            path.unlink(missing_ok=True)
            mark.unlink(missing_ok=True)
        return done

    # -- the background loop (one per process; only the leader drains) ---------------
    def start(self, app, poll: float = 0.05) -> None:
        self._thread = threading.Thread(target=self.run, args=(app, poll), name="engage-drainer", daemon=True)
        self._thread.start()

    def run(self, app, poll: float = 0.05) -> None:
        backoff = poll
        while not self._stop.is_set():
            if not self.try_lead():
                self._stop.wait(1.0)  # someone else drains; check again later
                continue
            self.wake.wait(timeout=poll)
            self.wake.clear()
            try:
                with app.app_context():
                    self.drain_all()
                backoff = poll
            except Exception:
                self.failures += 1
                log.exception("spool: could not store hits (database unavailable?); retrying in %.1fs "
                              "— nothing is lost, %d bytes waiting", backoff, self.pending_bytes())
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)

    def pending_bytes(self) -> int:
        total = 0
        for path in self.dir.glob(f"{PREFIX}*{SUFFIX}"):
            mark = path.with_name(path.name + ".offset")
            try:
                done = int(mark.read_text()) if mark.exists() else 0
                total += path.stat().st_size - done
            except (OSError, ValueError):
                pass
        return total

    def close(self) -> None:
        self._stop.set()
        self.wake.set()
        if self._thread:
            self._thread.join(timeout=10)
        with self._mutex:
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None


def _owner_gone(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # also drops the lock we may have taken


def _write_mark(mark: Path, offset: int) -> None:
    tmp = mark.with_name(mark.name + ".tmp")
    tmp.write_text(str(offset))
    os.replace(tmp, mark)


def _parse(line: bytes, path: Path) -> dict | None:
    try:
        record = json.loads(line.decode("utf-8", "surrogateescape"))
        record["at"] = datetime.fromisoformat(record["at"]).astimezone(timezone.utc)
        return record
    except (ValueError, KeyError, TypeError, AttributeError):
        log.warning("spool: skipping an unreadable line in %s", path.name)
        return None
