"""RSGI entry point for granian (``granian --interface rsgi server.rsgi:app``).

One event loop per worker serves two kinds of request on the same port:

- ``GET /api/v1/stream`` natively: opened on an asyncio task, then held as a small
  object with granian's transport, never a thread nor a coroutine each
  (server/stream_hub.py);
- everything else through the unchanged Flask app (WSGI): the pixel inline on the
  loop (``server.hitpath.answer`` answers it in microseconds with no database), the rest on
  a small thread pool, as granian's WSGI interface does with its blocking threads.

Why not granian's WSGI interface plus a second server for the streams: the streams
must share the public port with the pixel, and a front proxy in Python would add a
hop to every pixel (bench/README.md, "Live streams", has the figures)."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import sys
from concurrent.futures import ThreadPoolExecutor

from . import create_app
from .granian_run import stop_if_told_while_starting

log = logging.getLogger(__name__)

STREAM_PATH = "/api/v1/stream"


def _status_code(status: str) -> int:
    return int(status.split(" ", 1)[0])


class WsgiOnRsgi:
    """Run a WSGI callable for an RSGI request: the environ PEP 3333 describes, the
    body read before the call (API bodies are capped by MAX_CONTENT_LENGTH), the
    response collected and sent in one piece (nothing but the stream streams)."""

    def __init__(self, wsgi_app, threads: int, max_body: int):
        self.wsgi_app = wsgi_app
        self.max_body = max_body
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="engage-wsgi")

    def environ(self, scope, body: bytes) -> dict:
        server_host, _, server_port = scope.server.rpartition(":")
        client_host, _, client_port = scope.client.rpartition(":")
        env = {
            "REQUEST_METHOD": scope.method,
            "SCRIPT_NAME": "",
            # PEP 3333: PATH_INFO is the decoded path's bytes as latin-1 code points.
            # granian has percent-decoded it already (as UTF-8, invalid bytes replaced):
            # decoding again turned %2541 into "A", and a character beyond latin-1 left
            # in the string made Werkzeug fail with a 500.
            "PATH_INFO": scope.path.encode("utf-8", "surrogatepass").decode("latin-1"),
            "QUERY_STRING": scope.query_string,
            "SERVER_NAME": server_host.strip("[]") or "localhost",
            "SERVER_PORT": server_port or "80",
            "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
            "REMOTE_ADDR": client_host.strip("[]"),
            "REMOTE_PORT": client_port,
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": scope.scheme,
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        for name, value in scope.headers.items():
            key = name.upper().replace("-", "_")
            if key == "CONTENT_TYPE" or key == "CONTENT_LENGTH":
                env[key] = value
            else:
                key = "HTTP_" + key
                env[key] = f"{env[key]},{value}" if key in env else value
        return env

    def call(self, env: dict):
        """The WSGI call: (status code, headers, body bytes)."""
        started: list = []

        def start_response(status, headers, exc_info=None):
            if exc_info and started:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [status, headers]
            return lambda data: chunks.append(data)

        chunks: list[bytes] = []
        result = self.wsgi_app(env, start_response)
        try:
            for chunk in result:
                if chunk:
                    chunks.append(chunk)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status, headers = started
        return _status_code(status), headers, b"".join(chunks)

    async def __call__(self, scope, proto, inline: bool = False) -> None:
        length = scope.headers.get("content-length")
        if length and length.isdigit() and int(length) > self.max_body:
            body = b""  # Flask answers 413 from CONTENT_LENGTH without reading
        elif scope.method in ("GET", "HEAD", "OPTIONS") and not length:
            body = b""
        else:
            body = await proto()
        env = self.environ(scope, body)
        if inline:
            status, headers, payload = self.call(env)
        else:
            status, headers, payload = await asyncio.get_running_loop().run_in_executor(self.pool, self.call, env)
        if scope.method == "HEAD":
            proto.response_empty(status, headers)
        else:
            proto.response_bytes(status, headers, payload)


class EngageRsgi:
    def __init__(self, flask_app):
        self.flask_app = flask_app
        threads = int(os.environ.get("ENGAGE_WSGI_THREADS", "32"))
        self.wsgi = WsgiOnRsgi(flask_app.wsgi_app, threads, flask_app.config.get("MAX_CONTENT_LENGTH") or 1 << 20)
        # The pixel's answer (server/hitpath/answer.py), read from the RSGI scope directly
        # when the app's outermost WSGI layer is it (create_app puts it there).
        self.pixel = flask_app.wsgi_app if hasattr(flask_app.wsgi_app, "answer_rsgi") else None
        self.hub = None

    def __rsgi_init__(self, loop) -> None:
        from .stream_hub import Hub

        self.hub = Hub(self.flask_app, loop, self.wsgi.pool)
        self.hub.start()

    def __rsgi_del__(self, loop) -> None:
        if self.hub is not None:
            self.hub.stop()

    async def __rsgi__(self, scope, proto) -> None:
        if scope.proto != "http":
            return
        path = scope.path
        if path == STREAM_PATH and scope.method == "GET" and self.hub is not None:
            await self.hub.serve(scope, proto)
        elif path.startswith("/p/") and scope.method in ("GET", "HEAD") and self.pixel is not None:
            self.pixel.answer_rsgi(scope, proto)  # the fast path: no database, no thread hop, no environ
        else:
            await self.wsgi(scope, proto)


def __getattr__(name: str):
    """``server.rsgi:app``, what granian loads, built on first use: importing this module
    (a test of EngageRsgi) makes no app and no instance folder."""
    if name != "app":
        raise AttributeError(name)
    stop_if_told_while_starting()
    global app
    app = EngageRsgi(create_app({"BACKGROUND_THREADS": os.environ.get("ENGAGE_BACKGROUND_THREADS", "1").strip()
                                 .lower() not in ("0", "false", "no", "off")}))
    return app
