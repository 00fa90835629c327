"""A bare RSGI app for bench/pixel_gap.py: granian's own cost for the pixel, with the
same image and headers Engage sends, under the same options ``engage serve`` passes.

``BARE_STEP`` adds Engage's pixel work a piece at a time (each includes the ones before):

- ``gif``: answer the image, nothing else;
- ``record``: + build the spool record (server.hitpath.answer.new_record);
- ``spool``: + append it to a spool file (server.hitpath.spool.Spool, O_APPEND write);
- ``metrics``: + the prometheus counter (multiprocess files when PROMETHEUS_MULTIPROC_DIR is set);

and, in place of ``spool`` (with ``record``): ``dumps`` (the line encoded, not written),
``turn`` (one write per loop turn: each pixel queues its line and awaits the turn's
single write before it answers) and ``mmap`` (the line copied into a mapped file).
"""

from __future__ import annotations

import asyncio
import json
import mmap
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.hitpath.answer import KEPT_HEADER_NAMES, NO_CACHE, PIXEL_GIF, TOKEN_RE, new_record  # noqa: E402
from server.security_headers import SECURITY_HEADERS  # noqa: E402

# The last three are alternatives to ``spool``, not steps after it (sixth session).
STEPS = ("gif", "record", "spool", "metrics", "dumps", "turn", "mmap")
STEP = os.environ.get("BARE_STEP", "gif")
LEVEL = min(STEPS.index(STEP), 3)
HEADERS = [("Content-Type", "image/gif"), ("Content-Length", str(len(PIXEL_GIF))), *NO_CACHE.items(),
           *SECURITY_HEADERS]
TRUSTED = []
if os.environ.get("ENGAGE_TRUSTED_PROXIES"):
    import ipaddress

    TRUSTED = [ipaddress.ip_network(p, strict=False) for p in os.environ["ENGAGE_TRUSTED_PROXIES"].split(",")]
SPOOL_DIR = os.environ.get("BARE_SPOOL_DIR", "/tmp/bare-spool")

_spool = None


def spool():
    global _spool
    if _spool is None:
        from server.hitpath.spool import Spool

        _spool = Spool(SPOOL_DIR)
    return _spool


def line_of(record: dict) -> bytes:
    return (json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n").encode()


if STEP == "metrics":
    from server import metrics


class TurnWriter:
    """``turn``: one write per loop turn; every pixel of the turn awaits it."""

    def __init__(self):
        self.lines: list[bytes] = []
        self.done = None

    async def append(self, record: dict) -> None:
        if self.done is None:
            loop = asyncio.get_running_loop()
            self.done = loop.create_future()
            loop.call_soon(self.flush)
        self.lines.append(line_of(record))
        await self.done

    def flush(self) -> None:
        data, done = b"".join(self.lines), self.done
        self.lines, self.done = [], None
        sp = spool()
        with sp._lock:
            sp._write(data)
        done.set_result(True)


class MmapWriter:
    """``mmap``: lines copied into a shared, preallocated mapping of the file (no system
    call and no GIL release per hit; wraps around: a benchmark only)."""

    SIZE = 1 << 28

    def __init__(self):
        os.makedirs(SPOOL_DIR, exist_ok=True)
        fd = os.open(os.path.join(SPOOL_DIR, f"mmap-{os.getpid()}"), os.O_RDWR | os.O_CREAT, 0o600)
        os.posix_fallocate(fd, 0, self.SIZE)
        self.map, self.at = mmap.mmap(fd, self.SIZE), 0

    def append(self, record: dict) -> None:
        line = line_of(record)
        if self.at + len(line) > self.SIZE:
            self.at = 0
        self.map[self.at:self.at + len(line)] = line
        self.at += len(line)


TURN = TurnWriter() if STEP == "turn" else None
MMAP = None


class App:
    def __rsgi__(self, scope, proto):
        return self.answer(scope, proto)

    async def answer(self, scope, proto):
        if LEVEL >= 1:
            name = scope.path[3:]
            token = name[:-4] if name.endswith(".gif") else name
            if TOKEN_RE.match(token):
                if STEP == "metrics":
                    metrics.ANSWERED["open"].inc()
                headers = scope.headers
                forwarded = headers.get_all("x-forwarded-for")
                record = new_record(
                    "open", token, scope.method, scope.client.rpartition(":")[0].strip("[]"),
                    ",".join(forwarded) if forwarded else None, headers.get("user-agent", ""),
                    {n: v for n in KEPT_HEADER_NAMES if (v := headers.get(n)) is not None}, TRUSTED)
                if STEP == "turn":
                    await TURN.append(record)
                elif STEP == "mmap":
                    global MMAP
                    MMAP = MMAP or MmapWriter()
                    MMAP.append(record)
                elif STEP == "dumps":
                    line_of(record)
                elif LEVEL >= 2:
                    spool().append(record)
        proto.response_bytes(200, HEADERS, PIXEL_GIF)


app = App()


def wsgi_app(environ, start_response):
    """The same image as a bare WSGI callable (``--interface wsgi``)."""
    start_response("200 OK", HEADERS)
    return [PIXEL_GIF]
