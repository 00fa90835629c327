"""Fixtures for the operator's pages and API: the shared real app on real databases,
Chromium, and helpers to fill in forms like a browser."""

from __future__ import annotations

import re

import pytest

# The app fixtures (app, client, make_account, ann, bob on SQLite and PostgreSQL) come
# from tests/fixtures, loaded by tests/conftest.py.

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_of(response) -> str:
    found = CSRF.search(response.get_data(as_text=True))
    assert found, response.get_data(as_text=True)[:500]
    return found.group(1)


def submit(client, path: str, data: dict, **kwargs):
    """GET the form at ``path``, then POST ``data`` with the page's CSRF token."""
    page = client.get(path, **kwargs)
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    return client.post(path, data={"csrf_token": csrf_of(page), **data}, **kwargs)


@pytest.fixture
def setup_url(app) -> str:
    from server.admin.links import new_setup_link

    with app.app_context():
        url = new_setup_link()
    assert url and url.startswith("http://engage.test/setup/")
    return url.removeprefix("http://engage.test")


SETUP_FORM = {
    "org_name": "Acme", "internal_domains": "acme.example, ACME.example\nsub.acme.example",
    "office_ranges": "203.0.113.7/24", "name": "Ann Admin", "email": "Ann@Acme.example",
    "password": "correct horse battery", "confirm": "correct horse battery",
}
