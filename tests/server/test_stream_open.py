"""Opening a live stream, as a reconnect storm sees it: one query per open (token,
user and resume point together), no sign-in write while the token's last use is
fresh, and past the per-worker cap on opens in flight a wait for a slot (in turn, for a
while), then a 503 with Retry-After in the API's one error shape, refused before any
database work."""

from __future__ import annotations

import asyncio
import json
from contextlib import contextmanager
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from server.api.stream import open_stream
from server.extensions import db
from server.errors import ApiError
from server.models import ApiToken, User, utcnow
from server.stream_hub import Hub
from tests.fixtures.api import assert_api_error

from .helpers import drain, hit_pixel, register
from .test_stream_buffers import Scope, _run

pytestmark = pytest.mark.timeout(60)


@contextmanager
def statements():
    """The SQL statements run meanwhile (commits are not statements)."""
    seen: list[str] = []

    def note(conn, cursor, statement, *args):
        seen.append(statement.split(None, 1)[0].upper())

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)


def _set_last_used(user_id: int, when) -> None:
    db.session.execute(sa.update(ApiToken).where(ApiToken.user_id == user_id).values(last_used_at=when))
    db.session.commit()


def test_a_token_opens_a_stream_in_one_query_and_resumes_from_the_newest_event(app, client, ann):
    hit_pixel(client, register(client, ann))
    drain(app)
    with app.app_context():
        newest = db.session.execute(sa.text("SELECT max(id) FROM events")).scalar()
        _set_last_used(ann.user_id, utcnow())
        db.session.remove()
        with statements() as seen:
            opened = open_stream(None, ann.token, None, None)
        assert opened[0] == ann.user_id and opened[2] == newest
        assert seen == ["SELECT"]  # token, user's standing and resume point together; no write
        with statements() as seen:
            assert open_stream(None, ann.token, "7", None)[2] == 7  # Last-Event-ID resumes
        assert seen == ["SELECT"]


def test_a_stale_last_use_is_written_once_and_a_disabled_user_opens_nothing(app, ann):
    with app.app_context():
        _set_last_used(ann.user_id, utcnow() - timedelta(hours=1))
        with statements() as seen:
            open_stream(None, ann.token, None, None)
        assert seen == ["SELECT", "UPDATE"]
        with statements() as seen:
            open_stream(None, ann.token, None, None)
        assert seen == ["SELECT"]
        db.session.execute(sa.update(User).where(User.id == ann.user_id).values(disabled_at=utcnow()))
        db.session.commit()
        with pytest.raises(ApiError) as refused:
            open_stream(None, ann.token, None, None)
        assert refused.value.code == 401


def test_a_ticket_opens_a_stream_with_one_read_besides_recording_its_use(app, client, ann):
    tickets = [client.post("/api/v1/stream/tickets", headers=ann.headers).get_json()["ticket"] for _ in range(2)]
    with app.app_context():
        open_stream(tickets[0], None, None, None)  # the first in this process also purges old uses
        with statements() as seen:
            assert open_stream(tickets[1], None, None, None)[0] == ann.user_id
        assert seen == ["INSERT", "SELECT"]


class Recorder:
    """An RSGI protocol stand-in that keeps a plain response."""

    def response_bytes(self, status, headers, body):
        self.status, self.headers, self.body = status, dict(headers), body


def test_past_the_opens_in_flight_cap_a_stream_is_refused_with_retry_after_before_any_query(app, ann):
    app.config["STREAM_OPENS_IN_FLIGHT"] = 0
    app.config["STREAM_OPEN_WAIT_SECONDS"] = 0  # refused at once, not after waiting its turn

    async def scenario(hub):
        proto = Recorder()
        with app.app_context(), statements() as seen:
            await hub.serve(Scope(ann.token), proto)
        return proto, seen, hub.count

    proto, seen, held = _run(app, scenario)
    body = json.loads(proto.body)
    assert proto.status == 503 and seen == [] and held == 0
    assert proto.headers["Content-Type"] == "application/json"
    assert 1 <= int(proto.headers["Retry-After"]) <= 60
    assert set(body) == {"error"} and body["error"]["code"] == "unavailable"
    assert body["error"]["details"] == {"retry_after": int(proto.headers["Retry-After"])}


def test_a_ticket_is_refused_with_retry_after_while_this_process_opens_all_it_can(app, client, ann):
    broker = app.extensions["engage"].broker
    broker.hub = SimpleNamespace(opening=16, opens_in_flight=16, open_retry_after=lambda: 4)
    try:
        resp = client.post("/api/v1/stream/tickets", headers=ann.headers)
        err = assert_api_error(resp, 503)
        assert resp.headers["Retry-After"] == "4" and err["details"] == {"retry_after": 4}
        broker.hub.opening = 3
        assert client.post("/api/v1/stream/tickets", headers=ann.headers).status_code == 201
    finally:
        broker.hub = None


