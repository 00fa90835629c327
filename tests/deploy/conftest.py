"""geo_db and pg_url come from tests/fixtures (tests/conftest.py loads them)."""
