"""The events of the panel's threads, counted in SQL and listed a few at a time.

``GET /api/v1/threads`` returned every event of every thread on the page: anyone who
holds a pixel URL can add events to an email, and 200,000 of them made one page a
42 MB answer. Now a page carries each thread's latest ``EVENTS_PER_THREAD`` events and
what all of them add up to (client_py.panel.build_threads' ``totals``: the counts, the
devices, the places); ``GET /api/v1/threads/<id>/events`` pages through the rest."""

from __future__ import annotations

import sqlalchemy as sa

from client_py.model import ENGAGEMENT_VERDICTS
from client_py.present import location_label

from .extensions import db
from .models import Event, Link, Message, as_dict_time
from .panel_query import decode_cursor, encode_time_cursor
from .serialize import event_data

EVENTS_PER_THREAD = 20
_ENGAGED = Event.verdict.in_(sorted(ENGAGEMENT_VERDICTS))


def latest_events(thread_pks: list[int], public: dict[int, str], per_thread: int = EVENTS_PER_THREAD) -> list[dict]:
    """The latest ``per_thread`` events of each thread, newest first (one query)."""
    rank = sa.func.row_number().over(partition_by=Message.thread_id,
                                     order_by=(Event.at.desc(), Event.id.desc())).label("rank")
    ranked = (sa.select(Event.id.label("event_id"), rank).join(Message, Message.id == Event.message_id)
              .where(Message.thread_id.in_(thread_pks)).subquery())
    rows = db.session.execute(
        sa.select(Event, Link.url).join(ranked, ranked.c.event_id == Event.id)
        .outerjoin(Link, Link.id == Event.link_id).where(ranked.c.rank <= per_thread)
    ).all()
    return [event_data(e, public[e.message_id], url) for e, url in rows]


def totals(thread_pks: list[int], client_ids: dict[int, str]) -> dict[str, dict]:
    """What every event of each thread adds up to, keyed by the client's thread id."""
    out = {client_ids[pk]: {"opens": 0, "clicks": 0, "events_total": 0, "devices": [], "places": [],
                            "last_engagement_at": None, "last_triggered_at": None} for pk in thread_pks}
    engaged = sa.case((_ENGAGED, 1), else_=0)
    counts = db.session.execute(
        sa.select(Message.thread_id, sa.func.count(Event.id),
                  sa.func.sum(sa.case((sa.and_(_ENGAGED, Event.kind == "click"), 1), else_=0)),
                  sa.func.sum(engaged), sa.func.max(Event.at),
                  sa.func.max(sa.case((_ENGAGED, Event.at), else_=None)))
        .join(Message, Message.id == Event.message_id).where(Message.thread_id.in_(thread_pks))
        .group_by(Message.thread_id)).all()
    for pk, total, clicks, counted, last_at, last_engaged in counts:
        entry = out[client_ids[pk]]
        entry.update(events_total=total, clicks=int(clicks or 0), opens=int(counted or 0) - int(clicks or 0),
                     last_triggered_at=_iso(last_at), last_engagement_at=_iso(last_engaged))
    for pk, device in db.session.execute(
            sa.select(Message.thread_id, Event.device).distinct().join(Message, Message.id == Event.message_id)
            .where(Message.thread_id.in_(thread_pks), _ENGAGED)):
        out[client_ids[pk]]["devices"].append(device or "unknown")
    places = db.session.execute(
        sa.select(Message.thread_id, Event.verdict, Event.country, Event.region, Event.city, sa.func.max(Event.at))
        .join(Message, Message.id == Event.message_id).where(Message.thread_id.in_(thread_pks), _ENGAGED)
        .group_by(Message.thread_id, Event.verdict, Event.country, Event.region, Event.city)).all()
    for pk, verdict, country, region, city, at in sorted(places, key=lambda r: _iso(r[5]) or "", reverse=True):
        label = location_label({"verdict": verdict, "country": country, "region": region, "city": city})
        if label not in out[client_ids[pk]]["places"]:
            out[client_ids[pk]]["places"].append(label)
    return out


def _iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite hands back MAX() of a DateTime column as text
        from client_py.times import parse_time

        value = parse_time(value)
    return as_dict_time(value)


def page_of_events(thread_pk: int, limit: int, cursor: str | None) -> tuple[list[dict], str | None]:
    """A thread's events, newest first, ``limit`` at a time, after ``cursor``."""
    stmt = (sa.select(Event, Link.url, Message.public_id).join(Message, Message.id == Event.message_id)
            .outerjoin(Link, Link.id == Event.link_id).where(Message.thread_id == thread_pk))
    if cursor:
        at, event_id = decode_cursor(cursor)
        stmt = stmt.where(sa.or_(Event.at < at, sa.and_(Event.at == at, Event.id < event_id)))
    rows = db.session.execute(stmt.order_by(Event.at.desc(), Event.id.desc()).limit(limit + 1)).all()
    events = [event_data(e, public_id, url) for e, url, public_id in rows[:limit]]
    last = rows[limit - 1][0] if len(rows) > limit else None
    return events, (encode_time_cursor(last.at, last.id) if last is not None else None)
