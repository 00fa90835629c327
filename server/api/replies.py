"""Replies: the sender's mail client saw a recipient answer a tracked thread.

``POST /api/v1/threads/replies`` stores one reply per mail-client message id (sending
the same one again answers 200 and changes nothing), only for the user's own threads
(404 otherwise) and only from one of the thread's recipients (client_py.replies): a
thread then knows its first and last reply (``first_reply_at``, ``last_reply_at`` in
``GET /api/v1/threads``), which follow-up reminders, the activity feed and the
"opened (confirmed by a reply)" wording read."""

from __future__ import annotations

from datetime import timedelta, timezone

import marshmallow as ma
import sqlalchemy as sa
from flask_smorest import Blueprint
from marshmallow import fields, validate

from client_py.replies import is_reply

from ..errors import ApiError
from ..extensions import db
from ..models import Message, Reply, Thread, as_dict_time, utcnow
from .auth import current_user
from .base import secured
from .threads import find_thread

blp = Blueprint("replies", __name__, url_prefix="/api/v1", description="The Engagement panel")

# A reply's time comes from the mail client's clock; allow it to run a little fast.
CLOCK_SKEW = timedelta(minutes=5)


class ReplyIn(ma.Schema):
    thread_id = fields.String(required=True, validate=validate.Length(min=1, max=300))
    message_id = fields.String(required=True, validate=validate.Length(min=1, max=300))
    from_address = fields.String(required=True, data_key="from", validate=validate.Length(min=3, max=320))
    from_name = fields.String(load_default="", validate=validate.Length(max=300))
    at = fields.AwareDateTime(load_default=None, allow_none=True, format="iso")


class ReplyOut(ma.Schema):
    thread_id = fields.String()
    message_id = fields.String()
    created = fields.Boolean()
    replies = fields.Integer()
    first_reply_at = fields.String(allow_none=True)
    last_reply_at = fields.String(allow_none=True)


def _out(thread: Thread, message_id: str, created: bool) -> dict:
    count = db.session.execute(sa.select(sa.func.count(Reply.id)).where(Reply.thread_id == thread.id)).scalar_one()
    return {"thread_id": thread.client_thread_id, "message_id": message_id, "created": created, "replies": count,
            "first_reply_at": as_dict_time(thread.first_reply_at), "last_reply_at": as_dict_time(thread.last_reply_at)}


@blp.route("/threads/replies", methods=["POST"])
@secured
@blp.arguments(ReplyIn)
@blp.response(201, ReplyOut)
@blp.alt_response(200, schema=ReplyOut, description="This message was reported already; nothing changed.")
def report_reply(body):
    """A recipient answered: a new message in a tracked thread, from one of its
    recipients, seen by the sender's mail client. Idempotent per `message_id`."""
    user = current_user()
    thread = find_thread(body["thread_id"])
    existing = db.session.execute(sa.select(Reply).where(
        Reply.user_id == user.id, Reply.client_message_id == body["message_id"])).scalar_one_or_none()
    if existing is not None:
        if existing.thread_id != thread.id:
            raise ApiError(409, "That message was reported as a reply in another thread.")
        return _out(thread, body["message_id"], False), 200
    recipients = [r for m in db.session.execute(
        sa.select(Message.recipients).where(Message.thread_id == thread.id)).scalars() for r in m or ()]
    if not is_reply(body["from_address"], recipients, user.email):
        raise ApiError(422, "Only a message from one of the thread's recipients is a reply.",
                       details={"json": {"from": ["not a recipient of this thread"]}})
    now = utcnow()
    at = body["at"] or now
    if at > now + CLOCK_SKEW:
        raise ApiError(422, "A reply cannot arrive in the future.", details={"json": {"at": ["in the future"]}})
    first_sent = db.session.execute(
        sa.select(sa.func.min(Message.sent_at)).where(Message.thread_id == thread.id)).scalar_one()
    if first_sent is not None and at < _aware(first_sent) - CLOCK_SKEW:
        raise ApiError(422, "A reply cannot come before the tracked email it answers.",
                       details={"json": {"at": ["before the first tracked email"]}})
    at = min(at, now)
    try:
        with db.session.begin_nested():
            db.session.add(Reply(user_id=user.id, thread_id=thread.id, client_message_id=body["message_id"],
                                 from_address=body["from_address"].strip().lower(),
                                 from_name=body["from_name"].strip(), at=at, created_at=now))
    except sa.exc.IntegrityError:  # the same message reported twice at once
        db.session.rollback()
        return _out(find_thread(body["thread_id"]), body["message_id"], False), 200
    thread.first_reply_at = at if thread.first_reply_at is None else min(thread.first_reply_at, at)
    thread.last_reply_at = at if thread.last_reply_at is None else max(thread.last_reply_at, at)
    db.session.commit()
    return _out(thread, body["message_id"], True), 201


def _aware(value):
    """MIN() of a time column, aware (the column type makes it so; a driver that hands
    back a naive one is read as UTC, as everything is stored)."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
