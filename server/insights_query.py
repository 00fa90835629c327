"""The insights' figures in SQL: sums grouped in the database, never the events loaded
into Python. Runs the same on SQLite and PostgreSQL.

For a period (aware UTC ``[start, end)``) and some users' emails sent in it:

* per email (one grouped join): its first counted open and whether a link was
  clicked, summed again by the email's recipient domains (``Message.domains``), so the
  totals and the per-domain figures come from one query of a few dozen rows;
* the median time from send to first open: the one or two middle delays, picked by
  the database (``ORDER BY ... LIMIT 2 OFFSET``);
* every answered hit by verdict (what Engage filtered, and why);
* counted opens by place and UTC hour: the rows are (country, region, hour), a few
  thousand at most for a 90-day period, and Python turns each into the place's local
  weekday and hour (server/place_zones.py): the zone depends on the place, which
  SQL cannot look up;
* the few most-opened emails' counted hits, for client_py's readers rule.

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
from .models import Event, Message, as_dict_time
from .place_zones import place_zone

COUNTED = sorted(ENGAGEMENT_VERDICTS)
TOP_EMAILS = 5
HITS_PER_TOP_EMAIL = 200


@dataclass(frozen=True)
class Period:
    start: datetime  # aware UTC, inclusive
    end: datetime  # aware UTC, exclusive
    time_zone: str  # the viewer's zone: days are the viewer's days


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _seconds_between(later, earlier):
    if _dialect() == "sqlite":
        return (sa.func.julianday(later) - sa.func.julianday(earlier)) * 86400.0
    return sa.extract("epoch", later - earlier)


def _hour_of(column):
    """The UTC hour a time falls in, as text ``YYYY-MM-DD HH`` on both databases."""
    if _dialect() == "sqlite":
        return sa.func.substr(column, 1, 13)  # SQLAlchemy stores 'YYYY-MM-DD HH:MM:SS.ffffff'
    return sa.func.to_char(column, "YYYY-MM-DD HH24")


def _emails(user_ids: list[int], period: Period):
    return sa.and_(Message.user_id.in_(user_ids), Message.sent_at >= period.start, Message.sent_at < period.end)


def replied_counts(user_ids: list[int], period: Period) -> Optional[int]:
    """How many of the period's emails got a reply, where the mail client told Engage;
    None while the server keeps no reply signal (the view then says "not known").

    The one place the reply signal is read: wire it to the threads' reply times
    (migration 0009, the activity feed's) when they are there."""
    return None


def per_email():
    """The period's emails with their first counted open and whether one was clicked."""
    counted = Event.verdict.in_(COUNTED)
    return (sa.select(Message.id.label("id"), Message.sent_at.label("sent_at"), Message.domains.label("domains"),
                      sa.func.min(sa.case((sa.and_(counted, Event.kind == "open"), Event.at), else_=None))
                      .label("first_open"),
                      sa.func.max(sa.case((sa.and_(counted, Event.kind == "click"), 1), else_=0)).label("clicked"))
            .select_from(Message).outerjoin(Event, Event.message_id == Message.id))


def figures(user_ids: list[int], period: Period) -> dict:
    """The insights data for these users' emails sent in ``period`` (client_py.insights' input)."""
    where = _emails(user_ids, period)
    emails = per_email().where(where).group_by(Message.id, Message.sent_at, Message.domains).subquery()
    by_domains = db.session.execute(
        sa.select(emails.c.domains, sa.func.count(), sa.func.count(emails.c.first_open), sa.func.sum(emails.c.clicked))
        .group_by(emails.c.domains)).all()
    total = opened = clicked = 0
    domains: dict[str, list[int]] = {}
    for key, n, n_open, n_click in by_domains:
        n_click = int(n_click or 0)
        total, opened, clicked = total + n, opened + n_open, clicked + n_click
        for domain in sorted({d for d in (key or "").split(",") if d}):
            row = domains.setdefault(domain, [0, 0, 0])
            row[0] += n
            row[1] += n_open
            row[2] += n_click
    return {
        "emails": total, "opened": opened, "clicked": clicked, "replied": replied_counts(user_ids, period),
        "median_first_open_seconds": _median_delay(emails, opened),
        "domains": [{"domain": d, "emails": v[0], "opened": v[1], "clicked": v[2]}
                    for d, v in sorted(domains.items(), key=lambda kv: (-kv[1][1], -kv[1][0], kv[0]))],
        "hits": _hits(where),
        **_heatmap(where, period),
        "top_emails": _top_emails(where),
    }


def _median_delay(emails, opened: int) -> Optional[int]:
    if not opened:
        return None
    delay = sa.func.max(_seconds_between(emails.c.first_open, emails.c.sent_at), 0) if _dialect() == "sqlite" \
        else sa.func.greatest(_seconds_between(emails.c.first_open, emails.c.sent_at), 0)
    middle = db.session.execute(
        sa.select(delay.label("d")).where(emails.c.first_open.is_not(None)).order_by(sa.text("d"))
        .limit(1 if opened % 2 else 2).offset((opened - 1) // 2)).scalars().all()
    return round(sum(float(v) for v in middle) / len(middle))


def _hits(where) -> dict:
    """Every answered hit (implied opens are not hits) by kind and verdict."""
    rows = db.session.execute(
        sa.select(Event.kind, Event.verdict, sa.func.count()).join(Message, Message.id == Event.message_id)
        .where(where, Event.implied.is_(False)).group_by(Event.kind, Event.verdict)).all()
    out: dict[str, dict[str, int]] = {"open": {}, "click": {}}
    for kind, verdict, n in rows:
        out.setdefault(kind, {})[verdict] = n
    return out


def _quarter_of(column):
    """The quarter of the hour (0-3) a time falls in: zones are offset by whole quarters
    (India +5:30, Nepal +5:45), so a quarter maps to exactly one local hour."""
    if _dialect() == "sqlite":
        return sa.cast(sa.func.substr(column, 15, 2), sa.Integer) / 15
    return sa.cast(sa.func.floor(sa.extract("minute", column) / 15), sa.Integer)


def _heatmap(where, period: Period) -> dict:
    hour, quarter = _hour_of(Event.at).label("h"), _quarter_of(Event.at).label("q")
    rows = db.session.execute(
        sa.select(Event.country, Event.region, hour, quarter, sa.func.count())
        .join(Message, Message.id == Event.message_id)
        .where(where, Event.kind == "open", Event.verdict.in_(COUNTED))
        .group_by(Event.country, Event.region, hour, quarter)).all()
    cells: dict[tuple[int, int], int] = {}
    days: dict[str, int] = {}
    unplaced = 0
    viewer = ZoneInfo(period.time_zone)
    hours: dict[str, datetime] = {}
    local_of: dict[tuple[str, str], datetime] = {}  # (zone, UTC hour) -> local start: one offset per UTC hour
    for country, region, bucket, q, n in rows:
        at = hours.get(bucket)
        if at is None:
            at = hours[bucket] = datetime.strptime(bucket, "%Y-%m-%d %H").replace(tzinfo=timezone.utc)
        day = at.astimezone(viewer).date().isoformat()
        days[day] = days.get(day, 0) + n
        tz = place_zone(country, region)
        if tz is None:
            unplaced += n
            continue
        local = local_of.get((tz, bucket))
        if local is None:
            local = local_of[(tz, bucket)] = at.astimezone(ZoneInfo(tz)).replace(tzinfo=None)
        local = local + timedelta(minutes=15 * int(q))
        key = (local.weekday(), local.hour)
        cells[key] = cells.get(key, 0) + n
    return {"heatmap": [[d, h, n] for (d, h), n in sorted(cells.items())], "heatmap_unplaced": unplaced,
            "opens_by_day": [[d, n] for d, n in sorted(days.items())]}


def _top_emails(where) -> list[dict]:
    """The most-opened emails with their counted hits' evidence, for the readers rule."""
    counted = sa.func.count().label("n")
    top = db.session.execute(
        sa.select(Event.message_id, counted).join(Message, Message.id == Event.message_id)
        .where(where, Event.verdict.in_(COUNTED)).group_by(Event.message_id)
        .order_by(sa.desc("n"), Event.message_id).limit(TOP_EMAILS)).all()
    if not top:
        return []
    ids = [mid for mid, _ in top]
    messages = {m.id: m for m in db.session.execute(sa.select(Message).where(Message.id.in_(ids))).scalars()}
    rank = sa.func.row_number().over(partition_by=Event.message_id, order_by=(Event.at, Event.id)).label("r")
    ranked = (sa.select(Event.id.label("eid"), rank).where(Event.message_id.in_(ids), Event.verdict.in_(COUNTED))
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


def clamp_days(period: Period) -> float:
    return (period.end - period.start) / timedelta(days=1)
