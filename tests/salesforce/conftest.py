"""Salesforce fixtures: a simulated clock, the HTTPS Salesforce stand-in, and an org whose
Salesforce sync is configured against it; beside the server fixtures of tests/fixtures
(a real app on SQLite and on the real PostgreSQL), which tests/conftest.py loads."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest

from .standin import StandIn, make_tls, rsa_keypair

CLIENT_ID = "3MVG9engage.test.consumer.key"
CLIENT_SECRET = "consumer-secret-7f3a"
USERNAME = "sync@acme.example"
PASSWORD = "s3cret-Pa55"
SECURITY_TOKEN = "TOKENxyz123"


class Clock:
    """Real time plus a simulated offset: never behind real time (so rows written by
    real requests are due), and a minute passes with ``advance(60)``."""

    def __init__(self):
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(timezone.utc) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@pytest.fixture(scope="session")
def tls(tmp_path_factory) -> dict:
    return make_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def jwt_keys() -> tuple[str, str]:
    return rsa_keypair()


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """The simulated clock, for the whole server: every server module that imported
    ``models.utcnow`` gets it, so hits are stamped by it (opens can be minutes apart
    without waiting) and self-views, windows and the worker all agree on the time."""
    import sys

    import server  # noqa: F401  (loads the app's modules)
    from server import models

    c = Clock()
    real = models.utcnow
    for name, module in list(sys.modules.items()):
        if (name == "server" or name.startswith("server.")) and getattr(module, "utcnow", None) is real:
            monkeypatch.setattr(module, "utcnow", c)
    return c


@pytest.fixture
def standin(tls, clock, jwt_keys):
    sf = StandIn(clock=clock)
    sf.users[USERNAME] = PASSWORD + SECURITY_TOKEN
    sf.apps[CLIENT_ID] = {"secret": CLIENT_SECRET, "public_key": jwt_keys[1]}
    served = sf.serve(tls)
    yield sf
    served.stop()


@pytest.fixture
def sf_app(app, tls):
    app.config.update(SALESFORCE_CA_BUNDLE=tls["ca"], SALESFORCE_TIMEOUT_SECONDS=2.0,
                      SALESFORCE_EXTRA_HOSTS=["127.0.0.1"])
    return app


def password_config(standin: StandIn, **overrides) -> dict:
    return {"enabled": True, "instance_url": standin.url, "auth_flow": "password", "client_id": CLIENT_ID,
            "username": USERNAME, "client_secret": CLIENT_SECRET, "password": PASSWORD,
            "security_token": SECURITY_TOKEN, **overrides}


@dataclass
class Synced:
    """An org with Salesforce on, its admin, and helpers to drive the worker."""

    app: object
    admin: object
    standin: StandIn
    clock: Clock
    deliverer: object

    def configure(self, **changes):
        from server.extensions import db
        from server.models import User
        from server.salesforce import admin

        with self.app.app_context():
            org_id = db.session.get(User, self.admin.user_id).org_id
            admin.apply_config(org_id, changes, self.app.config["SECRET_KEY"])

    def run(self, seconds: float = 0, step: float = 1.0):
        """Deliver what is due, letting ``seconds`` of simulated time pass in steps."""
        from collections import Counter

        total = Counter()
        elapsed = 0.0
        while True:
            with self.app.app_context():
                total += self.deliverer.run_due()
            if elapsed >= seconds:
                return total
            self.clock.advance(step)
            elapsed += step

    def rows(self):
        from server.extensions import db
        from server.salesforce.models import SalesforceOutbox

        with self.app.app_context():
            rows = db.session.query(SalesforceOutbox).order_by(SalesforceOutbox.id).all()
            db.session.expunge_all()
            return rows


@pytest.fixture
def synced(sf_app, make_account, standin, clock) -> Synced:
    from server.salesforce.delivery import Deliverer

    admin = make_account(email="ann@acme.example", admin=True)
    s = Synced(sf_app, admin, standin, clock, Deliverer(sf_app, clock=clock, rng=random.Random(7), owner="worker-1"))
    s.configure(**password_config(standin))
    return s
