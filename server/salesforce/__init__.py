"""Salesforce integration: the first and latest time a prospect opened an email,
written to the Task or EmailMessage that logged it (docs/salesforce.md).

    subscriber.py  counting opens -> outbox rows, in the hit's transaction
    outbox.py      the durable queue: upsert, lease-based claiming, outcomes, backoff
    delivery.py    the worker: link, read, PATCH, record; the background thread
    client.py      OAuth sign-in (JWT bearer, username-password) + simple-salesforce
    linking.py     finding the record (SOQL in soql.py); failures.py: retry or set aside
    values.py      which values to write (pure); vault.py: secrets sealed at rest
    api.py, cli.py admin and linking surfaces; admin.py what they share
"""

from __future__ import annotations

from flask import Flask

from . import models  # noqa: F401  (registers the tables with db.metadata, for Alembic too)
from ..signals import opens_changed
from .subscriber import on_opens_changed


def init_app(app: Flask) -> None:
    """Subscribe to recorded hits (once per process). The delivery thread
    (``delivery.start_delivery_thread``) starts with the app's other background jobs,
    in server/startup.py."""
    opens_changed.connect(on_opens_changed, weak=False)  # blinker ignores a repeated connect
