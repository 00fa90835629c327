"""The admin API: configuration without secrets, the outbox with reasons, retry;
admins only, each org sees its own."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from tests.server.helpers import hit_pixel

from .conftest import CLIENT_SECRET, PASSWORD, SECURITY_TOKEN, password_config
from .helpers import linked_task, tracked

SECRETS = (CLIENT_SECRET, PASSWORD, SECURITY_TOKEN)


def test_config_is_shown_to_admins_without_secrets(synced, client):
    r = client.get("/api/v1/salesforce/config", headers=synced.admin.headers)
    assert r.status_code == 200
    body = r.get_json()
    assert body["enabled"] is True and body["auth_flow"] == "password" and body["object"] == "Task"
    assert (body["first_open_field"], body["last_open_field"]) == ("First_Open__c", "Last_Open__c")
    assert body["has_password"] and body["has_client_secret"] and body["has_security_token"]
    assert not body["has_private_key"]
    assert not any(secret in json.dumps(body) for secret in SECRETS)


def test_secrets_are_encrypted_at_rest(synced):
    from server.extensions import db

    with synced.app.app_context():
        stored = db.session.execute(sa.text("SELECT secrets_sealed FROM salesforce_configs")).scalar_one()
    assert stored and not any(secret in stored for secret in SECRETS)


def test_put_keeps_secrets_not_given_again_and_never_echoes_them(synced, client):
    r = client.put("/api/v1/salesforce/config", json={"object": "EmailMessage", "last_open_field": "Last_Seen__c",
                                                      "password": "n3w-Passw0rd"}, headers=synced.admin.headers)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["object"], body["last_open_field"], body["has_password"]) == ("EmailMessage", "Last_Seen__c", True)
    assert "n3w-Passw0rd" not in r.get_data(as_text=True)
    assert body["has_client_secret"] and body["has_security_token"]


@pytest.mark.parametrize("body, field", [
    ({"instance_url": "http://acme.my.salesforce.com"}, "instance_url"),
    ({"instance_url": "https://10.0.0.5"}, "instance_url"),  # credentials go to Salesforce only
    ({"login_url": "https://login.salesforce.com.evil.example"}, "login_url"),
    ({"private_key_path": "/etc/shadow"}, "private_key_path"),  # the operator's, from the command line
    ({"auth_flow": "oauth1"}, "auth_flow"),
    ({"object": "Lead"}, "object"),
    ({"first_open_field": "First Open"}, "first_open_field"),
    ({"api_version": "v59"}, "api_version"),
    ({"colour": "blue"}, "colour"),
])
def test_invalid_configuration_is_refused_with_the_field(synced, client, body, field):
    r = client.put("/api/v1/salesforce/config", json=body, headers=synced.admin.headers)
    assert r.status_code == 422, r.get_json()
    err = r.get_json()["error"]
    assert err["code"] == "invalid_request" and field in json.dumps(err["details"])
    again = client.get("/api/v1/salesforce/config", headers=synced.admin.headers).get_json()
    assert again["auth_flow"] == "password" and again["has_client_secret"]


def test_salesforce_addresses_are_accepted(synced, client):
    r = client.put("/api/v1/salesforce/config", json={"login_url": "https://test.salesforce.com/"},
                   headers=synced.admin.headers)
    assert r.status_code == 200 and r.get_json()["login_url"] == "https://test.salesforce.com"


@pytest.mark.parametrize("body, field", [
    ({"client_secret": ""}, "client_secret"),  # clearing a secret the password flow needs
    ({"auth_flow": "jwt"}, "private_key"),  # JWT without a key
])
def test_a_configuration_incomplete_for_what_is_stored_is_a_409_with_the_field(synced, client, body, field):
    """Valid on its own (the document allows it), refused for what it would leave stored."""
    r = client.put("/api/v1/salesforce/config", json=body, headers=synced.admin.headers)
    assert r.status_code == 409, r.get_json()
    assert field in json.dumps(r.get_json()["error"]["details"])
    again = client.get("/api/v1/salesforce/config", headers=synced.admin.headers).get_json()
    assert again["auth_flow"] == "password" and again["has_client_secret"]


def test_a_first_configuration_needs_the_essentials(sf_app, client, make_account, standin):
    admin = make_account(email="dee@acme.example", admin=True)
    r = client.put("/api/v1/salesforce/config", json={"enabled": True, "instance_url": standin.url},
                   headers=admin.headers)
    assert r.status_code == 409 and "is required" in r.get_json()["error"]["message"]
    assert client.get("/api/v1/salesforce/config", headers=admin.headers).get_json() == \
        {"configured": False, "enabled": False}
    r = client.put("/api/v1/salesforce/config", json=password_config(standin), headers=admin.headers)
    assert r.status_code == 200 and r.get_json()["configured"] is True


@pytest.mark.parametrize("method, path", [
    ("get", "/api/v1/salesforce/config"),
    ("put", "/api/v1/salesforce/config"),
    ("get", "/api/v1/salesforce/outbox"),
    ("post", "/api/v1/salesforce/outbox/retry"),
])
def test_only_admins(synced, client, make_account, method, path):
    member = make_account(email="eve@acme.example")
    r = getattr(client, method)(path, json={} if method != "get" else None, headers=member.headers)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"
    assert getattr(client, method)(path, json={} if method != "get" else None).status_code == 401


def test_the_outbox_lists_each_state_with_its_reason_scoped_to_the_org(synced, client, make_account):
    s = synced
    ok, _ = linked_task(s, client, subject="Fine")
    gone, gone_task = linked_task(s, client, subject="Deleted one")
    waiting, _ = linked_task(s, client, subject="Later")
    s.standin.deleted.add(gone_task)
    for m in (ok, gone):
        hit_pixel(client, m)
    s.run()
    s.standin.outage_for(600)
    hit_pixel(client, waiting)
    s.run()

    page = client.get("/api/v1/salesforce/outbox", headers=s.admin.headers).get_json()
    assert page["counts"] == {"pending": 1, "delivered": 1, "failed": 1}
    by_subject = {i["subject"]: i for i in page["items"]}
    assert by_subject["Fine"]["status"] == "delivered" and by_subject["Fine"]["delivered_first_open"]
    assert (by_subject["Deleted one"]["status"], by_subject["Deleted one"]["reason"]) == ("failed", "ENTITY_IS_DELETED")
    assert by_subject["Later"]["status"] == "pending" and by_subject["Later"]["next_attempt_at"]
    assert (by_subject["Later"]["reason"], by_subject["Later"]["last_error"]) == \
        ("HTTP_5XX", "HTTP 503: Service Unavailable")
    failed = client.get("/api/v1/salesforce/outbox?status=failed", headers=s.admin.headers).get_json()
    assert [i["subject"] for i in failed["items"]] == ["Deleted one"]
    one = client.get("/api/v1/salesforce/outbox?limit=2", headers=s.admin.headers).get_json()
    assert len(one["items"]) == 2 and one["next_cursor"]
    rest = client.get(f"/api/v1/salesforce/outbox?limit=2&cursor={one['next_cursor']}",
                      headers=s.admin.headers).get_json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None

    other = make_account(email="bob@globex.example", org="Globex", domains=("globex.example",), admin=True)
    theirs = client.get("/api/v1/salesforce/outbox", headers=other.headers).get_json()
    assert theirs["items"] == [] and theirs["counts"] == {"pending": 0, "delivered": 0, "failed": 0}
    assert client.post("/api/v1/salesforce/outbox/retry", json={}, headers=other.headers).get_json() == {"requeued": 0}


def test_linking_someone_elses_email_is_not_found(synced, client, make_account):
    message = tracked(client, synced.admin)
    other = make_account(email="bob@globex.example", org="Globex", domains=("globex.example",))
    r = client.put(f"/api/v1/messages/{message['id']}/salesforce", json={"record_id": "00T5g00000ABCDEAAA"},
                   headers=other.headers)
    assert r.status_code == 404


@pytest.mark.parametrize("body", [{}, {"record_id": "00T5g00000ABC"}, {"record_id": "00T5g0000-ABCDEAAA"},
                                  {"object": "Lead", "record_id": "00T5g00000ABCDEAAA"}])
def test_invalid_links_are_refused(synced, client, body):
    message = tracked(client, synced.admin)
    r = client.put(f"/api/v1/messages/{message['id']}/salesforce", json=body, headers=synced.admin.headers)
    assert r.status_code == 422, r.get_json()


def test_openapi_documents_the_salesforce_endpoints(client):
    spec = client.get("/api/openapi.json").get_json()
    for path in ("/api/v1/salesforce/config", "/api/v1/salesforce/outbox", "/api/v1/salesforce/outbox/retry",
                 "/api/v1/messages/{message_id}/salesforce"):
        assert path in spec["paths"]
    props = spec["components"]["schemas"]["ConfigOut"]["properties"]
    assert "password" not in props and "has_password" in props
