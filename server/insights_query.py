"""The insights' figures in SQL: sums grouped in the database, never the events loaded
into Python. Runs the same on SQLite and PostgreSQL.

Two kinds of figures, each read from what the writer keeps up to date
(server/insights_rollup.py), so a heavy user's period costs about what a light one's
does: a period's whole UTC days come from per-day sums, its partial first and last
days either from the per-hour sums and the emails themselves or as their day's sums
minus the part outside the period, whichever holds fewer hours so far (``_plan``).

* the emails sent in the period (``insight_email_days``; ``messages`` by
  ``ix_messages_user_sent`` for the partial days): tracked, opened, clicked, known,
  by recipient domain, and the opened ones by delay bucket; the exact median time
  from send to first open (the one or two middle delays, read in order from their
  narrow bucket with ``ix_messages_user_delay``: ``LIMIT 2 OFFSET``); the few
  most-engaged emails, whose counted hits feed client_py's readers rule;
* the hits answered in the period (``insight_hit_days``, ``insight_hours`` for the
  partial days): every hit by kind and verdict (what Engage filtered, and why),
  counted opens by the recipient's local weekday and hour (set when the hit was
  stored, from the place's zone: server/place_zones.py), and by the viewer's day
  (from the UTC hour).

"Counted" is client_py's (``ENGAGEMENT_VERDICTS``). Every query is scoped to the
given user ids, which the API decides (server/api/insights.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterable, Optional
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from client_py.model import ENGAGEMENT_VERDICTS

from .device import agent_family
from .extensions import db
from .insights_rollup import BOUNDS, REPLY_CLIENTS, email_rows
from .models import Event, InsightEmailDay, InsightHitDay, InsightHour, Message, Thread, as_dict_time, utcnow

COUNTED = sorted(ENGAGEMENT_VERDICTS)
TOP_EMAILS = 5
HITS_PER_TOP_EMAIL = 60  # the first ones: who read it, and whether someone new came later


@dataclass(frozen=True)
class Period:
    start: datetime  # aware UTC, inclusive
    end: datetime  # aware UTC, exclusive
    time_zone: str  # the viewer's zone: days are the viewer's days


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _emails(user_ids: list[int], period: Period):
    return sa.and_(Message.user_id.in_(user_ids), Message.sent_at >= period.start, Message.sent_at < period.end)


def replied_count(user_ids: list[int], period: Period, known: int) -> Optional[int]:
    """Of the period's emails whose client reports replies (``POST /threads/replies``,
    migration 0009), how many got one after they were sent (their thread's last
    reply); None when none of them could be known: the view says "not known". Read
    from the threads whose last reply came in or after the period (``ix_threads_user_reply``),
    then their emails (``ix_messages_thread_sent``): the work is the period's replied
    threads, not its emails (SQLite's planner, seeing mostly NULLs, would walk the emails)."""
    if not known:
        return None
    replies = dict(db.session.execute(
        sa.select(Thread.id, Thread.last_reply_at)
        .where(Thread.user_id.in_(user_ids), Thread.last_reply_at >= period.start)).all())
    ids = sorted(replies)
    n = 0
    for i in range(0, len(ids), 1000):
        for thread_id, sent in db.session.execute(
                sa.select(Message.thread_id, Message.sent_at)
                .where(Message.thread_id.in_(ids[i:i + 1000]), _emails(user_ids, period),
                       Message.client.in_(REPLY_CLIENTS))):
            n += sent <= replies[thread_id]
    return n


DAY = timedelta(days=1)


def _floor_day(at: datetime) -> datetime:
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


def _plan(start: datetime, end: datetime, now: datetime):
    """How to read [start, end) (aware) from per-day sums and finer rows: ((first day,
    end of the last) or None, [(low, high, sign)]): the days' sums, plus (sign 1) or
    minus (sign -1) the finer rows (per hour, per email) of each range.

    A partial UTC day is read either as its part inside the period, or as the whole
    day's sums minus its part outside, whichever holds fewer hours up to ``now`` (what
    is later is normally empty: nothing is sent or answered in the future). A period
    ending now so reads its last day as that day's sums minus nothing; ``today`` in a
    zone near UTC is a day's sums and at most a few hours of rows, not every email and
    hour of the day so far."""
    start, end = start.astimezone(timezone.utc), end.astimezone(timezone.utc)
    if start >= end:
        return None, []
    now = now.astimezone(timezone.utc)

    def past(a, b):  # the seconds of [a, b) up to now: what a range's rows cost
        return max(0.0, (min(b, now) - a).total_seconds())

    first, last = _floor_day(start), _floor_day(end)
    if first < start:
        first += DAY
    if first > last:  # no midnight inside: one partial day
        pieces, lo, hi = [(start, end)], None, None
    else:
        pieces = [(a, b) for a, b in ((start, first), (last, end)) if a < b]
        lo, hi = first, last
    ranges = []
    for a, b in pieces:
        day = _floor_day(a)
        if past(day, a) + past(b, day + DAY) < past(a, b):
            lo, hi = min(lo or day, day), max(hi or day + DAY, day + DAY)
            ranges += [(x, y, -1) for x, y in ((day, a), (b, day + DAY)) if x < y]
        else:
            ranges.append((a, b, 1))
    return ((lo, hi) if lo is not None and lo < hi else None), ranges


def figures(user_ids: list[int], period: Period) -> dict:
    """The insights data for these users in ``period`` (client_py.insights' input):
    the days' sums from ``insight_email_days``, plus or minus (``_plan``) the emails of
    the partial days' ranges themselves (``ix_messages_user_sent``), by the same rule
    (server/insights_rollup.email_rows)."""
    where = _emails(user_ids, period)
    days, ranges = _plan(period.start, period.end, utcnow())
    sums: dict[tuple, list[int]] = {}  # (domain, bucket) -> [emails, opened, clicked, known]

    def add(key, values, times=1):
        row = sums.setdefault(key, [0, 0, 0, 0])
        for i, v in enumerate(values):
            row[i] += v * times

    if days:
        D = InsightEmailDay
        for domain, b, *values in db.session.execute(
                sa.select(D.domain, D.bucket, sa.func.sum(D.emails), sa.func.sum(D.opened), sa.func.sum(D.clicked),
                          sa.func.sum(D.known))
                .where(D.user_id.in_(user_ids), D.day >= days[0], D.day < days[1]).group_by(D.domain, D.bucket)):
            add((domain, b), [int(v or 0) for v in values])
    if ranges:  # one statement: each range's emails grouped, with its sign
        clicked_ = Message.first_click_at.is_not(None)
        parts = [sa.select(sa.literal(sign).label("sign"), Message.domains, Message.first_open_after, clicked_.label("c"),
                           Message.client, sa.func.count().label("n"))
                 .where(Message.user_id.in_(user_ids), Message.sent_at >= low, Message.sent_at < high)
                 .group_by(Message.domains, Message.first_open_after, clicked_, Message.client)
                 for low, high, sign in ranges]
        for sign, domains, after, clicked, client, n in db.session.execute(
                parts[0] if len(parts) == 1 else sa.union_all(*parts)):
            for (_u, _d, domain, b), values in email_rows(0, period.start, domains, client, after,
                                                          True if clicked else None):
                add((domain, b), values, sign * n)
    total, opened, clicked, known = sums.get(("", -1), [0, 0, 0, 0])
    buckets = {b: v[1] for (domain, b), v in sums.items() if b >= 0 and v[1]}
    domains = {d: v[:3] for (d, b), v in sums.items() if d and b == -1 and v[0]}
    return {
        "emails": total, "opened": opened, "clicked": clicked,
        "replied": replied_count(user_ids, period, known), "replied_known": known,
        "median_first_open_seconds": _median_delay(where, opened, buckets),
        "domains": [{"domain": d, "emails": v[0], "opened": v[1], "clicked": v[2]}
                    for d, v in sorted(domains.items(), key=lambda kv: (-kv[1][1], -kv[1][0], kv[0]))],
        **_hours(user_ids, period),
        "top_emails": _top_emails(where),
    }


def _median_delay(where, opened: int, buckets: dict[int, int]) -> Optional[int]:
    """The exact median: the middle one or two delays, read in order from their narrow
    bucket (server/insights_rollup.BOUNDS) with ``ix_messages_user_delay``."""
    if not opened:
        return None
    wanted = [(opened - 1) // 2] if opened % 2 else [opened // 2 - 1, opened // 2]
    values = []
    before = 0
    for b in sorted(buckets):
        n = buckets[b]
        inside = [r - before for r in wanted if before <= r < before + n]
        if inside:
            col = Message.first_open_after
            conds = [where, col >= BOUNDS[b]] + ([col < BOUNDS[b + 1]] if b + 1 < len(BOUNDS) else [])
            rows = db.session.execute(sa.select(col).where(*conds).order_by(col)
                                      .limit(inside[-1] - inside[0] + 1).offset(inside[0])).scalars().all()
            values += rows[:len(inside)]
        before += n
    return round(sum(float(v) for v in values) / len(values))


def _hours(user_ids: list[int], period: Period) -> dict:
    """Hits by verdict, counted opens by the recipient's local weekday and hour, and
    by the viewer's day: the days from ``insight_hit_days``, plus or minus (``_plan``)
    the partial days' ranges from ``insight_hours`` (server/insights_rollup.py), whose
    hours the period covers (hits answered in it, on the users' emails)."""
    start = period.start.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
    days, ranges = _plan(start, period.end, utcnow())
    out: dict[str, dict[str, int]] = {"open": {}, "click": {}}
    cells: dict[tuple[int, int], int] = {}
    by_hour: dict[datetime, int] = {}
    unplaced = 0
    if days:
        D = InsightHitDay
        in_days = sa.and_(D.user_id.in_(user_ids), D.day >= days[0], D.day < days[1])
        by_day = sa.case((D.kind == "hour", D.day), else_=None)  # per UTC hour: the day too
        for kind, verdict, dow, hour, day, n in db.session.execute(
                sa.select(D.kind, D.verdict, D.local_dow, D.local_hour, by_day, sa.func.sum(D.n))
                .where(in_days, D.kind.in_(("open", "click", "cell", "hour")))
                .group_by(D.kind, D.verdict, D.local_dow, D.local_hour, by_day)):
            n = int(n or 0)
            if not n:
                continue
            if kind == "hour":
                at = day.replace(hour=hour)
                by_hour[at] = by_hour.get(at, 0) + n
            elif kind in out:
                out[kind][verdict] = out[kind].get(verdict, 0) + n
            elif dow < 0:
                unplaced += n
            else:
                cells[(dow, hour)] = cells.get((dow, hour), 0) + n
    H = InsightHour
    parts = [sa.select(sa.literal(sign).label("sign"), H.hour, H.kind, H.verdict, H.local_dow, H.local_hour, H.n)
             .where(H.user_id.in_(user_ids), H.hour >= low, H.hour < high) for low, high, sign in ranges]
    for sign, at, kind, verdict, dow, hour, n in (
            db.session.execute(parts[0] if len(parts) == 1 else sa.union_all(*parts)) if parts else ()):
        if not n:
            continue
        n *= sign
        if kind in out:
            out[kind][verdict] = out[kind].get(verdict, 0) + n
        if kind in ("open", "implied") and verdict in COUNTED:
            by_hour[at] = by_hour.get(at, 0) + n
            if dow < 0:
                unplaced += n
            else:
                cells[(dow, hour)] = cells.get((dow, hour), 0) + n
    out = {kind: {v: n for v, n in counts.items() if n} for kind, counts in out.items()}
    viewer = ZoneInfo(period.time_zone)
    days_out: dict[str, int] = {}
    for at, n in by_hour.items():
        if n:
            day = at.astimezone(viewer).date().isoformat()
            days_out[day] = days_out.get(day, 0) + n
    return {"hits": out, "heatmap": [[d, h, n] for (d, h), n in sorted(cells.items()) if n],
            "heatmap_unplaced": unplaced,
            "opens_by_day": [[d, n] for d, n in sorted(days_out.items()) if n]}


def _top_emails(where) -> list[dict]:
    """The most-engaged emails with their counted hits' evidence, for the readers rule."""
    top = db.session.execute(
        sa.select(Message.id, Message.engaged).where(where, Message.engaged > 0)
        .order_by(Message.engaged.desc(), Message.id).limit(TOP_EMAILS)).all()
    if not top:
        return []
    ids = [mid for mid, _ in top]
    messages = {m.id: m for m in db.session.execute(sa.select(Message).where(Message.id.in_(ids))).scalars()}
    rank = sa.func.row_number().over(partition_by=Event.message_id, order_by=(Event.at, Event.id)).label("r")
    ranked = (sa.select(Event.id.label("eid"), rank).where(Event.message_id.in_(ids), Event.verdict.in_(COUNTED),
                                                           Event.implied.is_(False))
              .subquery())
    hits = db.session.execute(  # the columns, not ORM objects: the evidence is read, never changed
        sa.select(Event.message_id, Event.at, Event.kind, Event.verdict, Event.device, Event.country, Event.region,
                  Event.city, Event.facts, Event.user_agent)
        .join(ranked, ranked.c.eid == Event.id).where(ranked.c.r <= HITS_PER_TOP_EMAIL)
        .order_by(Event.at, Event.id)).all()
    by_message: dict[int, list[dict]] = {mid: [] for mid in ids}
    networks: dict[tuple[int, str], str] = {}  # the /24 or /48 never leaves: an opaque label per email
    for message_id, *columns in hits:  # plain tuples: a Row's attributes cost ~1 us each
        hit = hit_evidence(*columns)
        if hit["network"]:
            hit["network"] = networks.setdefault((message_id, hit["network"]), f"n{len(networks) + 1}")
        by_message[message_id].append(hit)
    return [{"id": messages[mid].public_id, "subject": messages[mid].subject,
             "sent_at": as_dict_time(messages[mid].sent_at),
             "recipients": [recipient_hint(r) for r in messages[mid].recipients or ()],
             "hits": by_message[mid]} for mid in ids]


def recipient_hint(recipient: dict) -> dict:
    """A recipient as the readers rule may name it: their domain, never their address."""
    address = str(recipient.get("address") or "")
    return {"domain": address.rsplit("@", 1)[-1].lower() if "@" in address else ""}


def hit_evidence(at, kind, verdict, device, country, region, city, facts, user_agent) -> dict:
    """What the readers rule weighs for one counted hit (an event's columns, in the
    order of ``_top_emails``' query): no address, no hash."""
    return {"at": as_dict_time(at), "kind": kind, "verdict": verdict, "device": device,
            "country": country, "region": region, "city": city,
            "network": facts.get("net") if isinstance(facts, dict) else None,
            "agent": agent_family(user_agent, verdict)}


def member_figures(members: Iterable, period: Period) -> list[dict]:
    return [{"user_id": u.id, "name": u.name or u.email, "email": u.email,
             **{k: v for k, v in figures([u.id], period).items() if k != "top_emails"}} for u in members]
