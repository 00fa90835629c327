"""From spooled hit records to stored events, in batches.

A record: ``{"hit_id", "kind": "open"|"click", "token", "method", "ip", "ua",
"headers", "at"}``. Unknown tokens are dropped here (the recipient got the image
anyway). One transaction per batch; a record that fails on its own is logged and
skipped so it cannot block the ones behind it, but a database that is down
fails the whole batch, to be retried."""

from __future__ import annotations

import logging

import sqlalchemy as sa

from . import services
from .extensions import db
from .hits import record_hit
from .models import Event, Link, Message

log = logging.getLogger(__name__)


def _targets(records: list[dict]):
    pixel_tokens = {r["token"] for r in records if r["kind"] == "open"}
    link_tokens = {r["token"] for r in records if r["kind"] == "click"}
    messages = {}
    links = {}
    if pixel_tokens:
        messages = {m.pixel_token: m for m in db.session.execute(
            sa.select(Message).where(Message.pixel_token.in_(pixel_tokens))).scalars()}
    if link_tokens:
        links = {l.token: l for l in db.session.execute(
            sa.select(Link).where(Link.token.in_(link_tokens))).scalars()}
    return messages, links


def _store(record: dict, messages: dict, links: dict) -> int | None:
    link = None
    if record["kind"] == "open":
        message = messages.get(record["token"])
    else:
        link = links.get(record["token"])
        message = link.message if link is not None else None
    if message is None:
        return None
    record_hit(message=message, kind=record["kind"], method=record["method"], ip=record["ip"],
               user_agent=record["ua"], headers=record.get("headers") or {}, link=link,
               at=record["at"], hit_id=record["hit_id"], commit=False)
    return message.user_id


def ingest(records: list[dict]) -> int:
    """Store the records not stored yet; returns how many events were added."""
    if not records:
        return 0
    ids = [r["hit_id"] for r in records]
    known = set(db.session.execute(sa.select(Event.hit_id).where(Event.hit_id.in_(ids))).scalars())
    fresh = [r for r in records if r["hit_id"] not in known]
    if not fresh:
        db.session.rollback()
        return 0
    users: set[int] = set()
    try:
        messages, links = _targets(fresh)
        for record in fresh:
            user = _store(record, messages, links)
            if user is not None:
                users.add(user)
        db.session.commit()
    except Exception:
        db.session.rollback()
        db.session.execute(sa.text("SELECT 1"))  # raises if the database is down: retry later
        db.session.rollback()
        log.warning("ingest: a batch failed; storing its hits one by one", exc_info=True)
        users = _one_by_one(fresh)
    broker = services.get().broker
    for user in users:
        broker.published_locally(user)
    return len(fresh)


def _one_by_one(records: list[dict]) -> set[int]:
    users: set[int] = set()
    for record in records:
        try:
            messages, links = _targets([record])
            user = _store(record, messages, links)
            db.session.commit()
            if user is not None:
                users.add(user)
        except sa.exc.IntegrityError:
            db.session.rollback()  # stored meanwhile by another process's replay
        except sa.exc.OperationalError:
            db.session.rollback()
            raise
        except Exception:
            db.session.rollback()
            log.exception("ingest: could not store hit %s; skipped", record.get("hit_id"))
    return users
