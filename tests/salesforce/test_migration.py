"""Migration 0002 creates exactly the tables the models describe, on both databases,
and downgrades cleanly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext


def test_migrated_schema_matches_the_models(app):
    from server.extensions import db

    with app.app_context():
        with db.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diffs = compare_metadata(ctx, db.metadata)
    ours = [d for d in diffs if "salesforce" in repr(d)]
    assert ours == []


def test_downgrade_and_upgrade_again(app):
    import sqlalchemy as sa
    from flask_migrate import downgrade, upgrade

    from server.extensions import db

    with app.app_context():
        downgrade(revision="0001")
        assert not {"salesforce_configs", "salesforce_links", "salesforce_outbox"} & set(
            sa.inspect(db.engine).get_table_names())
        upgrade()
        assert {"salesforce_configs", "salesforce_links", "salesforce_outbox"} <= set(
            sa.inspect(db.engine).get_table_names())
