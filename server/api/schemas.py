"""Request and response schemas: validation and the OpenAPI document from one source.

Unknown fields are refused (marshmallow's default), so a typo in a client is a
clear 422, not a silently ignored setting."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import marshmallow as ma
from marshmallow import ValidationError, fields, validate

from client_py.search import PERIODS


def _http_url(value: str) -> None:
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        # A CR/LF would be refused in the redirect's Location header at every click.
        raise ValidationError("A link cannot contain control characters (line breaks, tabs).")
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValidationError("Only absolute http:// or https:// links can be tracked.")


def _time_zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValidationError(f"Unknown time zone {value!r}; use an IANA name like 'Europe/Paris'.")


def _cidr(value: str) -> None:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValidationError(f"{value!r} is not an address range like 203.0.113.0/24 or 2001:db8::/48.")


def _domain(value: str) -> None:
    v = value.strip().lstrip("@")
    if not v or " " in v or "." not in v or v.startswith(".") or v.endswith("."):
        raise ValidationError(f"{value!r} is not a domain like example.com.")


def _block_entry(value: str) -> None:
    if "@" in value.strip().lstrip("@"):
        local, _, dom = value.strip().rpartition("@")
        if not local or not dom or "." not in dom or " " in value.strip():
            raise ValidationError(f"{value!r} is neither an address nor a domain.")
    else:
        _domain(value)


def Text(n: int, validate_also=None, **kw) -> fields.String:
    """A string of at most n characters."""
    checks = [validate.Length(max=n)] + ([validate_also] if validate_also else [])
    return fields.String(validate=checks, **kw)


class SigninIn(ma.Schema):
    email = fields.String(required=True, validate=validate.Length(min=3, max=320))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1000), load_only=True)
    label = Text(200, load_default="")


class UserOut(ma.Schema):
    email = fields.String()
    name = fields.String()
    is_admin = fields.Boolean()


class OrgOut(ma.Schema):
    name = fields.String()
    internal_domains = fields.List(fields.String())
    office_ranges = fields.List(fields.String())


class OrgPatch(ma.Schema):
    internal_domains = fields.List(fields.String(validate=_domain), validate=validate.Length(max=200))
    office_ranges = fields.List(fields.String(validate=_cidr), validate=validate.Length(max=500))


class SettingsSchema(ma.Schema):
    time_zone = fields.String(validate=_time_zone)
    auto_insert = fields.Boolean()
    notify_on_open = fields.Boolean()
    blocklist = fields.List(Text(320, validate_also=_block_entry), validate=validate.Length(max=1000))
    insert_at = fields.String(validate=validate.OneOf(["first", "last"]))
    display_window_days = fields.Integer(validate=validate.Range(min=1, max=90))
    counter_reset_at = fields.String(dump_only=True, allow_none=True)
    # Notifications (client_py/notify.py): one per open or a daily digest; quiet hours.
    notify_mode = fields.String(validate=validate.OneOf(["each", "digest"]))
    digest_hour = fields.Integer(validate=validate.Range(min=0, max=23))
    quiet_start = fields.String(allow_none=True, validate=validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$",
                                                                          error="Use HH:MM, like 22:00."))
    quiet_end = fields.String(allow_none=True, validate=validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$",
                                                                        error="Use HH:MM, like 07:00."))


class SigninOut(ma.Schema):
    token = fields.String(required=True)
    user = fields.Nested(UserOut)
    org = fields.Nested(OrgOut)
    settings = fields.Nested(SettingsSchema)


class MeOut(ma.Schema):
    user = fields.Nested(UserOut)
    org = fields.Nested(OrgOut)
    settings = fields.Nested(SettingsSchema)
    public_url = fields.String()


class RecipientIn(ma.Schema):
    name = Text(300, load_default="")
    address = fields.String(required=True, validate=validate.Length(min=3, max=320))


class RecipientOut(ma.Schema):
    name = fields.String()
    address = fields.String()
    kind = fields.String()


class MessageIn(ma.Schema):
    subject = Text(2000, load_default="")
    recipients = fields.List(fields.Nested(RecipientIn), required=True, validate=validate.Length(min=1, max=500))
    thread_id = fields.String(required=True, validate=validate.Length(min=1, max=300))
    mode = fields.String(required=True, validate=validate.OneOf(["manual", "auto"]))
    client = fields.String(required=True, validate=validate.OneOf(["gmail", "outlook"]))
    kind = fields.String(load_default="email", validate=validate.OneOf(["email", "meeting"]))
    sequence = Text(200, load_default=None, allow_none=True)
    step = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=1000))
    links = fields.List(
        fields.String(validate=[validate.Length(max=4000), _http_url]),
        load_default=list, validate=validate.Length(max=300),
    )
    client_message_id = Text(500, load_default=None, allow_none=True)
    # The pixel's token, chosen by the client (at least 128 random bits, URL-safe), so
    # that the pixel can be queued into the email before it is sent (Outlook's
    # appendOnSendAsync) and the email registered only when it is sent. Registering the
    # same token again answers the same email (a retry after a lost answer).
    pixel_token = fields.String(load_default=None, allow_none=True,
                                validate=[validate.Length(min=22, max=64), validate.Regexp(r"^[A-Za-z0-9_-]+$")])


class TrackedLinkOut(ma.Schema):
    url = fields.String()
    tracked_url = fields.String()


class MessageOut(ma.Schema):
    id = fields.String()
    thread_id = fields.String()
    subject = fields.String()
    recipients = fields.List(fields.Nested(RecipientOut))
    mode = fields.String()
    client = fields.String()
    kind = fields.String()
    sequence = fields.String(allow_none=True)
    step = fields.Integer(allow_none=True)
    sent_at = fields.String()
    external = fields.Boolean()
    pixel_url = fields.String()
    snippet = fields.String()
    links = fields.List(fields.Nested(TrackedLinkOut))


class EventOut(ma.Schema):
    id = fields.String()
    message_id = fields.String()
    thread_id = fields.String()
    kind = fields.String()
    at = fields.String()
    verdict = fields.String()
    reason = fields.String()
    counts = fields.Boolean()
    country = fields.String(allow_none=True)
    region = fields.String(allow_none=True)
    city = fields.String(allow_none=True)
    location = fields.String()
    device = fields.String()
    url = fields.String(allow_none=True)
    implied = fields.Boolean()


class ThreadQuery(ma.Schema):
    q = Text(200, load_default="")
    period = fields.String(load_default="all", validate=validate.OneOf(PERIODS))
    domain = Text(253, load_default=None)
    sequence = Text(200, load_default=None)
    step = fields.Integer(load_default=None, validate=validate.Range(min=1, max=1000))
    category = fields.String(load_default="all", validate=validate.OneOf(["all", "pinned", "other"]))
    limit = fields.Integer(load_default=25, validate=validate.Range(min=1, max=100))
    cursor = Text(200, load_default=None)


class ThreadPage(ma.Schema):
    threads = fields.List(fields.Dict(), required=True)
    next_cursor = fields.String(allow_none=True)
    unread = fields.Integer()
    hidden_by_window = fields.Integer()


class ThreadPatch(ma.Schema):
    thread_id = fields.String(required=True, validate=validate.Length(min=1, max=300))
    pinned = fields.Boolean(allow_none=True)
    viewed = fields.Boolean()


class ThreadStateOut(ma.Schema):
    thread_id = fields.String()
    pinned = fields.Boolean(allow_none=True)
    viewed_at = fields.String(allow_none=True)
    unread = fields.Integer()


class MarksIn(ma.Schema):
    # 200: two of Gmail's 100-row pages; a longer list is asked for a page at a time.
    thread_ids = fields.List(fields.String(validate=validate.Length(min=1, max=300)),
                             load_default=list, validate=validate.Length(max=200))
    pixel_tokens = fields.List(fields.String(validate=[validate.Length(min=1, max=64),
                                                       validate.Regexp(r"^[A-Za-z0-9_-]+$")]),
                               load_default=list, validate=validate.Length(max=50))
    lang = Text(35, load_default="en")


class MarkOut(ma.Schema):
    state = fields.String()
    title = fields.String()
    thread_id = fields.String()


class MarksOut(ma.Schema):
    threads = fields.Dict(keys=fields.String(), values=fields.Nested(MarkOut))
    pixels = fields.Dict(keys=fields.String(), values=fields.Nested(MarkOut))


class SelfViewIn(ma.Schema):
    thread_id = fields.String(required=True, validate=validate.Length(min=1, max=300))


class SelfViewOut(ma.Schema):
    reclassified = fields.Integer()


class CounterOut(ma.Schema):
    unread = fields.Integer()
    counter_reset_at = fields.String(allow_none=True)
    reminders_due = fields.Integer()  # follow-up reminders due now (GET /reminders?status=due)


class TicketOut(ma.Schema):
    ticket = fields.String()
    expires_in = fields.Integer()


class StreamQuery(ma.Schema):
    ticket = Text(500, load_default=None)
    last_event_id = Text(40, load_default=None)
