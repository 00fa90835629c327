"""Fixtures for the hostile-input tests: the server suite's real app on real databases.

The server fixtures (``app`` over SQLite and PostgreSQL, ``client``, ``make_account``,
``ann``, ``bob``) are imported from ``tests/server/conftest.py`` rather than copied, so
both suites test the same app built the same way."""

from __future__ import annotations

from tests.server.conftest import (  # noqa: F401  (fixtures are found by name)
    Account,
    ann,
    app,
    backend,
    bob,
    client,
    geo_db,
    make_account,
    pg_migrated,
    pg_url,
    sqlite_template,
)


def assert_api_error(resp, status: int) -> dict:
    """``resp`` is the API's one error shape with ``status``; returns its ``error``."""
    assert resp.status_code == status, resp.get_data()[:300]
    assert resp.mimetype == "application/json"
    body = resp.get_json()
    assert set(body) == {"error"}
    err = body["error"]
    assert err["status"] == status and isinstance(err["code"], str) and err["message"]
    assert set(err) <= {"status", "code", "message", "details"}
    return err

