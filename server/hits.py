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


SELF_REASON = "You opened it yourself (reported by your Engage extension)"


def report_self_view(user_id: int, thread: Thread) -> int:
    """The sender is looking at this thread: loads through a mail proxy around now are
    theirs, not the recipient's.

    Race-free with the spool's writer: the view is committed first, then stored proxy
    hits are re-filed. A hit the writer stores concurrently is re-checked by the writer
    after its own commit (``refile_proxy_hits``), and by then it sees this view."""
    now = utcnow()
    db.session.add(SelfView(user_id=user_id, thread_id=thread.id, at=now))
    db.session.commit()
    window = timedelta(seconds=current_app.config["SELF_VIEW_SECONDS"])
    changed = refile_proxy_hits([thread.id], since=now - window, until=now + window)
    return changed


def refile_proxy_hits(thread_ids, since=None, until=None) -> int:
    """Re-file as ``self`` the proxy loads (gmail, outlook) on these threads that fall
    within SELF_VIEW_SECONDS of one of the sender's "I am viewing it" reports, and
    bring the threads' aggregates up to date. Commits."""
    window = timedelta(seconds=current_app.config["SELF_VIEW_SECONDS"])
    thread_ids = list(thread_ids)
    if not thread_ids:
        return 0
    conditions = [Message.thread_id.in_(thread_ids), Event.verdict.in_(("gmail", "outlook"))]
    if since is not None:
        conditions += [Event.at >= since, Event.at <= until]
    candidates = db.session.execute(
        sa.select(Event.id, Event.at, Message.thread_id).join(Message, Message.id == Event.message_id)
        .where(*conditions)).all()
    ids = []
    if candidates:
        earliest = min(at for _, at, _ in candidates) - window
        views: dict[int, list] = {}
        for thread_id, at in db.session.execute(sa.select(SelfView.thread_id, SelfView.at).where(
                SelfView.thread_id.in_({t for _, _, t in candidates}), SelfView.at >= earliest)):
            views.setdefault(thread_id, []).append(at)
        ids = [event_id for event_id, at, thread_id in candidates
               if any(abs(view - at) <= window for view in views.get(thread_id, ()))]
    if not ids:
        db.session.commit()
        return 0
    db.session.execute(sa.update(Event).where(Event.id.in_(ids))
                       .values(verdict="self", reason=SELF_REASON)
                       .execution_options(synchronize_session=False))
    for thread_id in thread_ids:
        recompute_thread(thread_id)
    db.session.commit()
    return len(ids)


def recompute_thread(thread_id: int) -> None:
    """The thread's aggregates from its emails and events, in one UPDATE (so a
    concurrently stored hit is never overwritten by a stale in-memory copy)."""
    last_event = sa.select(sa.func.max(Event.at)).where(Event.message_id.in_(
        sa.select(Message.id).where(Message.thread_id == thread_id))).scalar_subquery()
    last_engaged = sa.select(sa.func.max(Event.at)).where(
        Event.message_id.in_(sa.select(Message.id).where(Message.thread_id == thread_id)),
        Event.verdict.in_(ENGAGEMENT_VERDICTS)).scalar_subquery()
    row = db.session.execute(sa.select(last_event, last_engaged)).one()
    sent = db.session.execute(
        sa.select(sa.func.max(Message.sent_at)).where(Message.thread_id == thread_id)).scalar_one_or_none()
    activity = max((t for t in (sent, row[0]) if t is not None), default=None)
    values = {"last_triggered_at": row[0], "last_engagement_at": row[1]}
    if sent is not None:
        values.update(last_sent_at=sent, last_activity_at=activity)
    db.session.execute(sa.update(Thread).where(Thread.id == thread_id).values(**values)
                       .execution_options(synchronize_session=False))
