"""The hot endpoints a recipient's mail client hits: the pixel and tracked links.

The pixel itself is answered by server/fastpath.py before Flask; this blueprint
serves tracked links. Whatever happens, the mail client gets its image or its
redirect. A hit is appended to the spool (server/spool.py) and answered at once; the spool's writer
classifies and stores it a few milliseconds later. Nothing the recipient sends can
choose a redirect target: it comes from the link registered with the email."""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections import OrderedDict

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, redirect, request

from . import services
from .errors import html_page
from .extensions import db
from .fastpath import TOKEN_RE, hit_record, keep_hit
from .models import Link

log = logging.getLogger(__name__)
bp = Blueprint("tracking", __name__)

PIXEL_GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_CACHE = {
    "Cache-Control": "no-cache, no-store, must-revalidate, max-age=0",
    "Pragma": "no-cache",
    "Expires": "0",
}


class LinkCache:
    """Token -> URL for tracked links, so redirects keep working while the database is
    unreachable. Recent ones are loaded at start.

    A link is deleted with its email (by its sender, or by retention, in whichever
    process): this process forgets it at once (``forget``), and every process checks an
    entry against the database again once it is ``RECHECK_SECONDS`` old, keeping it
    only while the database cannot answer."""

    RECHECK_SECONDS = 30.0

    def __init__(self, size: int = 50_000):
        self.size = size
        self._data: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str) -> tuple[str, bool] | None:
        """(url, fresh) or None; not fresh: check the database before trusting it."""
        with self._lock:
            entry = self._data.get(token)
            if entry is None:
                return None
            self._data.move_to_end(token)
            url, checked = entry
            return url, time.monotonic() - checked < self.RECHECK_SECONDS

    def put(self, token: str, url: str) -> None:
        with self._lock:
            self._data[token] = (url, time.monotonic())
            self._data.move_to_end(token)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def forget(self, tokens) -> None:
        with self._lock:
            for token in tokens:
                self._data.pop(token, None)

    def warm(self) -> int:
        rows = db.session.execute(sa.select(Link.token, Link.url).order_by(Link.id.desc()).limit(self.size)).all()
        for token, url in reversed(rows):
            self.put(token, url)
        db.session.rollback()
        return len(rows)


def _link_url(token: str) -> str | None:
    cache: LinkCache = services.get().links
    cached = cache.get(token)
    if cached is not None and cached[1]:
        return cached[0]
    try:
        url = db.session.execute(sa.select(Link.url).where(Link.token == token)).scalar_one_or_none()
    except Exception:
        if cached is None:
            raise
        db.session.rollback()
        cache.put(token, cached[0])  # the database is away: the link as it was, not asked again at once
        return cached[0]
    if url is None:
        cache.forget([token])  # deleted (or purged) since it was cached
    else:
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
        keep_hit(current_app._get_current_object(),
                 hit_record(request.environ, "click", token, services.get().trusted_proxies))
    except Exception:
        log.exception("FAILED TO RECORD A CLICK on %s: the redirect was still served", request.path)
    resp = redirect(url, code=302)
    resp.headers.update(NO_CACHE)
    return resp
