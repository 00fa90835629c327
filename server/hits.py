"""What the sender's own clients tell the server about themselves: the addresses
they use (so hits from there are the sender's) and "I am viewing this thread now"
(so the mail proxy's image load that follows is the sender's, not the recipient's).
Recording hits is server/recorder.py."""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from client_py.model import ENGAGEMENT_VERDICTS

from . import services
from .extensions import db
from .models import Event, Message, SelfView, SenderAddress, Thread, utcnow

log = logging.getLogger(__name__)


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
