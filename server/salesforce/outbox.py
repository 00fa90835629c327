"""The durable outbox: writing rows in the hit's transaction, claiming due rows
without two processes taking the same one, and recording each attempt's outcome.

Claiming is a lease: a row is taken by one conditional UPDATE (``lease_owner``,
``lease_until``) and committed before any HTTP call, so no database transaction
or row lock is held while Salesforce is slow, and a hit on the same email never
waits for Salesforce. On PostgreSQL the candidate is picked with
``FOR UPDATE SKIP LOCKED`` so several server processes pass each other by; on
SQLite the conditional UPDATE alone decides (SQLite has one writer at a time). A
process that dies holding a lease loses it when ``lease_until`` passes."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .failures import Failure
from .models import SalesforceOutbox

T = SalesforceOutbox.__table__.c
LEASE = timedelta(minutes=5)  # longer than one delivery: a few calls, each with a timeout
BACKOFF_BASE_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 600.0


def backoff_seconds(attempt: int, rng: random.Random, base: float = BACKOFF_BASE_SECONDS,
                    cap: float = BACKOFF_CAP_SECONDS) -> float:
    """Exponential backoff with "equal jitter": attempt 1 waits 2.5-5 s, then 5-10 s,
    ... up to 5-10 minutes. The random half spreads many rows (an outage's backlog)
    apart; the fixed half keeps the growth."""
    ceiling = min(cap, base * 2 ** max(0, attempt - 1))
    return rng.uniform(ceiling / 2, ceiling)


def enqueue(session, *, org_id: int, message_id: int, first: datetime, last: datetime,
            due: datetime, now: datetime, replace: bool = False) -> None:
    """Insert the email's row, or fold these opens into it: earliest first open, latest
    last open, one more version. A delivered row becomes pending again; a failed row
    stays failed (an admin's retry brings it back); a pending row keeps its backoff.

    ``replace``: these are the email's opens that count now (re-filed verdicts), so a
    row not delivered yet takes them as they are, even earlier than it had; a
    delivered row still only folds them in (Salesforce already shows its values)."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(SalesforceOutbox.__table__).values(
        org_id=org_id, message_id=message_id, first_open=first, last_open=last, version=1,
        status="pending", attempts=0, next_attempt_at=due, created_at=now, updated_at=now,
    )
    new = stmt.excluded
    fold_first = sa.case((sa.or_(T.first_open.is_(None), new.first_open < T.first_open), new.first_open),
                         else_=T.first_open)
    fold_last = sa.case((sa.or_(T.last_open.is_(None), new.last_open > T.last_open), new.last_open),
                        else_=T.last_open)
    if replace:
        fold_first = sa.case((T.status == "delivered", fold_first), else_=new.first_open)
        fold_last = sa.case((T.status == "delivered", fold_last), else_=new.last_open)
    stmt = stmt.on_conflict_do_update(index_elements=["message_id"], set_={
        "first_open": fold_first,
        "last_open": fold_last,
        "version": T.version + 1,
        "status": sa.case((T.status == "failed", "failed"), else_="pending"),
        "attempts": sa.case((T.status == "delivered", 0), else_=T.attempts),
        "next_attempt_at": sa.case(
            (sa.and_(T.status == "pending", T.next_attempt_at > new.next_attempt_at), T.next_attempt_at),
            else_=new.next_attempt_at),
        "updated_at": new.updated_at,
    })
    session.execute(stmt)


def claim_one(session, owner: str, now: datetime) -> int | None:
    """Take the most overdue pending row; None when nothing is due. Commits."""
    free = sa.or_(T.lease_until.is_(None), T.lease_until < now)
    pick = (sa.select(T.id).where(T.status == "pending", T.next_attempt_at <= now, free)
            .order_by(T.next_attempt_at, T.id).limit(1))
    if session.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    row_id = session.execute(pick).scalar_one_or_none()
    taken = 0
    if row_id is not None:
        taken = session.execute(
            sa.update(SalesforceOutbox.__table__)
            .where(T.id == row_id, T.status == "pending", free)
            .values(lease_owner=owner, lease_until=now + LEASE)
        ).rowcount
    session.commit()
    return row_id if taken else None


def release_dead_leases(session, host: str, alive) -> int:
    """Free the leases of this host's workers whose process is gone (killed, crashed),
    so a restarted server takes their rows at once instead of after LEASE. Owners are
    "host:pid:nonce". Freeing a live worker's lease by mistake (same host name on
    another machine) costs at most a repeated read: deliveries are safe to repeat.
    Commits."""
    owners = session.execute(
        sa.select(T.lease_owner).where(T.lease_owner.like(f"{host}:%")).distinct()
    ).scalars().all()
    freed = 0
    for owner in owners:
        _, pid, _ = (owner.rsplit(":", 2) + ["", ""])[:3]
        if pid.isdigit() and not alive(int(pid)):
            freed += session.execute(
                sa.update(SalesforceOutbox.__table__).where(T.lease_owner == owner)
                .values(lease_owner=None, lease_until=None)
            ).rowcount or 0
    session.commit()
    return freed


def _mine(row_id: int, owner: str):
    return sa.update(SalesforceOutbox.__table__).where(T.id == row_id, T.lease_owner == owner)


def finish_delivered(session, row_id: int, owner: str, version: int, now: datetime, *, sobject: str,
                     record_id: str, first: datetime | None, last: datetime | None) -> bool:
    """Mark done, unless an open arrived meanwhile (version moved): then it stays
    pending for that open. Returns whether this owner still held the row."""
    current = T.version == version
    done = session.execute(_mine(row_id, owner).values(
        status=sa.case((current, "delivered"), else_="pending"),
        attempts=0, reason=None, last_error=None, lease_owner=None, lease_until=None,
        sobject=sobject, record_id=record_id, delivered_first_open=first, delivered_last_open=last,
        delivered_at=now, updated_at=now,
    )).rowcount
    session.commit()
    return bool(done)


def _target(target) -> dict:
    """The record an attempt was aimed at (when it got that far), for the admin's view."""
    return {"sobject": target.sobject, "record_id": target.record_id} if target is not None else {}


def finish_retry(session, row_id: int, owner: str, attempts: int, failure: Failure,
                 next_at: datetime, now: datetime, target=None) -> bool:
    done = session.execute(_mine(row_id, owner).values(
        attempts=attempts, next_attempt_at=next_at, reason=failure.code[:80],
        last_error=failure.message, lease_owner=None, lease_until=None, updated_at=now, **_target(target),
    )).rowcount
    session.commit()
    return bool(done)


def finish_failed(session, row_id: int, owner: str, attempts: int, failure: Failure, now: datetime,
                  target=None) -> bool:
    done = session.execute(_mine(row_id, owner).values(
        status="failed", attempts=attempts, reason=failure.code[:80], last_error=failure.message,
        lease_owner=None, lease_until=None, updated_at=now, **_target(target),
    )).rowcount
    session.commit()
    return bool(done)


def requeue(session, where, now: datetime) -> int:
    """Make rows due now with a fresh backoff (an admin's retry, a new link, new config)."""
    return session.execute(
        sa.update(SalesforceOutbox.__table__).where(where).values(
            status="pending", attempts=0, next_attempt_at=now, reason=None, last_error=None,
            updated_at=now,
        )
    ).rowcount or 0
