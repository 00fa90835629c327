"""The insights' sums, kept as the events change: so a period's figures read a few
hundred rows (the hours of the period), not every event of thousands of emails.

* ``insight_hours``: answered hits per (user, UTC hour, kind, verdict, the recipient's
  local weekday and hour). The local time is set for counted opens with a place whose
  zone is known (server/place_zones.py), -1 otherwise.
* ``messages.first_open_after``, ``first_click_at``, ``engaged``: the seconds from
  sending to each email's first counted open, its first counted click, and how many
  of its events count (all in ``ix_messages_user_sent``: a period's sums are read
  from the index alone).

* ``insight_hit_days``: ``insight_hours`` summed per UTC day (hits by kind and
  verdict; counted opens by local cell; counted opens by UTC hour), and
  ``insight_email_days``: the emails sent per day (totals, per recipient domain, per
  delay bucket of the first open). A period reads its whole days there, and its
  partial first and last days from ``insight_hours`` and ``messages`` (or as the
  day's sums minus the part outside: server/insights_query._plan).

The writer (hitpath/record.py) adds the difference each settle makes (an inserted
event +1 on its key, a re-filed one -1 on the old key and +1 on the new, a taken-back
implied open -1) and sets the email's columns from its whole decided history, in the
batch's transaction. :func:`rebuild_with` computes both from the stored events (the
migration that adds them, and ``bench/``'s bulk-loaded data); tests check that the
writer's sums equal a rebuild (:func:`rebuild_all`: both, then :func:`rebuild_days`)."""

from __future__ import annotations

from bisect import bisect_right
from functools import lru_cache
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Iterable, Optional
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from client_py.model import ENGAGEMENT_VERDICTS

from .hitpath import ids as ids_mod
from .hitpath.ids import execute_many
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
HIT_DAYS = sa.Table("insight_hit_days", _meta, sa.Column("user_id", sa.Integer), sa.Column("kind", sa.String),
                    sa.Column("day", sa.DateTime), sa.Column("verdict", sa.String),
                    sa.Column("local_dow", sa.SmallInteger), sa.Column("local_hour", sa.SmallInteger),
                    sa.Column("n", sa.Integer))
DAY_KEY = ("user_id", "kind", "day", "verdict", "local_dow", "local_hour")
EMAIL_DAYS = sa.Table("insight_email_days", _meta, sa.Column("user_id", sa.Integer), sa.Column("day", sa.DateTime),
                      sa.Column("domain", sa.String), sa.Column("bucket", sa.SmallInteger),
                      sa.Column("emails", sa.Integer), sa.Column("opened", sa.Integer),
                      sa.Column("clicked", sa.Integer), sa.Column("known", sa.Integer))
EMAIL_KEY = ("user_id", "day", "domain", "bucket")
EMAIL_SUMS = ("emails", "opened", "clicked", "known")
_MSG = sa.Table("messages", sa.MetaData(), sa.Column("id", sa.Integer), sa.Column("user_id", sa.Integer),
                sa.Column("sent_at", sa.DateTime), sa.Column("domains", sa.String), sa.Column("client", sa.String),
                sa.Column("first_open_after", sa.Integer), sa.Column("first_click_at", sa.DateTime))
REPLY_CLIENTS = ("gmail",)  # whose mail client reports replies (the Gmail extension)
# Lower bounds (seconds) of the delay buckets of the first open: four per doubling, so
# the exact median sorts one narrow bucket's emails (index ix_messages_user_delay).
BOUNDS = (0,) + tuple(sorted({round(2 ** (i / 4)) for i in range(4 * 27)}))


def bucket(seconds: int) -> int:
    return bisect_right(BOUNDS, seconds) - 1


def _day(at: datetime) -> datetime:
    return _naive_utc(at).replace(hour=0, minute=0, second=0, microsecond=0)


def day_rows(hour_key: tuple, n: int) -> list[tuple[tuple, int]]:
    """The ``insight_hit_days`` rows an ``insight_hours`` row adds to."""
    user_id, hour, kind, verdict, dow, local = hour_key
    day = hour.replace(hour=0)
    out = [((user_id, kind, day, verdict, -1, -1), n)]
    if kind in ("open", "implied") and verdict in COUNTED:
        out += [((user_id, "cell", day, "", dow, local), n), ((user_id, "hour", day, "", -1, hour.hour), n)]
    return out


