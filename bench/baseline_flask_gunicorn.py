"""The baselines the benchmarks compare Engage with, as WSGI apps.

``app``: the pixel as it is usually first written, a plain Flask view that writes
each hit to SQLite (one INSERT and one COMMIT per request) before answering, run
under gunicorn's sync workers. The issue quotes 0.054 of nginx for this setup; the
pixel benchmark measures it again in the same run. SQLite gets the same settings
Engage uses (WAL, synchronous=NORMAL, busy timeout), so the difference is the design,
not the pragmas.

``hello``: a bare Flask hello-world, the memory baseline for one worker.

    BASELINE_DB=/tmp/hits.db gunicorn -w 2 -k sync --chdir bench baseline_flask_gunicorn:app
"""

from __future__ import annotations

import base64
import os
import sqlite3
import threading
from datetime import datetime, timezone

from flask import Flask, Response, request

PIXEL_GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_CACHE = {"Cache-Control": "no-cache, no-store, must-revalidate, max-age=0", "Pragma": "no-cache", "Expires": "0"}

app = Flask("baseline_pixel")
hello = Flask("hello")
_local = threading.local()


def _db() -> sqlite3.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(os.environ.get("BASELINE_DB", "baseline.db"), timeout=10)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("CREATE TABLE IF NOT EXISTS hits (id INTEGER PRIMARY KEY, token TEXT, ip TEXT, "
                     "user_agent TEXT, at TEXT)")
        conn.commit()
        _local.conn = conn
    return conn


@app.get("/p/<token>.gif")
def pixel(token: str):
    conn = _db()
    conn.execute("INSERT INTO hits (token, ip, user_agent, at) VALUES (?, ?, ?, ?)",
                 (token, request.headers.get("X-Forwarded-For", request.remote_addr),
                  request.headers.get("User-Agent", ""), datetime.now(timezone.utc).isoformat()))
    conn.commit()
    return Response(PIXEL_GIF, mimetype="image/gif", headers=NO_CACHE)


@app.get("/healthz")
def healthz():
    return {"status": "ok"}


@hello.get("/")
def hello_world():
    return "Hello, World!"


@hello.get("/healthz")
def hello_healthz():
    return {"status": "ok"}
