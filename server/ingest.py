"""From spooled hit records to stored events, in batches.

A record: ``{"hit_id", "kind": "open"|"click", "token", "method", "ip", "ua",
"headers", "at"}``. Unknown tokens are dropped here (the recipient got the image
anyway). One transaction per batch; a record that fails on its own is logged and
skipped so it cannot block the ones behind it, but a database that is down
fails the whole batch, to be retried."""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from .extensions import db
from .recorder import HitInput, record_hits, wake_streams
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
            sa.select(Link).options(selectinload(Link.message))  # one query, not one per link
            .where(Link.token.in_(link_tokens))).scalars()}
    return messages, links


def _inputs(records: list[dict], messages: dict, links: dict) -> list[HitInput]:
    out = []
    for record in records:
        link = None
        if record["kind"] == "open":
            message = messages.get(record["token"])
        else:
            link = links.get(record["token"])
            message = link.message if link is not None else None
        if message is None:
            continue  # an unknown token: the recipient got the image, nothing to record
        out.append(HitInput(message=message, kind=record["kind"], method=record["method"], ip=record["ip"],
                            user_agent=record["ua"], headers=record.get("headers") or {}, at=record["at"],
                            link=link, hit_id=record["hit_id"]))
    return out


def ingest(records: list[dict]) -> int:
    """Store the records not stored yet; returns how many hits were stored."""
    if not records:
        return 0
    ids = [r["hit_id"] for r in records]
    known = set(db.session.execute(sa.select(Event.hit_id).where(Event.hit_id.in_(ids))).scalars())
    fresh = [r for r in records if r["hit_id"] not in known]
    if not fresh:
        db.session.rollback()
        return 0
    try:
        hits = record_hits(_inputs(fresh, *_targets(fresh)))
        db.session.commit()
    except Exception:
        db.session.rollback()
        db.session.execute(sa.text("SELECT 1"))  # raises if the database is down: retry later
        db.session.rollback()
        log.warning("ingest: a batch failed; storing its hits one by one", exc_info=True)
        hits = _one_by_one(fresh)
    _refile_raced_proxy_hits(hits)
    wake_streams(hits)
    return len(hits)


def _refile_raced_proxy_hits(hits: list[HitInput]) -> None:
    """A proxy load stored while the sender's "I am viewing it" report was being
    committed may have missed it: look again now that both are committed."""
    threads = {h.thread_id for h in hits
               if any(getattr(e, "verdict", None) in ("gmail", "outlook") for e in h.events)}
    if threads:
        from .hits import refile_proxy_hits

        refile_proxy_hits(threads, since=min(h.at for h in hits) - timedelta(seconds=1),
                          until=max(h.at for h in hits) + timedelta(seconds=1))


def _one_by_one(records: list[dict]) -> list[HitInput]:
    stored: list[HitInput] = []
    for record in records:
        try:
            hits = record_hits(_inputs([record], *_targets([record])))
            db.session.commit()
            stored += hits
        except sa.exc.IntegrityError:
            db.session.rollback()  # stored meanwhile by another process's replay
        except sa.exc.OperationalError:
            db.session.rollback()
            raise
        except Exception:
            db.session.rollback()
            log.exception("ingest: could not store hit %s; skipped", record.get("hit_id"))
    return stored
