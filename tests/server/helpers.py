"""Small helpers shared by the server tests."""

from __future__ import annotations

import re

from tests.fixtures.addresses import LINKOPING, LONDON  # noqa: F401  (imported from here by many tests)
from tests.fixtures.agents import CHROME_WINDOWS as CHROME_DESKTOP
from tests.fixtures.agents import GMAIL_PROXY as GOOGLE_PROXY  # noqa: F401
from tests.fixtures.agents import IPHONE_MAIL  # noqa: F401


def register(client, account, **overrides):
    body = {
        "subject": "Proposal for Q3",
        "recipients": [{"name": "Carla Díaz", "address": "carla@prospect.example"}],
        "thread_id": "thread-1",
        "mode": "manual",
        "client": "gmail",
        "links": ["https://prospect.example/pricing?a=1&b=2"],
    }
    body.update(overrides)
    resp = client.post("/api/v1/messages", json=body, headers=account.headers)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def drain(client_or_app) -> int:
    """Store what the spool holds now (the server's writer thread does this within
    milliseconds; tests run without background threads and drain by hand)."""
    app = getattr(client_or_app, "application", client_or_app)
    with app.app_context():
        return app.extensions["engage"].drainer.drain_all()


def hit_pixel(client, message, ip=LONDON, ua=CHROME_DESKTOP, method="GET", headers=None):
    resp = client.open(path_of(message["pixel_url"]), method=method,
                       headers={"User-Agent": ua, **(headers or {})},
                       environ_base={"REMOTE_ADDR": ip})
    drain(client)
    return resp


def click(client, tracked_url, ip=LONDON, ua=CHROME_DESKTOP, headers=None):
    resp = client.get(path_of(tracked_url), headers={"User-Agent": ua, **(headers or {})},
                      environ_base={"REMOTE_ADDR": ip})
    drain(client)
    return resp


def threads(client, account, **params):
    resp = client.get("/api/v1/threads", query_string=params, headers=account.headers)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()
