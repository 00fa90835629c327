"""The hot endpoints a recipient's mail client hits: the pixel and tracked links.

Whatever happens, the mail client gets its image or its redirect: a failure to
record is logged loudly, never shown to the recipient."""

from __future__ import annotations

import base64
import logging
import re

import sqlalchemy as sa
from flask import Blueprint, Response, redirect, request

from . import services
from .addresses import client_address
from .errors import html_page
from .extensions import db
from .hits import record_hit
from .models import Link, Message

log = logging.getLogger(__name__)
bp = Blueprint("tracking", __name__)

PIXEL_GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
NO_CACHE = {
    "Cache-Control": "no-cache, no-store, must-revalidate, max-age=0",
    "Pragma": "no-cache",
    "Expires": "0",
}


def _hit_details() -> dict:
    svc = services.get()
    return {
        "method": request.method,
        "ip": client_address(request.remote_addr, request.headers.get("X-Forwarded-For"), svc.trusted_proxies),
        "user_agent": request.headers.get("User-Agent", ""),
        "headers": {k.lower(): v for k, v in request.headers.items()},
    }


def _record_safely(**kwargs) -> None:
    try:
        record_hit(**kwargs, **_hit_details())
    except Exception:  # the recipient still gets the image; we must hear about it
        db.session.rollback()
        log.exception("FAILED TO RECORD A HIT on %s: the response was still served", request.path)


def pixel_response() -> Response:
    resp = Response(PIXEL_GIF, status=200, mimetype="image/gif", headers=NO_CACHE)
    resp.headers["Content-Length"] = str(len(PIXEL_GIF))
    return resp


@bp.route("/p/<path:name>", methods=["GET", "HEAD"])
def pixel(name: str):
    token = name[:-4] if name.endswith(".gif") else name
    if TOKEN_RE.match(token):
        try:
            message = db.session.execute(
                sa.select(Message).where(Message.pixel_token == token)
            ).scalar_one_or_none()
        except Exception:
            db.session.rollback()
            log.exception("FAILED TO LOOK UP pixel token; image served anyway")
            message = None
        if message is not None:
            _record_safely(message=message, kind="open")
    return pixel_response()


@bp.route("/c/<path:token>", methods=["GET", "HEAD"])
def click(token: str):
    link = None
    if TOKEN_RE.match(token):
        link = db.session.execute(sa.select(Link).where(Link.token == token)).scalar_one_or_none()
    if link is None:
        body, status, headers = html_page(404, "Link not found", "This link is not valid or has expired.")
        return Response(body, status=status, headers={**headers, **NO_CACHE})
    # The target comes only from the database row made when the email was registered:
    # nothing in the request can choose where we redirect.
    target = link.url
    message = link.message
    _record_safely(message=message, kind="click", link=link)
    resp = redirect(target, code=302)
    resp.headers.update(NO_CACHE)
    return resp
