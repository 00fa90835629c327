"""Security headers on every kind of page the server answers, errors included, and
nothing a request sends is reflected into HTML. Also over real HTTP (granian), where
the ``Server`` header must not give away a version."""

from __future__ import annotations

import re

import pytest

from tests.live_server import LiveServer
from tests.server.helpers import CHROME_DESKTOP, path_of, register

UNKNOWN = "A" * 24
SCRIPT = "<script>window.__xss=1</script>"


@pytest.fixture
def backend():
    return "sqlite"  # headers do not depend on the database


def page_kinds(client, account) -> dict:
    """One response of every kind, by name."""
    msg = register(client, account)
    auth = account.headers
    return {
        "front page": client.get("/"),
        "health check": client.get("/healthz"),
        "openapi document": client.get("/api/openapi.json"),
        "api 200": client.get("/api/v1/me", headers=auth),
        "api 201": client.post("/api/v1/stream/tickets", headers=auth),
        "api 401": client.get("/api/v1/me"),
        "api 404": client.get("/api/v1/nope", headers=auth),
        "api 405": client.delete("/api/v1/counter", headers=auth),
        "api 422": client.post("/api/v1/messages", json={"subject": 1}, headers=auth),
        "api preflight": client.options("/api/v1/me", headers={
            "Origin": "chrome-extension://" + "a" * 32, "Access-Control-Request-Method": "GET"}),
        "pixel": client.get(path_of(msg["pixel_url"]), headers={"User-Agent": CHROME_DESKTOP}),
        "unknown pixel": client.get(f"/p/{UNKNOWN}.gif"),
        "click redirect": client.get(path_of(msg["links"][0]["tracked_url"]), headers={"User-Agent": CHROME_DESKTOP}),
        "unknown click 404 page": client.get(f"/c/{UNKNOWN}"),
        "html 404 page": client.get("/no/such/page"),
        "html 405 page": client.post("/healthz"),
        "add-in task pane": client.get("/panel"),
        "add-in manifest": client.get("/addin/manifest.xml"),
    }


def test_every_page_kind_has_the_security_headers(client, ann):
    for name, resp in page_kinds(client, ann).items():
        h = resp.headers
        assert h.get("X-Content-Type-Options") == "nosniff", name
        assert h.get("Referrer-Policy") in ("no-referrer", "same-origin", "strict-origin"), name
        csp = h.get("Content-Security-Policy", "")
        assert "default-src 'none'" in csp and "frame-ancestors" in csp, name
        assert not re.search(r"\d", h.get("Server", "")), name


def test_pages_outside_the_add_in_cannot_be_framed(client, ann):
    for name, resp in page_kinds(client, ann).items():
        if name.startswith("add-in"):
            continue  # Outlook frames those; their own frame-ancestors lists who may
        assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"], name


@pytest.mark.parametrize("path", [
    f"/c/{SCRIPT}", f"/c/{UNKNOWN}?x={SCRIPT}", f"/no/{SCRIPT}", f"/p/{SCRIPT}.gif", f"/?q={SCRIPT}",
])
def test_html_pages_reflect_nothing_from_the_request(client, path):
    resp = client.get(path)
    assert b"<script" not in resp.data.lower() and b"__xss" not in resp.data


def test_api_errors_quoting_input_are_json_never_html(client, ann):
    resp = client.post("/api/v1/messages", headers=ann.headers, json={
        "subject": "x", "thread_id": "t", "mode": "manual", "client": "gmail",
        "recipients": [{"name": "", "address": SCRIPT}],
    })
    assert resp.status_code == 422
    assert resp.mimetype == "application/json" and resp.headers["X-Content-Type-Options"] == "nosniff"


@pytest.fixture(scope="module")
def live(tmp_path_factory, geo_db):
    instance = tmp_path_factory.mktemp("hostile-live")
    server = LiveServer(instance=instance, database_url=f"sqlite:///{instance / 'engage.db'}", geo_db=geo_db)
    server.migrate()
    server.start()
    yield server
    server.stop()


@pytest.mark.parametrize("path", ["/", "/api/v1/me", f"/p/{UNKNOWN}.gif", f"/c/{UNKNOWN}", "/api/openapi.json"])
def test_over_real_http_the_headers_are_there_and_no_version_leaks(live, path):
    status, _body, headers = live.request("GET", path)
    assert status in (200, 401, 404)
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] and "default-src 'none'" in headers["Content-Security-Policy"]
    assert not re.search(r"\d", headers.get("Server", "")), headers.get("Server")
    assert "X-Powered-By" not in headers
