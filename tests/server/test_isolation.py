"""Every API query is scoped to the token's owner: a user of another org sees,
changes and receives nothing of Ann's, on every endpoint."""

from __future__ import annotations

import time

import pytest

from .helpers import hit_pixel, register, threads


@pytest.fixture
def anns_thread(client, ann):
    msg = register(client, ann)
    hit_pixel(client, msg)
    return msg


def test_bob_sees_none_of_anns_threads(client, ann, bob, anns_thread):
    assert threads(client, bob)["threads"] == []
    assert threads(client, bob, q="proposal")["threads"] == []
    assert client.get("/api/v1/counter", headers=bob.headers).get_json()["unread"] == 0


def test_bob_cannot_read_or_delete_anns_message(client, ann, bob):
    msg = register(client, ann, thread_id="unopened")
    assert client.get(f"/api/v1/messages/{msg['id']}", headers=bob.headers).status_code == 404
    assert client.delete(f"/api/v1/messages/{msg['id']}", headers=bob.headers).status_code == 404
    assert client.get(f"/api/v1/messages/{msg['id']}", headers=ann.headers).status_code == 200


@pytest.mark.parametrize("method,path,body", [
    ("PATCH", "/api/v1/threads", {"thread_id": "thread-1", "pinned": False}),
    ("PATCH", "/api/v1/threads", {"thread_id": "thread-1", "viewed": True}),
    ("POST", "/api/v1/threads/self-view", {"thread_id": "thread-1"}),
])
def test_bob_cannot_change_anns_threads(client, ann, bob, anns_thread, method, path, body):
    r = client.open(path, method=method, json=body, headers=bob.headers)
    assert r.status_code == 404
    [thread] = threads(client, ann)["threads"]
    assert thread["pinned"] is True and thread["unread"] is True
    assert thread["events"][0]["verdict"] == "human"


def test_same_client_thread_id_in_two_accounts_stays_apart(client, ann, bob):
    register(client, ann, subject="Ann's")
    register(client, bob, subject="Bob's")
    assert [t["subject"] for t in threads(client, ann)["threads"]] == ["Ann's"]
    assert [t["subject"] for t in threads(client, bob)["threads"]] == ["Bob's"]


def test_settings_and_org_are_per_user_and_per_org(client, ann, bob):
    client.patch("/api/v1/settings", json={"time_zone": "Asia/Tokyo"}, headers=ann.headers)
    assert client.get("/api/v1/settings", headers=bob.headers).get_json()["time_zone"] == "UTC"
    assert client.get("/api/v1/org", headers=bob.headers).get_json()["internal_domains"] == ["globex.example"]


def test_org_settings_need_an_admin(client, make_account):
    admin = make_account(email="boss@acme.example", admin=True)
    member = make_account(email="rep@acme.example")
    r = client.patch("/api/v1/org", json={"office_ranges": ["203.0.113.0/24"]}, headers=member.headers)
    assert r.status_code == 403
    r = client.patch("/api/v1/org", json={"office_ranges": ["203.0.113.0/24", "2001:db8::/48"]}, headers=admin.headers)
    assert r.status_code == 200 and r.get_json()["office_ranges"] == ["203.0.113.0/24", "2001:db8::/48"]


def test_bobs_stream_does_not_get_anns_events(app, client, ann, bob):
    anns = register(client, ann, thread_id="anns-thread")
    bobs = register(client, bob, thread_id="bobs-thread")
    app.config["STREAM_HEARTBEAT_SECONDS"] = 0.2  # so that no read below waits long
    resp = client.get("/api/v1/stream", headers=bob.headers, buffered=False)
    chunks = iter(resp.response)
    assert ": connected" in next(chunks).decode()
    hit_pixel(app.test_client(), anns)  # Bob's stream wakes (same process) and finds nothing of his
    hit_pixel(app.test_client(), bobs)
    received, deadline = "", time.monotonic() + 10
    while "event: engagement" not in received and time.monotonic() < deadline:
        received += next(chunks).decode()  # a keep-alive at least every 0.2 s
    resp.close()
    assert "bobs-thread" in received and "anns-thread" not in received and anns["id"] not in received


@pytest.mark.parametrize("method,path", [
    ("GET", "/api/v1/me"), ("GET", "/api/v1/settings"), ("PATCH", "/api/v1/settings"),
    ("GET", "/api/v1/org"), ("PATCH", "/api/v1/org"), ("POST", "/api/v1/messages"),
    ("GET", "/api/v1/messages/abc"), ("GET", "/api/v1/threads"), ("PATCH", "/api/v1/threads"),
    ("POST", "/api/v1/threads/self-view"), ("POST", "/api/v1/threads/replies"), ("GET", "/api/v1/counter"),
    ("POST", "/api/v1/counter/reset"),
    ("GET", "/api/v1/feed"), ("GET", "/api/v1/reminders"), ("POST", "/api/v1/reminders"),
    ("POST", "/api/v1/reminders/abc/snooze"), ("POST", "/api/v1/reminders/abc/done"),
    ("POST", "/api/v1/reminders/abc/notified"), ("DELETE", "/api/v1/reminders/abc"),
    ("POST", "/api/v1/stream/tickets"), ("GET", "/api/v1/stream"),
    ("DELETE", "/api/v1/messages/abc"), ("POST", "/api/v1/auth/signout"),
])
def test_every_endpoint_needs_a_valid_token(client, ann, method, path):
    for headers in ({}, {"Authorization": "Bearer " + "x" * 43}, {"Authorization": ann.token}):
        r = client.open(path, method=method, json={}, headers=headers)
        assert r.status_code == 401, (path, headers)
        assert r.get_json()["error"]["code"] == "unauthorized"
