"""Signing in to Salesforce: the JWT bearer flow (inline key or key file) and the
username-password flow; refused sign-ins wait for the admin instead of failing."""

from __future__ import annotations

from tests.server.helpers import hit_pixel

from .conftest import CLIENT_ID, USERNAME
from .helpers import counting_opens, linked_task
from .standin import rsa_keypair


def jwt_config(standin, **key) -> dict:
    return {"enabled": True, "instance_url": standin.url, "auth_flow": "jwt", "client_id": CLIENT_ID,
            "username": USERNAME, **key}


def test_jwt_bearer_flow_with_a_stored_key(synced, client, jwt_keys):
    s = synced
    s.configure(**jwt_config(s.standin, private_key=jwt_keys[0]))
    message, task = linked_task(s, client)
    hit_pixel(client, message)
    s.run()
    assert s.standin.records[task]["First_Open__c"] == counting_opens(s.app, message)[0]
    [call] = [c for c in s.standin.calls if "oauth2/token" in c.path]
    assert call.body["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"


def test_jwt_bearer_flow_with_a_key_file(synced, client, jwt_keys, tmp_path):
    s = synced
    key_file = tmp_path / "salesforce.pem"
    key_file.write_text(jwt_keys[0])
    s.configure(**jwt_config(s.standin, private_key_path=str(key_file)))
    message, task = linked_task(s, client)
    hit_pixel(client, message)
    s.run()
    assert [r.status for r in s.rows()] == ["delivered"]


def test_a_refused_sign_in_waits_and_a_fixed_configuration_delivers(synced, client, jwt_keys):
    s = synced
    s.configure(**jwt_config(s.standin, private_key=rsa_keypair()[0]))  # not the connected app's key
    message, task = linked_task(s, client)
    hit_pixel(client, message)
    s.run(seconds=60)
    [row] = s.rows()
    assert (row.status, row.reason, row.last_error) == ("pending", "AUTH_INVALID_GRANT", "invalid assertion")
    assert row.attempts >= 2
    r = client.put("/api/v1/salesforce/config", json={"private_key": jwt_keys[0]}, headers=s.admin.headers)
    assert r.status_code == 200
    s.run()  # a configuration change makes waiting updates due at once
    assert [r.status for r in s.rows()] == ["delivered"]
    assert len(s.standin.patches(task)) == 1


def test_an_unreadable_key_file_is_reported(synced, client, tmp_path):
    s = synced
    key_file = tmp_path / "gone.pem"
    key_file.write_text("x")
    s.configure(**jwt_config(s.standin, private_key_path=str(key_file)))
    key_file.unlink()
    message, _ = linked_task(s, client)
    hit_pixel(client, message)
    s.run()
    [row] = s.rows()
    assert (row.status, row.reason) == ("pending", "PRIVATE_KEY_UNREADABLE")


def test_secrets_sealed_under_another_secret_key_are_reported(synced, client):
    s = synced
    s.app.config["SECRET_KEY"] = "a-different-installation-key"
    message, _ = linked_task(s, client)
    hit_pixel(client, message)
    s.run()
    [row] = s.rows()
    assert (row.status, row.reason) == ("pending", "CREDENTIALS_UNREADABLE")
    view = client.get("/api/v1/salesforce/config", headers=s.admin.headers).get_json()
    assert view["secrets_readable"] is False
