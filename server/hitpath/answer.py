"""Answering the recipient: the pixel and tracked links. The top of the hit path.

``GET``/``HEAD /p/<token>.gif`` is answered before Flask (``PixelFastPath``, the
hottest path, a few microseconds): it never needs the database, a session or a
template, it appends the hit to the spool and returns the GIF. Tracked links
(``/c/<token>``) are a Flask blueprint: the URL comes from the link registered with
the email (cached, so redirects keep working while the database is unreachable);
nothing the recipient sends can choose a redirect target.

Whatever happens, the mail client gets its image or its redirect. The hit goes to
the spool (spool.py) with its address already canonical (addresses.py); the writer
decides and stores it a few milliseconds later (drain.py). The pixel's response is
the same as every other page's: no-cache headers and the security headers of
server/security_headers.py (tests/server/test_headers.py checks they match)."""

from __future__ import annotations

import base64
import logging
import re
import threading
import time
from collections import OrderedDict
from datetime import datetime, timezone

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, redirect, request

from .. import metrics, services
from ..causes import OutageLog, describe
from ..errors import html_page
from ..extensions import db
from ..models import Link, utcnow
from ..security_headers import SECURITY_HEADERS
from .addresses import client_address
from .drain import ingest
from .spool import new_hit_id

log = logging.getLogger(__name__)
bp = Blueprint("tracking", __name__)

HEADER_VALUE_CAP = 200  # "prefetch", "Prefetch;prerender": a verdict needs a few words
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
KEPT_HEADERS = {  # the request headers the verdicts look at (verdicts.py)
    "HTTP_PURPOSE": "purpose", "HTTP_SEC_PURPOSE": "sec-purpose",
    "HTTP_X_PURPOSE": "x-purpose", "HTTP_X_MOZ": "x-moz",
}
KEPT_HEADER_NAMES = tuple(KEPT_HEADERS.values())
PIXEL_GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_CACHE = {
    "Cache-Control": "no-cache, no-store, must-revalidate, max-age=0",
    "Pragma": "no-cache",
    "Expires": "0",
}


class PixelFastPath:
    def __init__(self, wsgi_app, flask_app, gif: bytes, headers: dict):
        self.wsgi_app = wsgi_app
        self.flask_app = flask_app
        self.gif = gif
        self.headers = [("Content-Type", "image/gif"), ("Content-Length", str(len(gif))),
                        *headers.items(), *SECURITY_HEADERS]

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if not path.startswith("/p/") or method not in ("GET", "HEAD"):
            return self.wsgi_app(environ, start_response)
        name = path[3:]
        token = name[:-4] if name.endswith(".gif") else name
        if TOKEN_RE.match(token):
            metrics.ANSWERED["open"].inc()
            try:
                self.record(environ, token, method)
            except Exception:
                log.exception("FAILED TO RECORD A HIT on %s: the image was still served", path)
        start_response("200 OK", list(self.headers))
        return [] if method == "HEAD" else [self.gif]

    def record(self, environ, token: str, method: str) -> None:
        svc = self.flask_app.extensions["engage"]
        keep_hit(self.flask_app, hit_record(environ, "open", token, svc.trusted_proxies))

    def answer_rsgi(self, scope, proto) -> None:
        """The same answer and the same spool record, straight from granian's RSGI scope
        (server/rsgi.py): no WSGI environ is built for the hottest path."""
        method = scope.method
        name = scope.path[3:]
        token = name[:-4] if name.endswith(".gif") else name
        if TOKEN_RE.match(token):
            metrics.ANSWERED["open"].inc()
            try:
                headers = scope.headers
                forwarded = headers.get_all("x-forwarded-for")
                record = new_record(
                    "open", token, method, scope.client.rpartition(":")[0].strip("[]"),
                    ",".join(forwarded) if forwarded else None, headers.get("user-agent", ""),
                    {name: value for name in KEPT_HEADER_NAMES if (value := headers.get(name)) is not None},
                    self.flask_app.extensions["engage"].trusted_proxies)
                keep_hit(self.flask_app, record)
            except Exception:
                log.exception("FAILED TO RECORD A HIT on %s: the image was still served", scope.path)
        if method == "HEAD":
            proto.response_empty(200, self.headers)
        else:
            proto.response_bytes(200, self.headers, self.gif)


