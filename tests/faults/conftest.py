"""The server fixtures (app, client, make_account, pg_url, geo_db...) come from
tests/fixtures (tests/conftest.py loads them)."""