def test_the_retry_window_widens_with_the_opens_refused_at_once(app):
    loop = asyncio.new_event_loop()
    try:
        hub = Hub(app, loop)
        first = [hub.open_retry_after() for _ in range(5)]
        later = [hub.open_retry_after() for _ in range(6000)][-200:]
    finally:
        hub.open_pool.shutdown(wait=False)
        hub.db_pool.shutdown(wait=False)
        loop.close()
    assert max(first) <= 2 and max(later) > 10 and max(later) <= 60


class Waiter:
    """An RSGI protocol stand-in for an open that may be held as a stream."""

    def __init__(self):
        self.status = None
        self.streaming = asyncio.Event()

    def response_bytes(self, status, headers, body):
        self.status, self.headers, self.body = status, dict(headers), body

    def response_stream(self, status, headers):
        self.status = status
        self.streaming.set()
        return self

    async def send_bytes(self, data: bytes) -> None:
        pass


def _slow_opens(hub, release: asyncio.Event):
    """Every open's query waits for ``release`` (as a slow database in a storm)."""
    real = hub._db

    async def slow(pool, fn, *args):
        if fn is open_stream:
            await release.wait()
        return await real(pool, fn, *args)

    hub._db = slow


def test_past_the_cap_an_open_waits_its_turn_and_is_served_not_refused(app, ann):
    app.config["STREAM_OPENS_IN_FLIGHT"] = 2
    app.config["STREAM_OPEN_WAIT_SECONDS"] = 30

    async def scenario(hub):
        release = asyncio.Event()
        _slow_opens(hub, release)
        protos = [Waiter() for _ in range(5)]
        tasks = [asyncio.ensure_future(hub.serve(Scope(ann.token), p)) for p in protos]
        for _ in range(20):
            await asyncio.sleep(0)
        queued = (hub.opening, hub.waiting, [p.status for p in protos])
        release.set()
        await asyncio.wait_for(asyncio.gather(*(p.streaming.wait() for p in protos)), 20)
        held, opening = hub.count, hub.opening
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return queued, held, opening, [p.status for p in protos]

    with app.app_context():
        queued, held, opening, statuses = _run(app, scenario)
    assert queued == (2, 3, [None] * 5)  # two opening, three waiting, none refused
    assert statuses == [200] * 5 and held == 5 and opening == 0


def test_an_open_that_waited_too_long_is_refused_with_retry_after(app, ann):
    app.config["STREAM_OPENS_IN_FLIGHT"] = 1
    app.config["STREAM_OPEN_WAIT_SECONDS"] = 0.3

    async def scenario(hub):
        release = asyncio.Event()
        _slow_opens(hub, release)
        first, second = Waiter(), Waiter()
        t1 = asyncio.ensure_future(hub.serve(Scope(ann.token), first))
        await asyncio.sleep(0.05)
        await asyncio.wait_for(hub.serve(Scope(ann.token), second), 10)  # gives up after 0.3 s
        refused = (second.status, second.headers.get("Retry-After"), json.loads(second.body))
        release.set()
        await asyncio.wait_for(first.streaming.wait(), 10)
        state = (hub.opening, hub.waiting, len(hub.open_queue))
        t1.cancel()
        await asyncio.gather(t1, return_exceptions=True)
        return refused, state

    with app.app_context():
        (status, retry_after, body), state = _run(app, scenario)
    assert status == 503 and 1 <= int(retry_after) <= 60
    assert body["error"]["details"] == {"retry_after": int(retry_after)}
    assert state == (0, 0, 0)  # the slot went back; nothing left queued


def test_a_client_that_leaves_while_waiting_frees_its_turn(app, ann):
    app.config["STREAM_OPENS_IN_FLIGHT"] = 1
    app.config["STREAM_OPEN_WAIT_SECONDS"] = 30

    async def scenario(hub):
        release = asyncio.Event()
        _slow_opens(hub, release)
        first, gone, third = Waiter(), Waiter(), Waiter()
        t1 = asyncio.ensure_future(hub.serve(Scope(ann.token), first))
        await asyncio.sleep(0.05)
        t2 = asyncio.ensure_future(hub.serve(Scope(ann.token), gone))
        t3 = asyncio.ensure_future(hub.serve(Scope(ann.token), third))
        await asyncio.sleep(0.05)
        t2.cancel()  # the client went away while it waited
        await asyncio.gather(t2, return_exceptions=True)
        release.set()
        await asyncio.wait_for(asyncio.gather(first.streaming.wait(), third.streaming.wait()), 10)
        state = (hub.opening, hub.waiting, hub.count, gone.status)
        for t in (t1, t3):
            t.cancel()
        await asyncio.gather(t1, t3, return_exceptions=True)
        return state

    with app.app_context():
        assert _run(app, scenario) == (0, 0, 2, None)
