"""Follow-up reminders through the API and the scheduler: set on the user's own
threads only, within a year; due once when nobody opened (or replied), never after an
open; snooze, done, cancel."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from .helpers import CHROME_DESKTOP, hit_pixel, register, threads

FAR = (datetime.now(timezone.utc) + timedelta(days=3650)).isoformat()
PAST = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()


def remind(client, account, **body):
    return client.post("/api/v1/reminders", json={"thread_id": "thread-1", "condition": "open", **body},
                       headers=account.headers)


def reminders(client, account, status="active"):
    resp = client.get(f"/api/v1/reminders?status={status}", headers=account.headers)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["reminders"]


def make_due(app, reminder_id):
    """Time passes: the reminder's due time is now behind us."""
    from server.extensions import db
    from server.models import Reminder

    with app.app_context():
        db.session.execute(sa.update(Reminder).where(Reminder.public_id == reminder_id)
                           .values(due_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
        db.session.commit()


def run_scheduler(app, owner="test:1:a"):
    from server.reminders import run_due

    with app.app_context():
        return run_due(owner)


def test_a_reminder_nobody_answered_fires_once_then_snooze_and_done(app, client, ann):
    register(client, ann)
    created = remind(client, ann, in_days=3)
    assert created.status_code == 201, created.get_json()
    reminder = created.get_json()
    due = datetime.fromisoformat(reminder["due_at"].replace("Z", "+00:00"))
    assert abs(due - datetime.now(timezone.utc) - timedelta(days=3)) < timedelta(minutes=1)
    assert threads(client, ann)["threads"][0]["reminders"][0]["id"] == reminder["id"]
    assert run_scheduler(app) == {"due": 0, "settled": 0}  # not yet

    make_due(app, reminder["id"])
    assert run_scheduler(app) == {"due": 1, "settled": 0}
    assert run_scheduler(app, "another:2:b") == {"due": 0, "settled": 0}  # once
    due_now = reminders(client, ann, "due")
    assert [r["id"] for r in due_now] == [reminder["id"]]
    assert due_now[0]["subject"] == "Proposal for Q3" and due_now[0]["recipients"][0]["name"] == "Carla Díaz"
    assert client.get("/api/v1/counter", headers=ann.headers).get_json()["reminders_due"] == 1
    notified = [client.post(f"/api/v1/reminders/{reminder['id']}/notified", headers=ann.headers).get_json()
                for _ in range(2)]
    assert notified == [{"first": True}, {"first": False}]  # one desktop notification

    snoozed = client.post(f"/api/v1/reminders/{reminder['id']}/snooze", json={"in_days": 1}, headers=ann.headers)
    assert snoozed.status_code == 200 and snoozed.get_json()["status"] == "pending"
    assert reminders(client, ann, "due") == []
    make_due(app, reminder["id"])
    assert run_scheduler(app) == {"due": 1, "settled": 0}
    done = client.post(f"/api/v1/reminders/{reminder['id']}/done", headers=ann.headers)
    assert done.status_code == 200 and done.get_json()["status"] == "done"
    assert reminders(client, ann) == []
    again = client.post(f"/api/v1/reminders/{reminder['id']}/done", headers=ann.headers)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "conflict"


def test_an_open_settles_an_open_reminder_but_not_a_reply_reminder(app, client, ann):
    message = register(client, ann)
    on_open = remind(client, ann, in_days=1).get_json()
    on_reply = remind(client, ann, in_days=1, condition="reply").get_json()
    hit_pixel(client, message, ua=CHROME_DESKTOP)  # Carla opens it
    make_due(app, on_open["id"])
    make_due(app, on_reply["id"])
    assert run_scheduler(app) == {"due": 1, "settled": 1}
    assert [r["id"] for r in reminders(client, ann, "due")] == [on_reply["id"]]
    # Then she answers: the due reply reminder leaves the Due list.
    reply = client.post("/api/v1/threads/replies", json={"thread_id": "thread-1", "message_id": "18c0ffee00000009",
                                                         "from": "carla@prospect.example"}, headers=ann.headers)
    assert reply.status_code == 201
    assert reminders(client, ann, "due") == []


def test_setting_a_reminder_again_moves_it_and_cancel_removes_it(client, ann):
    register(client, ann)
    first = remind(client, ann, in_days=1).get_json()
    second = remind(client, ann, in_days=7).get_json()
    assert [r["id"] for r in reminders(client, ann)] == [second["id"]]
    assert client.delete(f"/api/v1/reminders/{second['id']}", headers=ann.headers).status_code == 204
    assert reminders(client, ann) == []
    assert client.post(f"/api/v1/reminders/{first['id']}/snooze", json={"in_days": 1},
                       headers=ann.headers).status_code == 409


def test_on_a_date_means_nine_in_the_users_zone(client, make_account):
    tokyo = make_account(email="kai@acme.example", settings={"time_zone": "Asia/Tokyo"})
    register(client, tokyo)
    day = (datetime.now(timezone.utc) + timedelta(days=5)).date().isoformat()
    reminder = remind(client, tokyo, on_date=day).get_json()
    assert reminder["due_at"] == f"{day}T00:00:00.000Z"  # 9:00 in Tokyo is midnight UTC


@pytest.mark.parametrize("body, status, field", [
    ({"due_at": PAST}, 422, "due_at"),
    ({"due_at": FAR}, 422, "due_at"),
    ({"in_days": 3650}, 422, "in_days"),
    ({"in_days": 0}, 422, "in_days"),
    ({"in_days": "3"}, 422, "in_days"),
    ({"on_date": "2001-01-01"}, 422, "on_date"),
    ({"on_date": "tomorrow"}, 422, "on_date"),
    ({"in_days": 1, "due_at": FAR}, 422, "due_at"),
    ({}, 422, "due_at"),
    ({"in_days": 1, "condition": "click"}, 422, "condition"),
    ({"in_days": 1, "thread_id": "nobody-knows"}, 404, None),
])
def test_bad_reminders_are_refused_and_nothing_is_stored(client, ann, body, status, field):
    register(client, ann)
    resp = remind(client, ann, **body)
    assert resp.status_code == status, resp.get_json()
    error = resp.get_json()["error"]
    assert error["status"] == status and error["message"]
    if field:
        assert field in str(error["details"])
    assert reminders(client, ann) == []


def test_no_reminder_on_someone_elses_or_a_deleted_thread(client, ann, bob):
    register(client, ann)
    assert remind(client, bob, in_days=1).status_code == 404
    gone = register(client, ann, thread_id="thread-gone")
    doomed = remind(client, ann, in_days=1, thread_id="thread-gone").get_json()
    assert client.delete(f"/api/v1/messages/{gone['id']}", headers=ann.headers).status_code == 204
    assert client.post(f"/api/v1/reminders/{doomed['id']}/done", headers=ann.headers).status_code == 404
    resp = remind(client, ann, in_days=1, thread_id="thread-gone")
    assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found"
    assert reminders(client, ann) == []
    mine = remind(client, ann, in_days=1).get_json()
    for method, path in (("POST", "/snooze"), ("POST", "/done"), ("DELETE", ""), ("POST", "/notified")):
        resp = client.open(f"/api/v1/reminders/{mine['id']}{path}", method=method, json={"in_days": 1},
                           headers=bob.headers)
        assert resp.status_code == 404, (method, path)
    assert [r["id"] for r in reminders(client, ann)] == [mine["id"]]
