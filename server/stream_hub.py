"""Live streams on an event loop: thousands per process, a small object each.

One hub per server process (server/rsgi.py starts it on granian's loop):

- **One listener per process.** On PostgreSQL one ``LISTEN`` connection hears every
  commit's ``pg_notify`` (sent by the writer inside the hit's transaction, see
  server/recorder.py), from every process and machine. On SQLite the hub watches the
  newest event id (the writer is another process) and hears its own process's
  writer at once (``Broker.published_locally`` hands the user id over).
- **Fan-out.** A wake-up names a user. The hub reads that user's new events once (on a
  thread: the database code is the same synchronous code as the API's) and appends the
  formatted message to each of the user's open streams.
- **Nobody waits for a slow client.** A send never waits: granian queues each
  stream's bytes for its socket. Where a server's send does wait, it finishes on a
  task of its own, and a stream whose unsent bytes pass ``STREAM_BUFFER_BYTES`` (a
  client that stopped reading) is dropped with a ``retry:`` hint, its client
  reconnects with ``Last-Event-ID`` and loses nothing (see Conn).
- **Resumption.** Every message carries its event id; a stream only ever sends ids
  above the last it sent, so a reconnect (to any process, after a restart) continues
  where the client's ``Last-Event-ID`` says, with nothing lost or repeated.
- **Faults.** When the database is away, wake-ups are kept and retried with backoff;
  once it is back (and the listener has reconnected) every user with new events since
  the hub's high-water mark is woken. The pixel never waits for any of this.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
import types
from collections import defaultdict, deque
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs

import sqlalchemy as sa

from . import metrics
from .causes import OutageLog
from .errors import ApiError, error_payload
from .stream import CHANNEL

log = logging.getLogger(__name__)

KEEPALIVE = b": keep-alive\n\n"
SIGNED_OUT = b"event: signed-out\ndata: {}\n\n"
SECURITY_HEADERS = [
    ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"), ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
    ("Cross-Origin-Resource-Policy", "cross-origin"),
]
STREAM_HEADERS = [
    ("Content-Type", "text/event-stream; charset=utf-8"),
    ("Cache-Control", "no-cache, no-store"),
    ("X-Accel-Buffering", "no"),  # nginx: pass each event on at once
    *SECURITY_HEADERS,
]


def retry_hint(low_ms: int, high_ms: int) -> bytes:
    """``retry:`` with jitter: EventSource waits this long before reconnecting, so
    clients dropped together do not come back together."""
    return f"retry: {random.randint(low_ms, high_ms)}\n".encode()


class Conn:
    """One open stream, held without a coroutine.

    granian's streamed response lasts as long as its transport is referenced (the body
    is a channel whose sending end is the transport), so once a stream is open its
    request's coroutine ends and only this object is kept: the coroutine, its task,
    granian's watcher, the request's scope and protocol objects cost ~5 KB a stream
    more (bench/README.md, issue 12's seventh session). Thousands are held per process,
    so this is kept small too (slots; no queue until one is needed).

    granian 2.x's ``send_bytes`` hands the bytes to that channel at once and returns an
    awaitable that is already finished, so a send is taken synchronously. Should a
    server's send wait for the socket instead, the rest of it runs on a task and what
    comes meanwhile is queued, up to ``limit`` bytes: past that the client does not
    read and is dropped with a retry hint (it resumes from Last-Event-ID)."""

    __slots__ = ("hub", "user_id", "token_id", "last_id", "transport", "queued", "queued_bytes",
                 "busy", "closed", "sent_recently", "ends_at")

    def __init__(self, hub: "Hub", user_id: int, token_id: int, last_id: int, ends_at: float):
        self.hub = hub
        self.user_id, self.token_id, self.last_id = user_id, token_id, last_id
        self.transport = None
        self.queued: list[bytes] | None = None
        self.queued_bytes = 0
        self.busy: asyncio.Task | None = None  # a send still waiting for the socket
        self.closed = False
        self.sent_recently = False
        self.ends_at = ends_at

    def push(self, data: bytes, limit: int) -> bool:
        """Send (or queue behind a waiting send); False if the stream is closed now."""
        if self.closed:
            return False
        if self.busy is not None:
            if self.queued_bytes + len(data) > limit:
                log.info("stream: dropped a client that does not read (user %s, %d bytes waiting)",
                         self.user_id, self.queued_bytes)
                self.close(retry_hint(5000, 15000) + b": dropped: you read too slowly\n\n")
                return False
            self.queued.append(data)
            self.queued_bytes += len(data)
            return True
        return self._send(data)

    def _send(self, data: bytes) -> bool:
        try:
            step = self.transport.send_bytes(data).__await__()
            waiting_on = next(step)  # (granian's awaitables are iterators, without send())
        except StopIteration:  # taken (granian: queued for the socket)
            self.sent_recently = True
            return True
        except Exception:  # the client went away (granian: the response's channel is closed)
            self._end()
            return False
        if self.queued is None:
            self.queued = []
        self.busy = self.hub.loop.create_task(self._finish(step, waiting_on))
        return True

    async def _finish(self, step, waiting_on) -> None:
        try:
            await _resume(step, waiting_on)
            while self.queued and not self.closed:
                data = b"".join(self.queued)
                self.queued.clear()
                self.queued_bytes = 0
                await self.transport.send_bytes(data)
            self.sent_recently = True
        except asyncio.CancelledError:
            return  # close() gave up on a client that does not read
        except Exception:
            self.busy = None
            self._end()  # the client went away mid-write
            return
        self.busy = None

    def close(self, farewell: bytes = b"") -> None:
        """End the stream, with ``farewell`` (a retry hint, a reason) as its last bytes."""
        if self.closed:
            return
        if self.busy is not None:
            self.busy.cancel()  # stuck writing to a client that never reads: no room for a farewell
            self.busy = None
        elif farewell:
            self._send(farewell)
        self._end()

    def _end(self) -> None:
        if self.transport is None:
            return
        self.closed = True
        self.transport = None  # the response ends with its last reference
        self.hub._forget(self)


@types.coroutine
def _resume(step, waiting_on):
    """The rest of an awaitable whose first step ``Conn._send`` already took."""
    while True:
        yield waiting_on  # (asyncio's task sends None back, or throws into this yield)
        try:
            waiting_on = next(step)
        except StopIteration:
            return


def _give_up(slot: asyncio.Future) -> None:
    if not slot.done():
        slot.set_result(False)


class Hub:
    def __init__(self, flask_app, loop, wsgi_pool=None):
        cfg = flask_app.config
        self.app = flask_app
        self.loop = loop
        self.wsgi_pool = wsgi_pool
        self.heartbeat = float(cfg["STREAM_HEARTBEAT_SECONDS"])
        self.token_check = float(cfg["STREAM_TOKEN_CHECK_SECONDS"])
        self.max_age = float(cfg["STREAM_MAX_SECONDS"])
        self.buffer_limit = int(cfg["STREAM_BUFFER_BYTES"])
        self.per_user = int(cfg["STREAMS_PER_USER"])
        self.per_loop = int(cfg["STREAMS_PER_LOOP"])
        self.opens_in_flight = int(cfg["STREAM_OPENS_IN_FLIGHT"])
        self.opening = 0  # opens waiting for their query
        # Opens past the cap wait here for a slot (for at most open_wait seconds) rather
        # than being refused: a refused open is a connection made, answered and closed,
        # and made again, and what each leaves in granian's allocator outlived the
        # storm (bench/README.md, issue 12's sixth session).
        self.open_wait = float(cfg["STREAM_OPEN_WAIT_SECONDS"])
        self.open_queue: deque[asyncio.Future] = deque()
        self.waiting = 0
        self.refused = [0.0, 0]  # [second it counts, opens refused for the cap in it]
        self.opened_since = 0  # opens done since that second began
        self.open_rate = 100.0  # opens per second this worker has managed (smoothed)
        self.poll_interval = 0.2
        self.is_postgres = cfg["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
        self.subs: dict[int, set[Conn]] = defaultdict(set)
        self.count = 0
        self.dirty: set[int] = set()
        self.dirty_event: asyncio.Event | None = None
        self.watermark: int | None = None  # the newest event id this hub has looked at
        # Opening streams (ticket, token, resume point) and delivering (events, unread
        # counts, token checks) run the same synchronous database code as the API,
        # on threads of their own so that a reconnect storm cannot hold up the API.
        self.open_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="engage-stream-open")
        self.db_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="engage-stream-db")
        self.tasks: list[asyncio.Task] = []
        self.cors_cache: dict[str, list] = {}

    # -- lifecycle --------------------------------------------------------------------
    def start(self) -> None:
        from .services import get  # noqa: F401  (the app's services exist by now)

        self.dirty_event = asyncio.Event()
        self.app.extensions["engage"].broker.hub = self
        listener = self._listen_postgres if self.is_postgres else self._poll_sqlite
        for coro in (listener(), self._deliver_loop(), self._ticker()):
            self.tasks.append(self.loop.create_task(coro))

    def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for subs in list(self.subs.values()):
            for conn in list(subs):
                conn.close(retry_hint(1000, 10000))
        self.open_pool.shutdown(wait=False)
        self.db_pool.shutdown(wait=False)

    async def _db(self, pool, fn, *args):
        def run():
            from .extensions import db

            with self.app.app_context():
                try:
                    return fn(*args)
                finally:
                    db.session.remove()

        return await self.loop.run_in_executor(pool, run)

    # -- wake-ups ---------------------------------------------------------------------
    def wake(self, user_id: int | None) -> None:
        """A user has new events (None: anyone might)."""
        if user_id is None:
            self.dirty.update(self.subs.keys())
        elif user_id in self.subs:
            self.dirty.add(user_id)
        else:
            return
        self.dirty_event.set()

    def wake_from_thread(self, user_id: int) -> None:
        self.loop.call_soon_threadsafe(self.wake, user_id)

    def _note_event_id(self, event_id: int) -> None:
        if self.watermark is None or event_id > self.watermark:
            self.watermark = event_id

    async def _wake_since_watermark(self) -> None:
        """Wake every subscribed user with events past the high-water mark (after a
        missed stretch: the listener reconnecting, the database coming back)."""
        from .models import Event

        mark = self.watermark

        def query():
            from .extensions import db

            newest = db.session.execute(sa.select(sa.func.max(Event.id))).scalar() or 0
            if mark is None or newest <= mark:
                return newest, []
            users = db.session.execute(
                sa.select(Event.user_id).where(Event.id > mark).distinct().limit(50_000)).scalars().all()
            return newest, users

        newest, users = await self._db(self.db_pool, query)
        for user_id in users:
            self.wake(user_id)
        self._note_event_id(newest)

    async def _poll_sqlite(self) -> None:
        failures = 0
        outage = OutageLog(log, "stream: could not read the newest event id")
        while True:
            try:
                await self._wake_since_watermark()
                outage.recovered()
                failures = 0
                await asyncio.sleep(self.poll_interval)
            except asyncio.CancelledError:
                raise
            except Exception as err:
                failures += 1
                outage.failed(err, min(5.0, 0.2 * 2 ** failures))
                await asyncio.sleep(min(5.0, 0.2 * 2 ** failures))

    async def _listen_postgres(self) -> None:
        import psycopg

        url = self.app.config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg://", "postgresql://")
        failures = 0
        outage = OutageLog(log, "stream: LISTEN connection lost")
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(url, autocommit=True, connect_timeout=5) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    if failures:
                        log.warning("stream: LISTEN connection is back; catching up")
                    outage.reset()  # "is back" said it
                    failures = 0
                    await self._wake_since_watermark()  # whatever committed while we were away
                    async for note in conn.notifies():
                        user_id, _, event_id = note.payload.partition(":")
                        if event_id.isdigit():
                            self._note_event_id(int(event_id))
                        self.wake(int(user_id) if user_id.isdigit() else None)
            except asyncio.CancelledError:
                raise
            except Exception as err:
                failures += 1
                delay = min(10.0, 0.5 * 2 ** min(failures, 5)) * random.uniform(0.8, 1.2)
                outage.failed(err, delay)
                await asyncio.sleep(delay)

    # -- delivery ---------------------------------------------------------------------
    async def _deliver_loop(self) -> None:
        from .api.auth import valid_token_ids
        from .api.stream import new_events, sse_message

        def fetch(wanted: dict[int, int], token_ids: set[int]):
            valid = valid_token_ids(token_ids)
            out = {}
            for user_id, after in wanted.items():
                events = new_events(user_id, after)
                out[user_id] = [(int(d["id"]), sse_message(d).encode()) for d in events]
            return valid, out

        failures = 0
        while True:
            await self.dirty_event.wait()
            self.dirty_event.clear()
            batch = [u for u in list(self.dirty)[:200] if self.subs.get(u)]
            self.dirty.difference_update(list(self.dirty)[:200])
            if not batch:
                if self.dirty:
                    self.dirty_event.set()
                continue
            wanted = {u: min(c.last_id for c in self.subs[u]) for u in batch}
            tokens = {c.token_id for u in batch for c in self.subs[u]}
            try:
                valid, found = await self._db(self.db_pool, fetch, wanted, tokens)
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception:
                failures += 1
                log.warning("stream: could not read new events; retrying", exc_info=failures == 1)
                self.dirty.update(batch)
                await asyncio.sleep(min(5.0, 0.2 * 2 ** failures))
                self.dirty_event.set()
                continue
            for user_id in batch:
                events = found.get(user_id, [])
                if events:
                    self._note_event_id(events[-1][0])
                for conn in list(self.subs.get(user_id, ())):
                    if conn.token_id not in valid:
                        conn.close(SIGNED_OUT)
                        continue
                    for event_id, message in events:
                        if event_id > conn.last_id and conn.push(message, self.buffer_limit):
                            conn.last_id = event_id
                if len(events) >= 200:
                    self.dirty.add(user_id)  # more where these came from
            if self.dirty:
                self.dirty_event.set()

    async def _ticker(self) -> None:
        """Heartbeats for idle streams, token re-checks, the streams' maximum age."""
        from .api.auth import valid_token_ids

        step = min(self.heartbeat, self.token_check)
        last_beat = last_check = time.monotonic()
        while True:
            await asyncio.sleep(step)
            now = time.monotonic()
            conns = [c for subs in self.subs.values() for c in subs]
            if now - last_beat >= self.heartbeat:
                last_beat = now
                for conn in conns:
                    if not conn.sent_recently:
                        conn.push(KEEPALIVE, self.buffer_limit)
                    conn.sent_recently = False
                    if now >= conn.ends_at:
                        conn.close(retry_hint(1000, 30000))
            if now - last_check >= self.token_check and conns:
                last_check = now
                try:
                    valid = await self._db(self.db_pool, valid_token_ids, {c.token_id for c in conns})
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.warning("stream: could not re-check tokens", exc_info=True)
                    continue
                for conn in conns:
                    if conn.token_id not in valid:
                        conn.close(SIGNED_OUT)

    # -- one stream -------------------------------------------------------------------
    def _cors(self, origin: str | None) -> list:
        """The CORS headers Flask's configuration gives this origin (asked once per origin)."""
        if not origin:
            return []
        if origin not in self.cors_cache:
            if len(self.cors_cache) > 256:
                self.cors_cache.clear()
            self.cors_cache[origin] = self._ask_flask_cors(origin)
        return self.cors_cache[origin]

    def _ask_flask_cors(self, origin: str) -> list:
        # An unauthenticated GET of the stream is refused before any database work;
        # its answer carries exactly the CORS headers flask-cors gives this origin.
        resp = self.app.test_client().get("/api/v1/stream", headers={"Origin": origin})
        return [(k, v) for k, v in resp.headers.items()
                if k.lower() in ("access-control-allow-origin", "vary", "access-control-expose-headers")]

    async def _refuse(self, proto, status: int, message: str, headers: list, retry_after: int | None = None,
                      code: str | None = None) -> None:
        details = {"retry_after": retry_after} if retry_after else None
        hdrs = [("Content-Type", "application/json"), *SECURITY_HEADERS, *headers]
        if retry_after:
            hdrs.append(("Retry-After", str(retry_after)))
        proto.response_bytes(status, hdrs, json.dumps(error_payload(status, message, code, details)).encode())

    def open_retry_after(self) -> int:
        """Seconds a refused open should wait: drawn from a window as long as this
        worker needs to open the streams refused in this second at the pace it has
        been opening them (at least 2 s, at most 60 s). A storm of thousands comes back
        spread over the time it takes to serve them; one client alone, soon."""
        now = time.monotonic()
        if now - self.refused[0] >= 1.0:
            elapsed = now - self.refused[0]
            if elapsed < 10:  # opens per second, smoothed; kept from before an idle spell
                self.open_rate = 0.5 * self.open_rate + 0.5 * (self.opened_since / elapsed)
            self.refused[:] = [now, 0]
            self.opened_since = 0
        self.refused[1] += 1
        window = self.refused[1] / max(self.open_rate, 50.0)
        return random.randint(1, int(min(60, max(2, window + 1))))

    async def _open_slot(self) -> bool:
        """One of the ``opens_in_flight`` slots for this open (``opening`` counts it):
        at once if one is free, else in turn, for at most ``open_wait`` seconds (a
        finished open hands its slot to a waiting one, so a free slot means nobody is
        still waiting). False (refuse it) when the wait ran out, or when the waiting
        opens would already fill what this worker may hold."""
        if self.opening < self.opens_in_flight:
            self.opening += 1
            return True
        if self.open_wait <= 0 or self.count + self.opening + self.waiting >= self.per_loop:
            return False
        slot = self.loop.create_future()
        self.open_queue.append(slot)
        self.waiting += 1
        expiry = self.loop.call_later(self.open_wait, _give_up, slot)
        try:
            return await slot  # True: a finished open handed its slot on
        except asyncio.CancelledError:  # the client left while it waited
            if slot.done() and not slot.cancelled() and slot.result():
                self._release_open_slot()  # handed a slot it will not use
            raise
        finally:
            self.waiting -= 1
            expiry.cancel()
            if not self.waiting:
                self.open_queue.clear()  # only given-up and departed ones are left

    def _release_open_slot(self) -> None:
        """A finished open's slot: to the longest waiting open, or free."""
        while self.open_queue:
            slot = self.open_queue.popleft()
            if not slot.done():  # (not given up, not left)
                slot.set_result(True)
                return
        self.opening -= 1

    async def serve(self, scope, proto) -> None:
        from .api.stream import open_stream

        query = parse_qs(scope.query_string)
        ticket = (query.get("ticket") or [None])[0]
        query_last = (query.get("last_event_id") or [None])[0]
        auth = scope.headers.get("authorization") or ""
        scheme, _, value = auth.partition(" ")
        token = value.strip() if scheme.lower() == "bearer" and value.strip() else None
        header_last = scope.headers.get("last-event-id")
        cors = self._cors(scope.headers.get("origin"))
        if (ticket and len(ticket) > 500) or (query_last and len(query_last) > 40):
            return await self._refuse(proto, 422, "Some fields are wrong: ticket." if ticket and len(ticket) > 500
                                      else "Some fields are wrong: last_event_id.", cors)
        if self.count >= self.per_loop:
            return await self._refuse(proto, 503, "This server holds all the live streams it can; "
                                      "polling works meanwhile.", cors, retry_after=random.randint(10, 60))
        if not await self._open_slot():
            # A reconnect storm: every open is a query on one of a few threads, and the
            # loop's share of each open's work competes with the pixel. Opens past the
            # cap wait for a slot, costing a coroutine each; past the wait (or when
            # this worker could not hold them all) the rest of the storm waits in the
            # clients (Retry-After, jittered, longer the more are refused at once).
            # Nothing here has touched the database.
            return await self._refuse(proto, 503, "This server is opening many live streams at once; "
                                      "try again shortly.", cors, retry_after=self.open_retry_after())
        try:
            user_id, token_id, last_id = await self._db(self.open_pool, open_stream, ticket, token,
                                                        header_last, query_last)
        except ApiError as err:
            return await self._refuse(proto, err.code, err.description, cors, code=err.error_code)
        except Exception:
            log.warning("stream: could not open a stream (database unavailable?)", exc_info=True)
            return await self._refuse(proto, 503, "The live stream is unavailable; polling works meanwhile.",
                                      cors, retry_after=random.randint(2, 15))
        finally:
            self._release_open_slot()
            self.opened_since += 1
        if len(self.subs.get(user_id, ())) >= self.per_user:
            return await self._refuse(proto, 429, "Too many live streams open for this user; "
                                      "close a tab or try again later.", cors, retry_after=30)
        conn = Conn(self, user_id, token_id, last_id,
                    time.monotonic() + self.max_age * random.uniform(0.9, 1.0))
        try:
            conn.transport = proto.response_stream(200, [*STREAM_HEADERS, *cors])
        except Exception:
            return  # the client went away while its stream was opened
        # A client that left is noticed at the next write (a heartbeat at the latest),
        # not by watching each connection: that watch cost 5 KB a stream, measured.
        self.subs[user_id].add(conn)
        self.count += 1
        metrics.LIVE_STREAMS.inc()
        if conn.push(retry_hint(1000, 5000) + b": connected\n\n", self.buffer_limit):
            self.wake(user_id)  # anything after Last-Event-ID, at once
        # This coroutine ends here; the stream lives on in ``conn`` (see Conn).

    def _forget(self, conn: Conn) -> None:
        """A stream has ended (closed here, or its client went away)."""
        subs = self.subs.get(conn.user_id)
        if subs is not None:
            subs.discard(conn)
            if not subs:
                del self.subs[conn.user_id]
        self.count -= 1
        metrics.LIVE_STREAMS.dec()
