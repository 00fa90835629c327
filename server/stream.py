"""Live delivery of new events to the sender's panels (server-sent events), for
streams held in WSGI threads (``flask run``, tests). ``engage serve`` holds them on
an event loop instead (server/stream_hub.py); publishing is the same for both.

Every process keeps its subscribers. A new event wakes them in three ways:
in the same process at once; across processes on PostgreSQL through
LISTEN/NOTIFY (sent inside the hit's transaction, so delivered on commit);
across processes on SQLite by watching the newest event id a few times a second.
Subscribers then read their own new events from the database, so a wake-up that
is missed or spurious costs nothing but a query."""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict

import sqlalchemy as sa

from . import metrics
from .causes import OutageLog

log = logging.getLogger(__name__)
CHANNEL = "engage_events"


class Subscription:
    def __init__(self, broker: "Broker", user_id: int):
        self.broker, self.user_id = broker, user_id
        self._flag = threading.Event()

    def wake(self) -> None:
        self._flag.set()

    def wait(self, timeout: float) -> bool:
        woke = self._flag.wait(timeout)
        self._flag.clear()
        return woke

    def close(self) -> None:
        self.broker._remove(self)


class Broker:
    def __init__(self, app):
        self.app = app
        self._subs: dict[int, set[Subscription]] = defaultdict(set)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.poll_interval = 0.2
        self.hub = None  # server/stream_hub.Hub, when this process runs one

    @property
    def is_postgres(self) -> bool:
        return self.app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")

    # -- publishing -------------------------------------------------------------
    def publish_in_transaction(self, session, user_id: int, event_id: int) -> None:
        if self.is_postgres:
            session.execute(
                sa.text("SELECT pg_notify(:c, :p)"), {"c": CHANNEL, "p": f"{user_id}:{event_id}"}
            )

    def published_locally(self, user_id: int) -> None:
        self._wake(user_id)
        if self.hub is not None:  # this process also serves streams on its event loop
            self.hub.wake_from_thread(user_id)

    def _wake(self, user_id: int | None) -> None:
        with self._lock:
            if user_id is None:
                targets = [s for subs in self._subs.values() for s in subs]
            else:
                targets = list(self._subs.get(user_id, ()))
        for sub in targets:
            sub.wake()

    # -- subscribing ------------------------------------------------------------
    def active(self) -> int:
        with self._lock:
            return sum(len(subs) for subs in self._subs.values())

    def subscribe(self, user_id: int, limit: int | None = None, per_user: int | None = None):
        """A new subscription; None when this process already holds ``limit`` streams
        (each holds a server thread; the pixel must always find one free); "user" when
        this user already holds ``per_user`` of them (one user must not take them all)."""
        sub = Subscription(self, user_id)
        with self._lock:
            if limit is not None and sum(len(subs) for subs in self._subs.values()) >= limit:
                return None
            if per_user is not None and len(self._subs.get(user_id, ())) >= per_user:
                return "user"
            self._subs[user_id].add(sub)
            metrics.LIVE_STREAMS.inc()
            if self._thread is None or not self._thread.is_alive():
                target = self._listen_postgres if self.is_postgres else self._poll_sqlite
                self._thread = threading.Thread(target=target, name="engage-stream", daemon=True)
                self._thread.start()
        return sub

    def _remove(self, sub: Subscription) -> None:
        with self._lock:
            subs = self._subs.get(sub.user_id)
            if subs is not None and sub in subs:
                metrics.LIVE_STREAMS.dec()
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[sub.user_id]

    def stop(self) -> None:
        self._stop.set()

    # -- cross-process wake-ups ---------------------------------------------------
    def _poll_sqlite(self) -> None:
        from .extensions import db
        from .models import Event

        unread = object()  # distinct from None, which means "no events yet"
        last = unread
        outage = OutageLog(log, "stream: could not read the newest event id")
        with self.app.app_context():
            while not self._stop.is_set():
                try:
                    newest = db.session.execute(sa.select(sa.func.max(Event.id))).scalar()
                    db.session.rollback()
                    outage.recovered()
                    if last is not unread and newest != last:
                        self._wake(None)
                    last = newest
                except Exception as err:
                    db.session.rollback()
                    outage.failed(err, self.poll_interval)
                time.sleep(self.poll_interval)

    def _listen_postgres(self) -> None:
        import psycopg

        url = self.app.config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg://", "postgresql://")
        outage = OutageLog(log, "stream: LISTEN connection lost")
        while not self._stop.is_set():
            try:
                with psycopg.connect(url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    outage.recovered()
                    self._wake(None)  # anything missed while (re)connecting
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=1.0):
                            user_id, _, _ = note.payload.partition(":")
                            self._wake(int(user_id) if user_id.isdigit() else None)
            except Exception as err:
                outage.failed(err, 1.0)
                time.sleep(1.0)
