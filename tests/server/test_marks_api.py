"""POST /api/v1/threads/marks: the marks Gmail's lists and conversations show."""

from __future__ import annotations

import pytest

from tests.fixtures.agents import APPLE_MPP

from .helpers import CHROME_DESKTOP, IPHONE_MAIL, LONDON, hit_pixel, register


def marks(client, account, **body):
    resp = client.post("/api/v1/threads/marks", json=body, headers=account.headers)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def token(message):
    return message["pixel_url"].rsplit("/p/", 1)[1].removesuffix(".gif")


def test_states_titles_and_unknown_ids(client, ann, bob):
    opened = register(client, ann, thread_id="18c2f0a1b2c3d4e5", subject="Intro")
    register(client, ann, thread_id="18c2f0a1b2c3d4e6", subject="Not yet")
    machine = register(client, ann, thread_id="18c2f0a1b2c3d4e7", subject="Apple")
    theirs = register(client, bob, thread_id="18c2f0a1b2c3d4e8", subject="Bob's")
    hit_pixel(client, opened, ip=LONDON, ua=CHROME_DESKTOP)
    hit_pixel(client, opened, ip=LONDON, ua=IPHONE_MAIL)
    hit_pixel(client, machine, ip="17.58.63.12", ua=APPLE_MPP)

    ids = ["18c2f0a1b2c3d4e5", "18c2f0a1b2c3d4e6", "18c2f0a1b2c3d4e7", "18c2f0a1b2c3d4e8", "ffffffffffffffff"]
    got = marks(client, ann, thread_ids=ids, pixel_tokens=[token(opened), token(theirs), "nosuchtoken"])
    # Unknown ids and other users' threads are simply absent: no mark.
    assert set(got["threads"]) == {"18c2f0a1b2c3d4e5", "18c2f0a1b2c3d4e6", "18c2f0a1b2c3d4e7"}
    assert {k: v["state"] for k, v in got["threads"].items()} == {
        "18c2f0a1b2c3d4e5": "opened", "18c2f0a1b2c3d4e6": "sent", "18c2f0a1b2c3d4e7": "machine"}
    title = got["threads"]["18c2f0a1b2c3d4e5"]["title"]
    assert title.startswith("Opened twice") and "London" in title and "last just now" in title
    assert got["threads"]["18c2f0a1b2c3d4e6"]["title"] == "Tracked · not opened yet"
    assert "Apple Mail Privacy Protection" in got["threads"]["18c2f0a1b2c3d4e7"]["title"]
    assert list(got["pixels"]) == [token(opened)]
    assert got["pixels"][token(opened)]["state"] == "opened"
    assert got["pixels"][token(opened)]["thread_id"] == "18c2f0a1b2c3d4e5"

    german = marks(client, ann, thread_ids=ids[:2], lang="de-DE")["threads"]
    assert german["18c2f0a1b2c3d4e5"]["title"].startswith("Zweimal geöffnet")
    assert german["18c2f0a1b2c3d4e6"]["title"] == "Verfolgt · noch nicht geöffnet"


@pytest.mark.parametrize("body", [
    {"thread_ids": [f"{i:016x}" for i in range(201)]},
    {"thread_ids": [""]},
    {"thread_ids": "18c2f0a1b2c3d4e5"},
    {"pixel_tokens": ["../etc"]},
    {"thread_ids": [], "colour": "green"},
])
def test_bad_input_is_a_422_in_the_one_shape(client, ann, body):
    resp = client.post("/api/v1/threads/marks", json=body, headers=ann.headers)
    assert resp.status_code == 422
    assert set(resp.get_json()["error"]) >= {"code", "message"}


def test_needs_a_token(client):
    assert client.post("/api/v1/threads/marks", json={"thread_ids": []}).status_code == 401


def test_a_reply_turns_the_mark_green_even_without_an_open(client, ann):
    register(client, ann, thread_id="18c2f0a1b2c3d4f0", subject="Images off")
    assert marks(client, ann, thread_ids=["18c2f0a1b2c3d4f0"])["threads"]["18c2f0a1b2c3d4f0"]["state"] == "sent"
    resp = client.post("/api/v1/threads/replies", headers=ann.headers, json={
        "thread_id": "18c2f0a1b2c3d4f0", "message_id": "18c2f0a1b2c3d4f9", "from": "carla@prospect.example"})
    assert resp.status_code in (200, 201), resp.get_json()
    got = marks(client, ann, thread_ids=["18c2f0a1b2c3d4f0"])["threads"]["18c2f0a1b2c3d4f0"]
    assert got == {"state": "opened", "title": "Replied just now"}
