"""Plain pages: the server's front page and a health check for load balancers."""

from __future__ import annotations

from functools import lru_cache

import sqlalchemy as sa
from flask import Blueprint, current_app

from .errors import html_page
from .extensions import db
from .monitoring import backlog_problems

bp = Blueprint("web", __name__)


@lru_cache(maxsize=1)
def schema_head() -> str | None:
    """The newest migration this code ships: the schema it needs."""
    from alembic.script import ScriptDirectory

    from .config import MIGRATIONS_DIR

    return ScriptDirectory(MIGRATIONS_DIR).get_current_head()


@bp.get("/healthz")
def healthz():
    """``ok`` only when the database answers *and* holds the schema this code needs: a
    database without tables (or not yet migrated) answers 503, so a load balancer sends
    no traffic to a server that would fail every request. A backlog (the writer down,
    or the oldest hit not stored for longer than ``DRAIN_LAG_DEGRADED_SECONDS``) says
    ``degraded`` with its reasons but answers 200: recipients are still served."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except Exception:
        db.session.rollback()
        reasons, state = backlog_problems(current_app._get_current_object())
        return {"status": "degraded", "database": "unreachable",
                "reasons": ["the database is unreachable: hits wait in the spool", *reasons], **state}, 503
    try:
        versions = {row[0] for row in db.session.execute(sa.text("SELECT version_num FROM alembic_version"))}
    except Exception:
        db.session.rollback()
        versions = set()
    if schema_head() not in versions:
        return {"status": "degraded", "database": "ok",
                "schema": "outdated" if versions else "missing",
                "message": "The database is not migrated: run `engage db upgrade`."}, 503
    reasons, state = backlog_problems(current_app._get_current_object())
    if reasons:  # still 200: pixels and links are answered, only storing them lags
        return {"status": "degraded", "database": "ok", "schema": "ok", "reasons": reasons, **state}
    return {"status": "ok", "database": "ok", "schema": "ok"}


@bp.get("/")
def index():
    url = current_app.config["PUBLIC_URL"]
    return html_page(200, "Engage tracking server",
                     f"This server records email opens and clicks for its users. API: {url}/api/openapi.json")
