"""The reminder scheduler: due reminders are taken under a lease and either settled
(the open or reply came: never shown) or fired (shown to the user once).

As the Salesforce outbox does (server/salesforce/outbox.py), a row is claimed by one
conditional UPDATE (``lease_owner``, ``lease_until``) and committed before it is
looked at; on PostgreSQL the candidate is picked ``FOR UPDATE SKIP LOCKED`` so several
server processes pass each other by. The outcome is written by a second conditional
UPDATE that needs both ``status = 'pending'`` and this owner's lease: if the lease ran
out and another process took the row meanwhile, only one of them writes, so a
reminder fires at most once however many processes run the scheduler."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa

from client_py.model import ENGAGEMENT_VERDICTS
from client_py.reminders import settled

from .causes import OutageLog
from .extensions import db
from .models import Event, Message, Reminder, Reply, as_dict_time, utcnow

log = logging.getLogger(__name__)
T = Reminder.__table__.c
ACTIVE = ("pending", "due")  # the reminders the user still has to act on
LEASE = timedelta(minutes=2)


def owner_name() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def condition_settled(reminder_thread_id: int, condition: str, since: datetime) -> bool:
    """client_py.reminders.settled on what the thread received since ``since``."""
    engaged = db.session.execute(sa.select(
        sa.exists().where(Event.message_id == Message.id, Message.thread_id == reminder_thread_id,
                          Event.at >= since, Event.verdict.in_(sorted(ENGAGEMENT_VERDICTS))))).scalar()
    replied = db.session.execute(sa.select(
        sa.exists().where(Reply.thread_id == reminder_thread_id, Reply.at >= since))).scalar()
    return settled(condition, bool(engaged), bool(replied))


def claim_one(owner: str, now: datetime) -> int | None:
    """Lease the most overdue pending reminder; None when none is due. Commits."""
    free = sa.or_(T.lease_until.is_(None), T.lease_until < now)
    pick = (sa.select(T.id).where(T.status == "pending", T.due_at <= now, free)
            .order_by(T.due_at, T.id).limit(1))
    if db.session.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    row_id = db.session.execute(pick).scalar_one_or_none()
    taken = 0
    if row_id is not None:
        taken = db.session.execute(
            sa.update(Reminder.__table__).where(T.id == row_id, T.status == "pending", free)
            .values(lease_owner=owner, lease_until=now + LEASE)).rowcount
    db.session.commit()
    return row_id if taken else None


def process_one(row_id: int, owner: str, now: datetime) -> str | None:
    """Settle or fire one leased reminder; its new status, or None when the lease was lost."""
    row = db.session.execute(sa.select(T.thread_id, T.condition, T.since).where(T.id == row_id)).one_or_none()
    if row is None:
        db.session.commit()
        return None
    status = "settled" if condition_settled(row.thread_id, row.condition, row.since) else "due"
    values = {"status": status, "lease_owner": None, "lease_until": None, "updated_at": now}
    if status == "due":
        values.update(fired_at=now, fired_by=owner)
    done = db.session.execute(
        sa.update(Reminder.__table__).where(T.id == row_id, T.status == "pending", T.lease_owner == owner)
        .values(**values)).rowcount
    db.session.commit()
    if not done:
        return None
    if status == "due":
        log.info("reminder %s fired by %s", row_id, owner)
    return status


def run_due(owner: str, now: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Every reminder due now, one at a time: {"due": n, "settled": m}."""
    counts = {"due": 0, "settled": 0}
    for _ in range(limit):
        current = now or utcnow()
        row_id = claim_one(owner, current)
        if row_id is None:
            break
        outcome = process_one(row_id, owner, current)
        if outcome:
            counts[outcome] += 1
    return counts


def active_reminders(thread_pks: list[int]) -> dict[int, list[dict]]:
    """The active reminders of these threads (for the panel's thread list)."""
    out: dict[int, list[dict]] = {}
    if not thread_pks:
        return out
    for r in db.session.execute(sa.select(Reminder).where(
            Reminder.thread_id.in_(thread_pks), Reminder.status.in_(ACTIVE)).order_by(Reminder.due_at)).scalars():
        out.setdefault(r.thread_id, []).append(
            {"id": r.public_id, "condition": r.condition, "status": r.status, "due_at": as_dict_time(r.due_at)})
    return out


def due_count(user_id: int) -> int:
    return db.session.execute(sa.select(sa.func.count(Reminder.id)).where(
        Reminder.user_id == user_id, Reminder.status == "due")).scalar_one()


def start_reminder_thread(app) -> threading.Thread:
    owner = owner_name()

    def loop() -> None:
        stop = app.extensions.setdefault("engage_stop", threading.Event())
        outage = OutageLog(log, "reminders: a pass failed")  # one line per outage, not a traceback a pass
        while not stop.wait(app.config["REMINDER_INTERVAL_SECONDS"]):
            try:
                with app.app_context():
                    run_due(owner)
                outage.recovered()
            except Exception as err:
                outage.failed(err, app.config["REMINDER_INTERVAL_SECONDS"])
                try:
                    with app.app_context():
                        db.session.rollback()
                except Exception:  # the database is still away; the next pass tries again
                    pass

    t = threading.Thread(target=loop, name="engage-reminders", daemon=True)
    t.start()
    return t
