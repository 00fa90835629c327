"""Registering a tracked email (or meeting invite): the pixel, the snippet, tracked links."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from flask_smorest import Blueprint

from client_py.model import merged_settings
from client_py.recipients import classify_recipient
from client_py.search import recipient_domains, search_key
from client_py.snippet import build_snippet

from .. import insights_rollup, services
from ..errors import ApiError
from ..extensions import db
from ..models import Link, Message, Thread, utcnow
from ..hitpath.record import thread_totals
from ..serialize import message_data
from .auth import current_user
from .base import secured
from .schemas import MessageIn, MessageOut

blp = Blueprint("messages", __name__, url_prefix="/api/v1", description="Tracked emails")


def pixel_url(message: Message) -> str:
    return f"{current_app.config['PUBLIC_URL']}/p/{message.pixel_token}.gif"


def link_url(link: Link) -> str:
    return f"{current_app.config['PUBLIC_URL']}/c/{link.token}"


def message_out(message: Message) -> dict:
    url = pixel_url(message)
    data = message_data(message, message.thread.client_thread_id)
    data["recipients"] = message.recipients
    data["pixel_url"] = url
    data["snippet"] = build_snippet(url)
    data["links"] = [{"url": l.url, "tracked_url": link_url(l)} for l in message.links]
    return data


@blp.route("/messages", methods=["POST"])
@secured
@blp.arguments(MessageIn)
@blp.response(201, MessageOut)
@blp.alt_response(200, schema=MessageOut, description="Already registered with this pixel_token.")
def register_message(body):
    """Register an email (or meeting invite) about to be sent.

    Answers with an opaque pixel URL, the ready snippet to insert, and a tracked URL
    per link (in the order given; a link given twice gets one tracked URL). With a
    ``pixel_token`` the client chose, a second registration of that token answers the
    email registered first (200)."""
    user = current_user()
    if body.get("pixel_token"):
        existing = db.session.execute(
            sa.select(Message).where(Message.pixel_token == body["pixel_token"])
        ).scalar_one_or_none()
        if existing is not None:
            if existing.user_id != user.id:
                raise ApiError(409, "That pixel token is already in use.")
            return message_out(existing), 200
    settings = merged_settings(user.settings)
    internal = user.org.internal_domains or []
    recipients = []
    for r in body["recipients"]:
        address = r["address"].lower()  # client_py's address rule holds (MessageIn)
        kind = classify_recipient(address, internal, settings["blocklist"])
        recipients.append({"name": r["name"].strip(), "address": address, "kind": kind})
    now = utcnow()
    thread = db.session.execute(
        sa.select(Thread).where(Thread.user_id == user.id, Thread.client_thread_id == body["thread_id"])
    ).scalar_one_or_none()
    external = any(r["kind"] == "external" for r in recipients)
    if thread is None:
        thread = Thread(
            user_id=user.id, client_thread_id=body["thread_id"], client=body["client"],
            last_sent_at=now, last_activity_at=now,
        )
        db.session.add(thread)
    thread.subject = body["subject"]
    thread.has_manual = bool(thread.has_manual) or body["mode"] == "manual"
    thread.has_auto_external = bool(thread.has_auto_external) or (body["mode"] == "auto" and external)
    message = Message(
        user_id=user.id, thread=thread, subject=body["subject"], recipients=recipients,
        mode=body["mode"], client=body["client"], kind=body["kind"], sequence=body["sequence"],
        step=body["step"], sent_at=now, external=external, client_message_id=body["client_message_id"],
    )
    if body.get("pixel_token"):
        message.pixel_token = body["pixel_token"]
    plain = {"subject": body["subject"], "recipients": recipients}
    message.search_key = search_key(plain)
    message.domains = "," + ",".join(recipient_domains(plain)) + ","
    seen: dict[str, Link] = {}
    for url in body["links"]:
        if url not in seen:
            seen[url] = Link(url=url, position=len(seen))
            message.links.append(seen[url])
    db.session.add(message)
    db.session.flush()
    insights_rollup.add_emails(db.session, [_rollup_row(message)])  # its day's sums (insight_email_days)
    thread_totals([thread.id])  # last sent and last activity, where every thread total is computed
    db.session.commit()
    cache = services.get().links
    for link in message.links:  # so its redirect works even if the database goes away
        cache.put(link.token, link.url)
    return message_out(message)


@blp.route("/messages/<string:message_id>", methods=["GET"])
@secured
@blp.response(200, MessageOut)
def get_message(message_id: str):
    """One of the user's tracked emails, with its pixel URL and tracked links."""
    message = db.session.execute(
        sa.select(Message).where(Message.public_id == message_id, Message.user_id == current_user().id)
    ).scalar_one_or_none()
    if message is None:
        raise ApiError(404, "No tracked email with that id.")
    return message_out(message)


@blp.route("/messages/<string:message_id>", methods=["DELETE"])
@secured
@blp.response(204)
def delete_message(message_id: str):
    """Forget an email registered but then sent without its pixel (the client ran out
    of time, or the user changed their mind). Refused once it has been opened or clicked:
    what happened to a sent email is kept."""
    from ..models import Event

    user = current_user()
    message = db.session.execute(
        sa.select(Message).where(Message.public_id == message_id, Message.user_id == user.id)
    ).scalar_one_or_none()
    if message is None:
        raise ApiError(404, "No tracked email with that id.")
    if db.session.execute(sa.select(Event.id).where(Event.message_id == message.id).limit(1)).first():
        raise ApiError(409, "This email has already been opened or clicked; its history is kept.")
    thread = message.thread
    tokens = [link.token for link in message.links]
    insights_rollup.add_emails(db.session, [_rollup_row(message)], sign=-1)
    db.session.delete(message)
    db.session.flush()
    if db.session.execute(sa.select(Message.id).where(Message.thread_id == thread.id).limit(1)).first():
        thread_totals([thread.id])
    else:
        db.session.delete(thread)
    db.session.commit()
    services.get().links.forget(tokens)  # other processes notice within LinkCache.RECHECK_SECONDS
    return None


def _rollup_row(message: Message) -> tuple:
    return (message.user_id, message.sent_at, message.domains, message.client, message.first_open_after,
            message.first_click_at)
