"""What the event-loop hub (server/stream_hub.py) does with the streams it holds, run
in-process on a real app and database with stand-ins for granian's RSGI protocol:

- ``Socket`` answers like granian 2.x's transport (src/rsgi/io.rs): ``send_bytes``
  queues the bytes and returns an awaitable that is already finished, or failed once
  the client went away; the response lasts as long as the transport is referenced,
  whether or not the request's coroutine still runs.
- ``WaitingSocket`` is a server whose send waits for the socket: it takes a little
  and then never drains (a client that stopped reading, or a half-open TCP
  connection once the kernel's buffers are full)."""

from __future__ import annotations

import asyncio

import pytest

from server.stream_hub import Hub

from .helpers import LONDON, drain, hit_pixel, register

pytestmark = pytest.mark.timeout(120)


class Headers(dict):
    pass


class Scope:
    proto, method, path, scheme, http_version = "http", "GET", "/api/v1/stream", "http", "1.1"
    server, client = "127.0.0.1:5000", "127.0.0.1:40000"

    def __init__(self, token: str):
        self.query_string = ""
        self.headers = Headers({"authorization": f"Bearer {token}"})


class Done:
    """granian's finished awaitable (PyEmptyAwaitable / PyErrAwaitable, src/runtime.rs):
    ``__await__`` is itself, an iterator with ``__next__`` and no ``send``."""

    def __init__(self, error: Exception | None = None):
        self.error = error

    def __await__(self):
        return self

    def __next__(self):
        if self.error is not None:
            raise self.error
        raise StopIteration


class Socket:
    """granian's transport: every write is taken at once; after ``leave()`` every
    write fails, as granian's does once hyper dropped the response's channel."""

    def __init__(self):
        self.sent = bytearray()
        self.gone = False

    def send_bytes(self, data: bytes) -> Done:
        if self.gone:
            return Done(RuntimeError("Transport not initialized or closed"))
        self.sent += data
        return Done()

    def leave(self) -> None:
        self.gone = True

    def response_stream(self, status, headers):
        self.status, self.headers = status, dict(headers)
        return self

    def response_bytes(self, status, headers, body):
        self.status, self.body = status, body



class WaitingSocket(Socket):
    """Takes ``room`` bytes, then every write waits forever (nobody reads)."""

    def __init__(self, room: float = float("inf")):
        super().__init__()
        self.room = room

    async def send_bytes(self, data: bytes) -> None:
        if self.room < len(data):
            await asyncio.Event().wait()
        self.room -= len(data)
        self.sent += data


async def _until(predicate, timeout: float) -> bool:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return predicate()


def _run(app, scenario):
    loop = asyncio.new_event_loop()
    try:
        hub = Hub(app, loop)

        async def main():
            hub.start()
            try:
                return await scenario(hub)
            finally:
                hub.stop()

        result = loop.run_until_complete(main())
        async def finish():
            leftovers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in leftovers:
                task.cancel()
            await asyncio.gather(*leftovers, return_exceptions=True)

        loop.run_until_complete(finish())
        return result
    finally:
        app.extensions["engage"].broker.hub = None
        loop.close()


def _fire(app, msg, n: int):
    async def go():
        loop = asyncio.get_running_loop()
        for i in range(n):
            await loop.run_in_executor(None, hit_pixel, app.test_client(), msg, LONDON, f"Mozilla/5.0 Chrome/126 n{i}")
        await loop.run_in_executor(None, drain, app)
    return go()


def test_a_stream_outlives_its_request_coroutine_and_gets_every_event(app, client, ann):
    msg = register(client, ann)

    async def scenario(hub):
        socket = Socket()
        await asyncio.wait_for(hub.serve(Scope(ann.token), socket), 10)  # returns once open
        assert socket.status == 200 and socket.headers["Content-Type"].startswith("text/event-stream")
        assert b": connected" in socket.sent and hub.count == 1
        await _fire(app, msg, 3)
        hub.wake(ann.user_id)
        assert await _until(lambda: socket.sent.count(b"event: engagement") == 3, 20)
        return True

    assert _run(app, scenario)


def test_a_client_that_stops_reading_is_dropped_and_the_reader_gets_everything(app, client, ann):
    app.config["STREAM_BUFFER_BYTES"] = 3000
    msg = register(client, ann)

    async def scenario(hub):
        stuck, reader = WaitingSocket(room=600), WaitingSocket()
        await asyncio.wait_for(hub.serve(Scope(ann.token), stuck), 10)
        await asyncio.wait_for(hub.serve(Scope(ann.token), reader), 10)
        assert hub.count == 2
        await _fire(app, msg, 12)
        hub.wake(ann.user_id)
        assert await _until(lambda: reader.sent.count(b"event: engagement") == 12, 20)
        assert await _until(lambda: hub.count == 1, 10), "the stuck client is still held"
        assert stuck.sent.count(b"event: engagement") < 12
        return True

    assert _run(app, scenario)


def test_a_client_that_went_away_is_forgotten_at_the_next_heartbeat(app, ann):
    app.config.update(STREAM_HEARTBEAT_SECONDS=0.2)

    async def scenario(hub):
        stays, leaves = Socket(), Socket()
        for socket in (stays, leaves):
            await asyncio.wait_for(hub.serve(Scope(ann.token), socket), 10)
        leaves.leave()
        assert await _until(lambda: hub.count == 1, 10)
        await asyncio.sleep(0.5)
        assert stays.sent.count(b": keep-alive") >= 1 and not stays.gone
        return len(hub.subs[ann.user_id])

    assert _run(app, scenario) == 1


def test_a_half_open_connection_is_closed_with_a_retry_hint_when_the_stream_is_old(app, ann):
    app.config.update(STREAM_MAX_SECONDS=1.0, STREAM_HEARTBEAT_SECONDS=0.3)

    async def scenario(hub):
        half_open = Socket()  # writes are taken; nothing ever comes back
        await asyncio.wait_for(hub.serve(Scope(ann.token), half_open), 10)
        assert hub.count == 1
        assert await _until(lambda: hub.count == 0, 10)
        tail = bytes(half_open.sent).rsplit(b"keep-alive", 1)[-1]
        assert b": keep-alive" in half_open.sent and b"retry: " in tail
        return True

    assert _run(app, scenario)
