"""The per-app registry: the geolocation reader, the classification rules, the
stream broker, the hit spool and its drainer, the tracked-link cache. Looked up with
``services.get()`` inside a request or app context (the pixel's fast path, outside
Flask, reads ``app.extensions["engage"]``).

A plain registry: it imports nothing of the app (the types below are for readers and
type checkers only), so any module may look a service up without an import circle.
server/startup.py builds the services and starts the background jobs."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from ipaddress import IPv4Network, IPv6Network

    from .geo import GeoLocator
    from .hitpath.answer import LinkCache
    from .hitpath.rules import Rules
    from .hitpath.spool import Drainer, Spool
    from .stream import Broker

@dataclass
class Services:
    secret: bytes
    geo: GeoLocator
    rules: Rules
    broker: Broker
    spool: Spool
    drainer: Drainer
    links: LinkCache
    trusted_proxies: list[IPv4Network | IPv6Network] = field(default_factory=list)

    def keyed_hash(self, *parts: str) -> str:
        msg = "\x00".join(parts).encode("utf-8", "surrogatepass")
        # hmac.digest: OpenSSL's one-shot HMAC, the same bytes as hmac.new(...).digest()
        # without building an HMAC object and two hash objects per call (twice a hit).
        return hmac.digest(self.secret, msg, "sha256").hex()[:40]


def get() -> Services:
    return current_app.extensions["engage"]
