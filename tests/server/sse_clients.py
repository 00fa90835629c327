"""Live-stream clients for the tests: raw sockets, so a test decides how (and whether)
a client reads, and asyncio for thousands of them at once."""

from __future__ import annotations

import asyncio
import json
import random
import socket
import threading
import time


def stream_request(path: str, token: str | None = None, last_event_id: int | None = None) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Accept: text/event-stream"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    if last_event_id is not None:
        lines.append(f"Last-Event-ID: {last_event_id}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def parse_events(text: str) -> list[dict]:
    """The `engagement` messages in a stream's text (chunked framing is ignored: chunk
    sizes sit on lines of their own, which the parser skips)."""
    out = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        data = [line[6:] for line in block.split("\n") if line.startswith("data: ")]
        if "event: engagement" in block and data:
            try:
                out.append(json.loads(data[0]))
            except ValueError:
                pass
    return out


class SseClient:
    """One stream read on a thread of its own; ``events`` fills as they arrive."""

    def __init__(self, port: int, token: str, path: str = "/api/v1/stream", last_event_id: int | None = None,
                 rcvbuf: int | None = None, read: bool = True):
        self.sock = socket.socket()
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.connect(("127.0.0.1", port))
        self.sock.sendall(stream_request(path, token, last_event_id))
        self.text = ""
        self.status: int | None = None
        self.closed_by_server = False
        self.arrivals: dict[int, float] = {}
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True) if read else None
        if self.thread:
            self.thread.start()

    def _run(self) -> None:
        self.sock.settimeout(0.5)
        buf = b""
        while not self._stop:
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            if not chunk:
                self.closed_by_server = True
                break
            buf += chunk
            self.text = buf.decode("utf-8", "replace")
            if self.status is None and "\r\n" in self.text:
                self.status = int(self.text.split(" ", 2)[1])
            now = time.monotonic()
            for event in parse_events(self.text):
                self.arrivals.setdefault(int(event["id"]), now)

    @property
    def ended(self) -> bool:
        """The server ended the response: closed the connection, or sent the last chunk."""
        return self.closed_by_server or self.text.endswith("\r\n0\r\n\r\n")

    @property
    def events(self) -> list[dict]:
        return parse_events(self.text)

    def ids(self) -> list[int]:
        return [int(e["id"]) for e in self.events]

    def wait_for(self, predicate, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self):
                return True
            time.sleep(0.05)
        return predicate(self)

    def close(self) -> None:
        self._stop = True
        try:
            self.sock.close()
        except OSError:
            pass
        if self.thread:
            self.thread.join(timeout=2)


def retry_after(head: bytes) -> float | None:
    """The Retry-After seconds of a response head, if it has one."""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"retry-after" and value.strip().isdigit():
            return float(value.strip())
    return None


async def _one_stream(port: int, token: str, results: dict, key: int, hold: asyncio.Event, wanted: int,
                      refusals: list):
    """One client: a 503 with Retry-After (the server opening too many streams at
    once) is waited out, 1-1.5 times as long, as client_js/stream.mjs does."""
    while True:
        wait = await _open_one(port, token, results, key, hold, wanted)
        if wait is None:
            return
        refusals.append(wait)
        await asyncio.sleep(wait * random.uniform(1.0, 1.5))


async def _open_one(port: int, token: str, results: dict, key: int, hold: asyncio.Event, wanted: int):
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError as err:
        results[key] = ("refused", str(err))
        return
    try:
        writer.write(stream_request("/api/v1/stream", token))
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 60)
        status = int(head.split(b" ", 2)[1])
        results[key] = (status, "")
        if status == 503 and retry_after(head) is not None:
            return retry_after(head)
        if status != 200:
            return None
        text = ""
        while not hold.is_set():
            try:
                chunk = await asyncio.wait_for(reader.read(65536), 0.5)
            except asyncio.TimeoutError:
                continue
            if not chunk:
                break
            text += chunk.decode("utf-8", "replace")
            if len(parse_events(text)) >= wanted:
                results[key] = (200, text)
                break
        results[key] = (200, text)
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError) as err:
        results[key] = ("error", repr(err))
    finally:
        writer.close()
    return None


class StreamCrowd:
    """``n`` streams opened as fast as asyncio can (a reconnect storm), each kept
    until it has read ``wanted`` events or ``release()`` is called. ``refusals`` lists
    the Retry-After of every open refused and tried again."""

    def __init__(self, port: int, token: str, n: int, wanted: int = 1):
        self.port, self.token, self.n, self.wanted = port, token, n, wanted
        self.results: dict[int, tuple] = {}
        self.refusals: list[float] = []
        self.loop = asyncio.new_event_loop()
        self.hold: asyncio.Event | None = None
        self.opened_in: float | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._main())
        finally:
            self.loop.close()

    async def _main(self) -> None:
        self.hold = asyncio.Event()
        started = time.monotonic()
        tasks = [asyncio.ensure_future(_one_stream(self.port, self.token, self.results, i, self.hold, self.wanted,
                                                self.refusals))
                 for i in range(self.n)]
        self.opened_in = time.monotonic() - started
        await asyncio.gather(*tasks)

    def start(self) -> "StreamCrowd":
        self.thread.start()
        return self

    def statuses(self) -> dict:
        out: dict = {}
        for status, _ in list(self.results.values()):
            out[status] = out.get(status, 0) + 1
        return out

    def with_events(self) -> int:
        return sum(1 for status, text in list(self.results.values())
                   if status == 200 and len(parse_events(text)) >= self.wanted)

    def release(self) -> None:
        if self.hold is not None and not self.loop.is_closed():
            try:
                self.loop.call_soon_threadsafe(self.hold.set)
            except RuntimeError:
                pass  # every stream finished and the loop closed meanwhile
        self.thread.join(timeout=60)
