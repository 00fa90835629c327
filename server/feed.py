"""The activity feed: every tracked email's events and replies in one stream, newest
first, a page at a time (``GET /api/v1/feed``). The words are client_py.feed's.

The sender's own views (``self``) and repeats (``duplicate``) are left out: they are
nobody's activity. Machine opens (Apple MPP, Gmail's prefetcher, scanners) are listed
as such. The cursor is the last item's (time, source, id), so events and replies at the
same millisecond are neither skipped nor repeated between pages."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from client_py.feed import item_kind
from client_py.present import location_label

from .extensions import db
from .models import Event, Link, Message, Reply, Thread, as_dict_time

HIDDEN_VERDICTS = ("self", "duplicate")
EVENT, REPLY = 1, 0  # sources, in the cursor's order (events first at the same time)
# The cursor's form, for the query schema (server/api/openapi_rules.py's CURSOR plus the source).
CURSOR = rf"[0-9]{{1,17}}_[{REPLY}{EVENT}]_(?:0|{{id}})"


EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
ONE_MICROSECOND = timedelta(microseconds=1)


def encode(at: datetime, source: int, row_id: int) -> str:
    """``<microseconds since 1970>_<source>_<id>``: the form ``CURSOR`` below documents."""
    return f"{(at.astimezone(timezone.utc) - EPOCH) // ONE_MICROSECOND}_{source}_{row_id}"


def decode(cursor: str) -> tuple[datetime, int, int]:
    """(aware UTC time, source, id) of a cursor the query schema checked against ``CURSOR``."""
    micros, source, row_id = cursor.split("_")
    return EPOCH + int(micros) * ONE_MICROSECOND, int(source), int(row_id)


def _before(column_at, column_id, source: int, cursor):
    at, cur_source, cur_id = cursor
    same_time = sa.and_(column_at == at, sa.or_(source < cur_source,
                                                 sa.and_(source == cur_source, column_id < cur_id)))
    return sa.or_(column_at < at, same_time)


def page_of_feed(user_id: int, limit: int, cursor: str | None, since: datetime | None = None):
    """(items, next cursor): the user's activity, newest first."""
    after = decode(cursor) if cursor else None
    events = (sa.select(Event, Message, Thread.client_thread_id, Link.url)
              .join(Message, Message.id == Event.message_id).join(Thread, Thread.id == Message.thread_id)
              .outerjoin(Link, Link.id == Event.link_id)
              .where(Event.user_id == user_id, Event.verdict.not_in(HIDDEN_VERDICTS)))
    replies = (sa.select(Reply, Thread).join(Thread, Thread.id == Reply.thread_id).where(Reply.user_id == user_id))
    if after:
        events = events.where(_before(Event.at, Event.id, EVENT, after))
        replies = replies.where(_before(Reply.at, Reply.id, REPLY, after))
    if since:
        events, replies = events.where(Event.at >= since), replies.where(Reply.at >= since)
    rows = [(e.at, EVENT, e.id, ("event", e, m, tid, url)) for e, m, tid, url in db.session.execute(
        events.order_by(Event.at.desc(), Event.id.desc()).limit(limit + 1))]
    rows += [(r.at, REPLY, r.id, ("reply", r, t)) for r, t in db.session.execute(
        replies.order_by(Reply.at.desc(), Reply.id.desc()).limit(limit + 1))]
    rows.sort(key=lambda row: row[:3], reverse=True)
    page = rows[:limit]
    items = [_item(row[3]) for row in page]
    _fill_reply_subjects(items)
    next_cursor = encode(*page[-1][:3]) if len(rows) > limit else None
    return items, next_cursor


def _people(recipients) -> list[dict]:
    return [{"name": r.get("name", ""), "address": r["address"]} for r in recipients or ()]


def _item(row) -> dict:
    if row[0] == "reply":
        _, reply, thread = row
        return {"id": f"r{reply.id}", "kind": "reply", "verdict": None, "at": as_dict_time(reply.at),
                "thread_id": thread.client_thread_id, "subject": thread.subject, "thread_pk": thread.id,
                "who": {"name": reply.from_name, "address": reply.from_address}, "recipients": [],
                "location": None, "device": None, "url": None}
    _, event, message, thread_id, url = row
    data = {"verdict": event.verdict, "country": event.country, "region": event.region, "city": event.city}
    recipients = _people(message.recipients)
    return {"id": f"e{event.id}", "kind": item_kind(event.kind, event.verdict), "verdict": event.verdict,
            "at": as_dict_time(event.at), "thread_id": thread_id, "subject": message.subject,
            "who": recipients[0] if len(recipients) == 1 else None, "recipients": recipients,
            "location": location_label(data), "device": event.device, "url": url}


def _fill_reply_subjects(items: list[dict]) -> None:
    """A reply's subject and recipients are its thread's latest tracked email's."""
    pks = {item.pop("thread_pk") for item in items if "thread_pk" in item}
    if not pks:
        return
    latest: dict[int, Message] = {}
    stmt = sa.select(Message).where(Message.thread_id.in_(pks)).order_by(Message.sent_at)
    for m in db.session.execute(stmt).scalars():
        latest[m.thread_id] = m
    by_thread = {m.thread.client_thread_id: m for m in latest.values()}
    for item in items:
        m = by_thread.get(item["thread_id"])
        if item["kind"] == "reply" and m is not None:
            item["subject"] = m.subject or item["subject"]
            item["recipients"] = _people(m.recipients)
