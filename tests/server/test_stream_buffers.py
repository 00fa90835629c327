"""What the event-loop hub (server/stream_hub.py) does with clients that stop reading,
run in-process on a real app and database with stand-in sockets: one that takes a
little and then never drains (a client that stopped reading, or a half-open TCP
connection once the kernel's buffers are full), and one that reads everything."""

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


class Socket:
    """Takes ``room`` bytes, then every write waits forever (nobody reads)."""

    def __init__(self, room: float = float("inf")):
        self.room = room
        self.sent = bytearray()

    async def send_bytes(self, data: bytes) -> None:
        if self.room < len(data):
            await asyncio.Event().wait()
        self.room -= len(data)
        self.sent += data

    def response_stream(self, status, headers):
        self.status = status
        return self

    def response_bytes(self, status, headers, body):
        self.status, self.body = status, body

    async def client_disconnect(self) -> None:
        await asyncio.Event().wait()  # half-open: no FIN ever arrives


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


def test_a_client_that_stops_reading_is_dropped_and_the_reader_gets_everything(app, client, ann):
    app.config["STREAM_BUFFER_BYTES"] = 3000
    msg = register(client, ann)

    async def scenario(hub):
        stuck, reader = Socket(room=600), Socket()
        stuck_task = asyncio.ensure_future(hub.serve(Scope(ann.token), stuck))
        reader_task = asyncio.ensure_future(hub.serve(Scope(ann.token), reader))
        assert await _until(lambda: hub.count == 2, 10)
        loop = asyncio.get_running_loop()
        for i in range(12):
            await loop.run_in_executor(None, hit_pixel, app.test_client(), msg, LONDON, f"Mozilla/5.0 Chrome/126 n{i}")
        await loop.run_in_executor(None, drain, app)
        hub.wake(ann.user_id)
        assert await _until(lambda: reader.sent.count(b"event: engagement") == 12, 20)
        assert await _until(stuck_task.done, 10), "the stuck client is still held"
        assert hub.count == 1 and stuck.sent.count(b"event: engagement") < 12
        reader_task.cancel()
        return True

    assert _run(app, scenario)


def test_a_half_open_connection_is_closed_with_a_retry_hint_when_the_stream_is_old(app, ann):
    app.config.update(STREAM_MAX_SECONDS=1.0, STREAM_HEARTBEAT_SECONDS=0.3)

    async def scenario(hub):
        half_open = Socket()  # writes succeed; nothing ever comes back
        task = asyncio.ensure_future(hub.serve(Scope(ann.token), half_open))
        assert await _until(task.done, 10)
        tail = bytes(half_open.sent).rsplit(b"keep-alive", 1)[-1]
        assert b": keep-alive" in half_open.sent and b"retry: " in tail
        assert hub.count == 0
        return True

    assert _run(app, scenario)
