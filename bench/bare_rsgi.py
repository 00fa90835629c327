"""A bare RSGI app for bench/pixel_gap.py: granian's own cost for the pixel, with the
same image and headers Engage sends, under the same options ``engage serve`` passes.

``BARE_STEP`` adds Engage's pixel work a piece at a time (each includes the ones before):

- ``gif``: answer the image, nothing else;
- ``record``: + build the spool record (server.hitpath.answer.new_record);
- ``spool``: + append it to a spool file (server.hitpath.spool.Spool, O_APPEND write);
- ``metrics``: + the prometheus counter (multiprocess files when PROMETHEUS_MULTIPROC_DIR is set).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.hitpath.answer import KEPT_HEADER_NAMES, NO_CACHE, PIXEL_GIF, TOKEN_RE, new_record  # noqa: E402
from server.security_headers import SECURITY_HEADERS  # noqa: E402

STEPS = ("gif", "record", "spool", "metrics")
STEP = STEPS.index(os.environ.get("BARE_STEP", "gif"))
HEADERS = [("Content-Type", "image/gif"), ("Content-Length", str(len(PIXEL_GIF))), *NO_CACHE.items(),
           *SECURITY_HEADERS]
TRUSTED = []
if os.environ.get("ENGAGE_TRUSTED_PROXIES"):
    import ipaddress

    TRUSTED = [ipaddress.ip_network(p, strict=False) for p in os.environ["ENGAGE_TRUSTED_PROXIES"].split(",")]

_spool = None


def spool():
    global _spool
    if _spool is None:
        from server.hitpath.spool import Spool

        _spool = Spool(os.environ.get("BARE_SPOOL_DIR", "/tmp/bare-spool"))
    return _spool


if STEP >= 3:
    from server import metrics


class App:
    def __rsgi__(self, scope, proto):
        return self.answer(scope, proto)

    async def answer(self, scope, proto):
        if STEP >= 1:
            name = scope.path[3:]
            token = name[:-4] if name.endswith(".gif") else name
            if TOKEN_RE.match(token):
                if STEP >= 3:
                    metrics.ANSWERED["open"].inc()
                headers = scope.headers
                forwarded = headers.get_all("x-forwarded-for")
                record = new_record(
                    "open", token, scope.method, scope.client.rpartition(":")[0].strip("[]"),
                    ",".join(forwarded) if forwarded else None, headers.get("user-agent", ""),
                    {n: v for n in KEPT_HEADER_NAMES if (v := headers.get(n)) is not None}, TRUSTED)
                if STEP >= 2:
                    spool().append(record)
        proto.response_bytes(200, HEADERS, PIXEL_GIF)


app = App()


def wsgi_app(environ, start_response):
    """The same image as a bare WSGI callable (``--interface wsgi``)."""
    start_response("200 OK", HEADERS)
    return [PIXEL_GIF]
