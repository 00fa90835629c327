from tests.server.conftest import geo_db, pg_url  # noqa: F401  (shared fixtures)
