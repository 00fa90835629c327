"""Engage tracking server: the Flask app factory.

The rules (snippet, links, recipients, panel model) come from ``client_py``; this
package is the I/O shell around them: HTTP, database, geolocation, the live stream.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from . import config as config_mod
from .api.base import api as smorest_api
from .error_handlers import register_error_handlers
from .extensions import cors, db, migrate
from .security_headers import add_security_headers

EXTENSION_ORIGIN = re.compile(r"^chrome-extension://[a-p]{32}$")


def extension_origins(pinned: list[str]) -> list:
    """The Gmail extension's origins CORS lets in: exactly the ids the operator pinned
    (ENGAGE_EXTENSION_IDS), or, when none is pinned, any extension id."""
    for extension_id in pinned:
        if not re.fullmatch(r"[a-p]{32}", extension_id):
            raise ValueError(f"ENGAGE_EXTENSION_IDS: {extension_id!r} is not a Chrome extension id (32 letters a-p)")
    return [f"chrome-extension://{i}" for i in pinned] if pinned else [EXTENSION_ORIGIN]


def create_app(overrides: dict | None = None) -> Flask:
    instance = os.environ.get("ENGAGE_INSTANCE_PATH") or str(Path.cwd() / "instance")
    app = Flask(__name__, instance_path=(overrides or {}).get("INSTANCE_PATH", instance))
    Path(app.instance_path).mkdir(parents=True, exist_ok=True, mode=0o700)  # the key, the database
    app.config.update(config_mod.default_config(app.instance_path))
    app.config.update(config_mod.from_environment())
    app.config.update(overrides or {})
    app.config["SQLALCHEMY_DATABASE_URI"] = config_mod.normalize_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config_mod.ensure_secret_key(app.instance_path)
    app.config["PUBLIC_URL"] = app.config["PUBLIC_URL"].rstrip("/")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    config_mod.create_private_sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"])
    db.init_app(app)
    migrate.init_app(app, db, directory=config_mod.MIGRATIONS_DIR)
    smorest_api.init_app(app)
    cors.init_app(
        app,
        resources={r"/api/*": {"origins": [*extension_origins(app.config["EXTENSION_IDS"]),
                                            *app.config["CORS_ORIGINS"]]}},
        allow_headers=["Authorization", "Content-Type", "Last-Event-ID"],
        max_age=600,
    )
    register_error_handlers(app)

    from .startup import start_services

    start_services(app)

    from .api import register_api
    from .hitpath.answer import bp as tracking_bp
    from .web import bp as web_bp

    app.register_blueprint(tracking_bp)
    app.register_blueprint(web_bp)
    from .monitoring import bp as monitoring_bp; app.register_blueprint(monitoring_bp)  # noqa: E702 (/metrics)
    from .addin import bp as addin_bp; app.register_blueprint(addin_bp)  # noqa: E702 (Outlook add-in)
    from .admin import init_app as init_admin; init_admin(app)  # noqa: E702 (setup, invitations, users)
    register_api(smorest_api)

    from . import cli

    cli.init_app(app)

    from .hitpath.answer import NO_CACHE, PIXEL_GIF, PixelFastPath

    app.wsgi_app = PixelFastPath(app.wsgi_app, app, PIXEL_GIF, NO_CACHE)

    app.after_request(add_security_headers)

    return app


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """WAL: readers never block the pixel writer; NORMAL sync survives a killed
    process (not a power cut) with no fsync per hit; wait rather than fail on locks."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()
