"""Bad input gets a clear 4xx in the API's one error shape, never a 500."""

from __future__ import annotations

import pytest

from tests.fixtures.api import assert_api_error

GOOD = {
    "subject": "Hi", "recipients": [{"name": "", "address": "x@prospect.example"}],
    "thread_id": "t", "mode": "manual", "client": "gmail",
}


@pytest.mark.parametrize("body,fragment", [
    ({**GOOD, "mode": "sometimes"}, "mode"),
    ({**GOOD, "client": "thunderbird"}, "client"),
    ({**GOOD, "recipients": []}, "recipients"),
    ({**GOOD, "recipients": "x@y.example"}, "recipients"),
    ({**GOOD, "recipients": [{"address": "not an address"}]}, "not an email address"),
    ({**GOOD, "step": "two"}, "step"),
    ({**GOOD, "step": 0}, "step"),
    ({**GOOD, "links": ["javascript:alert(1)"]}, "links"),
    ({**GOOD, "links": ["mailto:x@y.example"]}, "links"),
    ({**GOOD, "subject": 42}, "subject"),
    ({**GOOD, "surprise": True}, "surprise"),
    ({k: v for k, v in GOOD.items() if k != "thread_id"}, "thread_id"),
    ([GOOD], ""),
    ("just a string", ""),
])
def test_invalid_message_bodies_are_422_with_the_field_named(client, ann, body, fragment):
    err = assert_api_error(client.post("/api/v1/messages", json=body, headers=ann.headers), 422)
    assert fragment in err["message"]


def test_malformed_json_is_400(client, ann):
    r = client.post("/api/v1/messages", data='{"subject": ', content_type="application/json", headers=ann.headers)
    assert_api_error(r, 400)


def test_oversized_body_is_413(client, ann):
    r = client.post("/api/v1/messages", data="x" * (2 * 1024 * 1024 + 1), content_type="application/json",
                    headers=ann.headers)
    err = assert_api_error(r, 413)
    assert "too large" in err["message"]


def test_unknown_api_route_is_json_404(client, ann):
    assert_api_error(client.get("/api/v1/nope", headers=ann.headers), 404)


def test_unknown_page_is_an_html_404_that_does_not_blame_a_link(client):
    """Only the tracked-link route says "Link not found"; any other unknown page is a page."""
    resp = client.get("/no/such/page")
    assert resp.status_code == 404 and resp.mimetype == "text/html"
    assert b"Page not found" in resp.data and b"Link not found" not in resp.data


def test_wrong_method_is_405(client, ann):
    assert_api_error(client.delete("/api/v1/counter", headers=ann.headers), 405)


def test_bad_cursor_is_422(client, ann):
    err = assert_api_error(client.get("/api/v1/threads?cursor=%%%", headers=ann.headers), 422)
    assert "cursor" in err["message"]


@pytest.mark.parametrize("query", ["step=-1", "limit=1000", "limit=abc", "category=archived", "period=yesterdayish"])
def test_bad_thread_queries_are_422(client, ann, query):
    assert_api_error(client.get("/api/v1/threads?" + query, headers=ann.headers), 422)


def test_signin_wrong_password_and_rate_limit(client, ann):
    ok = client.post("/api/v1/auth/signin", json={"email": ann.email, "password": ann.password})
    assert ok.status_code == 200 and len(ok.get_json()["token"]) >= 40
    me = client.get("/api/v1/me", headers={"Authorization": "Bearer " + ok.get_json()["token"]})
    assert me.get_json()["user"]["email"] == ann.email
    for _ in range(10):  # ten wrong passwords a minute are answered, the eleventh is refused
        assert_api_error(client.post("/api/v1/auth/signin", json={"email": ann.email, "password": "guess"}), 401)
    err = assert_api_error(client.post("/api/v1/auth/signin", json={"email": ann.email, "password": "guess"}), 429)
    assert "Try again" in err["message"]
    assert int(client.post("/api/v1/auth/signin", json={"email": ann.email, "password": "x"}).headers["Retry-After"]) > 0


def test_unknown_account_and_wrong_password_look_the_same(client, ann):
    a = client.post("/api/v1/auth/signin", json={"email": "nobody@acme.example", "password": "x"}).get_json()
    b = client.post("/api/v1/auth/signin", json={"email": ann.email, "password": "x"}).get_json()
    assert a == b


def test_security_headers_on_pages_and_api(client, ann):
    for path in ("/", "/api/v1/me", "/p/x.gif", "/api/openapi.json"):
        r = client.get(path, headers=ann.headers)
        assert r.headers["X-Content-Type-Options"] == "nosniff", path
        assert "Referrer-Policy" in r.headers


def test_openapi_describes_every_endpoint(client):
    spec = client.get("/api/openapi.json").get_json()
    paths = spec["paths"]
    for p in ("/api/v1/messages", "/api/v1/threads", "/api/v1/threads/self-view", "/api/v1/counter",
              "/api/v1/counter/reset", "/api/v1/settings", "/api/v1/org", "/api/v1/me", "/api/v1/auth/signin",
              "/api/v1/stream", "/api/v1/stream/tickets", "/api/v1/messages/{message_id}"):
        assert p in paths, p
    assert "bearerAuth" in spec["components"]["securitySchemes"]
