"""Turning recorded opens into outbox rows, inside the hit's own transaction.

Only opens that count reach Salesforce: verdict human, gmail, outlook, yahoo or
confirmed (the rulebook's ``ENGAGEMENT_VERDICTS``). Apple Mail Privacy Protection prefetches,
scanners, the sender's own views (which include every hit from the org's office
address ranges), duplicates and Gmail prefetches never do. Only emails with an
external recipient are synced: a Task or EmailMessage is about a prospect.

The writer sends ``opens_changed`` whenever an email's first or last open that
counts changes, re-filed ones included. Opens through a mail provider's image proxy may still be re-filed as the
sender's own view for SELF_VIEW_SECONDS after they happen (the extension reports
"I am looking at this thread"), so their row is not due before that has passed."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from client_py.model import ENGAGEMENT_VERDICTS

from ..models import Event, Message, User, utcnow
from . import outbox
from .models import SalesforceConfig

_CACHE_KEY = "engage_salesforce_orgs"


@sa.event.listens_for(Session, "after_transaction_end")
def _forget_orgs(session, transaction) -> None:
    session.info.pop(_CACHE_KEY, None)


def synced_org(session, message: Message) -> int | None:
    """The org id when the email's org has Salesforce turned on and the email is external."""
    return synced_org_of(session, message.user_id, message.external)


def synced_org_of(session, user_id: int, external: bool) -> int | None:
    """``synced_org`` by value. Asked once per user per transaction: the spool's writer
    records hundreds of hits in one transaction."""
    if not external:
        return None
    cache = session.info.setdefault(_CACHE_KEY, {})
    if user_id not in cache:
        cache[user_id] = session.execute(
            sa.select(SalesforceConfig.org_id)
            .join(User, User.org_id == SalesforceConfig.org_id)
            .where(User.id == user_id, SalesforceConfig.enabled.is_(True))
        ).scalar_one_or_none()
    return cache[user_id]


def on_opens_changed(app, session, message_id: int, user_id: int, external: bool, first, last,
                     proxied: bool = False, **_) -> None:
    """The email's opens that count changed: queue the new First/Last Open. When none
    counts any more, nothing is queued (a row not delivered yet keeps its values;
    see README, "Verdicts")."""
    if first is None:
        return
    org_id = synced_org_of(session, user_id, external)
    if org_id is None:
        return
    settle = timedelta(seconds=app.config.get("SELF_VIEW_SECONDS", 0))
    due = last + settle if proxied else last
    outbox.enqueue(session, org_id=org_id, message_id=message_id, first=first, last=last, due=due, now=utcnow(),
                   replace=True)


def enqueue_existing_opens(session, message: Message, now=None) -> bool:
    """Queue an update from the opens already stored (a record attached after the
    email was opened, or Salesforce turned on since). Returns whether one was queued."""
    org_id = synced_org(session, message)
    if org_id is None:
        return False
    first, last = session.execute(
        sa.select(sa.func.min(Event.at), sa.func.max(Event.at)).where(
            Event.message_id == message.id, Event.kind == "open", Event.verdict.in_(ENGAGEMENT_VERDICTS))
    ).one()
    if first is None:
        return False
    now = now or utcnow()
    outbox.enqueue(session, org_id=org_id, message_id=message.id, first=first, last=last, due=now, now=now)
    return True
