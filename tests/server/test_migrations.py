"""The schema is what the migrations make: from an empty database to the models,
on SQLite and on the real PostgreSQL server, with nothing left to autogenerate."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tests.fixtures.app import empty_pg_database, make_app


def _fresh_url(backend, tmp_path, request):
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    return empty_pg_database(request.getfixturevalue("pg_url"))


def test_upgrade_from_empty_matches_the_models(backend, tmp_path, request, geo_db):
    from flask_migrate import downgrade, upgrade

    from server.extensions import db

    app = make_app(_fresh_url(backend, tmp_path, request), tmp_path, geo_db)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
            version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        assert diff == [], f"models and migrations differ: {diff}"
        assert version is not None
        downgrade(revision="base")
        with db.engine.connect() as conn:
            left = set(sa.inspect(conn).get_table_names()) - {"alembic_version"}
        assert left == set()
        upgrade()
        db.engine.dispose()
