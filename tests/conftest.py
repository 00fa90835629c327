"""Shared across suites. Nothing here, nor in the plugins it names, may import more than
the standard library and pytest at import time, because tests/client_py also runs inside
Pyodide (with its own rootdir; tests/pyodide/run_pytest.mjs copies this file and
tests/fixtures/ in).

The fixture modules of tests/fixtures/ are plugins here: pytest reads ``pytest_plugins``
only in this top conftest, and every suite then has ``geo_db``, ``app``, ``client``,
``make_account``, ``ann``, ``bob``, ``pg_url`` and the rest without importing them."""

pytest_plugins = ["tests.fixtures.geo", "tests.fixtures.app"]
