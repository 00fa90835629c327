"""What the admin API and the command line share: applying a configuration,
showing it without secrets, listing the outbox, retrying, linking a record."""

from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa

from ..extensions import db
from ..models import Message, as_dict_time, utcnow
from . import outbox
from .hosts import SALESFORCE_HOSTS, ConfigError, allowed_hosts, https_url  # noqa: F401  (re-exported)
from .linking import object_for
from .models import (DEFAULT_AUDIENCE, FLOWS, OBJECTS, STATUSES, SalesforceConfig, SalesforceLink,
                     SalesforceOutbox)
from .subscriber import enqueue_existing_opens
from .vault import SECRET_NAMES, UnreadableSecrets, seal, unseal

PLAIN_FIELDS = ("enabled", "instance_url", "login_url", "auth_flow", "client_id", "username", "jwt_audience",
                "private_key_path", "sobject", "first_open_field", "last_open_field", "api_version")
FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")
RECORD_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")


def apply_config(org_id: int, changes: dict, secret_key: str, now: datetime | None = None) -> SalesforceConfig:
    """Create or change the org's configuration; fields not given are kept, and so are
    stored secrets not given again (an empty string clears one). Commits; on a
    ``ConfigError`` nothing is changed."""
    try:
        return _apply(org_id, changes, secret_key, now or utcnow())
    except ConfigError:
        db.session.rollback()
        raise


def _apply(org_id: int, changes: dict, secret_key: str, now: datetime) -> SalesforceConfig:
    cfg = db.session.get(SalesforceConfig, org_id)
    if cfg is None:
        cfg = SalesforceConfig(org_id=org_id, enabled=False, jwt_audience=DEFAULT_AUDIENCE)
        db.session.add(cfg)
    for name in PLAIN_FIELDS:
        if name in changes and changes[name] is not None:
            setattr(cfg, name, changes[name])
    if changes.get("login_url") == "":
        cfg.login_url = None
    if changes.get("private_key_path") == "":
        cfg.private_key_path = None
    hosts = allowed_hosts()
    for name, value in (("instance_url", cfg.instance_url), ("login_url", cfg.login_url)):
        if value:
            setattr(cfg, name, https_url(value, name, hosts))
    if cfg.jwt_audience:  # only a claim in the assertion: nothing is sent to it
        cfg.jwt_audience = https_url(cfg.jwt_audience, "jwt_audience")
    for name in ("instance_url", "auth_flow", "client_id", "username"):
        if not getattr(cfg, name, None):
            raise ConfigError(f"{name} is required", name, status=409)
    if cfg.auth_flow not in FLOWS:
        raise ConfigError(f"auth_flow must be one of {', '.join(FLOWS)}", "auth_flow")
    if (cfg.sobject or "Task") not in OBJECTS:
        raise ConfigError(f"object must be one of {', '.join(OBJECTS)}", "object")
    for name in ("first_open_field", "last_open_field"):
        value = getattr(cfg, name)
        if value is not None and not FIELD_NAME.match(value):
            raise ConfigError(f"{name} must be a field API name like First_Open__c", name)
    try:
        secrets = unseal(secret_key, cfg.secrets_sealed)
    except UnreadableSecrets:
        secrets = {}  # sealed with an older SECRET_KEY: what is given now replaces it
    secrets.update({k: changes[k] for k in SECRET_NAMES if changes.get(k) is not None})
    secrets = {k: v for k, v in secrets.items() if v}
    if cfg.auth_flow == "jwt" and not (secrets.get("private_key") or cfg.private_key_path):
        raise ConfigError("the JWT flow needs private_key or private_key_path", "private_key", status=409)
    if cfg.auth_flow == "password":
        for name in ("client_secret", "password"):
            if not secrets.get(name):
                raise ConfigError(f"the password flow needs {name}", name, status=409)
    cfg.secrets_sealed = seal(secret_key, secrets)
    cfg.updated_at = now
    db.session.flush()
    if cfg.enabled:  # rows waiting on bad credentials or "off" are tried with the new settings now
        outbox.requeue(db.session, sa.and_(SalesforceOutbox.org_id == org_id, SalesforceOutbox.attempts > 0,
                                           SalesforceOutbox.status == "pending"), now)
    db.session.commit()
    return cfg


