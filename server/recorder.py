"""Recording hits in batches: classify each honestly, locate it, store it, move its
thread forward, and wake the live stream.

What the verdict needs from the database (the org's office ranges, the sender's
recent addresses and "I am viewing this" reports, the same source's previous hits,
recent clicks, whether an open was already seen) is read with one query per kind
for the whole batch, then kept up to date in memory as the batch is walked in time
order, so hit N sees hits 1..N-1 exactly as if they had been stored one by one."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from types import SimpleNamespace
from datetime import datetime, timedelta
from typing import Mapping, Optional

import sqlalchemy as sa
from flask import current_app

from client_py.model import ENGAGEMENT_VERDICTS

from . import services
from .classify import Context, Hit, classify
from .device import device_class
from .extensions import db
from .models import Event, Link, Message, Org, SelfView, SenderAddress, Thread, User
from .signals import hit_recorded

BURST_WINDOW = timedelta(seconds=2)
IMPLIED_REASON = "Counted as an open because a link in the email was clicked"


@dataclass
class HitInput:
    message: Message
    kind: str  # open | click
    method: str
    ip: str
    user_agent: str
    headers: Mapping[str, str]
    at: datetime
    link: Optional[Link] = None
    hit_id: Optional[str] = None
    events: list = field(default_factory=list)  # filled in: the stored events (id, kind, verdict, at, ...)
    # Plain copies taken before commit (a commit expires the ORM objects, and reading
    # them back would cost one SELECT per email).
    user_id: int = 0
    thread_id: int = 0


def _later(column, at: datetime):
    """``column`` moved forward to ``at`` in one UPDATE, safe under concurrent writers."""
    return sa.case((sa.or_(column.is_(None), column < at), at), else_=column)


class _BatchState:
    """The database facts a batch's verdicts depend on, loaded at once."""

    def __init__(self, hits: list[HitInput], svc, cfg):
        self.svc = svc
        earliest = min(h.at for h in hits)
        users = {h.message.user_id for h in hits}
        threads = {h.message.thread_id for h in hits}
        messages = {h.message.id for h in hits}
        for h in hits:
            h._ip_hash = svc.keyed_hash("ip", h.ip)
            h._source = svc.keyed_hash("src", h.ip, h.user_agent)
        sources = {h._source for h in hits}
        self.ranges = {uid: tuple(r or ()) for uid, r in db.session.execute(
            sa.select(User.id, Org.office_ranges).join(Org, Org.id == User.org_id).where(User.id.in_(users)))}
        since = earliest - timedelta(days=cfg["SELF_ADDRESS_DAYS"])
        self.sender_addresses = set(db.session.execute(
            sa.select(SenderAddress.user_id, SenderAddress.ip_hash).where(
                SenderAddress.user_id.in_(users),
                SenderAddress.ip_hash.in_({h._ip_hash for h in hits}),
                SenderAddress.last_seen >= since)).all())
        self.self_view_window = timedelta(seconds=cfg["SELF_VIEW_SECONDS"])
        self.self_views: dict[int, list[datetime]] = defaultdict(list)
        for thread_id, at in db.session.execute(sa.select(SelfView.thread_id, SelfView.at).where(
                SelfView.thread_id.in_(threads), SelfView.at >= earliest - self.self_view_window)):
            self.self_views[thread_id].append(at)
        # Previous hits of the same source on the same email (same act: kind and link).
        self.last_same: dict[tuple, datetime] = {}
        self.clicks: dict[tuple, list[tuple[datetime, str]]] = defaultdict(list)
        rows = db.session.execute(
            sa.select(Event.message_id, Event.source_hash, Event.kind, Event.link_id, sa.func.max(Event.at))
            .where(Event.message_id.in_(messages), Event.source_hash.in_(sources), Event.implied.is_(False))
            .group_by(Event.message_id, Event.source_hash, Event.kind, Event.link_id))
        for mid, src, kind, link_id, at in rows:
            self.last_same[(mid, src, kind, link_id)] = at
        for mid, src, at, url in db.session.execute(
                sa.select(Event.message_id, Event.source_hash, Event.at, Link.url)
                .join(Link, Link.id == Event.link_id)
                .where(Event.message_id.in_(messages), Event.source_hash.in_(sources),
                       Event.kind == "click", Event.at >= earliest - BURST_WINDOW)):
            self.clicks[(mid, src)].append((at, url))
        self.opened = set(db.session.execute(
            sa.select(Event.message_id).where(Event.message_id.in_(messages), Event.kind == "open",
                                               Event.verdict.in_(ENGAGEMENT_VERDICTS)).distinct()).scalars())

    def context(self, h: HitInput) -> Context:
        m = h.message
        link_id = h.link.id if h.link else None
        return Context(
            sent_at=m.sent_at,
            org_ranges=self.ranges.get(m.user_id, ()),
            sender_address_recent=(m.user_id, h._ip_hash) in self.sender_addresses,
            self_reported=any(h.at - self.self_view_window <= at <= h.at + self.self_view_window
                              for at in self.self_views.get(m.thread_id, ())),
            last_same_source_at=self.last_same.get((m.id, h._source, h.kind, link_id)),
            recent_clicks_same_source=tuple(
                (at, url) for at, url in self.clicks.get((m.id, h._source), ()) if at >= h.at - BURST_WINDOW),
        )

    def remember(self, h: HitInput) -> None:
        m = h.message
        link_id = h.link.id if h.link else None
        key = (m.id, h._source, h.kind, link_id)
        if key not in self.last_same or self.last_same[key] < h.at:
            self.last_same[key] = h.at
        if h.kind == "click" and h.link is not None:
            self.clicks[(m.id, h._source)].append((h.at, h.link.url))


