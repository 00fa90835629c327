"""The insights' figures in SQL: sums grouped in the database, never the events loaded
into Python. Runs the same on SQLite and PostgreSQL.

Two kinds of figures, each read from what the writer keeps up to date
(server/insights_rollup.py), so a heavy user's period costs what a light one's does:

* the emails sent in the period (``messages``, index ``ix_messages_user_sent``):
  tracked, opened, clicked (their ``first_open_after`` / ``first_click_at``), summed by the
  emails' recipient domains in one grouped query; the median time from send to first
  open (the one or two middle delays, picked by the database with ``LIMIT 2 OFFSET``);
  the few most-engaged emails, whose counted hits feed client_py's readers rule;
* the hits answered in the period (``insight_hours``, by UTC hour): every hit by kind
  and verdict (what Engage filtered, and why), counted opens by the recipient's local
  weekday and hour (set when the hit was stored, from the place's zone:
  server/place_zones.py), and by the viewer's day.

"Counted" is client_py's (``ENGAGEMENT_VERDICTS``). Every query is scoped to the
given user ids, which the API decides (server/api/insights.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Iterable, Optional
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from client_py.model import ENGAGEMENT_VERDICTS

from .extensions import db
from .models import Event, InsightHour, Message, Thread, as_dict_time
from .place_zones import place_zone

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


REPLY_CLIENTS = ("gmail",)  # whose mail client reports replies (the Gmail extension)


def replied_count(user_ids: list[int], period: Period, known: int) -> Optional[int]:
    """Of the period's emails whose client reports replies (``POST /threads/replies``,
    migration 0009), how many got one after they were sent (their thread's last
    reply); None when none of them could be known: the view says "not known". Read
    from the threads that got a reply (``ix_threads_user_reply``), then their emails."""
    if not known:
        return None
    return db.session.execute(
        sa.select(sa.func.count()).select_from(Thread).join(Message, Message.thread_id == Thread.id)
        .where(Thread.user_id.in_(user_ids), Thread.last_reply_at.is_not(None), _emails(user_ids, period),
               Message.client.in_(REPLY_CLIENTS), Message.sent_at <= Thread.last_reply_at)).scalar_one()


def figures(user_ids: list[int], period: Period) -> dict:
    """The insights data for these users in ``period`` (client_py.insights' input)."""
    where = _emails(user_ids, period)
    bucket = _delay_bucket(Message.first_open_after).label("b")
    by_domains = db.session.execute(
        sa.select(Message.domains, bucket, sa.func.count(), sa.func.count(Message.first_open_after),
                  sa.func.count(Message.first_click_at),
                  sa.func.count(sa.case((Message.client.in_(REPLY_CLIENTS), 1), else_=None)))
        .where(where).group_by(Message.domains, bucket)).all()
    total = opened = clicked = known = 0
    domains: dict[str, list[int]] = {}
    buckets: dict[int, int] = {}
    for key, b, n, n_open, n_click, n_known in by_domains:
        total, opened, clicked, known = total + n, opened + n_open, clicked + n_click, known + n_known
        if b is not None:
            buckets[b] = buckets.get(b, 0) + n_open
        for domain in sorted({d for d in (key or "").split(",") if d}):
            row = domains.setdefault(domain, [0, 0, 0])
            row[0] += n
            row[1] += n_open
            row[2] += n_click
    return {
        "emails": total, "opened": opened, "clicked": clicked,
        "replied": replied_count(user_ids, period, known), "replied_known": known,
        "median_first_open_seconds": _median_delay(where, opened, buckets),
        "domains": [{"domain": d, "emails": v[0], "opened": v[1], "clicked": v[2]}
                    for d, v in sorted(domains.items(), key=lambda kv: (-kv[1][1], -kv[1][0], kv[0]))],
        **_hours(user_ids, period),
        "top_emails": _top_emails(where),
    }


# Bounds (seconds) of the delay buckets the median is found in: the grouped query
# counts the emails per bucket, then only the middle one's delays are sorted.
_BOUNDS = (60, 300, 900, 1800, 3600, 7200, 14400, 28800, 43200, 86400, 172800, 259200, 432000, 604800, 864000,
           1209600)


def _delay_bucket(column):
    return sa.case(*((column < b, i) for i, b in enumerate(_BOUNDS)), (column.is_(None), None), else_=len(_BOUNDS))


def _median_delay(where, opened: int, buckets: dict[int, int]) -> Optional[int]:
    """The exact median: the middle one or two delays, sorted within their bucket."""
    if not opened:
        return None
    wanted = [(opened - 1) // 2] if opened % 2 else [opened // 2 - 1, opened // 2]
    values = []
    before = 0
    for b in sorted(buckets):
        n = buckets[b]
        inside = [r - before for r in wanted if before <= r < before + n]
        if inside:
            low = _BOUNDS[b - 1] if b > 0 else None
            high = _BOUNDS[b] if b < len(_BOUNDS) else None
            col = Message.first_open_after
            conds = [where, col.is_not(None)] + ([col >= low] if low is not None else []) + \
                ([col < high] if high is not None else [])
            rows = db.session.execute(sa.select(col).where(*conds).order_by(col)
                                      .limit(inside[-1] - inside[0] + 1).offset(inside[0])).scalars().all()
            values += rows[:len(inside)]
        before += n
    return round(sum(float(v) for v in values) / len(values))


def _hour_range(user_ids: list[int], period: Period):
    start = period.start.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
    return sa.and_(InsightHour.user_id.in_(user_ids), InsightHour.hour >= start, InsightHour.hour < period.end)


def _hours(user_ids: list[int], period: Period) -> dict:
    """Hits by verdict, counted opens by the recipient's local weekday and hour, and
    by the viewer's day: from ``insight_hours`` (server/insights_rollup.py), whose hours
    the period covers (hits answered in it, on the users' emails)."""
    in_range = _hour_range(user_ids, period)
    out: dict[str, dict[str, int]] = {"open": {}, "click": {}}
    cells: dict[tuple[int, int], int] = {}
    unplaced = 0
    for kind, verdict, dow, hour, n in db.session.execute(  # one grouped query: ~200 rows for any period
            sa.select(InsightHour.kind, InsightHour.verdict, InsightHour.local_dow, InsightHour.local_hour,
                      sa.func.sum(InsightHour.n)).where(in_range)
            .group_by(InsightHour.kind, InsightHour.verdict, InsightHour.local_dow, InsightHour.local_hour)).all():
        n = int(n or 0)
        if not n:
            continue
        if kind in out:
            out[kind][verdict] = out[kind].get(verdict, 0) + n
        if kind in ("open", "implied") and verdict in COUNTED:
            if dow < 0:
                unplaced += n
            else:
                cells[(dow, hour)] = cells.get((dow, hour), 0) + n
    counted_opens = sa.and_(in_range, InsightHour.kind.in_(("open", "implied")), InsightHour.verdict.in_(COUNTED))
    viewer = ZoneInfo(period.time_zone)
    days: dict[str, int] = {}
    for hour, n in db.session.execute(
            sa.select(InsightHour.hour, sa.func.sum(InsightHour.n)).where(counted_opens)
            .group_by(InsightHour.hour)).all():
        if n:
            day = hour.astimezone(viewer).date().isoformat()
            days[day] = days.get(day, 0) + int(n)
    return {"hits": out, "heatmap": [[d, h, n] for (d, h), n in sorted(cells.items())], "heatmap_unplaced": unplaced,
            "opens_by_day": [[d, n] for d, n in sorted(days.items())]}


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
    hits = db.session.execute(
        sa.select(Event).join(ranked, ranked.c.eid == Event.id).where(ranked.c.r <= HITS_PER_TOP_EMAIL)
        .order_by(Event.at, Event.id)).scalars().all()
    by_message: dict[int, list[dict]] = {mid: [] for mid in ids}
    networks: dict[tuple[int, str], str] = {}  # the /24 or /48 never leaves: an opaque label per email
    for e in hits:
        hit = hit_evidence(e)
        if hit["network"]:
            hit["network"] = networks.setdefault((e.message_id, hit["network"]), f"n{len(networks) + 1}")
        by_message[e.message_id].append(hit)
    return [{"id": messages[mid].public_id, "subject": messages[mid].subject,
             "sent_at": as_dict_time(messages[mid].sent_at),
             "recipients": [recipient_hint(r) for r in messages[mid].recipients or ()],
             "hits": by_message[mid]} for mid in ids]


def recipient_hint(recipient: dict) -> dict:
    """A recipient as the readers rule may name it: their domain, never their address."""
    address = str(recipient.get("address") or "")
    return {"domain": address.rsplit("@", 1)[-1].lower() if "@" in address else ""}


def hit_evidence(e: Event) -> dict:
    """What the readers rule weighs for one counted hit: no address, no hash."""
    from .device import agent_family

    facts = e.facts or {}
    return {"at": as_dict_time(e.at), "kind": e.kind, "verdict": e.verdict, "device": e.device,
            "country": e.country, "region": e.region, "city": e.city,
            "network": facts.get("net") if isinstance(facts, dict) else None,
            "agent": agent_family(e.user_agent, e.verdict)}


def member_figures(members: Iterable, period: Period) -> list[dict]:
    return [{"user_id": u.id, "name": u.name or u.email, "email": u.email,
             **{k: v for k, v in figures([u.id], period).items() if k != "top_emails"}} for u in members]
