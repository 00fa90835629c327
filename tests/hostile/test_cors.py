"""CORS on ``/api/*`` opens only to the Chrome extension's origin (``chrome-extension://``
and 32 letters a-p) and to origins an admin configured; never to lookalikes, ``null`` or
arbitrary sites. The Outlook add-in's pages are served by this server, so they are
same-origin with the API and need no CORS at all."""

from __future__ import annotations

import shutil
from urllib.parse import urlsplit

import pytest

from tests.fixtures.app import make_app

EXTENSION = "chrome-extension://" + "abcdefghijklmnopabcdefghijklmnop"
OTHER_EXTENSION = "chrome-extension://" + "p" * 32


@pytest.fixture
def backend():
    return "sqlite"  # headers do not depend on the database


def allowed_origin(resp) -> str | None:
    return resp.headers.get("Access-Control-Allow-Origin")


@pytest.mark.parametrize("origin", [EXTENSION, OTHER_EXTENSION])
@pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/threads", "/api/openapi.json", "/api/v1/nope"])
def test_the_extension_origin_is_echoed_on_the_api(client, ann, origin, path):
    resp = client.get(path, headers={**ann.headers, "Origin": origin})
    assert allowed_origin(resp) == origin
    assert "Origin" in resp.headers.get("Vary", "")  # caches must not serve it to another origin
    assert "Access-Control-Allow-Credentials" not in resp.headers  # bearer tokens, no cookies


@pytest.mark.parametrize("origin", [
    "https://evil.example",
    "http://engage.test.evil.example",
    "null",
    "chrome-extension://" + "a" * 31,  # too short
    "chrome-extension://" + "a" * 33,  # too long
    "chrome-extension://" + "q" * 32,  # q is not one of a-p
    "chrome-extension://" + "A" * 32,  # extension ids are lower case
    "chrome-extension://" + "a" * 32 + ".evil.example",
    "chrome-extension://" + "a" * 32 + "/",
    "chrome-extension://evil" + "a" * 28,
    "https://chrome-extension.evil",
    "https://chrome-extension://" + "a" * 32,
    "moz-extension://" + "a" * 32,
    "xchrome-extension://" + "a" * 32,
    "chrome-extension://" + "a" * 32 + " https://evil.example",
    "*",
])
def test_other_origins_get_no_cors_headers(client, ann, origin):
    resp = client.get("/api/v1/me", headers={**ann.headers, "Origin": origin})
    assert resp.status_code == 200  # CORS is the browser's check; the answer itself is unchanged
    assert allowed_origin(resp) is None
    assert not any(h.startswith("Access-Control-") for h in resp.headers.keys())


def test_a_preflight_from_the_extension_is_answered_without_a_token(client):
    resp = client.options("/api/v1/messages", headers={
        "Origin": EXTENSION,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    })
    assert resp.status_code == 200
    assert allowed_origin(resp) == EXTENSION
    assert "POST" in resp.headers["Access-Control-Allow-Methods"]
    allowed = {h.strip().lower() for h in resp.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed
    assert int(resp.headers["Access-Control-Max-Age"]) > 0


def test_a_preflight_from_elsewhere_is_not_allowed(client):
    resp = client.options("/api/v1/messages", headers={
        "Origin": "https://evil.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization",
    })
    assert allowed_origin(resp) is None and "Access-Control-Allow-Headers" not in resp.headers


@pytest.mark.parametrize("path", ["/", "/p/AAAAAAAAAAAAAAAAAAAAAAAA.gif", "/c/AAAAAAAAAAAAAAAAAAAAAAAA", "/healthz"])
def test_pages_outside_the_api_never_get_cors_headers(client, path):
    resp = client.get(path, headers={"Origin": EXTENSION})
    assert allowed_origin(resp) is None


def test_the_add_in_is_served_from_the_apis_own_origin(app, client):
    """Same origin as the API, so the task pane's fetches need no CORS header."""
    manifest = client.get("/addin/manifest.xml").get_data(as_text=True)
    public = urlsplit(app.config["PUBLIC_URL"])
    own_origin = f"{public.scheme}://{public.netloc}"
    assert f'"{own_origin}/addin/' in manifest or f">{own_origin}/addin/" in manifest
    assert "connect-src 'self' " + own_origin in client.get("/panel").headers["Content-Security-Policy"]


def test_an_origin_an_admin_configures_is_matched_exactly(tmp_path, sqlite_template, geo_db):
    shutil.copy(sqlite_template, tmp_path / "engage.db")
    app = make_app(f"sqlite:///{tmp_path / 'engage.db'}", tmp_path, geo_db,
                   CORS_ORIGINS=["https://addin.example.com"])
    client = app.test_client()
    try:
        ok = client.get("/api/openapi.json", headers={"Origin": "https://addin.example.com"})
        assert allowed_origin(ok) == "https://addin.example.com"
        for lookalike in ("https://addin.example.com.evil.example", "https://addinXexample.com",
                          "http://addin.example.com", "https://evil.addin.example.com"):
            resp = client.get("/api/openapi.json", headers={"Origin": lookalike})
            assert allowed_origin(resp) is None, lookalike
    finally:
        from server.extensions import db

        with app.app_context():
            db.engine.dispose()
