"""Per-app singletons: geolocation reader, classification rules, the stream broker,
background jobs. Looked up with ``services.get()`` inside a request or app context."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
from dataclasses import dataclass, field

from pathlib import Path

from flask import Flask, current_app

log = logging.getLogger(__name__)


@dataclass
class Services:
    secret: bytes
    geo: object
    rules: object
    trusted_proxies: list = field(default_factory=list)
    broker: object = None
    spool: object = None
    drainer: object = None
    links: object = None

    def keyed_hash(self, *parts: str) -> str:
        msg = "\x00".join(parts).encode("utf-8", "surrogatepass")
        return hmac.new(self.secret, msg, hashlib.sha256).hexdigest()[:40]


def init_app(app: Flask) -> None:
    from .geo import GeoLocator, default_database_path
    from .rules import Rules
    from .stream import Broker

    geo = GeoLocator(app.config.get("GEOIP_DATABASE") or default_database_path())
    rules = Rules.load(app.config.get("RULES_DIR"))
    proxies = [ipaddress.ip_network(p, strict=False) for p in app.config["TRUSTED_PROXIES"]]
    svc = Services(
        secret=app.config["SECRET_KEY"].encode(),
        geo=geo,
        rules=rules,
        trusted_proxies=proxies,
    )
    svc.broker = Broker(app)
    app.extensions["engage"] = svc
    from . import salesforce

    salesforce.init_app(app)  # its tables, the hit subscriber, the delivery thread (BACKGROUND_THREADS)

    from .ingest import ingest
    from .spool import Drainer, Spool
    from .tracking import LinkCache

    spool_dir = app.config.get("SPOOL_DIR") or str(Path(app.instance_path) / "spool")
    svc.spool = Spool(spool_dir)
    svc.drainer = Drainer(spool_dir, ingest, wake=svc.spool.wake)
    svc.links = LinkCache()
    if app.config["BACKGROUND_THREADS"] or app.config.get("WARM_LINKS"):
        try:
            with app.app_context():
                svc.links.warm()
        except Exception:
            log.warning("could not preload tracked links (database unavailable?)", exc_info=True)
    if app.config["BACKGROUND_THREADS"]:
        # Every process runs a drainer thread; only one (the dedicated writer process,
        # when `engage serve` runs one) holds the lock and drains at a time.
        svc.drainer.start(app)
        from .retention import start_retention_thread

        start_retention_thread(app)


def get() -> Services:
    return current_app.extensions["engage"]
