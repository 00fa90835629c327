"""What ``create_app`` starts besides Flask: the per-app services (the registry of
server/services.py, filled in here) and, in the process that runs them, the
background jobs (``engage writer``, or any process with ``BACKGROUND_THREADS``)."""

from __future__ import annotations

import ipaddress
import logging
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from . import salesforce
from .causes import describe
from .geo import GeoLocator, default_database_path
from .hitpath.answer import LinkCache
from .hitpath.drain import claims, ingest
from .hitpath.rules import Rules
from .hitpath.spool import Drainer, Spool
from .reminders import start_reminder_thread
from .retention import start_retention_thread
from .services import Services
from .stream import Broker

log = logging.getLogger(__name__)


def start_services(app: Flask) -> Services:
    """Build the app's services; warm the link cache; start the background jobs when
    ``BACKGROUND_THREADS`` says this process runs them."""
    spool_dir = app.config.get("SPOOL_DIR") or str(Path(app.instance_path) / "spool")
    reserve = int(float(app.config["SPOOL_RESERVE_MB"]) * 1024 * 1024)
    spool = Spool(spool_dir, reserve_bytes=reserve)
    spool.retire_seconds = float(app.config["SPOOL_RETIRE_SECONDS"])
    url = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    sqlite_file = url.database if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") else None
    svc = Services(
        secret=app.config["SECRET_KEY"].encode(),
        geo=GeoLocator(app.config.get("GEOIP_DATABASE") or default_database_path()),
        rules=Rules.load(app.config.get("RULES_DIR")),
        broker=Broker(app),
        spool=spool,
        drainer=Drainer(spool_dir, ingest, wake=spool.wake, reserve_bytes=reserve, shares_disk_with=sqlite_file,
                        shard=tuple(app.config["WRITER_SHARD"]), batch=app.config["WRITER_BATCH"],
                        claims=claims),
        links=LinkCache(),
        trusted_proxies=[ipaddress.ip_network(p, strict=False) for p in app.config["TRUSTED_PROXIES"]],
    )
    app.extensions["engage"] = svc
    salesforce.init_app(app)  # its tables and the hit subscriber
    if app.config["BACKGROUND_THREADS"] or app.config.get("WARM_LINKS"):
        try:
            with app.app_context():
                svc.links.warm()
        except Exception as err:  # the links are then looked up one by one, as they are clicked
            kind, cause = describe(err)
            log.warning("could not preload tracked links: %s", cause, exc_info=err if kind == "bug" else None)
    if app.config["BACKGROUND_THREADS"]:
        start_background_jobs(app)
    return svc


def start_background_jobs(app: Flask) -> None:
    """The spool drainer, retention, reminder and CRM delivery threads. Every process that runs
    them runs a drainer thread; only one (the dedicated writer process, when
    `engage serve` runs one) holds the spool's lock and drains at a time."""
    from .salesforce.delivery import start_delivery_thread  # loads simple-salesforce: only here

    app.config["BACKGROUND_THREADS"] = True
    app.extensions["engage"].drainer.start(app)
    if app.extensions["engage"].drainer.index:
        return  # writers 1, 2...: only their share of the hits; writer 0 runs the rest
    start_retention_thread(app)
    start_reminder_thread(app)
    start_delivery_thread(app)
