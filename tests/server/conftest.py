"""Server fixtures: a real app on a real database (SQLite file, or the real
PostgreSQL server), migrated by the real migrations, and real geoip2 lookups on a
small MaxMind-format City database written for the tests."""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import write_city_db
import sqlalchemy as sa

PG_ADMIN_URL = os.environ.get("ENGAGE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")

# Addresses the test geo database knows (documentation and well-known ranges).
GEO_NETWORKS = {
    "81.2.69.0/24": ("GB", "United Kingdom", "England", "London"),
    "89.160.20.0/24": ("SE", "Sweden", "Östergötland County", "Linköping"),
    "2001:218::/32": ("JP", "Japan", "Tokyo", "Tokyo"),
}


@pytest.fixture(scope="session")
def geo_db(tmp_path_factory) -> str:
    return write_city_db(tmp_path_factory.mktemp("geo") / "test-city.mmdb", GEO_NETWORKS)


def _pg_available() -> bool:
    try:
        eng = sa.create_engine(PG_ADMIN_URL)
        with eng.connect():
            pass
        eng.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_url():
    """A fresh database on the real PostgreSQL server, dropped at the end.

    Never skipped: scripts/test.sh installs and starts PostgreSQL when none runs."""
    if not _pg_available():
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}; run scripts/test.sh, which starts it")
    name = "engage_test_" + uuid.uuid4().hex[:10]
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    yield url
    with admin.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def make_app(url: str, instance: Path, geo_db: str, **extra):
    from server import create_app

    return create_app({
        "SQLALCHEMY_DATABASE_URI": url,
        "INSTANCE_PATH": str(instance),
        "PUBLIC_URL": "http://engage.test",
        "GEOIP_DATABASE": geo_db,
        "BACKGROUND_THREADS": False,
        "TESTING": True,
        **extra,
    })


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory, geo_db) -> Path:
    """One migrated SQLite file, copied for each test (migrating each time is slow)."""
    from flask_migrate import upgrade

    folder = tmp_path_factory.mktemp("sqlite-template")
    app = make_app(f"sqlite:///{folder / 'engage.db'}", folder, geo_db)
    with app.app_context():
        upgrade()
        from server.extensions import db

        db.engine.dispose()
    return folder / "engage.db"


@pytest.fixture(scope="session")
def pg_migrated(pg_url, tmp_path_factory, geo_db) -> str:
    from flask_migrate import upgrade

    folder = tmp_path_factory.mktemp("pg-instance")
    app = make_app(pg_url, folder, geo_db)
    with app.app_context():
        upgrade()
        from server.extensions import db

        db.engine.dispose()
    return pg_url


def _truncate_pg(app) -> None:
    from server.extensions import db

    with app.app_context():
        tables = [t.name for t in db.metadata.sorted_tables]
        db.session.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        db.session.commit()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request) -> str:
    return request.param


@pytest.fixture
def app(backend, request, tmp_path, geo_db):
    if backend == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        shutil.copy(template, tmp_path / "engage.db")
        url = f"sqlite:///{tmp_path / 'engage.db'}"
    else:
        url = request.getfixturevalue("pg_migrated")
    application = make_app(url, tmp_path, geo_db)
    if backend == "postgres":
        _truncate_pg(application)
    yield application
    from server.extensions import db

    application.extensions["engage"].drainer.close()
    application.extensions["engage"].broker.stop()
    application.extensions["engage"].spool.close()
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@dataclass
class Account:
    email: str
    password: str
    token: str
    user_id: int

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def make_account(app):
    """Create an org (if new) and a user in it, and sign the user in."""
    from werkzeug.security import generate_password_hash

    from server.extensions import db
    from server.models import ApiToken, Org, User, hash_token, new_token

    def make(email="ann@acme.example", org="Acme", domains=("acme.example",), ranges=(), admin=False,
             settings=None) -> Account:
        with app.app_context():
            o = db.session.execute(sa.select(Org).where(Org.name == org)).scalar_one_or_none()
            if o is None:
                o = Org(name=org, internal_domains=list(domains), office_ranges=list(ranges))
                db.session.add(o)
            u = User(org=o, email=email, password_hash=generate_password_hash("correct horse"),
                     is_admin=admin, settings=settings or {})
            db.session.add(u)
            token = new_token(32)
            db.session.add(ApiToken(user=u, token_hash=hash_token(token)))
            db.session.commit()
            return Account(email, "correct horse", token, u.id)

    return make


@pytest.fixture
def ann(make_account) -> Account:
    return make_account()


@pytest.fixture
def bob(make_account) -> Account:
    """A user of another org."""
    return make_account(email="bob@globex.example", org="Globex", domains=("globex.example",))
