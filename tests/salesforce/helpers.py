"""Helpers for the Salesforce tests: tracked emails linked to stand-in records, and
what Salesforce should end up holding."""

from __future__ import annotations

import itertools

import sqlalchemy as sa

from client_py.model import ENGAGEMENT_VERDICTS
from server.salesforce.values import format_sf
from tests.server.helpers import register

_threads = itertools.count(1)


def tracked(client, account, **overrides) -> dict:
    body = {"thread_id": f"thread-{next(_threads)}", **overrides}
    return register(client, account, **body)


def link(client, account, message: dict, **body):
    r = client.put(f"/api/v1/messages/{message['id']}/salesforce", json=body, headers=account.headers)
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def linked_task(synced, client, subject="Proposal for Q3") -> tuple[dict, str]:
    """A tracked email attached (through the API) to a Task in the stand-in."""
    task = synced.standin.add_record("Task", Subject=f"Email: {subject}")
    message = tracked(client, synced.admin, subject=subject)
    link(client, synced.admin, message, record_id=task)
    return message, task


def counting_opens(app, message: dict) -> tuple[str, str]:
    """(First Open, Last Open) as Salesforce should hold them, from the stored events."""
    from server.extensions import db
    from server.models import Event, Message

    with app.app_context():
        first, last = db.session.execute(
            sa.select(sa.func.min(Event.at), sa.func.max(Event.at))
            .join(Message, Message.id == Event.message_id)
            .where(Message.public_id == message["id"], Event.kind == "open",
                   Event.verdict.in_(ENGAGEMENT_VERDICTS))
        ).one()
    assert first is not None, "no counting open was recorded"
    return format_sf(first), format_sf(last)


def verdicts(app, message: dict) -> list[str]:
    from server.extensions import db
    from server.models import Event, Message

    with app.app_context():
        return list(db.session.execute(
            sa.select(Event.verdict).join(Message, Message.id == Event.message_id)
            .where(Message.public_id == message["id"]).order_by(Event.id)
        ).scalars())


def field_updates(standin) -> list[tuple[str, str, str]]:
    """Every (record, field, value) Salesforce applied, one entry per PATCH that carried it."""
    return [(rid, name, value) for _, rid, body in standin.applied for name, value in body.items()]