def email_rows(user_id: int, sent_at: datetime, domains: Optional[str], client: Optional[str],
               first_open_after: Optional[int], first_click_at) -> list[tuple[tuple, tuple]]:
    """The ``insight_email_days`` rows (key, (emails, opened, clicked, known)) an email adds to."""
    day = _day(sent_at)
    o, c = int(first_open_after is not None), int(first_click_at is not None)
    out = [((user_id, day, "", -1), (1, o, c, int(client in REPLY_CLIENTS)))]
    out += [((user_id, day, d, -1), (1, o, c, 0)) for d in sorted({d for d in (domains or "").split(",") if d})]
    if first_open_after is not None:
        out.append(((user_id, day, "", bucket(first_open_after)), (0, 1, 0, 0)))
    return out


def _add(total: dict, rows, sign: int = 1) -> None:
    for k, v in rows:
        old = total.get(k, (0, 0, 0, 0))
        total[k] = tuple(a + sign * b for a, b in zip(old, v))


def _insert(conn):
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def _upsert_days(conn, deltas: dict) -> None:
    rows = [dict(zip(DAY_KEY, k), n=n) for k, n in sorted(deltas.items()) if n]
    if rows:
        stmt = _insert(conn)(HIT_DAYS)
        stmt = stmt.on_conflict_do_update(index_elements=list(DAY_KEY), set_={"n": HIT_DAYS.c.n + stmt.excluded.n})
        for i in range(0, len(rows), 500):
            conn.execute(stmt, rows[i:i + 500])


def _upsert_emails(conn, deltas: dict) -> None:
    rows = [dict(zip(EMAIL_KEY, k), **dict(zip(EMAIL_SUMS, v))) for k, v in sorted(deltas.items()) if any(v)]
    if rows:
        stmt = _insert(conn)(EMAIL_DAYS)
        stmt = stmt.on_conflict_do_update(index_elements=list(EMAIL_KEY), set_={
            c: getattr(EMAIL_DAYS.c, c) + getattr(stmt.excluded, c) for c in EMAIL_SUMS})
        for i in range(0, len(rows), 500):
            conn.execute(stmt, rows[i:i + 500])


def hit_day_deltas(deltas) -> Counter:
    out: Counter = Counter()
    for k, n in deltas:
        for dk, dn in day_rows(k, n):
            out[dk] += dn
    return out


def add_emails(session, emails: Iterable[tuple], sign: int = 1) -> None:
    """Emails registered (``sign`` 1) or deleted (-1): each a (user id, sent at,
    domains, client, seconds to the first open, first click)."""
    total: dict = {}
    for e in emails:
        _add(total, email_rows(*e), sign)
    _upsert_emails(session.connection(), total)


def _naive_utc(at: datetime) -> datetime:
    return at.astimezone(timezone.utc).replace(tzinfo=None) if at.tzinfo else at


@lru_cache(maxsize=None)  # a few hundred names at most (server/place_zones.py)
def _zone(name: str) -> ZoneInfo:
    """ZoneInfo keeps only the last 8 zones it made strongly: a batch over readers in
    many places read each zone's file from disk again, a third of this function's cost."""
    return ZoneInfo(name)


def key(user_id: int, kind: str, at: datetime, verdict: str, country: Optional[str], region: Optional[str]) -> tuple:
    """The ``insight_hours`` row an event counts in; an implied open (a click that
    showed the email was opened) has the kind ``implied``: an open, but not a hit."""
    utc = _naive_utc(at)
    hour = utc.replace(minute=0, second=0, microsecond=0)
    dow = local = -1
    if kind in ("open", "implied") and verdict in COUNTED:
        tz = place_zone(country, region)
        if tz is not None:
            there = utc.replace(tzinfo=timezone.utc).astimezone(_zone(tz))
            dow, local = there.weekday(), there.hour
    return (user_id, hour, kind, verdict, dow, local)


def _upsert(conn, deltas: Iterable[tuple[tuple, int]], days: bool = True) -> None:
    """Add to ``insight_hours`` and (unless ``days`` is False: migration 0010, before
    the day table exists) to ``insight_hit_days``."""
    deltas = [(k, n) for k, n in deltas if n]
    if days:
        _upsert_days(conn, hit_day_deltas(deltas))
    rows = [dict(zip(KEY, k), n=n) for k, n in deltas]
    if not rows:
        return
    stmt = _insert(conn)(HOURS)
    stmt = stmt.on_conflict_do_update(index_elements=list(KEY), set_={"n": HOURS.c.n + stmt.excluded.n})
    for i in range(0, len(rows), 500):
        conn.execute(stmt, rows[i:i + 500])


def apply(session, deltas: Counter) -> None:
    """Add the writer's differences to ``insight_hours`` (in the caller's transaction)."""
    _upsert(session.connection(), sorted(deltas.items()))