def config_view(cfg: SalesforceConfig | None, secret_key: str) -> dict:
    """The configuration as shown to admins: which secrets are set, never their values."""
    if cfg is None:
        return {"configured": False, "enabled": False}
    try:
        held = set(unseal(secret_key, cfg.secrets_sealed))
        readable = True
    except UnreadableSecrets:
        held, readable = set(), False
    return {
        "configured": True, "enabled": cfg.enabled, "instance_url": cfg.instance_url,
        "login_url": cfg.login_url, "auth_flow": cfg.auth_flow, "client_id": cfg.client_id,
        "username": cfg.username, "jwt_audience": cfg.jwt_audience, "private_key_path": cfg.private_key_path,
        "object": cfg.sobject, "first_open_field": cfg.first_open_field, "last_open_field": cfg.last_open_field,
        "api_version": cfg.api_version, "secrets_readable": readable,
        **{f"has_{name}": name in held for name in SECRET_NAMES},
        "updated_at": as_dict_time(cfg.updated_at),
    }


def outbox_counts(org_id: int) -> dict:
    rows = db.session.execute(
        sa.select(SalesforceOutbox.status, sa.func.count()).where(SalesforceOutbox.org_id == org_id)
        .group_by(SalesforceOutbox.status)
    ).all()
    counts = {s: 0 for s in STATUSES}
    counts.update({status: n for status, n in rows})
    return counts


def outbox_item(row: SalesforceOutbox, message: Message, link: SalesforceLink | None = None) -> dict:
    """One row as admins see it; the record is the one last aimed at, else the linked one."""
    return {
        "id": row.id, "message_id": message.public_id, "subject": message.subject,
        "status": row.status, "attempts": row.attempts, "reason": row.reason, "last_error": row.last_error,
        "object": row.sobject or (link.sobject if link else None),
        "record_id": row.record_id or (link.record_id if link else None),
        "first_open": as_dict_time(row.first_open), "last_open": as_dict_time(row.last_open),
        "delivered_first_open": as_dict_time(row.delivered_first_open),
        "delivered_last_open": as_dict_time(row.delivered_last_open),
        "next_attempt_at": as_dict_time(row.next_attempt_at) if row.status == "pending" else None,
        "delivered_at": as_dict_time(row.delivered_at), "updated_at": as_dict_time(row.updated_at),
    }


def outbox_page(org_id: int, status: str | None, limit: int, before: int | None) -> dict:
    q = (sa.select(SalesforceOutbox, Message, SalesforceLink)
         .join(Message, Message.id == SalesforceOutbox.message_id)
         .outerjoin(SalesforceLink, SalesforceLink.message_id == SalesforceOutbox.message_id)
         .where(SalesforceOutbox.org_id == org_id).order_by(SalesforceOutbox.id.desc()).limit(limit + 1))
    if status:
        q = q.where(SalesforceOutbox.status == status)
    if before:
        q = q.where(SalesforceOutbox.id < before)
    rows = db.session.execute(q).all()
    items = [outbox_item(r, m, link) for r, m, link in rows[:limit]]
    return {"counts": outbox_counts(org_id), "items": items,
            "next_cursor": str(rows[limit - 1][0].id) if len(rows) > limit else None}


def retry_failed(org_id: int, ids: list[int] | None = None, now: datetime | None = None) -> int:
    """Bring set-aside rows back (after the admin fixed the field, the access, the link). Commits."""
    where = sa.and_(SalesforceOutbox.org_id == org_id, SalesforceOutbox.status == "failed")
    if ids:
        where = sa.and_(where, SalesforceOutbox.id.in_(ids))
    n = outbox.requeue(db.session, where, now or utcnow())
    db.session.commit()
    return n


def attach(message: Message, default_object: str, record_id: str | None, sobject: str | None,
           client_message_id: str | None, now: datetime | None = None) -> dict:
    """Link a tracked email to a record and/or note its Message-ID; its update is due now. Commits."""
    now = now or utcnow()
    if client_message_id is not None:
        message.client_message_id = client_message_id.strip() or None
    if record_id is not None:
        if not RECORD_ID.match(record_id):
            raise ConfigError("record_id must be a 15- or 18-character Salesforce id", "record_id")
        link = db.session.get(SalesforceLink, message.id)
        if link is None:
            link = SalesforceLink(message_id=message.id)
            db.session.add(link)
        link.sobject = sobject or object_for(record_id, default_object)
        link.record_id, link.source, link.linked_at = record_id, "api", now
    db.session.flush()
    queued = outbox.requeue(db.session, SalesforceOutbox.message_id == message.id, now)
    if not queued:
        enqueue_existing_opens(db.session, message, now)
    db.session.commit()
    return link_view(message)


def link_view(message: Message) -> dict:
    link = db.session.get(SalesforceLink, message.id)
    row = db.session.execute(
        sa.select(SalesforceOutbox).where(SalesforceOutbox.message_id == message.id)
    ).scalar_one_or_none()
    return {
        "message_id": message.public_id, "client_message_id": message.client_message_id,
        "object": link.sobject if link else None, "record_id": link.record_id if link else None,
        "source": link.source if link else None,
        "update": outbox_item(row, message, link) if row is not None else None,
    }
