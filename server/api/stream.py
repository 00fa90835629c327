"""The live stream: server-sent events with each new event on the user's emails.

``EventSource`` cannot send headers, so a page first asks for a short-lived ticket
(``POST /api/v1/stream/tickets``) and opens ``/api/v1/stream?ticket=…``; a client
that can send headers (fetch) may use its bearer token instead. A ticket is bound to
the token that asked for it and opens one stream, once; an open stream ends when its
token stops being valid (sign-out, revocation). ``Last-Event-ID`` resumes after a
reconnect without losing or repeating events.

``engage serve`` answers the stream on its event loop (server/stream_hub.py); the
view below is the same stream for a plain WSGI server (``flask run``, tests), a thread
per stream. Both use the helpers here, so both refuse and deliver alike."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta

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
from ..models import ApiToken, Event, Link, Message, StreamTicketUse, Thread, User, utcnow
from ..panel_query import unread_count
from ..serialize import event_data
from .auth import current_user, token_from_request, token_id_for, valid_token_ids
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
    """A ticket to open the stream once with EventSource, within one minute, while the
    token that asked for it stays valid."""
    token_id = token_id_for(token_from_request())
    payload = {"u": current_user().id, "t": token_id, "n": secrets.token_urlsafe(16)}
    return {"ticket": _serializer().dumps(payload), "expires_in": TICKET_SECONDS}


INVALID_TICKET = "This stream ticket is not valid."


def redeem_ticket(ticket: str) -> tuple[int, int]:
    """(user id, token id) for a ticket this server handed out, used here for the
    first time, whose token still signs its user in; else ApiError 401."""
    try:
        payload = _serializer().loads(ticket, max_age=TICKET_SECONDS)
    except SignatureExpired:
        raise ApiError(401, "This stream ticket has expired; ask for a new one.")
    except BadSignature:
        raise ApiError(401, INVALID_TICKET)
    if not (isinstance(payload, dict) and isinstance(payload.get("u"), int)
            and isinstance(payload.get("t"), int) and isinstance(payload.get("n"), str)
            and len(payload["n"]) <= 32):
        raise ApiError(401, INVALID_TICKET)
    now = utcnow()
    try:
        db.session.execute(sa.delete(StreamTicketUse).where(
            StreamTicketUse.used_at < now - timedelta(seconds=2 * TICKET_SECONDS)))
        db.session.add(StreamTicketUse(nonce=payload["n"], used_at=now))
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        raise ApiError(401, "This stream ticket has been used already; ask for a new one.")
    if payload["t"] not in valid_token_ids([payload["t"]]) or db.session.get(User, payload["u"]) is None:
        raise ApiError(401, "This stream ticket's sign-in has ended; sign in again.")
    return payload["u"], payload["t"]


def stream_identity(ticket: str | None, token: str | None) -> tuple[int, int]:
    """(user id, token id) of a stream being opened, by ticket or bearer token."""
    if ticket:
        return redeem_ticket(ticket)
    token_id = token_id_for(token) if token else None
    if token_id is None:
        raise ApiError(401, "Open the stream with a ticket or an 'Authorization: Bearer' token.")
    return db.session.get(ApiToken, token_id).user_id, token_id


def start_after(user_id: int, header: str | None, query: str | None) -> int:
    """The id to deliver events after: the client's Last-Event-ID, else now."""
    last_id = resume_id(header or query or "")
    if last_id is None:
        last_id = db.session.execute(
            sa.select(sa.func.coalesce(sa.func.max(Event.id), 0)).where(Event.user_id == user_id)
        ).scalar_one()
    return last_id


def resume_id(header: str) -> int | None:
    """The event id in a ``Last-Event-ID`` header, or None to start from now.

    Only what this server sends is accepted: ASCII digits of a 64-bit id. ``str.isdigit``
    alone also admits "²" (which ``int`` refuses) and ids too long to convert or to
    compare with a BIGINT column; a reconnect with such a header starts afresh."""
    value = header.strip()
    if value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


def new_events(user_id: int, after: int, limit: int = 200) -> list[dict]:
    """The user's events after ``after``, oldest first, each with the unread count."""
    rows = db.session.execute(
        sa.select(Event, Message.public_id, Thread.client_thread_id, Link.url)
        .join(Message, Message.id == Event.message_id)
        .join(Thread, Thread.id == Message.thread_id)
        .outerjoin(Link, Link.id == Event.link_id)
        .where(Event.user_id == user_id, Event.id > after)
        .order_by(Event.id)
        .limit(limit)
    ).all()
    out = []
    for event, public_id, thread_id, url in rows:
        data = event_data(event, public_id, url)
        data["thread_id"] = thread_id
        data["counts"] = counts_as_engagement(data)
        data["location"] = location_label(data)
        out.append(data)
    if out:
        user = db.session.get(User, user_id)
        unread = unread_count(user_id, merged_settings(user.settings if user else {}), utcnow())
        for data in out:
            data["unread"] = unread
    return out


def sse_message(data: dict) -> str:
    return f"id: {int(data['id'])}\nevent: engagement\ndata: {json.dumps(data)}\n\n"


@blp.route("/stream", methods=["GET"])
@blp.arguments(StreamQuery, location="query")
@blp.response(200, content_type="text/event-stream", description="`event: engagement` messages, one per new event")
@blp.doc(**SECURED)
def stream(args):
    """Server-sent events: one `engagement` message per new event, within a second or two.

    At most ``STREAMS_PER_USER`` streams per user in each server process (429 beyond);
    a stream ends when its token is revoked."""
    user_id, token_id = stream_identity(args.get("ticket"), token_from_request())
    # EventSource resends Last-Event-ID itself; a client that reconnects with a new
    # ticket (a new EventSource) passes the id it got last as ?last_event_id=.
    last_id = start_after(user_id, request.headers.get("Last-Event-ID"), args.get("last_event_id"))
    db.session.close()
    heartbeat = current_app.config["STREAM_HEARTBEAT_SECONDS"]
    sub = services.get().broker.subscribe(user_id, limit=current_app.config["STREAMS_PER_PROCESS"],
                                          per_user=current_app.config["STREAMS_PER_USER"])
    if sub == "user":
        raise ApiError(429, "Too many live streams open for this user; close a tab or try again later.",
                       details={"retry_after": 30})
    if sub is None:
        raise ApiError(503, "Too many live streams on this server process; polling works meanwhile. "
                            "Try again shortly.", details={"retry_after": 5})

    def generate():
        nonlocal last_id
        try:
            yield "retry: 2000\n: connected\n\n"
            while True:
                if token_id not in valid_token_ids([token_id]):
                    db.session.close()
                    yield "event: signed-out\ndata: {}\n\n"
                    return
                events = new_events(user_id, last_id)
                db.session.close()  # hand the connection back while we wait
                for data in events:
                    last_id = int(data["id"])
                    yield sse_message(data)
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
