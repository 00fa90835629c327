"""The hot endpoints a recipient's mail client hits: the pixel and tracked links.

Whatever happens, the mail client gets its image or its redirect. A hit is
appended to the spool (server/spool.py) and answered at once; the spool's writer
classifies and stores it a few milliseconds later. Nothing the recipient sends can
choose a redirect target: it comes from the link registered with the email."""

from __future__ import annotations

import base64
import logging
import re
import threading
from collections import OrderedDict
from datetime import datetime, timezone

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, redirect, request

from . import services
from .addresses import client_address
from .errors import html_page
from .extensions import db
from .models import Link, utcnow
from .spool import new_hit_id

log = logging.getLogger(__name__)
bp = Blueprint("tracking", __name__)

PIXEL_GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
NO_CACHE = {
    "Cache-Control": "no-cache, no-store, must-revalidate, max-age=0",
    "Pragma": "no-cache",
    "Expires": "0",
}
# Only the request headers the verdict looks at are kept.
KEPT_HEADERS = ("purpose", "sec-purpose", "x-purpose", "x-moz")


class LinkCache:
    """Token -> URL for tracked links, so redirects keep working while the database is
    unreachable. Links never change once registered; recent ones are loaded at start."""

    def __init__(self, size: int = 50_000):
        self.size = size
        self._data: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str) -> str | None:
        with self._lock:
            url = self._data.get(token)
            if url is not None:
                self._data.move_to_end(token)
            return url

    def put(self, token: str, url: str) -> None:
        with self._lock:
            self._data[token] = url
            self._data.move_to_end(token)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def warm(self) -> int:
        rows = db.session.execute(sa.select(Link.token, Link.url).order_by(Link.id.desc()).limit(self.size)).all()
        for token, url in reversed(rows):
            self.put(token, url)
        db.session.rollback()
        return len(rows)


def hit_record(kind: str, token: str) -> dict:
    svc = services.get()
    return {
        "hit_id": new_hit_id(),
        "kind": kind,
        "token": token,
        "method": request.method[:8],
        "ip": client_address(request.remote_addr, request.headers.get("X-Forwarded-For"), svc.trusted_proxies),
        "ua": request.headers.get("User-Agent", "")[:1000],
        "headers": {h: request.headers[h] for h in KEPT_HEADERS if h in request.headers},
        "at": utcnow().isoformat(),
    }


def store_now(record: dict) -> None:
    """The spool could not take a hit (disk full?): store it straight away instead."""
    from .ingest import ingest

    try:
        ingest([{**record, "at": datetime.fromisoformat(record["at"]).astimezone(timezone.utc)}])
    except Exception:
        db.session.rollback()
        services.get().spool.lost += 1
        log.critical("A HIT WAS LOST: neither the spool nor the database could take it (%s %s)",
                     record["kind"], record["token"][:6])


def _record(kind: str, token: str) -> None:
    record = hit_record(kind, token)
    if not services.get().spool.append(record):
        store_now(record)


def pixel_response() -> Response:
    resp = Response(PIXEL_GIF, status=200, mimetype="image/gif", headers=NO_CACHE)
    resp.headers["Content-Length"] = str(len(PIXEL_GIF))
    return resp


@bp.route("/p/<path:name>", methods=["GET", "HEAD"])
def pixel(name: str):
    """Served by server/fastpath.py before Flask; this route is what runs without it."""
    token = name[:-4] if name.endswith(".gif") else name
    if TOKEN_RE.match(token):
        try:
            _record("open", token)
        except Exception:
            log.exception("FAILED TO RECORD A HIT on %s: the image was still served", request.path)
    return pixel_response()


def _link_url(token: str) -> str | None:
    cache: LinkCache = services.get().links
    url = cache.get(token)
    if url is None:
        url = db.session.execute(sa.select(Link.url).where(Link.token == token)).scalar_one_or_none()
        if url is not None:
            cache.put(token, url)
    return url


@bp.route("/c/<path:token>", methods=["GET", "HEAD"])
def click(token: str):
    url = None
    if TOKEN_RE.match(token):
        try:
            url = _link_url(token)
        except Exception:
            db.session.rollback()
            log.exception("could not look up a tracked link (database unavailable?)")
            body, status, headers = html_page(503, "Try again in a moment",
                                              "This link is briefly unavailable. Please reload the page.")
            return Response(body, status=status, headers={**headers, **NO_CACHE, "Retry-After": "5"})
    if url is None:
        body, status, headers = html_page(404, "Link not found", "This link is not valid or has expired.")
        return Response(body, status=status, headers={**headers, **NO_CACHE})
    try:
        _record("click", token)
    except Exception:
        log.exception("FAILED TO RECORD A CLICK on %s: the redirect was still served", request.path)
    resp = redirect(url, code=302)
    resp.headers.update(NO_CACHE)
    return resp
