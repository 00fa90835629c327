"""Salesforce endpoints: the org's configuration and outbox (admins), and linking a
tracked email to its Salesforce record (the email's owner: extension, add-in, API)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from flask_smorest import Blueprint

from ..api.auth import current_user
from ..api.base import secured
from ..errors import ApiError, ErrorSchema
from ..extensions import db
from ..models import Message, User
from . import admin
from .models import SalesforceConfig
from .schemas import ConfigIn, ConfigOut, LinkIn, LinkOut, OutboxPage, OutboxQuery, RetryIn, RetryOut

blp = Blueprint("salesforce", __name__, url_prefix="/api/v1",
                description="Salesforce: First Open / Last Open on the Task or EmailMessage that logged an email")


def admin_user() -> User:
    user = current_user()
    if not user.is_admin:
        raise ApiError(403, "Only an admin of your org can see or change its Salesforce settings.")
    return user


def _config_error(err: admin.ConfigError) -> ApiError:
    return ApiError(err.status, str(err), details={"json": {err.field: [str(err)]}})


@blp.route("/salesforce/config", methods=["GET"])
@secured
@blp.response(200, ConfigOut)
def get_config():
    """The org's Salesforce configuration (admins). Secrets are never returned: only
    whether each one is set."""
    user = admin_user()
    return admin.config_view(db.session.get(SalesforceConfig, user.org_id), current_app.config["SECRET_KEY"])


@blp.route("/salesforce/config", methods=["PUT"])
@secured
@blp.arguments(ConfigIn)
@blp.response(200, ConfigOut)
@blp.alt_response(409, schema=ErrorSchema, description="The configuration would be incomplete: the first one "
                  "must give the instance URL, the flow, the consumer key and the username; a flow needs its secrets.")
def put_config(body):
    """Set the org's Salesforce configuration (admins). Fields left out keep their
    stored values, secrets included; the first call must give the instance URL, the
    flow, the consumer key, the username and the flow's secrets."""
    user = admin_user()
    try:
        cfg = admin.apply_config(user.org_id, body, current_app.config["SECRET_KEY"])
    except admin.ConfigError as err:
        raise _config_error(err)
    return admin.config_view(cfg, current_app.config["SECRET_KEY"])


@blp.route("/salesforce/outbox", methods=["GET"])
@secured
@blp.arguments(OutboxQuery, location="query")
@blp.response(200, OutboxPage)
def list_outbox(query):
    """The org's Salesforce updates, newest first: pending (with the next attempt and
    the last error), delivered (with the values written), failed (with the reason)."""
    user = admin_user()
    return admin.outbox_page(user.org_id, query["status"], query["limit"], query["cursor"])


@blp.route("/salesforce/outbox/retry", methods=["POST"])
@secured
@blp.arguments(RetryIn)
@blp.response(200, RetryOut)
def retry_outbox(body):
    """Try failed updates again (after fixing the field, the access or the link)."""
    user = admin_user()
    return {"requeued": admin.retry_failed(user.org_id, body["ids"])}


def _own_message(message_id: str) -> Message:
    message = db.session.execute(
        sa.select(Message).where(Message.public_id == message_id, Message.user_id == current_user().id)
    ).scalar_one_or_none()
    if message is None:
        raise ApiError(404, "No tracked email with that id.")
    return message


@blp.route("/messages/<string:message_id>/salesforce", methods=["GET"])
@secured
@blp.response(200, LinkOut)
def get_link(message_id: str):
    """The Salesforce record a tracked email is linked to, and its update's state."""
    return admin.link_view(_own_message(message_id))


@blp.route("/messages/<string:message_id>/salesforce", methods=["PUT"])
@secured
@blp.arguments(LinkIn)
@blp.response(200, LinkOut)
def put_link(body, message_id: str):
    """Attach the Salesforce record that logged this email, and/or report the sent
    email's Message-ID (then the server finds the EmailMessage itself). The email's
    First/Last Open update is due at once."""
    message = _own_message(message_id)
    cfg = db.session.get(SalesforceConfig, current_user().org_id)
    try:
        return admin.attach(message, cfg.sobject if cfg else "Task", body.get("record_id"), body.get("object"),
                            body.get("client_message_id"))
    except admin.ConfigError as err:
        raise _config_error(err)
