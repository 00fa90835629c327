"""The panel's thread list in SQL: the same rules as client_py's panel model, applied
in the database so a heavy user's first page costs what a light user's does.

Rules mirrored from client_py (tests/server/test_panel_api.py checks the two agree):
category (``pinned`` = the user's pin, else tracked by hand), the display window
(the later of last trigger and last send), search and filters (one email must match them all).
Text matching, periods and domains use client_py's own helpers."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from client_py.panel import window_days
from client_py.recipients import normalize_domain
from client_py.search import PanelQuery, period_start, query_terms

from .extensions import db
from .models import Message, Thread, as_dict_time


def _like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def pinned_expr():
    return sa.func.coalesce(Thread.pinned, Thread.has_manual)


def window_expr(settings: dict, now: datetime):
    cutoff = now - timedelta(days=window_days(settings))
    # last_activity_at is the later of the last trigger and the last send (client_py's rule).
    return Thread.last_activity_at >= cutoff


def message_filter(query: PanelQuery, settings: dict, now: datetime):
    """An EXISTS clause: some email of the thread passes every filter, or None."""
    conds = []
    start = period_start(query.period, now, settings.get("time_zone"))
    if start is not None:
        conds.append(Message.sent_at >= start)
    if query.sequence is not None:
        conds.append(Message.sequence == query.sequence)
    if query.step is not None:
        conds.append(Message.step == query.step)
    if query.domain:
        d = _like_escape(normalize_domain(query.domain))
        conds.append(sa.or_(Message.domains.like(f"%,{d},%", escape="\\"),
                            Message.domains.like(f"%.{d},%", escape="\\")))
    for term in query_terms(query.text):
        conds.append(Message.search_key.like(f"%{_like_escape(term)}%", escape="\\"))
    if not conds:
        return None
    return sa.exists().where(Message.thread_id == Thread.id, *conds)


EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
ONE_MICROSECOND = timedelta(microseconds=1)


def encode_time_cursor(at: datetime, row_id: int) -> str:
    """A keyset cursor ``(at, id)``: ``<microseconds since 1970>_<id>``, the form
    server/api/openapi_rules.py's ``CURSOR`` documents. The time keeps its
    microseconds: the API's millisecond times would skip the rows whose time falls
    within the same millisecond as the page's last row but after it."""
    return f"{(at.astimezone(timezone.utc) - EPOCH) // ONE_MICROSECOND}_{row_id}"


def encode_cursor(thread: Thread) -> str:
    return encode_time_cursor(thread.last_activity_at, thread.id)


def decode_cursor(cursor: str):
    """(aware UTC time, id) of a cursor the query schema has checked against ``CURSOR``:
    any such pair is a position in the list."""
    micros, _, row_id = cursor.partition("_")
    return EPOCH + int(micros) * ONE_MICROSECOND, int(row_id)


def page_of_threads(user_id: int, query: PanelQuery, category: str, settings: dict, now: datetime,
                    limit: int, cursor: str | None) -> tuple[list[Thread], str | None]:
    stmt = sa.select(Thread).where(Thread.user_id == user_id, window_expr(settings, now))
    if category == "pinned":
        stmt = stmt.where(pinned_expr().is_(True))
    elif category == "other":
        stmt = stmt.where(pinned_expr().is_(False))
    exists = message_filter(query, settings, now)
    if exists is not None:
        stmt = stmt.where(exists)
    if cursor:
        at, tid = decode_cursor(cursor)
        stmt = stmt.where(sa.or_(Thread.last_activity_at < at,
                                 sa.and_(Thread.last_activity_at == at, Thread.id < tid)))
    stmt = stmt.order_by(Thread.last_activity_at.desc(), Thread.id.desc()).limit(limit + 1)
    rows = list(db.session.execute(stmt).scalars())
    next_cursor = encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


def unread_count(user_id: int, settings: dict, now: datetime) -> int:
    """The counter, counted in SQL (a heavy user has thousands of threads in the
    window): client_py.panel.is_unread's rule, mirrored; tests/server/test_panel_api.py
    checks the two agree on the same data."""
    from client_py.times import parse_optional

    conds = [
        Thread.user_id == user_id,
        Thread.last_engagement_at.is_not(None),
        window_expr(settings, now),
        sa.or_(Thread.viewed_at.is_(None), Thread.last_engagement_at > Thread.viewed_at),
    ]
    reset = parse_optional(settings.get("counter_reset_at"))
    if reset is not None:
        conds.append(Thread.last_engagement_at > reset)
    if settings.get("notify_on_open"):
        conds.append(sa.or_(pinned_expr().is_(True), Thread.has_auto_external.is_(True)))
    else:
        conds.append(pinned_expr().is_(True))
    return db.session.execute(sa.select(sa.func.count(Thread.id)).where(*conds)).scalar_one()


def hidden_by_window(user_id: int, settings: dict, now: datetime) -> int:
    """How many of the user's threads the display window hides (the panel says so)."""
    return db.session.execute(
        sa.select(sa.func.count(Thread.id)).where(Thread.user_id == user_id, ~window_expr(settings, now))
    ).scalar_one()
