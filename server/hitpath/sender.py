"""What the sender's own clients tell the server about themselves: the addresses
they use (so hits from there are the sender's) and "I am viewing this thread now"
(so the mail proxy's image load around then is the sender's, not the recipient's).

Both are evidence for the verdicts of hits already stored: a self-view report is
committed, then the thread's emails are decided again under their locks
(drain.refile), so a hit the writer is storing at the same moment is decided with
the report by whichever of the two takes an email's lock second."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from .. import services
from ..extensions import db
from ..models import Message, SelfView, SenderAddress, Thread, utcnow
from .addresses import canonical
from .drain import refile


def note_sender_address(user_id: int, ip: str) -> None:
    """Remember that the sender used this address (throttled: one write per hour)."""
    svc = services.get()
    ip_hash = svc.keyed_hash("ip", canonical(ip))
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
    """The sender is looking at this thread: hits around now are theirs. Returns how
    many stored hits were re-filed."""
    thread_id = thread.id
    db.session.add(SelfView(user_id=user_id, thread_id=thread_id, at=utcnow()))
    db.session.commit()
    messages = db.session.execute(sa.select(Message.id).where(Message.thread_id == thread_id)).scalars().all()
    db.session.rollback()  # the refile starts with the emails' locks
    return sum(1 for _, new, _ in refile(messages).refiled if new == "self")
