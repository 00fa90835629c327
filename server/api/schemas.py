"""Request and response schemas: validation and the OpenAPI document from one source.

Unknown fields are refused (marshmallow's default), so a typo in a client is a
clear 422, not a silently ignored setting."""

from __future__ import annotations

from zoneinfo import available_timezones

import marshmallow as ma
from marshmallow import fields, validate

from client_py.search import PERIODS

from .openapi_rules import CIDR, CURSOR, Address, HttpUrl, Pattern, domain_rule


class Bool(fields.Boolean):
    """A JSON ``true`` or ``false``, nothing else: marshmallow's Boolean also takes 1,
    "yes" and "on", which the document (``type: boolean``) does not allow."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


def Int(**kw) -> fields.Integer:
    """A JSON integer (not "5", 5.0 or true) for request bodies; query strings use
    ``fields.Integer``, which reads text."""
    return fields.Integer(strict=True, **kw)


TIME_ZONES = sorted(available_timezones())
# An IANA time zone, documented as the list of them (a zone ZoneInfo reads).
_time_zone = validate.OneOf(TIME_ZONES, error="Unknown time zone {input!r}; use an IANA name like 'Europe/Paris'.")


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
    internal_domains = fields.List(fields.String(validate=[validate.Length(max=253), domain_rule()]),
                                   validate=validate.Length(max=200))
    office_ranges = fields.List(fields.String(validate=Pattern(
        CIDR, error="{input!r} is not an address range like 203.0.113.0/24 or 2001:db8::/48.")),
        validate=validate.Length(max=500))


class SettingsSchema(ma.Schema):
    time_zone = fields.String(validate=_time_zone)
    auto_insert = Bool()
    notify_on_open = Bool()
    blocklist = fields.List(Text(320, validate_also=domain_rule(with_address=True)), validate=validate.Length(max=1000))
    insert_at = fields.String(validate=validate.OneOf(["first", "last"]))
    display_window_days = Int(validate=validate.Range(min=1, max=90))
    counter_reset_at = fields.String(dump_only=True, allow_none=True)
    # Notifications (client_py/notify.py): one per open or a daily digest; quiet hours.
    notify_mode = fields.String(validate=validate.OneOf(["each", "digest"]))
    digest_hour = Int(validate=validate.Range(min=0, max=23))
    quiet_start = fields.String(allow_none=True, validate=Pattern(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]",
                                                                  error="Use HH:MM, like 22:00."))
    quiet_end = fields.String(allow_none=True, validate=Pattern(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]",
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
    address = fields.String(required=True, validate=[validate.Length(min=3, max=320), Address()])


class RecipientOut(ma.Schema):
    name = fields.String()
    address = fields.String()
    kind = fields.String()


MAX_LINKS = 300
TOO_MANY_LINKS = f"At most {MAX_LINKS} links can be tracked in one email."


class MessageIn(ma.Schema):
    subject = Text(2000, load_default="")
    recipients = fields.List(fields.Nested(RecipientIn), required=True, validate=validate.Length(min=1, max=500))
    thread_id = fields.String(required=True, validate=validate.Length(min=1, max=300))
    mode = fields.String(required=True, validate=validate.OneOf(["manual", "auto"]))
    client = fields.String(required=True, validate=validate.OneOf(["gmail", "outlook"]))
    kind = fields.String(load_default="email", validate=validate.OneOf(["email", "meeting"]))
    sequence = Text(200, load_default=None, allow_none=True)
    step = Int(load_default=None, allow_none=True, validate=validate.Range(min=1, max=1000))
    links = fields.List(
        fields.String(validate=[validate.Length(max=4000), HttpUrl()]),
        load_default=list, validate=validate.Length(max=MAX_LINKS, error=TOO_MANY_LINKS),
    )
    client_message_id = Text(500, load_default=None, allow_none=True)
    # The pixel's token, chosen by the client (at least 128 random bits, URL-safe), so
    # that the pixel can be queued into the email before it is sent (Outlook's
    # appendOnSendAsync) and the email registered only when it is sent. Registering the
    # same token again answers the same email (a retry after a lost answer).
    pixel_token = fields.String(load_default=None, allow_none=True,
                                validate=[validate.Length(min=22, max=64), Pattern(
                                    "[A-Za-z0-9_-]{22,64}", error="A pixel token is 22 to 64 of A-Z a-z 0-9 _ -.")])


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


CURSOR_ERROR = "This page cursor is not valid; start again from the first page."


class ThreadQuery(ma.Schema):
    q = Text(200, load_default="")
    period = fields.String(load_default="all", validate=validate.OneOf(PERIODS))
    domain = Text(253, load_default=None)
    sequence = Text(200, load_default=None)
    step = fields.Integer(load_default=None, validate=validate.Range(min=1, max=1000))
    category = fields.String(load_default="all", validate=validate.OneOf(["all", "pinned", "other"]))
    limit = fields.Integer(load_default=25, validate=validate.Range(min=1, max=100))
    cursor = fields.String(load_default=None, validate=Pattern(CURSOR, error=CURSOR_ERROR),
                           metadata={"description": "The `next_cursor` of the previous page"})


class ThreadPage(ma.Schema):
    threads = fields.List(fields.Dict(), required=True)
    next_cursor = fields.String(allow_none=True)
    unread = fields.Integer()
    hidden_by_window = fields.Integer()


class ThreadPatch(ma.Schema):
    thread_id = fields.String(required=True, validate=validate.Length(min=1, max=300))
    pinned = Bool(allow_none=True)
    viewed = Bool()


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