_SET_MESSAGES = (_MESSAGES.update().where(_MESSAGES.c.id == sa.bindparam("mid"))
                 .values(first_open_after=sa.bindparam("fo"), first_click_at=sa.bindparam("fc"),
                         engaged=sa.bindparam("en")))


@ids_mod.statement
def _summaries_of(d):
    m = _MSG.c
    return (sa.select(m.id, m.user_id, m.sent_at, m.domains, m.client, m.first_open_after, m.first_click_at)
            .where(ids_mod.one_of(m.id, "ids", d)))


def set_messages(session, summaries: dict[int, tuple]) -> None:
    """``{message id: (seconds to the first open, first click, engaged)}`` onto the emails."""
    if not summaries:
        return
    conn = session.connection()
    total: dict = {}
    ids = sorted(summaries)
    d = conn.dialect.name
    for i in range(0, len(ids), 500):
        for mid, uid, sent, domains, client, fo, fc in conn.execute(
                _summaries_of(d), {"ids": ids_mod.values(ids[i:i + 500], d)}):
            nfo, nfc, _ = summaries[mid]
            if (fo, fc is None) != (nfo, nfc is None):
                _add(total, email_rows(uid, sent, domains, client, fo, fc), -1)
                _add(total, email_rows(uid, sent, domains, client, nfo, nfc))
    _upsert_emails(conn, total)
    execute_many(session.connection(), _SET_MESSAGES, [
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


def rebuild_all(conn, user_ids: Optional[list[int]] = None) -> None:
    rebuild_with(conn, user_ids)
    rebuild_days(conn, user_ids)


def rebuild_days(conn, user_ids: Optional[list[int]] = None) -> None:
    """``insight_hit_days`` from ``insight_hours``, ``insight_email_days`` from the
    emails (all users, or these), replacing what was there."""
    only = (lambda col: col.in_(user_ids)) if user_ids else (lambda col: sa.true())
    conn.execute(HIT_DAYS.delete().where(only(HIT_DAYS.c.user_id)))
    conn.execute(EMAIL_DAYS.delete().where(only(EMAIL_DAYS.c.user_id)))
    h = HOURS.c
    _upsert_days(conn, hit_day_deltas(
        (tuple(r[:6]), r[6]) for r in conn.execute(
            sa.select(h.user_id, h.hour, h.kind, h.verdict, h.local_dow, h.local_hour, h.n).where(only(h.user_id)))))
    m = _MSG.c
    total: dict = {}
    for row in conn.execute(sa.select(m.user_id, m.sent_at, m.domains, m.client, m.first_open_after,
                                      m.first_click_at).where(only(m.user_id))):
        _add(total, email_rows(*row))
    _upsert_emails(conn, total)


def rebuild_with(conn, user_ids: Optional[list[int]] = None) -> None:
    """``insight_hours`` and the emails' columns from the stored events (all users, or
    these), replacing what was there (not the day tables: :func:`rebuild_days`)."""
    e, m = _EVENTS.c, _MESSAGES.c
    only = (lambda col: col.in_(user_ids)) if user_ids else (lambda col: sa.true())
    conn.execute(HOURS.delete().where(only(HOURS.c.user_id)))
    _upsert(conn, sorted(_grouped(conn, only(e.user_id)).items()), days=False)
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
    cut_hour, cut_day = cut.replace(minute=0, second=0, microsecond=0), _day(cut)
    old = sa.select(_MESSAGES.c.id).where(_MESSAGES.c.sent_at < cut)
    gone = _grouped(conn, sa.and_(_EVENTS.c.at >= cut, _EVENTS.c.message_id.in_(old)))
    _upsert(conn, sorted((k, -n) for k, n in gone.items()))
    h = HOURS.c
    # The cut day keeps only its hours from the cut on; the days before it go.
    _upsert_days(conn, hit_day_deltas((tuple(r[:6]), -r[6]) for r in conn.execute(
        sa.select(h.user_id, h.hour, h.kind, h.verdict, h.local_dow, h.local_hour, h.n)
        .where(h.hour >= cut_day, h.hour < cut_hour))))
    conn.execute(HOURS.delete().where(h.hour < cut_hour))
    conn.execute(HIT_DAYS.delete().where(HIT_DAYS.c.day < cut_day))
    m = _MSG.c
    total: dict = {}
    for row in conn.execute(sa.select(m.user_id, m.sent_at, m.domains, m.client, m.first_open_after,
                                      m.first_click_at).where(m.sent_at >= cut_day, m.sent_at < cut)):
        _add(total, email_rows(*row), -1)
    _upsert_emails(conn, total)
    conn.execute(EMAIL_DAYS.delete().where(EMAIL_DAYS.c.day < cut_day))
