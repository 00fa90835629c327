"""The live stream: server-sent events with each new event on the user's emails.

``EventSource`` cannot send headers, so a page first asks for a short-lived ticket
(``POST /api/v1/stream/tickets``) and opens ``/api/v1/stream?ticket=…``; a client
that can send headers (fetch) may use its bearer token instead. ``Last-Event-ID``
resumes after a reconnect without losing or repeating events."""

from __future__ import annotations

import json

import sqlalchemy as sa
from flask import Response, current_app, request, stream_with_context
from flask_smorest import Blueprint
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from client_py.model import merged_settings
from client_py.panel import counts_as_engagement
from client_py.present import location_label

from .. import services
from ..errors import ApiError
from ..extensions import db
from ..models import Event, Link, Message, Thread, User, utcnow
from ..panel_query import unread_count
from ..serialize import event_data
from .auth import current_user, token_from_request, user_for_token
from .base import SECURED, secured
from .schemas import StreamQuery, TicketOut

blp = Blueprint("stream", __name__, url_prefix="/api/v1", description="Live updates")
TICKET_SECONDS = 60


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="engage-stream-ticket")


@blp.route("/stream/tickets", methods=["POST"])
@secured
@blp.response(201, TicketOut)
def new_ticket():
    """A ticket valid for one minute to open the stream with EventSource."""
    return {"ticket": _serializer().dumps(current_user().id), "expires_in": TICKET_SECONDS}


def _stream_user(args) -> User:
    if args.get("ticket"):
        try:
            user_id = _serializer().loads(args["ticket"], max_age=TICKET_SECONDS)
        except SignatureExpired:
            raise ApiError(401, "This stream ticket has expired; ask for a new one.")
        except BadSignature:
            raise ApiError(401, "This stream ticket is not valid.")
        user = db.session.get(User, int(user_id))
        if user is None:
            raise ApiError(401, "This stream ticket is not valid.")
        return user
    token = token_from_request()
    user = user_for_token(token) if token else None
    if user is None:
        raise ApiError(401, "Open the stream with a ticket or an 'Authorization: Bearer' token.")
    return user


def resume_id(header: str) -> int | None:
    """The event id in a ``Last-Event-ID`` header, or None to start from now.

    Only what this server sends is accepted: ASCII digits of a 64-bit id. ``str.isdigit``
    alone also admits "²" (which ``int`` refuses) and ids too long to convert or to
    compare with a BIGINT column; a reconnect with such a header starts afresh."""
    value = header.strip()
    if value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


def _new_events(user_id: int, after: int) -> list[dict]:
    rows = db.session.execute(
        sa.select(Event, Message.public_id, Thread.client_thread_id, Link.url)
        .join(Message, Message.id == Event.message_id)
        .join(Thread, Thread.id == Message.thread_id)
        .outerjoin(Link, Link.id == Event.link_id)
        .where(Event.user_id == user_id, Event.id > after)
        .order_by(Event.id)
        .limit(200)
    ).all()
    out = []
    for event, public_id, thread_id, url in rows:
        data = event_data(event, public_id, url)
        data["thread_id"] = thread_id
        data["counts"] = counts_as_engagement(data)
        data["location"] = location_label(data)
        out.append(data)
    return out


@blp.route("/stream", methods=["GET"])
@blp.arguments(StreamQuery, location="query")
@blp.response(200, content_type="text/event-stream", description="`event: engagement` messages, one per new event")
@blp.doc(**SECURED)
def stream(args):
    """Server-sent events: one `engagement` message per new event, within a second or two."""
    user = _stream_user(args)
    user_id = user.id
    # EventSource resends Last-Event-ID itself; a client that reconnects with a new
    # ticket (a new EventSource) passes the id it got last as ?last_event_id=.
    last_id = resume_id(request.headers.get("Last-Event-ID", "") or args.get("last_event_id") or "")
    if last_id is None:
        last_id = db.session.execute(
            sa.select(sa.func.coalesce(sa.func.max(Event.id), 0)).where(Event.user_id == user_id)
        ).scalar_one()
    db.session.close()
    heartbeat = current_app.config["STREAM_HEARTBEAT_SECONDS"]
    broker = services.get().broker
    sub = broker.subscribe(user_id, limit=current_app.config["STREAMS_PER_PROCESS"])
    if sub is None:
        raise ApiError(503, "Too many live streams on this server process; polling works meanwhile. "
                            "Try again shortly.", details={"retry_after": 5})

    def generate():
        nonlocal last_id
        try:
            yield "retry: 2000\n: connected\n\n"
            while True:
                events = _new_events(user_id, last_id)
                unread = None
                if events:
                    user_now = db.session.get(User, user_id)
                    unread = unread_count(user_id, merged_settings(user_now.settings), utcnow())
                db.session.close()  # hand the connection back while we wait
                for data in events:
                    last_id = int(data["id"])
                    data["unread"] = unread
                    yield f"id: {last_id}\nevent: engagement\ndata: {json.dumps(data)}\n\n"
                if not events and not sub.wait(heartbeat):
                    yield ": keep-alive\n\n"
        finally:
            sub.close()
            db.session.close()

    resp = Response(stream_with_context(generate()), mimetype="text/event-stream")
    resp.call_on_close(sub.close)  # also when the client leaves before the first event
    resp.headers["Cache-Control"] = "no-cache, no-store"
    resp.headers["X-Accel-Buffering"] = "no"  # nginx: pass events through at once
    return resp
