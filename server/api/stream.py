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

import hmac
import json
import secrets
import time
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
from ..models import ApiToken, Event, Link, Message, StreamTicketUse, Thread, User, hash_token, utcnow
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
    hub = getattr(services.get().broker, "hub", None)
    if hub is not None and hub.opening >= hub.opens_in_flight:
        # This process is opening as many streams as it takes at once (a reconnect
        # storm): say so here, where a browser's client can read Retry-After (an
        # EventSource cannot read a refused stream's headers).
        raise ApiError(503, "This server is opening many live streams at once; try again shortly.",
                       details={"retry_after": hub.open_retry_after()})
    token_id = token_id_for(token_from_request())
    payload = {"u": current_user().id, "t": token_id, "n": secrets.token_urlsafe(16)}
    return {"ticket": _serializer().dumps(payload), "expires_in": TICKET_SECONDS}


INVALID_TICKET = "This stream ticket is not valid."


_last_purge = [0.0]  # when this process last deleted used tickets past their lifetime


def _use_ticket(ticket: str) -> tuple[int, int]:
    """(user id, token id) a ticket names, its one use recorded; else ApiError 401.
    Used tickets past their lifetime are deleted at most once a lifetime per process,
    not at every open (a reconnect storm opens thousands a second)."""
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
        if time.monotonic() - _last_purge[0] > TICKET_SECONDS:
            _last_purge[0] = time.monotonic()
            db.session.execute(sa.delete(StreamTicketUse).where(
                StreamTicketUse.used_at < now - timedelta(seconds=2 * TICKET_SECONDS)))
        db.session.add(StreamTicketUse(nonce=payload["n"], used_at=now))
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        raise ApiError(401, "This stream ticket has been used already; ask for a new one.")
    return payload["u"], payload["t"]


def open_stream(ticket: str | None, token: str | None, header_last: str | None,
                query_last: str | None) -> tuple[int, int, int]:
    """(user id, token id, id to deliver events after) of a stream being opened, by
    ticket or bearer token, in one query: the token's row, its user's standing and,
    unless the client resumes from a Last-Event-ID, the user's newest event id.

    The same rules as the API's sign-in (server/api/auth.py ``user_for_token``): a
    token that is revoked, idle past TOKEN_IDLE_DAYS or whose user is disabled opens
    nothing. ``last_used_at`` is written only when it is over 5 minutes old, as there.
    A ticket costs one write more: recording its one use."""
    resume = resume_id(header_last or query_last or "")
    if ticket:
        user_id, token_id = _use_ticket(ticket)
        where = [ApiToken.id == token_id, ApiToken.user_id == user_id]
        refused = "This stream ticket's sign-in has ended; sign in again."
    elif token:
        digest = hash_token(token)
        where = [ApiToken.token_hash == digest]
        refused = "This token is not valid (revoked or mistyped). Sign in again."
    else:
        raise ApiError(401, "Open the stream with a ticket or an 'Authorization: Bearer' token.")
    newest = (sa.select(sa.func.coalesce(sa.func.max(Event.id), 0)).where(Event.user_id == ApiToken.user_id)
              .scalar_subquery() if resume is None else sa.literal(resume, sa.BigInteger))
    row = db.session.execute(
        sa.select(ApiToken.id, ApiToken.user_id, ApiToken.token_hash, ApiToken.created_at, ApiToken.last_used_at,
                  User.disabled_at, newest)
        .join(User, User.id == ApiToken.user_id)
        .where(*where, ApiToken.revoked_at.is_(None))
    ).first()
    if row is None or (not ticket and not hmac.compare_digest(row.token_hash, digest)):
        raise ApiError(401, refused)
    now = utcnow()
    if (row.last_used_at or row.created_at) + timedelta(days=current_app.config["TOKEN_IDLE_DAYS"]) <= now \
            or row.disabled_at is not None:
        raise ApiError(401, refused)
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 300:
        db.session.execute(sa.update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))
        db.session.commit()
    return row.user_id, row.id, int(row[6])


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
    # EventSource resends Last-Event-ID itself; a client that reconnects with a new
    # ticket (a new EventSource) passes the id it got last as ?last_event_id=.
    user_id, token_id, last_id = open_stream(args.get("ticket"), token_from_request(),
                                             request.headers.get("Last-Event-ID"), args.get("last_event_id"))
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