def hit_record(environ, kind: str, token: str, trusted_proxies) -> dict:
    """One spool line for a hit, from the WSGI environ (the pixel and the click both)."""
    return new_record(kind, token, environ.get("REQUEST_METHOD", "GET"), environ.get("REMOTE_ADDR"),
                      environ.get("HTTP_X_FORWARDED_FOR"), environ.get("HTTP_USER_AGENT", ""),
                      {name: environ[key] for key, name in KEPT_HEADERS.items() if key in environ}, trusted_proxies)


def new_record(kind: str, token: str, method: str, remote_addr, forwarded_for, user_agent: str, kept: dict,
               trusted_proxies) -> dict:
    """One spool line for a hit, whatever server read the request."""
    return {
        "hit_id": new_hit_id(),  # first: a spool reader resynchronises on '{"hit_id":' (spool.RECORD_START)
        "kind": kind,
        "token": token,
        "method": method[:8],
        "ip": client_address(remote_addr, forwarded_for, trusted_proxies),
        "ua": user_agent[:1000],
        # Capped like the agent: anyone can send 400 KB of headers to every pixel URL.
        "headers": {name: value[:HEADER_VALUE_CAP] for name, value in kept.items()},
        "at": answered_at(),
    }


_utcnow = utcnow  # models.utcnow; a test's clock replaces this module's ``utcnow`` (tests/salesforce)
_second = (0, "")  # (a second since the epoch, its text up to the seconds): one tuple, read whole by any thread


def answered_at() -> str:
    """Now, as ``datetime.now(timezone.utc).isoformat()`` writes it (always with
    microseconds): the text of the second is made once a second, not once a hit (3.4
    -> 0.8 us of every pixel, bench/README.md, tenth session)."""
    global _second
    if utcnow is not _utcnow:
        return utcnow().isoformat()
    seconds, ns = divmod(time.time_ns(), 1_000_000_000)
    cached = _second
    if cached[0] != seconds:
        cached = _second = (seconds, datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"))
    return f"{cached[1]}.{ns // 1000:06d}+00:00"


def keep_hit(flask_app, record: dict) -> None:
    """Append the hit to the spool; if the spool cannot take it (disk full), store it now."""
    if not flask_app.extensions["engage"].spool.append(record):
        with flask_app.app_context():
            store_now(record)


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


class LossLog:
    """A hit nothing could take is counted (``engage_hits_lost_total``) and logged at
    most once a second with how many were lost since the last line, not once a hit."""

    def __init__(self, every: float = 1.0):
        self.every = every
        self._lock = threading.Lock()
        self._last = -every
        self._since = 0

    def lost(self, kind: str, cause: str) -> None:
        metrics.LOST.get(kind, metrics.LOST["open"]).inc()
        with self._lock:
            self._since += 1
            now = time.monotonic()
            if now - self._last < self.every:
                return
            self._last, count, self._since = now, self._since, 0
        log.critical("%d HIT(S) LOST: answered, but neither the spool nor the database could take them (%s); "
                     "next report in %g s at the earliest", count, cause, self.every)


LOSSES = LossLog()
LINK_LOOKUPS = OutageLog(log, "could not look up a tracked link", back="tracked links: looked up again")  # one line a minute, not one a click


def store_now(record: dict) -> None:
    """The spool could not take a hit (disk full?): store it straight away instead."""
    try:
        ingest([{**record, "at": datetime.fromisoformat(record["at"]).astimezone(timezone.utc)}])
    except Exception as err:
        db.session.rollback()
        services.get().spool.lost += 1
        kind, cause = describe(err)
        if kind == "database":
            metrics.DATABASE_ERRORS.labels("hit").inc()
        LOSSES.lost(record["kind"], cause)


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
    LINK_LOOKUPS.recovered()
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
        except Exception as err:
            db.session.rollback()
            metrics.DATABASE_ERRORS.labels("request").inc()
            LINK_LOOKUPS.failed(err, None, " (the recipient was asked to reload)")
            body, status, headers = html_page(503, "Try again in a moment",
                                              "This link is briefly unavailable. Please reload the page.")
            return Response(body, status=status, headers={**headers, **NO_CACHE, "Retry-After": "5"})
    if url is None:
        body, status, headers = html_page(404, "Link not found", "This link is not valid or has expired.")
        return Response(body, status=status, headers={**headers, **NO_CACHE})
    metrics.ANSWERED["click"].inc()
    try:
        keep_hit(current_app._get_current_object(),
                 hit_record(request.environ, "click", token, services.get().trusted_proxies))
    except Exception:
        log.exception("FAILED TO RECORD A CLICK on %s: the redirect was still served", request.path)
    resp = redirect(url, code=302)
    resp.headers.update(NO_CACHE)
    return resp
