"""Request and response schemas of the Salesforce endpoints (validation and OpenAPI)."""

from __future__ import annotations

import re

import marshmallow as ma
from marshmallow import fields, validate

from ..api.openapi_rules import Pattern
from ..api.schemas import Bool, Int
from .hosts import SALESFORCE_HOSTS, allowed_hosts, https_url_pattern
from .models import FLOWS, OBJECTS, STATUSES

FIELD_NAME = Pattern(r"[A-Za-z][A-Za-z0-9_]{0,79}", error="Not a field API name like First_Open__c.")
# A Task (00T...) or EmailMessage (02s...) id: 15 characters, or 18 with the checksum.
RECORD_ID = r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?"
URL_ERROR = "{input!r} is not an https:// address of Salesforce like https://acme.my.salesforce.com."


class SalesforceUrl(Pattern):
    """An https:// origin at a Salesforce host (hosts.py's ``https_url``). Documented
    with Salesforce's own hosts; hosts the operator adds (``ENGAGE_SALESFORCE_HOSTS``)
    are accepted too, so the check reads them at each request."""

    def __init__(self, empty: bool = False):
        self.empty = empty
        super().__init__(("|" if empty else "") + https_url_pattern(SALESFORCE_HOSTS), error=URL_ERROR)

    def __call__(self, value):
        if self.empty and value == "":
            return value
        if not isinstance(value, str) or not re.fullmatch(https_url_pattern(allowed_hosts()), value):
            raise ma.ValidationError(self._format_error(value))
        return value


def _secret(n: int, about: str) -> fields.String:
    return fields.String(load_only=True, allow_none=True, validate=validate.Length(max=n),
                         metadata={"description": f"{about}; write-only, never returned. Omit to keep the "
                                                  "stored value, send an empty string to clear it."})


class ConfigIn(ma.Schema):
    enabled = Bool()
    instance_url = fields.String(validate=[validate.Length(max=300), SalesforceUrl()],
                                 metadata={"description": "https://<my-domain>.my.salesforce.com"})
    login_url = fields.String(allow_none=True, validate=[validate.Length(max=300), SalesforceUrl(empty=True)],
                              metadata={"description": "Token endpoint host when not the instance "
                                                       "(https://login.salesforce.com, https://test.salesforce.com)"})
    auth_flow = fields.String(validate=validate.OneOf(FLOWS))
    client_id = fields.String(validate=validate.Length(min=1, max=300),
                              metadata={"description": "The connected app's consumer key"})
    username = fields.String(validate=validate.Length(min=1, max=300))
    jwt_audience = fields.String(validate=[validate.Length(max=300), Pattern(
        "|" + https_url_pattern(), error="{input!r} is not an https:// address like https://login.salesforce.com.")])
    # No private_key_path here: a path on the server is for its operator to give
    # (``engage salesforce configure --private-key-file``), not for an org admin.
    client_secret = _secret(1000, "Consumer secret (password flow)")
    password = _secret(1000, "Integration user's password (password flow)")
    security_token = _secret(200, "Integration user's security token (password flow)")
    private_key = _secret(20000, "RSA private key in PEM form (JWT flow)")
    object = fields.String(attribute="sobject", validate=validate.OneOf(OBJECTS))
    first_open_field = fields.String(validate=FIELD_NAME)
    last_open_field = fields.String(validate=FIELD_NAME)
    api_version = fields.String(validate=Pattern(r"[0-9]{2,3}\.0", error="Like 59.0."))


class ConfigOut(ma.Schema):
    configured = fields.Boolean()
    enabled = fields.Boolean()
    instance_url = fields.String()
    login_url = fields.String(allow_none=True)
    auth_flow = fields.String()
    client_id = fields.String()
    username = fields.String()
    jwt_audience = fields.String()
    private_key_path = fields.String(allow_none=True, metadata={"description": "Set from the command line only"})
    object = fields.String()
    first_open_field = fields.String()
    last_open_field = fields.String()
    api_version = fields.String()
    secrets_readable = fields.Boolean()
    has_client_secret = fields.Boolean()
    has_password = fields.Boolean()
    has_security_token = fields.Boolean()
    has_private_key = fields.Boolean()
    updated_at = fields.String()


class OutboxQuery(ma.Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    cursor = fields.Integer(load_default=None, validate=validate.Range(min=1, max=2**63 - 1))


class OutboxItem(ma.Schema):
    id = fields.Integer()
    message_id = fields.String()
    subject = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    reason = fields.String(allow_none=True, metadata={"description": "Salesforce errorCode, or ours"})
    last_error = fields.String(allow_none=True)
    object = fields.String(allow_none=True)
    record_id = fields.String(allow_none=True)
    first_open = fields.String(allow_none=True)
    last_open = fields.String(allow_none=True)
    delivered_first_open = fields.String(allow_none=True)
    delivered_last_open = fields.String(allow_none=True)
    next_attempt_at = fields.String(allow_none=True)
    delivered_at = fields.String(allow_none=True)
    updated_at = fields.String()


class OutboxCounts(ma.Schema):
    pending = fields.Integer()
    delivered = fields.Integer()
    failed = fields.Integer()


class OutboxPage(ma.Schema):
    counts = fields.Nested(OutboxCounts)
    items = fields.List(fields.Nested(OutboxItem))
    next_cursor = fields.String(allow_none=True)


class RetryIn(ma.Schema):
    ids = fields.List(Int(validate=validate.Range(min=1, max=2**63 - 1)), load_default=None,
                      validate=validate.Length(max=1000),
                      metadata={"description": "Outbox ids; omit to retry every failed update"})


class RetryOut(ma.Schema):
    requeued = fields.Integer()


class LinkIn(ma.Schema):
    OPENAPI = {"minProperties": 1}

    record_id = fields.String(validate=Pattern(RECORD_ID, error="record_id must be a 15- or 18-character Salesforce id"),
                              metadata={"description": "Task (00T...) or EmailMessage (02s...) id"})
    object = fields.String(validate=validate.OneOf(OBJECTS))
    client_message_id = fields.String(validate=validate.Length(max=500),
                                      metadata={"description": "The sent email's Message-ID header"})

    @ma.validates_schema
    def _something(self, data, **kwargs):
        if not data:
            raise ma.ValidationError("Send record_id, client_message_id, or both.")


class LinkOut(ma.Schema):
    message_id = fields.String()
    client_message_id = fields.String(allow_none=True)
    object = fields.String(allow_none=True)
    record_id = fields.String(allow_none=True)
    source = fields.String(allow_none=True)
    update = fields.Nested(OutboxItem, allow_none=True)