_T = Thread.__table__
_THREAD_UPDATE = (
    _T.update()
    .where(_T.c.id == sa.bindparam("tid"))
    .values(
        last_triggered_at=_later(_T.c.last_triggered_at, sa.bindparam("triggered", type_=_T.c.last_triggered_at.type)),
        last_activity_at=_later(_T.c.last_activity_at, sa.bindparam("triggered", type_=_T.c.last_activity_at.type)),
        last_engagement_at=sa.case(
            (sa.bindparam("engaged", type_=_T.c.last_engagement_at.type).is_(None), _T.c.last_engagement_at),
            else_=_later(_T.c.last_engagement_at, sa.bindparam("engaged", type_=_T.c.last_engagement_at.type)),
        ),
    )
)


def _returning_many() -> bool:
    """Whether the dialect returns ids from a multi-row INSERT (SQLite 3.35+, PostgreSQL)."""
    dialect = db.session.get_bind().dialect
    return bool(getattr(dialect, "use_insertmanyvalues", False) and dialect.insert_returning)


def record_hits(hits: list[HitInput]) -> list[HitInput]:
    """Classify and add the hits (in time order) to the session; the caller commits
    and then calls ``wake_streams``. Sends ``hit_recorded`` for each, in the transaction."""
    if not hits:
        return hits
    svc = services.get()
    state = _BatchState(hits, svc, current_app.config)
    threads: dict[int, dict[str, datetime]] = {}
    for h in hits:
        h.user_id, h.thread_id = h.message.user_id, h.message.thread_id
    for h in sorted(hits, key=lambda h: h.at):
        m = h.message
        hit = Hit(kind=h.kind, method=h.method, ip=h.ip, user_agent=h.user_agent, headers=h.headers,
                  at=h.at, url=h.link.url if h.link else None)
        verdict = classify(hit, state.context(h), svc.rules)
        state.remember(h)
        # Reasons are shown in the panel and kept 90 days: never with the raw address.
        reason = (verdict.reason.replace(h.ip, "the address") if h.ip else verdict.reason)[:300]
        if verdict.proxy or verdict.verdict == "apple_mpp":
            loc = (None, None, None)  # the proxy's place is Google's/Microsoft's/Apple's, not the reader's
        else:
            found = svc.geo.lookup(h.ip)
            loc = (found.country, found.region, found.city)
        common = dict(user_id=m.user_id, message_id=m.id, method=h.method[:8], at=h.at,
                      verdict=verdict.verdict, country=loc[0], region=loc[1], city=loc[2],
                      device=device_class(h.user_agent, verdict.verdict), user_agent=h.user_agent[:512],
                      ip_hash=h._ip_hash, source_hash=h._source)
        h.events = [dict(kind=h.kind, reason=reason, link_id=h.link.id if h.link else None,
                         hit_id=h.hit_id, implied=False, **common)]
        counts = verdict.verdict in ENGAGEMENT_VERDICTS
        if h.kind == "click" and counts and m.id not in state.opened:
            h.events.append(dict(kind="open", reason=IMPLIED_REASON, implied=True, link_id=None,
                                 hit_id=h.hit_id + "+open" if h.hit_id else None, **common))
        if counts and (h.kind == "open" or len(h.events) > 1):
            state.opened.add(m.id)
        t = threads.setdefault(m.thread_id, {})
        t["triggered"] = max(t.get("triggered", h.at), h.at)
        if counts:
            t["engaged"] = max(t.get("engaged", h.at), h.at)
    # One multi-row INSERT (Core, not the ORM's unit of work: a batch has hundreds of
    # rows) returning the ids the stream and the subscribers need.
    rows = [e for h in hits for e in h.events]
    ids = db.session.execute(sa.insert(Event.__table__).returning(Event.__table__.c.id), rows).scalars().all() \
        if _returning_many() else None
    if ids is None or len(ids) != len(rows):
        ids = [db.session.execute(sa.insert(Event.__table__).values(**row)).inserted_primary_key[0] for row in rows]
    for row, event_id in zip(rows, ids):
        row["id"] = event_id
    for h in hits:
        h.events = [SimpleNamespace(**row) for row in h.events]
    # One statement, executed once per thread with its own values (executemany).
    db.session.execute(_THREAD_UPDATE, [
        {"tid": thread_id, "triggered": t["triggered"], "engaged": t.get("engaged")}
        for thread_id, t in threads.items()])
    app = current_app._get_current_object()
    for h in hits:
        hit_recorded.send(app, session=db.session, message=h.message, events=h.events)
    last_event: dict[int, int] = {}
    for h in hits:
        last_event[h.message.user_id] = max(last_event.get(h.message.user_id, 0), h.events[0].id)
    for user_id, event_id in last_event.items():
        svc.broker.publish_in_transaction(db.session, user_id, event_id)
    return hits


def wake_streams(hits: list[HitInput]) -> None:
    broker = services.get().broker
    for user_id in {h.user_id for h in hits}:
        broker.published_locally(user_id)
