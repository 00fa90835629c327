"""Retention: events and tracked emails older than RETENTION_DAYS (90) are deleted,
by the running server (hourly) and by ``engage purge``."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from . import insights_rollup
from .causes import OutageLog
from .extensions import db
from .models import Event, Link, Message, SelfView, SenderAddress, Thread, utcnow

log = logging.getLogger(__name__)


@dataclass
class PurgeResult:
    events: int
    messages: int
    threads: int

    def __str__(self) -> str:
        return f"purged {self.events} events, {self.messages} emails, {self.threads} threads"


def purge(days: int, now: datetime | None = None) -> PurgeResult:
    cutoff = (now or utcnow()) - timedelta(days=days)
    old_messages = sa.select(Message.id).where(Message.sent_at < cutoff)
    insights_rollup.purge(db.session.connection(), cutoff)
    events = db.session.execute(
        sa.delete(Event).where(sa.or_(Event.at < cutoff, Event.message_id.in_(old_messages)))
    ).rowcount
    purged_links = db.session.execute(sa.select(Link.token).where(Link.message_id.in_(old_messages))).scalars().all()
    db.session.execute(sa.delete(Link).where(Link.message_id.in_(old_messages)))
    messages = db.session.execute(sa.delete(Message).where(Message.sent_at < cutoff)).rowcount
    empty = sa.select(Thread.id).where(~sa.exists().where(Message.thread_id == Thread.id))
    db.session.execute(sa.delete(SelfView).where(sa.or_(SelfView.at < cutoff, SelfView.thread_id.in_(empty))))
    threads = db.session.execute(
        sa.delete(Thread).where(Thread.id.in_(empty)).execution_options(synchronize_session=False)
    ).rowcount
    db.session.execute(sa.delete(SenderAddress).where(SenderAddress.last_seen < cutoff))
    db.session.commit()
    # This process's link cache forgets them now; the others within LinkCache.RECHECK_SECONDS.
    current_app.extensions["engage"].links.forget(purged_links)
    return PurgeResult(events or 0, messages or 0, threads or 0)


def start_retention_thread(app) -> threading.Thread:
    def loop() -> None:
        stop = app.extensions.setdefault("engage_stop", threading.Event())
        outage = OutageLog(log, "retention: purge failed")
        while not stop.wait(app.config["RETENTION_INTERVAL_SECONDS"]):
            try:
                with app.app_context():
                    result = purge(app.config["RETENTION_DAYS"])
                    if result.events or result.messages:
                        log.info("retention: %s", result)
                outage.recovered()
            except Exception as err:
                outage.failed(err, app.config["RETENTION_INTERVAL_SECONDS"])

    t = threading.Thread(target=loop, name="engage-retention", daemon=True)
    t.start()
    return t
