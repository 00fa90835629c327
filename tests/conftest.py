"""Shared across suites: nothing here may import more than the standard library and
pytest, because tests/client_py also runs inside Pyodide (with its own rootdir)."""
