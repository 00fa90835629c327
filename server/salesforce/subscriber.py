"""Turning recorded opens into outbox rows, inside the hit's own transaction.

Only opens that count reach Salesforce: verdict human, gmail or outlook (the
rulebook's ``ENGAGEMENT_VERDICTS``). Apple Mail Privacy Protection prefetches,
scanners, the sender's own views (which include every hit from the org's office
address ranges), duplicates and Gmail prefetches never do. Only emails with an
external recipient are synced: a Task or EmailMessage is about a prospect.

Opens through Gmail's or Outlook's image proxy may still be re-filed as the
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

PROXY_VERDICTS = frozenset({"gmail", "outlook"})


def counting_opens(events: list[Event]) -> list[Event]:
    return [e for e in events if e.kind == "open" and e.verdict in ENGAGEMENT_VERDICTS]


_CACHE_KEY = "engage_salesforce_orgs"


@sa.event.listens_for(Session, "after_transaction_end")
def _forget_orgs(session, transaction) -> None:
    session.info.pop(_CACHE_KEY, None)


def synced_org(session, message: Message) -> int | None:
    """The org id when the email's org has Salesforce turned on and the email is external.

    Asked once per user per transaction: the spool's writer records hundreds of hits
    in one transaction, and this is asked for every counting open."""
    if not message.external:
        return None
    cache = session.info.setdefault(_CACHE_KEY, {})
    if message.user_id not in cache:
        cache[message.user_id] = session.execute(
            sa.select(SalesforceConfig.org_id)
            .join(User, User.org_id == SalesforceConfig.org_id)
            .where(User.id == message.user_id, SalesforceConfig.enabled.is_(True))
        ).scalar_one_or_none()
    return cache[message.user_id]


def on_hit_recorded(app, session, message: Message, events: list[Event], **_) -> None:
    opens = counting_opens(events)
    if not opens:
        return
    org_id = synced_org(session, message)
    if org_id is None:
        return
    settle = timedelta(seconds=app.config.get("SELF_VIEW_SECONDS", 0))
    due = max(e.at + (settle if e.verdict in PROXY_VERDICTS else timedelta(0)) for e in opens)
    outbox.enqueue(session, org_id=org_id, message_id=message.id, first=min(e.at for e in opens),
                   last=max(e.at for e in opens), due=due, now=utcnow())


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
