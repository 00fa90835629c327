"""Plain pages: the server's front page and a health check for load balancers."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, current_app

from .errors import html_page
from .extensions import db

bp = Blueprint("web", __name__)


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(sa.text("SELECT 1"))
        return {"status": "ok", "database": "ok"}
    except Exception:
        db.session.rollback()
        return {"status": "degraded", "database": "unreachable"}, 503


@bp.get("/")
def index():
    url = current_app.config["PUBLIC_URL"]
    return html_page(200, "Engage tracking server",
                     f"This server records email opens and clicks for its users. API: {url}/api/openapi.json")
