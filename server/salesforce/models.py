"""Salesforce tables: one configuration per org, the record each tracked email is
linked to, and the durable outbox of First Open / Last Open updates.

They live here, not in ``server/models.py``, so the integration stays one package;
``server.salesforce`` imports this module when the app is created, so Alembic and
``db.metadata`` see the tables."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models import BigId, UTCDateTime, utcnow

OBJECTS = ("Task", "EmailMessage")
FLOWS = ("jwt", "password")
STATUSES = ("pending", "delivered", "failed")
DEFAULT_FIRST_FIELD = "First_Open__c"
DEFAULT_LAST_FIELD = "Last_Open__c"
DEFAULT_API_VERSION = "59.0"
DEFAULT_AUDIENCE = "https://login.salesforce.com"


class SalesforceConfig(db.Model):
    """How one org reaches its Salesforce. Secrets (client secret, password, security
    token, private key) are kept only in ``secrets_sealed``, encrypted with a key
    derived from the installation's SECRET_KEY (see ``vault.py``)."""

    __tablename__ = "salesforce_configs"
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("orgs.id", ondelete="CASCADE"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    instance_url: Mapped[str] = mapped_column(sa.String(300))
    # Where the OAuth token endpoint is; None: the instance (My Domain) itself.
    login_url: Mapped[Optional[str]] = mapped_column(sa.String(300))
    auth_flow: Mapped[str] = mapped_column(sa.String(16))  # jwt | password
    client_id: Mapped[str] = mapped_column(sa.String(300))  # the connected app's consumer key
    username: Mapped[str] = mapped_column(sa.String(300))
    jwt_audience: Mapped[str] = mapped_column(sa.String(300), default=DEFAULT_AUDIENCE)
    private_key_path: Mapped[Optional[str]] = mapped_column(sa.String(1000))
    secrets_sealed: Mapped[Optional[str]] = mapped_column(sa.Text)
    sobject: Mapped[str] = mapped_column(sa.String(40), default="Task")
    first_open_field: Mapped[str] = mapped_column(sa.String(80), default=DEFAULT_FIRST_FIELD)
    last_open_field: Mapped[str] = mapped_column(sa.String(80), default=DEFAULT_LAST_FIELD)
    api_version: Mapped[str] = mapped_column(sa.String(8), default=DEFAULT_API_VERSION)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SalesforceLink(db.Model):
    """The Salesforce record (Task or EmailMessage) that logged a tracked email."""

    __tablename__ = "salesforce_links"
    message_id: Mapped[int] = mapped_column(sa.ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True)
    sobject: Mapped[str] = mapped_column(sa.String(40))
    record_id: Mapped[str] = mapped_column(sa.String(18))
    source: Mapped[str] = mapped_column(sa.String(16))  # api | message_id | task_match
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SalesforceOutbox(db.Model):
    """One row per tracked email: "bring its record's First/Last Open up to date".

    Rows are written in the hit's own transaction, so an open that is stored is an
    update that will be delivered. Opens coalesce into the row (earliest first open,
    latest last open) and ``version`` counts them, so a delivery that raced a newer
    open leaves the row pending instead of marking it done."""

    __tablename__ = "salesforce_outbox"
    __table_args__ = (
        sa.Index("ix_salesforce_outbox_due", "status", "next_attempt_at"),
        sa.Index("ix_salesforce_outbox_org_status", "org_id", "status", "id"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("orgs.id", ondelete="CASCADE"))
    message_id: Mapped[int] = mapped_column(
        sa.ForeignKey("messages.id", ondelete="CASCADE"), unique=True
    )
    first_open: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    last_open: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    status: Mapped[str] = mapped_column(sa.String(12), default="pending")
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_owner: Mapped[Optional[str]] = mapped_column(sa.String(40))
    lease_until: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    reason: Mapped[Optional[str]] = mapped_column(sa.String(80))  # Salesforce errorCode or ours
    last_error: Mapped[Optional[str]] = mapped_column(sa.Text)
    sobject: Mapped[Optional[str]] = mapped_column(sa.String(40))
    record_id: Mapped[Optional[str]] = mapped_column(sa.String(18))
    delivered_first_open: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    delivered_last_open: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    delivered_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
