"""Stored Salesforce secrets only ever go to Salesforce: the instance and login URLs
are parsed as requests parses them, only plain host names under Salesforce's domains
pass, and the URL kept is rebuilt from the parsed parts."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from tests.server.helpers import hit_pixel

from .helpers import linked_task

HOSTILE = [
    "https://attacker.example\\.salesforce.com",      # urlsplit kept the backslash in the host; requests did not
    "https://127.0.0.1\\.salesforce.com",             # ... and connected to loopback
    "https://attacker.example/.salesforce.com",
    "https://acme.my.salesforce.com@attacker.example",  # user info: the host is attacker.example
    "https://attacker.example@acme.my.salesforce.com",
    "https://attacker.example%2f.salesforce.com",
    "https://attacker.example%2F@acme.my.salesforce.com",
    "https://acme.my.\u0455alesforce.com",              # Cyrillic s: another domain once IDNA-encoded
    "https://attacker.example\u3002salesforce.com",      # the ideographic full stop IDNA reads as a dot
    "https://xn--attacker-.salesforce.com.attacker.example",
    "https://10.0.0.5",                                 # IP literals
    "https://[::1]",
    "https://[::ffff:127.0.0.1]",
    "https://2130706433",
    "https://0x7f.0.0.1",
    "https://acme.my.salesforce.com/services/../../x",  # a path: the origin is all that is kept
    "https://acme.my.salesforce.com?x=1",
    "https://acme.my.salesforce.com#x",
    "https://acme.my.salesforce.com\r\nHost: attacker.example",
    "https://acme.my.salesforce.com.",
    "https://-acme.my.salesforce.com",
]


@pytest.mark.parametrize("field", ["instance_url", "login_url"])
@pytest.mark.parametrize("url", HOSTILE)
def test_a_url_that_could_reach_another_host_is_refused(synced, client, field, url):
    before = client.get("/api/v1/salesforce/config", headers=synced.admin.headers).get_json()
    r = client.put("/api/v1/salesforce/config", json={field: url}, headers=synced.admin.headers)
    assert r.status_code == 422, (url, r.get_json())
    assert field in json.dumps(r.get_json()["error"]["details"])
    assert client.get("/api/v1/salesforce/config", headers=synced.admin.headers).get_json() == before


@pytest.mark.parametrize("url, kept", [
    ("https://ACME.my.salesforce.com/", "https://acme.my.salesforce.com"),
    ("  https://acme.my.salesforce.com  ", "https://acme.my.salesforce.com"),
    ("https://acme--sandbox.sandbox.my.salesforce.com:443", "https://acme--sandbox.sandbox.my.salesforce.com:443"),
    ("https://acme.lightning.force.com", "https://acme.lightning.force.com"),
])
def test_salesforce_hosts_are_kept_as_rebuilt_origins(synced, client, url, kept):
    r = client.put("/api/v1/salesforce/config", json={"login_url": url}, headers=synced.admin.headers)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["login_url"] == kept


def test_a_hostile_url_stored_before_the_check_sends_nothing_anywhere(synced, client):
    """A configuration saved by an older version is checked again before each sign-in."""
    from server.extensions import db
    from server.salesforce.models import SalesforceConfig

    message, _ = linked_task(synced, client)
    with synced.app.app_context():
        db.session.execute(sa.update(SalesforceConfig).values(
            login_url="https://127.0.0.1\\.salesforce.com"))
        db.session.commit()
    sign_ins = synced.standin.count("/services/oauth2/token")
    hit_pixel(client, message)
    synced.run(seconds=5)
    assert [r.reason for r in synced.rows()] == ["CONFIG_INVALID"]
    assert synced.standin.count("/services/oauth2/token") == sign_ins


def test_an_instance_url_from_the_token_endpoint_outside_salesforce_is_not_used(synced, client, monkeypatch):
    message, _ = linked_task(synced, client)
    real = synced.standin.url
    synced.standin.url = "https://attacker.example"  # what the token endpoint now answers
    try:
        hit_pixel(client, message)
        synced.run(seconds=5)
    finally:
        synced.standin.url = real
    assert [r.reason for r in synced.rows()] == ["AUTH_BAD_RESPONSE"]
