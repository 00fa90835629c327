"""The pixel, answered before Flask: the hottest path, kept to a few microseconds.

``GET``/``HEAD /p/<token>.gif`` never needs the database, a session or a template:
it appends the hit to the spool and returns the GIF. Everything else goes to Flask.
The response is the same as every other page's: no-cache headers and the security
headers of server/security_headers.py (tests/server/test_headers.py checks they match)."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timezone

from . import services
from .addresses import client_address
from .extensions import db
from .models import utcnow
from .security_headers import SECURITY_HEADERS
from .spool import new_hit_id

log = logging.getLogger(__name__)

HEADER_VALUE_CAP = 200  # "prefetch", "Prefetch;prerender": a verdict needs a few words
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
KEPT_HEADERS = {  # the request headers the verdict looks at (server/classify.py)
    "HTTP_PURPOSE": "purpose", "HTTP_SEC_PURPOSE": "sec-purpose",
    "HTTP_X_PURPOSE": "x-purpose", "HTTP_X_MOZ": "x-moz",
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
            try:
                self.record(environ, token, method)
            except Exception:
                log.exception("FAILED TO RECORD A HIT on %s: the image was still served", path)
        start_response("200 OK", list(self.headers))
        return [] if method == "HEAD" else [self.gif]

    def record(self, environ, token: str, method: str) -> None:
        svc = self.flask_app.extensions["engage"]
        keep_hit(self.flask_app, hit_record(environ, "open", token, svc.trusted_proxies))


def hit_record(environ, kind: str, token: str, trusted_proxies) -> dict:
    """One spool line for a hit, from the WSGI environ (the pixel and the click both)."""
    return {
        "hit_id": new_hit_id(),
        "kind": kind,
        "token": token,
        "method": environ.get("REQUEST_METHOD", "GET")[:8],
        "ip": client_address(environ.get("REMOTE_ADDR"), environ.get("HTTP_X_FORWARDED_FOR"), trusted_proxies),
        "ua": environ.get("HTTP_USER_AGENT", "")[:1000],
        # Capped like the agent: anyone can send 400 KB of headers to every pixel URL.
        "headers": {name: environ[key][:HEADER_VALUE_CAP] for key, name in KEPT_HEADERS.items() if key in environ},
        "at": utcnow().isoformat(),
    }


def keep_hit(flask_app, record: dict) -> None:
    """Append the hit to the spool; if the spool cannot take it (disk full), store it now."""
    if not flask_app.extensions["engage"].spool.append(record):
        with flask_app.app_context():
            store_now(record)


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
