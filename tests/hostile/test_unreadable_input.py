"""Input that used to come back as a 500 (found by the schemathesis run) is refused up
front in the one error shape (server/api/input_guard.py), on SQLite and PostgreSQL.

- NUL characters: PostgreSQL text columns refuse them.
- Unpaired surrogates (JSON ``"\\ud800"``): no database can encode them.
- JSON nested past the recursion limit, or with integers of more than 4300 digits:
  webargs only catches ``JSONDecodeError``.
"""

from __future__ import annotations

import json

import pytest

from server.api.input_guard import UNSTORABLE_MESSAGE
from tests.fixtures.api import assert_api_error
from tests.server.helpers import register, threads

MESSAGE = {
    "subject": "Hi", "recipients": [{"name": "Carla", "address": "carla@prospect.example"}],
    "thread_id": "t1", "mode": "manual", "client": "gmail",
}


def post_raw(client, path, text, headers=None):
    return client.post(path, data=text, content_type="application/json", headers=headers or {})


@pytest.mark.parametrize("path,body,field", [
    ("/api/v1/messages", {**MESSAGE, "subject": "a\x00b"}, "subject"),
    ("/api/v1/messages", {**MESSAGE, "subject": "\ud800"}, "subject"),
    ("/api/v1/messages", {**MESSAGE, "thread_id": "\x00"}, "thread_id"),
    ("/api/v1/messages", {**MESSAGE, "recipients": [{"name": "\udfff", "address": "a@b.example"}]},
     "recipients.0.name"),
    ("/api/v1/messages", {**MESSAGE, "sequence": "Q3\x00"}, "sequence"),
    ("/api/v1/messages", {**MESSAGE, "client_message_id": "<x\x00@y>"}, "client_message_id"),
    ("/api/v1/messages", {**MESSAGE, "links": ["https://x.example/\x00"]}, "links.0"),
    ("/api/v1/threads/self-view", {"thread_id": "t\x00"}, "thread_id"),
    ("/api/v1/auth/signin", {"email": "ann\x00@acme.example", "password": "x"}, "email"),
    ("/api/v1/auth/signin", {"email": "ann@acme.example", "password": "correct horse", "label": "\x00"},
     "label"),
])
def test_unstorable_text_in_a_body_is_a_422_naming_the_field(client, ann, path, body, field):
    err = assert_api_error(post_raw(client, path, json.dumps(body), ann.headers), 422)
    assert err["message"] == f"{field}: {UNSTORABLE_MESSAGE}"


def test_unstorable_text_in_patched_fields_is_a_422(client, ann):
    register(client, ann)
    for path, body in [("/api/v1/threads", {"thread_id": "thread-1\x00", "pinned": True}),
                       ("/api/v1/settings", {"blocklist": ["x\x00.example"]})]:
        resp = client.patch(path, data=json.dumps(body), content_type="application/json", headers=ann.headers)
        assert_api_error(resp, 422)
    assert client.get("/api/v1/settings", headers=ann.headers).get_json()["blocklist"] == []


@pytest.mark.parametrize("query", [{"q": "a\x00"}, {"domain": "x\x00.example"}, {"sequence": "\x00"},
                                   {"cursor": "\x00"}, {"x\x00": "1"}])
def test_unstorable_text_in_a_query_is_a_422(client, ann, query):
    assert_api_error(client.get("/api/v1/threads", query_string=query, headers=ann.headers), 422)


def test_unstorable_text_in_a_path_is_a_404(client, ann):
    assert_api_error(client.get("/api/v1/messages/abc%00def", headers=ann.headers), 404)


@pytest.mark.parametrize("text", [
    "[" * 100_000 + "]" * 100_000,  # past the recursion limit
    "[" * 50 + "]" * 50,  # deeper than any body of this API
    '{"subject": ' + "9" * 5000 + "}",  # past CPython's int/str conversion limit
    "-" + "1" * 4500,
])
def test_json_the_parser_chokes_on_is_a_400(client, ann, text):
    err = assert_api_error(post_raw(client, "/api/v1/messages", text, ann.headers), 400)
    assert err["message"] == "Invalid JSON body."


@pytest.mark.parametrize("text", ['{"subject": ', "\xff", "[1,]", "nul"])
def test_other_unreadable_json_is_still_webargs_400(client, ann, text):
    err = assert_api_error(post_raw(client, "/api/v1/messages", text, ann.headers), 400)
    assert err["message"] == "Invalid JSON body."


def test_text_outside_the_basic_plane_is_stored_and_read_back(client, ann):
    subject = "👨‍👩‍👧 Q3 𝔭𝔯𝔬𝔭𝔬𝔰𝔞𝔩 \U0010fffd"
    register(client, ann, subject=subject, recipients=[{"name": "Zoë 🚀", "address": "zoe@prospect.example"}])
    [thread] = threads(client, ann)["threads"]
    assert thread["subject"] == subject
    assert thread["recipients"][0]["name"] == "Zoë 🚀"


def test_pages_outside_the_api_are_not_checked_by_the_guard(client):
    resp = client.get("/p/" + "A" * 22 + "%00.gif")
    assert resp.status_code == 200 and resp.mimetype == "image/gif"
