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
- A record is wholly in the spool or not at all: a write that fails or comes back
  short is cut back (``ftruncate``) to the last complete record before anything else
  is appended, and a reader that still meets a torn record (a crash mid-write) picks
  up the record glued behind it (every record starts with ``{"hit_id":``).
- Disk full: a reserve file (``.reserve``, ``SPOOL_RESERVE_MB``) is kept on the
  spool's disk; the first append that meets a full disk deletes it and tries again,
  so hits are still spooled for a while (README, "Bad days"); the drainer puts the
  reserve back once there is room. When even that fails, the caller records the hit
  straight into the database instead, and the failure is logged (once in 10 s).
- The drainer names the cause of a failure in one line (the spool's disk full, a
  permission, the database unreachable or its disk full) with the retry delay; the
  first failure of an outage carries a traceback, later ones none, and the log says
  once a minute how far behind the writer is while the backlog grows.
"""

from __future__ import annotations

import errno
import fcntl
import itertools
import json
import logging
import os
import re
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import orjson

from .. import metrics
from ..causes import FULL_DISK, OutageLog, describe, os_cause

log = logging.getLogger(__name__)

PREFIX = "hits-"
SUFFIX = ".jsonl"
ROTATE_BYTES = 16 * 1024 * 1024
RETIRE_SECONDS = 20.0  # a file older than this is let go (then drained, truncated, deleted)
LOCK_NAME = ".drainer.lock"
RESERVE_NAME = ".reserve"
RECORD_START = b'{"hit_id":'  # every record starts so (hit_record puts hit_id first)
# The start of a line as hit_record writes it: its kind and token, read without parsing it.
# Only a token as the pixel and the links accept one (answer.TOKEN_RE's characters);
# anything else in a line's head is parsed, never guessed at.
_HEAD = re.compile(rb'\{"hit_id":"[0-9a-f]{1,64}","kind":"(open|click)","token":"([A-Za-z0-9_-]{1,64})"')
MARK_WIDTH = 20  # offsets are written in place, zero-padded: no new block on a full disk
BACKLOG_WARN_SECONDS = 60.0
READ_BYTES = 1024 * 1024  # the least a drainer reads at a time
RECORD_BYTES = 512  # about a record with a browser's agent and headers: a batch's worth is read at once


# What json.dumps(record, separators=(",", ":"), ensure_ascii=False) writes, without
# the new encoder json.dumps builds on every call given any option (a third of its time).
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def encode_line(record: dict) -> bytes:
    """One spool line. orjson writes the very same bytes as ``_encode`` (compact, UTF-8)
    in a tenth of its time (0.2 against 2.6 us, every pixel and click); a string it
    cannot take (a lone surrogate from a header's undecodable byte) goes the slow way,
    byte for byte as before (surrogateescape)."""
    try:
        return orjson.dumps(record) + b"\n"
    except (TypeError, orjson.JSONEncodeError):
        return (_encode(record) + "\n").encode("utf-8", "surrogateescape")


def new_hit_id() -> str:
    """32 hex digits, unique: 64 random bits drawn once per process (and again in every
    forked child, so two granian workers never share them) and a counter. The id only
    has to be unique (spool replays are stored once by it) and is never shown; a
    getrandom call per hit was 3.5% of a worker's pixel (bench/README.md, ninth session)."""
    return f"{_hit_prefix}{next(_hit_counter):016x}"


def _new_hit_prefix() -> None:
    global _hit_prefix, _hit_counter
    _hit_prefix, _hit_counter = os.urandom(8).hex(), itertools.count()


_hit_prefix, _hit_counter = "", itertools.count()
_new_hit_prefix()
os.register_at_fork(after_in_child=_new_hit_prefix)


class Reserve:
    """A preallocated file on the spool's disk, given back when the disk fills so hits
    can still be spooled for a while, and put back once there is room again."""

    def __init__(self, directory: str | Path, size: int):
        self.path = Path(directory) / RESERVE_NAME
        self.size = max(0, int(size))

    def release(self) -> bool:
        """Free the reserve (any process, on a full disk); True if it was there. The
        file stays, empty: "released", until the drainer fills it again."""
        if not self.size:
            return False
        try:
            if self.path.stat().st_size == 0:
                return False
            os.truncate(self.path, 0)
        except FileNotFoundError:
            return False
        log.critical("SPOOL DISK FULL: released the %g MB reserve in %s; hits are still spooled, "
                     "free disk space now", self.size / 1048576, self.path.parent)
        return True

    def present(self) -> bool:
        try:
            return self.path.stat().st_size >= self.size
        except FileNotFoundError:
            return False

    def released(self) -> bool:
        """Given back on a full disk and not made again yet (a reserve never made, on a
        disk without room for it, is not "released")."""
        try:
            return self.path.stat().st_size < self.size
        except FileNotFoundError:
            return False

    def free_bytes(self) -> int:
        st = os.statvfs(self.path.parent)
        return st.f_bavail * st.f_frsize

    def ensure(self) -> bool:
        """Make the reserve if it is missing and the disk has room for it twice over
        (room left for hits); True when it is in place."""
        if not self.size or self.present():
            return True
        existed = self.path.exists()
        try:
            if self.free_bytes() < 2 * self.size:
                return False
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                os.posix_fallocate(fd, 0, self.size)
            finally:
                os.close(fd)
            return True
        except OSError:
            try:
                os.truncate(self.path, 0) if existed else self.path.unlink(missing_ok=True)
            except OSError:
                pass
            return False


class Spool:
    """The append side, one per process."""

    def __init__(self, directory: str | Path, reserve_bytes: int = 0):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.reserve = Reserve(self.dir, reserve_bytes)
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
        """Write one hit; True once it is safe from a crash of this process. False: the
        spool holds none of it (the caller stores the hit another way)."""
        line = encode_line(record)
        with self._lock:
            try:
                self._write(line)
            except OSError as err:
                if err.errno not in FULL_DISK:
                    self._alarm(err)
                    return False
                self.reserve.release()  # (or another process just did): room for this hit
                try:
                    self._write(line)
                except OSError as again:
                    self._alarm(again)
                    return False
        if not self.wake.is_set():  # Event.set takes a lock and notifies: a third of a
            self.wake.set()         # write's cost, for nobody while the flag is up (the
        return True                 # drainer clears it before it reads: Drainer._run)

    def _write(self, line: bytes) -> None:
        """One record, wholly or not at all (under ``_lock``)."""
        if (self._fd is None or self._size >= ROTATE_BYTES
                or time.monotonic() - self._opened >= self.retire_seconds):
            self._new_file()
        try:
            written = os.write(self._fd, line)
        except OSError:
            self._cut_back()  # a failed write may still have left part of the record
            raise
        if written != len(line):
            self._cut_back()
            raise OSError(errno.ENOSPC, f"short write, {written} of {len(line)} bytes; cut back", str(self.dir))
        self._size += written

    def _cut_back(self) -> None:
        """Back to the last complete record, so the next one is not glued to a fragment.
        If even that fails, this file is let go (the reader drops a torn tail and
        resynchronises on the next record) and the next append opens a new one."""
        try:
            os.ftruncate(self._fd, self._size)
        except OSError:
            os.close(self._fd)
            self._fd = None

    def _alarm(self, err: OSError) -> None:
        now = time.monotonic()
        if now - self._last_alarm > 10:
            self._last_alarm = now
            log.critical("SPOOL WRITE FAILED (%s) in %s: hits go straight to the database; "
                         "free disk space now", os_cause(err), self.dir)

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

    def __init__(self, directory: str | Path, ingest: Callable[[list[dict]], int], wake: threading.Event | None = None,
                 reserve_bytes: int = 0, shares_disk_with: str | None = None, shard: tuple[int, int] = (0, 1),
                 batch: int = 500, claims: Callable[[list, tuple[int, int]], list[bool]] | None = None):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.ingest = ingest
        # With several writers: ``claims([(kind, token), ...], shard)`` says which lines
        # may be this writer's: False for a token it knows to be another writer's,
        # whose line is then not even parsed (each writer reads every line; parsing the
        # others' was a tenth of its time).
        self.claims = claims
        self.batch = max(1, int(batch))  # records in one ``ingest`` (WRITER_BATCH) when that many wait
        # Writer ``index`` of ``count`` (ENGAGE_WRITERS): it stores the hits of the emails
        # drain.writer_of gives it, by pixel token (``ingest`` is called with ``shard=``),
        # holds its own lock and notes its own progress in every file.
        self.index, self.count = shard
        if not 0 <= self.index < self.count:
            raise ValueError(f"writer {self.index} of {self.count}")
        self.wake = wake or threading.Event()
        self.reserve = Reserve(self.dir, reserve_bytes)
        # A SQLite file on the spool's disk: while that disk is full, storing hits in it
        # would only eat the room the reserve gave back for spooling them.
        self.shares_disk_with = shares_disk_with
        self._lock_fd: int | None = None
        self._mutex = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.failures = 0
        self._waiting_for_disk = False

    def try_lead(self) -> bool:
        """Become the drainer if nobody is; keep the role until closed."""
        if self._lock_fd is not None:
            return True
        fd = os.open(self.dir / lock_name(self.index), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._lock_fd = fd
        return True

    def drain_all(self, batch: int | None = None) -> int:
        """Store every complete line in every spool file; returns how many were read.
        Does nothing (returns 0) when another process is the drainer, or while the
        disk it shares with a SQLite database is full (raises ``DiskFull``)."""
        with self._mutex:
            if not self.try_lead():
                return 0
            self._check_reserve()
            done = 0
            for path in sorted(self.dir.glob(f"{PREFIX}*{SUFFIX}")):
                done += self._drain_file(path, batch or self.batch)
            return done

    def _check_reserve(self) -> None:
        if self.reserve.size and not self.reserve.ensure():  # a stat while it is in place
            # Released on a full disk, and the disk is still short of it: storing into
            # a SQLite file on that disk would eat the room hits are spooled into.
            self._waiting_for_disk = (self.reserve.released() and self._same_disk()
                                      and self.reserve.free_bytes() < self.reserve.size)
            if self._waiting_for_disk and pending_bytes(self.dir):
                raise DiskFull(f"shared with the database ({self.dir}): hits wait in the spool until {self.reserve.size / 1048576:g} MB are free twice over")

    def _same_disk(self) -> bool:
        if not self.shares_disk_with:
            return False
        try:
            return os.stat(Path(self.shares_disk_with).parent).st_dev == os.stat(self.dir).st_dev
        except OSError:
            return False

    def _ingest(self, records: list[dict]) -> int:
        return self.ingest(records) if self.count == 1 else self.ingest(records, shard=(self.index, self.count))

    def _mine(self, lines: list[bytes]) -> list[bytes]:
        # A line as hit_record writes it; anything else is parsed: a torn record with a
        # whole one glued behind it (``_parse`` keeps that one, whosever the torn one was).
        heads = [h if (h := _HEAD.match(line)) is not None and line.find(RECORD_START, 1) < 0 else None
                 for line in lines]
        known = [(h[1].decode("ascii"), h[2].decode("ascii")) for h in heads if h is not None]
        claimed = iter(self.claims(known, (self.index, self.count)))
        return [line for line, h in zip(lines, heads) if h is None or next(claimed)]

    def _drain_file(self, path: Path, batch: int) -> int:
        mark = mark_path(path, self.index, self.count)
        offset = read_mark(mark) if mark.exists() else start_offset(path, self.count)
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
                chunk = f.read(max(READ_BYTES, batch * RECORD_BYTES))
                end = chunk.rfind(b"\n")
                if end < 0:
                    break
                lines = [l for l in chunk[: end + 1].split(b"\n") if l]
                mine = self._mine(lines) if self.count > 1 and self.claims else lines
                records = [r for r in (_parse(l, path) for l in mine) if r]
                for i in range(0, len(records), batch):
                    self._ingest(records[i:i + batch])
                offset += end + 1
                done += len(records) + len(lines) - len(mine)
                self._write_mark(mark, offset)
        if gone and all(read_mark(mark_path(path, i, self.count)) >= offset
                        for i in range(self.count) if i != self.index):
            # Drained by every writer and nobody will write to it again (a torn last
            # line from a crash mid-write was never answered, so it is not a loss).
            # Truncated first: its lines hold client addresses, and a reader that still
            # has it open (or the disk's free blocks) must not keep them. (Each writer
            # notes its mark before asking, so the last one to finish deletes it.)
            try:
                os.truncate(path, 0)
            except FileNotFoundError:
                pass
            path.unlink(missing_ok=True)
            for other in marks_of(path):
                other.unlink(missing_ok=True)
        return done

    def _write_mark(self, mark: Path, offset: int) -> None:
        try:
            write_mark(mark, offset)
        except OSError as err:
            if err.errno not in FULL_DISK or not self.reserve.release():
                raise
            write_mark(mark, offset)

    # -- the background loop (one per process; only the leader drains) ---------------
    def start(self, app, poll: float = 0.05) -> None:
        self._thread = threading.Thread(target=self.run, args=(app, poll), name="engage-drainer", daemon=True)
        self._thread.start()

    def run(self, app, poll: float = 0.05) -> None:
        profile = os.environ.get("ENGAGE_WRITER_PROFILE")  # a file: cProfile this loop, written on close
        if profile:
            import cProfile

            prof = cProfile.Profile(time.process_time)  # CPU, not the wall: the machine may be shared
            prof.enable()
            try:
                return self._run(app, poll)
            finally:
                prof.disable()
                prof.dump_stats(f"{profile}.{os.getpid()}")
        return self._run(app, poll)

    def _run(self, app, poll: float) -> None:
        backoff = poll
        outage = OutageLog(log, "spool: could not store hits", every=30.0, back="spool: storing hits again")
        watch = BacklogWatch(self.dir)
        while not self._stop.is_set():
            if not self.try_lead():
                self._stop.wait(1.0)  # someone else drains; check again later
                continue
            self.wake.wait(timeout=poll)
            self.wake.clear()
            try:
                with app.app_context():
                    self.drain_all()
                outage.recovered("; nothing was lost")
                backoff = poll
            except Exception as err:
                self.failures += 1
                kind = outage.failed(err, backoff, f" — nothing is lost, {pending_bytes(self.dir)} bytes waiting")
                if kind == "database":
                    metrics.DATABASE_ERRORS.labels("writer").inc()
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
            watch.check()

    def pending_bytes(self) -> int:
        return pending_bytes(self.dir)

    def close(self) -> None:
        self._stop.set()
        self.wake.set()
        if self._thread:
            self._thread.join(timeout=10)
        with self._mutex:
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None


class DiskFull(OSError):
    """The drainer waits: the disk it would store into is the spool's, and full."""

    def __init__(self, message: str):
        super().__init__(errno.ENOSPC, message)


describe_failure = describe  # (kind, one line) for a failed drain or store: server/causes.py


class BacklogWatch:
    """Warns once a minute while the backlog grows (the writer falls behind)."""

    def __init__(self, directory: Path, every: float = BACKLOG_WARN_SECONDS):
        self.dir = directory
        self.every = every
        self._checked = time.monotonic()
        self._warned = float("-inf")
        self._last_bytes = 0

    def check(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if now - self._checked < min(5.0, self.every):
            return
        self._checked = now
        waiting, oldest = backlog(self.dir)
        grew = waiting > self._last_bytes and waiting > 0
        self._last_bytes = waiting
        if grew and oldest is not None and now - self._warned >= self.every:
            lag = (datetime.now(timezone.utc) - oldest).total_seconds()
            if lag > 5:
                self._warned = now
                log.warning("spool: the writer is %.0f s behind and the backlog grows (%s bytes waiting in %s)",
                            lag, f"{waiting:,}", self.dir)


def backlog(directory: str | Path) -> tuple[int, datetime | None]:
    """(bytes answered but not stored yet, answer time of the oldest such hit); read
    from the files, so any process can tell, whether the writer runs or not."""
    total, oldest = 0, None
    for path in Path(directory).glob(f"{PREFIX}*{SUFFIX}"):
        done = done_offset(path)
        try:
            with open(path, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                if size <= done:
                    continue
                total += size - done
                f.seek(done)
                head = f.read(4096)
        except OSError:
            continue
        line = head.split(b"\n", 1)[0]
        record = _parse(line, path, quiet=True) if line else None
        if record is not None and (oldest is None or record["at"] < oldest):
            oldest = record["at"]
    return total, oldest


def pending_bytes(directory: str | Path) -> int:
    total = 0
    for path in Path(directory).glob(f"{PREFIX}*{SUFFIX}"):
        try:
            total += max(0, path.stat().st_size - done_offset(path))
        except OSError:
            pass
    return total


def _could_lock(path: Path, op: int) -> bool | None:
    """Whether this process could take the flock ``op`` on ``path`` now (None: no such
    file). The probe's lock, if taken, is dropped at once."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, op | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # also drops the lock we may have taken


def writer_alive(directory: str | Path) -> bool:
    """Whether a drainer holds the spool's lock (a free lock: nobody stores hits); with
    several writers, writer 0's."""
    return _could_lock(Path(directory) / LOCK_NAME, fcntl.LOCK_SH) is False


def _owner_gone(path: Path) -> bool:
    return _could_lock(path, fcntl.LOCK_EX) is True


def lock_name(index: int) -> str:
    """Writer 0's lock is the one a single writer always held (``writer_alive``)."""
    return LOCK_NAME if index == 0 else f".drainer-{index}.lock"


def mark_path(path: Path, index: int, count: int) -> Path:
    """Where writer ``index`` of ``count`` notes how far it read ``path``: one writer
    uses the name it always did, so a spool drained by one writer reads the same."""
    return path.with_name(f"{path.name}.offset" if count == 1 else f"{path.name}.offset.{index}of{count}")


def marks_of(path: Path) -> dict[Path, tuple[int, int]]:
    """Every progress mark of ``path``, whatever number of writers noted it: mark -> (index, count)."""
    out = {}
    for mark in path.parent.glob(f"{path.name}.offset*"):
        tail = mark.name[len(path.name) + len(".offset"):]
        if not tail:
            out[mark] = (0, 1)
            continue
        index, _, count = tail[1:].partition("of")
        if tail[0] == "." and index.isdigit() and count.isdigit() and int(index) < int(count):
            out[mark] = (int(index), int(count))
    return out


def _stored_up_to(path: Path) -> dict[int, int]:
    """For each number of writers that noted marks in ``path``: the offset before which
    they stored every hit (the least of their marks; a writer with none: 0)."""
    seen: dict[int, dict[int, int]] = {}
    for mark, (index, count) in marks_of(path).items():
        seen.setdefault(count, {})[index] = read_mark(mark)
    return {count: min(marks.get(i, 0) for i in range(count)) for count, marks in seen.items()}


def start_offset(path: Path, count: int) -> int:
    """Where a writer of ``count`` without a mark in ``path`` starts: where the writers
    that noted marks under another number of writers (ENGAGE_WRITERS changed across a
    restart) had all stored everything, the least such offset; 0 if none did (a new
    file). Anything after it may be replayed: harmless."""
    up_to = [n for c, n in _stored_up_to(path).items() if c != count]
    return min(up_to) if up_to else 0


def done_offset(path: Path) -> int:
    """Everything before this offset of ``path`` is stored (for the backlog's size)."""
    up_to = _stored_up_to(path)
    return min(up_to.values()) if up_to else 0


def read_mark(mark: Path) -> int:
    try:
        return int(mark.read_bytes().strip() or 0)
    except FileNotFoundError:
        return 0
    except (ValueError, OSError):
        return 0  # a torn mark: re-read from the start, replays are harmless


def write_mark(mark: Path, offset: int) -> None:
    """In place, fixed width: one ``pwrite`` into the block the mark already has, so
    noting progress needs no free space (a full disk must not stop the drain)."""
    fd = os.open(mark, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        data = str(offset).zfill(MARK_WIDTH).encode()
        if os.pwrite(fd, data, 0) != len(data):
            raise OSError(errno.ENOSPC, "short write of the spool's progress mark", str(mark))
    finally:
        os.close(fd)


def _parse(line: bytes, path: Path, quiet: bool = False) -> dict | None:
    try:
        return _record(line)
    except (ValueError, KeyError, TypeError, AttributeError):
        pass
    # A torn record (a crash mid-write, or an older server's fragment) with a whole
    # record glued behind it: keep that one.
    start = line.rfind(RECORD_START)
    if start > 0:
        try:
            record = _record(line[start:])
            if not quiet:
                log.warning("spool: dropped a torn record (%d bytes) in %s; the record after it is kept",
                            start, path.name)
            return record
        except (ValueError, KeyError, TypeError, AttributeError):
            pass
    if not quiet:
        log.warning("spool: skipping an unreadable line in %s", path.name)
    return None


def _record(line: bytes) -> dict:
    try:
        record = orjson.loads(line)  # a quarter of json's time; UTF-8 only
    except orjson.JSONDecodeError:
        record = json.loads(line.decode("utf-8", "surrogateescape"))  # an undecodable byte kept, or torn
    record["at"] = datetime.fromisoformat(record["at"]).astimezone(timezone.utc)
    return record
