"""The insights' sums, kept as the events change: so a period's figures read a few
hundred rows (the hours of the period), not every event of thousands of emails.

* ``insight_hours``: answered hits per (user, UTC hour, kind, verdict, the recipient's
  local weekday and hour). The local time is set for counted opens with a place whose
  zone is known (server/place_zones.py), -1 otherwise.
* ``messages.first_open_after``, ``first_click_at``, ``engaged``: the seconds from
  sending to each email's first counted open, its first counted click, and how many
  of its events count (all in ``ix_messages_user_sent``: a period's sums are read
  from the index alone).

The writer (hitpath/record.py) adds the difference each settle makes (an inserted
event +1 on its key, a re-filed one -1 on the old key and +1 on the new, a taken-back
implied open -1) and sets the email's columns from its whole decided history, in the
batch's transaction. :func:`rebuild_with` computes both from the stored events (the
migration that adds them, and ``bench/``'s bulk-loaded data); tests check that the
writer's sums equal a rebuild."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Iterable, Optional
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from client_py.model import ENGAGEMENT_VERDICTS

from .place_zones import place_zone

COUNTED = frozenset(ENGAGEMENT_VERDICTS)

_meta = sa.MetaData()
# Plain table descriptions (not the ORM models), so the migration can use them on its
# bare connection. Times are naive UTC, as the UTCDateTime columns store them.
HOURS = sa.Table("insight_hours", _meta, sa.Column("user_id", sa.Integer), sa.Column("hour", sa.DateTime),
                 sa.Column("kind", sa.String), sa.Column("verdict", sa.String), sa.Column("local_dow", sa.SmallInteger),
                 sa.Column("local_hour", sa.SmallInteger), sa.Column("n", sa.Integer))
_EVENTS = sa.Table("events", _meta, sa.Column("id", sa.Integer), sa.Column("user_id", sa.Integer),
                   sa.Column("message_id", sa.Integer), sa.Column("kind", sa.String), sa.Column("at", sa.DateTime),
                   sa.Column("verdict", sa.String), sa.Column("country", sa.String), sa.Column("region", sa.String),
                   sa.Column("implied", sa.Boolean))
_MESSAGES = sa.Table("messages", _meta, sa.Column("id", sa.Integer), sa.Column("user_id", sa.Integer),
                     sa.Column("sent_at", sa.DateTime),
                     sa.Column("first_open_after", sa.Integer), sa.Column("first_click_at", sa.DateTime),
                     sa.Column("engaged", sa.Integer))
KEY = ("user_id", "hour", "kind", "verdict", "local_dow", "local_hour")


def _naive_utc(at: datetime) -> datetime:
    return at.astimezone(timezone.utc).replace(tzinfo=None) if at.tzinfo else at


def key(user_id: int, kind: str, at: datetime, verdict: str, country: Optional[str], region: Optional[str]) -> tuple:
    """The ``insight_hours`` row an event counts in; an implied open (a click that
    showed the email was opened) has the kind ``implied``: an open, but not a hit."""
    utc = _naive_utc(at)
    hour = utc.replace(minute=0, second=0, microsecond=0)
    dow = local = -1
    if kind in ("open", "implied") and verdict in COUNTED:
        tz = place_zone(country, region)
        if tz is not None:
            there = utc.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(tz))
            dow, local = there.weekday(), there.hour
    return (user_id, hour, kind, verdict, dow, local)


def _upsert(conn, deltas: Iterable[tuple[tuple, int]]) -> None:
    rows = [dict(zip(KEY, k), n=n) for k, n in deltas if n]
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    stmt = insert(HOURS)
    stmt = stmt.on_conflict_do_update(index_elements=list(KEY), set_={"n": HOURS.c.n + stmt.excluded.n})
    for i in range(0, len(rows), 500):
        conn.execute(stmt, rows[i:i + 500])


def apply(session, deltas: Counter) -> None:
    """Add the writer's differences to ``insight_hours`` (in the caller's transaction)."""
    _upsert(session.connection(), sorted(deltas.items()))


def set_messages(session, summaries: dict[int, tuple]) -> None:
    """``{message id: (seconds to the first open, first click, engaged)}`` onto the emails."""
    if not summaries:
        return
    stmt = (_MESSAGES.update().where(_MESSAGES.c.id == sa.bindparam("mid"))
            .values(first_open_after=sa.bindparam("fo"), first_click_at=sa.bindparam("fc"), engaged=sa.bindparam("en")))
    session.connection().execute(stmt, [
        {"mid": mid, "fo": fo, "fc": _naive_utc(fc) if fc else None, "en": en}
        for mid, (fo, fc, en) in sorted(summaries.items())])


def _grouped(conn, where) -> Counter:
    """The events under ``where`` summed by their ``insight_hours`` key (rows read in
    groups of the same place and minute, never one by one)."""
    e = _EVENTS.c
    rows = conn.execute(sa.select(e.user_id, e.kind, e.implied, e.at, e.verdict, e.country, e.region, sa.func.count())
                        .where(where)
                        .group_by(e.user_id, e.kind, e.implied, e.at, e.verdict, e.country, e.region))
    out: Counter = Counter()
    for user_id, kind, implied, at, verdict, country, region, n in rows:
        out[key(user_id, "implied" if implied else kind, at, verdict, country, region)] += n
    return out


def rebuild_with(conn, user_ids: Optional[list[int]] = None) -> None:
    """``insight_hours`` and the emails' columns from the stored events (all users, or
    these), replacing what was there."""
    e, m = _EVENTS.c, _MESSAGES.c
    only = (lambda col: col.in_(user_ids)) if user_ids else (lambda col: sa.true())
    conn.execute(HOURS.delete().where(only(HOURS.c.user_id)))
    _upsert(conn, sorted(_grouped(conn, only(e.user_id)).items()))
    counted = e.verdict.in_(sorted(COUNTED))

    def first(kind):
        return (sa.select(sa.func.min(e.at)).where(e.message_id == m.id, e.kind == kind, counted)
                .scalar_subquery())

    if conn.dialect.name == "sqlite":
        after = sa.cast(sa.func.round((sa.func.julianday(first("open")) - sa.func.julianday(m.sent_at)) * 86400), sa.Integer)
        after = sa.func.max(after, 0)
    else:
        after = sa.func.greatest(sa.cast(sa.extract("epoch", first("open") - m.sent_at), sa.Integer), 0)
    after = sa.case((first("open").is_(None), None), else_=after)  # PostgreSQL's greatest() skips NULLs
    conn.execute(_MESSAGES.update().where(only(m.user_id)).values(
        first_open_after=after, first_click_at=first("click"),
        engaged=sa.select(sa.func.count()).where(e.message_id == m.id, counted).scalar_subquery()))


def purge(conn, cutoff: datetime) -> None:
    """Before retention deletes what is older than ``cutoff``: the hours before it go,
    and the later events of emails sent before it are taken out of their hours."""
    cut = _naive_utc(cutoff)
    old = sa.select(_MESSAGES.c.id).where(_MESSAGES.c.sent_at < cut)
    gone = _grouped(conn, sa.and_(_EVENTS.c.at >= cut, _EVENTS.c.message_id.in_(old)))
    _upsert(conn, sorted((k, -n) for k, n in gone.items()))
    conn.execute(HOURS.delete().where(HOURS.c.hour < cut.replace(minute=0, second=0, microsecond=0)))
