"""The pixel (answered before Flask), a tracked link's redirect and an API answer
carry the same security headers: they are written once, in server/security_headers.py."""

from __future__ import annotations

import pytest

from tests.server.helpers import CHROME_DESKTOP, path_of, register

SECURITY = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Cross-Origin-Resource-Policy": "cross-origin",
}


@pytest.fixture
def backend():
    return "sqlite"  # headers do not depend on the database


def security_headers(resp) -> dict:
    return {name: resp.headers.get(name) for name in SECURITY}


def test_pixel_redirect_and_api_answer_carry_the_same_security_headers(client, ann):
    msg = register(client, ann)
    answers = {
        "pixel": client.get(path_of(msg["pixel_url"]), headers={"User-Agent": CHROME_DESKTOP}),
        "pixel HEAD": client.head(path_of(msg["pixel_url"]), headers={"User-Agent": CHROME_DESKTOP}),
        "link redirect": client.get(path_of(msg["links"][0]["tracked_url"]), headers={"User-Agent": CHROME_DESKTOP}),
        "api answer": client.get("/api/v1/me", headers=ann.headers),
        "api error": client.get("/api/v1/me"),
    }
    assert answers["pixel"].mimetype == "image/gif" and answers["link redirect"].status_code == 302
    assert answers["api answer"].status_code == 200
    for name, resp in answers.items():
        assert security_headers(resp) == SECURITY, name
