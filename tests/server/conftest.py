"""The server suite's fixtures (a real app on SQLite and on the real PostgreSQL, real
geoip2 lookups on a small City database) are shared with the other suites: they live in
tests/fixtures/app.py and tests/fixtures/geo.py, loaded by tests/conftest.py."""

from tests.fixtures.app import PG_ADMIN_URL, Account, make_app  # noqa: F401  (their old import path)
