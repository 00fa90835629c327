"""Recording a hit: classify it honestly, locate it, store it, update its thread,
and wake the live stream. Called by the pixel and click endpoints."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Mapping, Optional

import sqlalchemy as sa
from flask import current_app

from client_py.model import ENGAGEMENT_VERDICTS

from . import services
from .classify import Context, Hit, classify
from .device import device_class
from .extensions import db
from .signals import hit_recorded
from .models import Event, Link, Message, Org, SelfView, SenderAddress, Thread, User, utcnow

log = logging.getLogger(__name__)

BURST_WINDOW = timedelta(seconds=2)
IMPLIED_REASON = "Counted as an open because a link in the email was clicked"


def _later(column, at: datetime):
    """``column`` moved forward to ``at`` in one UPDATE, safe under concurrent hits."""
    return sa.case((sa.or_(column.is_(None), column < at), at), else_=column)


def record_hit(
    *,
    message: Message,
    kind: str,
    method: str,
    ip: str,
    user_agent: str,
    headers: Mapping[str, str],
    link: Optional[Link] = None,
    at: Optional[datetime] = None,
    hit_id: Optional[str] = None,
    commit: bool = True,
) -> Event:
    """Classify, locate and store one hit. ``commit=False`` leaves the transaction open
    for a batch (the spool's writer commits many hits at once, then wakes streams)."""
    svc = services.get()
    at = at or utcnow()
    cfg = current_app.config
    ip_hash = svc.keyed_hash("ip", ip)
    source_hash = svc.keyed_hash("src", ip, user_agent)
    org_ranges = db.session.execute(
        sa.select(Org.office_ranges).join(User, User.org_id == Org.id).where(User.id == message.user_id)
    ).scalar_one_or_none() or []
    sender_recent = db.session.execute(
        sa.select(sa.literal(1)).where(
            SenderAddress.user_id == message.user_id,
            SenderAddress.ip_hash == ip_hash,
            SenderAddress.last_seen >= at - timedelta(days=cfg["SELF_ADDRESS_DAYS"]),
        )
    ).first() is not None
    self_reported = db.session.execute(
        sa.select(sa.literal(1)).where(
            SelfView.thread_id == message.thread_id,
            SelfView.at >= at - timedelta(seconds=cfg["SELF_VIEW_SECONDS"]),
        )
    ).first() is not None
    # "Same source again" means the same thing again: an open after an open, a click
    # on the same link after a click on it. Opening then clicking is two acts.
    same = [Event.message_id == message.id, Event.source_hash == source_hash,
            Event.implied.is_(False), Event.kind == kind]
    if link is not None:
        same.append(Event.link_id == link.id)
    last_same = db.session.execute(sa.select(sa.func.max(Event.at)).where(*same)).scalar_one_or_none()
    recent_clicks: list[tuple[datetime, str]] = []
    if kind == "click":
        rows = db.session.execute(
            sa.select(Event.at, Link.url)
            .join(Link, Link.id == Event.link_id)
            .where(
                Event.message_id == message.id,
                Event.source_hash == source_hash,
                Event.kind == "click",
                Event.at >= at - BURST_WINDOW,
            )
        ).all()
        recent_clicks = [(r[0], r[1]) for r in rows]
    hit = Hit(
        kind=kind, method=method, ip=ip, user_agent=user_agent, headers=headers, at=at,
        url=link.url if link else None,
    )
    ctx = Context(
        sent_at=message.sent_at,
        org_ranges=tuple(org_ranges),
        sender_address_recent=sender_recent,
        self_reported=self_reported,
        last_same_source_at=last_same,
        recent_clicks_same_source=tuple(recent_clicks),
    )
    verdict = classify(hit, ctx, svc.rules)
    # Reasons are shown in the panel and kept 90 days: never with the raw address.
    reason = verdict.reason.replace(ip, "the address")[:300] if ip else verdict.reason[:300]
    if verdict.proxy or verdict.verdict in ("apple_mpp",):
        loc = (None, None, None)  # a proxy's address says where Google/Microsoft/Apple is, not the reader
    else:
        found = svc.geo.lookup(ip)
        loc = (found.country, found.region, found.city)
    event = Event(
        user_id=message.user_id, message_id=message.id, link_id=link.id if link else None,
        kind=kind, method=method[:8], at=at, verdict=verdict.verdict, reason=reason,
        country=loc[0], region=loc[1], city=loc[2],
        device=device_class(user_agent, verdict.verdict), user_agent=user_agent[:512],
        ip_hash=ip_hash, source_hash=source_hash, hit_id=hit_id,
    )
    db.session.add(event)
    added = [event]
    counts = verdict.verdict in ENGAGEMENT_VERDICTS
    if kind == "click" and counts:
        seen_open = db.session.execute(
            sa.select(sa.literal(1)).where(
                Event.message_id == message.id, Event.kind == "open",
                Event.verdict.in_(ENGAGEMENT_VERDICTS),
            )
        ).first()
        if seen_open is None:
            implied = Event(
                user_id=message.user_id, message_id=message.id, kind="open", method=method[:8],
                at=at, verdict=verdict.verdict, reason=IMPLIED_REASON, country=loc[0],
                region=loc[1], city=loc[2], device=event.device, user_agent=user_agent[:512],
                ip_hash=ip_hash, source_hash=source_hash, implied=True,
                hit_id=hit_id + "+open" if hit_id else None,
            )
            db.session.add(implied)
            added.append(implied)
    values = {
        "last_triggered_at": _later(Thread.last_triggered_at, at),
        "last_activity_at": _later(Thread.last_activity_at, at),
    }
    if counts:
        values["last_engagement_at"] = _later(Thread.last_engagement_at, at)
    db.session.execute(sa.update(Thread).where(Thread.id == message.thread_id).values(**values))
    db.session.flush()
    hit_recorded.send(current_app._get_current_object(), session=db.session, message=message,
                      events=added)
    svc.broker.publish_in_transaction(db.session, message.user_id, event.id)
    if commit:
        db.session.commit()
        svc.broker.published_locally(message.user_id)
    return event


def note_sender_address(user_id: int, ip: str) -> None:
    """Remember that the sender used this address (throttled: one write per hour)."""
    svc = services.get()
    ip_hash = svc.keyed_hash("ip", ip)
    now = utcnow()
    row = db.session.get(SenderAddress, (user_id, ip_hash))
    if row is None:
        db.session.add(SenderAddress(user_id=user_id, ip_hash=ip_hash, last_seen=now))
    elif row.last_seen < now - timedelta(hours=1):
        row.last_seen = now
    else:
        return
    try:
        db.session.commit()
    except sa.exc.IntegrityError:  # two requests raced to insert it: fine
        db.session.rollback()


def report_self_view(user_id: int, thread: Thread) -> int:
    """The sender is looking at this thread: loads through a mail proxy around now are
    theirs. Recent proxy hits are re-filed as ``self``; later ones are caught at hit time."""
    now = utcnow()
    window = timedelta(seconds=current_app.config["SELF_VIEW_SECONDS"])
    db.session.add(SelfView(user_id=user_id, thread_id=thread.id, at=now))
    message_ids = sa.select(Message.id).where(Message.thread_id == thread.id)
    changed = db.session.execute(
        sa.update(Event)
        .where(
            Event.message_id.in_(message_ids),
            Event.at >= now - window,
            Event.verdict.in_(("gmail", "outlook")),
        )
        .values(verdict="self", reason="You opened it yourself (reported by your Engage extension)")
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed:
        recompute_thread(thread)
    db.session.commit()
    return changed or 0


def recompute_thread(thread: Thread) -> None:
    msgs = sa.select(Message.id).where(Message.thread_id == thread.id)
    row = db.session.execute(
        sa.select(
            sa.func.max(Event.at),
            sa.func.max(sa.case((Event.verdict.in_(ENGAGEMENT_VERDICTS), Event.at))),
        ).where(Event.message_id.in_(msgs))
    ).one()
    sent = db.session.execute(
        sa.select(sa.func.max(Message.sent_at)).where(Message.thread_id == thread.id)
    ).scalar_one_or_none()
    thread.last_triggered_at = row[0]
    thread.last_engagement_at = row[1]
    if sent is not None:
        thread.last_sent_at = sent
    thread.last_activity_at = max(x for x in (thread.last_sent_at, row[0]) if x is not None)
