"""Fixtures for the hostile-input tests: the server suite's real app on real databases.

The server fixtures (``app`` over SQLite and PostgreSQL, ``client``, ``make_account``,
``ann``, ``bob``) come from tests/fixtures (loaded by tests/conftest.py), so every suite
tests the same app built the same way."""

from __future__ import annotations

from tests.fixtures.api import assert_api_error  # noqa: F401  (its old import path)
from tests.fixtures.app import Account  # noqa: F401  (its old import path)
