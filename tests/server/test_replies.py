"""Replies reported by the sender's mail client: stored once per message id, only on
the user's own threads and only from a recipient; the thread then knows its first and
last reply."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from .helpers import register, threads


def _iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def post_reply(client, account, **overrides):
    body = {"thread_id": "thread-1", "message_id": "18c0ffee00000001", "from": "Carla@Prospect.example",
            "from_name": "Carla Díaz"}
    body.update(overrides)
    return client.post("/api/v1/threads/replies", json=body, headers=account.headers)


def test_a_reply_is_stored_once_and_the_thread_knows_first_and_last(client, ann):
    register(client, ann)
    now = datetime.now(timezone.utc)
    first = post_reply(client, ann, at=_iso(now - timedelta(seconds=30)))
    assert first.status_code == 201, first.get_json()
    again = post_reply(client, ann, at=_iso(now))  # the same Gmail message, seen again
    assert again.status_code == 200 and again.get_json()["created"] is False
    assert again.get_json()["replies"] == 1
    second = post_reply(client, ann, message_id="18c0ffee00000002")
    assert second.status_code == 201 and second.get_json()["replies"] == 2
    thread = threads(client, ann)["threads"][0]
    assert thread["first_reply_at"] == first.get_json()["first_reply_at"]
    assert thread["last_reply_at"] == second.get_json()["last_reply_at"]
    assert thread["first_reply_at"] < thread["last_reply_at"]


@pytest.mark.parametrize("overrides, status, field", [
    ({"from": "ann@acme.example"}, 422, "from"),  # the sender's own follow-up
    ({"from": "someone@else.example"}, 422, "from"),  # not a recipient of the thread
    ({"at": "2099-01-01T00:00:00Z"}, 422, "at"),
    ({"at": "2001-01-01T00:00:00Z"}, 422, "at"),  # before the tracked email
    ({"at": "2026-12-01T10:00:00"}, 422, "at"),  # no zone: ambiguous
    ({"thread_id": "no-such-thread"}, 404, None),
    ({"message_id": ""}, 422, "message_id"),
])
def test_bad_replies_are_refused_and_nothing_is_stored(client, ann, overrides, status, field):
    register(client, ann)
    resp = post_reply(client, ann, **overrides)
    assert resp.status_code == status, resp.get_json()
    error = resp.get_json()["error"]
    assert error["status"] == status and error["message"]
    if field:
        assert field in str(error.get("details"))
    assert threads(client, ann)["threads"][0]["first_reply_at"] is None


def test_someone_elses_thread_is_not_found(client, ann, bob):
    register(client, ann)
    resp = post_reply(client, bob)
    assert resp.status_code == 404
    assert resp.get_json()["error"]["code"] == "not_found"
    assert threads(client, ann)["threads"][0]["first_reply_at"] is None
