"""When the Engage server cannot be reached, the email goes out untouched, at once.

The module runs its own server, so that stopping it (connections refused) and
freezing it (connections accepted, never answered: the worst case) harms no other
test. Gmail must get the email within a fraction of a second of the click."""

from __future__ import annotations

import os
import signal
import pytest

from tests.live_server import TRUST_LOCAL_PROXY, LiveServer

from . import harness
from .conftest import PASSWORD, signed_in_session

pytestmark = pytest.mark.browser
BUDGET_MS = 400  # shared/constants.js SEND_BUDGET_MS
SLACK_MS = 250  # messaging, the replayed click, a loaded 2-core machine


@pytest.fixture(scope="module")
def ext(tmp_path_factory, fake_gmail, extension_dir, playwright_instance):
    instance = tmp_path_factory.mktemp("engage-down")
    server = LiveServer(instance=instance, database_url=f"sqlite:///{instance / 'engage.db'}",
                        extra_env=TRUST_LOCAL_PROXY)
    server.migrate()
    email = "ann-down@acme.example"
    token = server.create_user(email=email, org="Acme down", domains=("acme.example",), password=PASSWORD)
    server.start()
    try:
        with signed_in_session(playwright_instance, extension_dir, tmp_path_factory.mktemp("profile"), server,
                               email, token, fake_gmail) as session:
            yield session
    finally:
        server.stop()


def timed_send(ext, subject):
    compose = harness.Compose.new(ext, to=[harness.RAE], subject=subject)
    compose.wait_toggle(tracked=True)  # the draft has its pixel (content/draft_pixel.js)
    original = compose.user_body()  # what the user wrote: an untracked send is exactly that
    sent, outcome = compose.send()
    return original, sent, outcome


def test_tracked_while_the_server_is_up(ext):
    _original, sent, outcome = timed_send(ext, "Server up")
    assert outcome["applied"] and harness.pixel_of(sent["html"])


def test_a_frozen_server_costs_at_most_the_budget(ext):
    os.killpg(ext.server.proc.pid, signal.SIGSTOP)  # accepts connections, never answers
    try:
        original, sent, outcome = timed_send(ext, "Server frozen")
    finally:
        os.killpg(ext.server.proc.pid, signal.SIGCONT)
    assert sent["html"] == original
    assert not outcome["applied"] and outcome["reason"] in ("timeout", "late")
    assert outcome["holdFromPressMs"] < BUDGET_MS + SLACK_MS


def test_a_stopped_server_sends_untouched_at_once(ext):
    ext.server.kill9()  # the process is gone: connections are refused
    original, sent, outcome = timed_send(ext, "Server down")
    assert sent["html"] == original
    assert not outcome["applied"] and outcome["reason"] == "unreachable"
    assert outcome["holdFromPressMs"] < BUDGET_MS


def test_live_updates_resume_when_the_server_is_back(ext):
    ext.server.start()  # same port, same database
    harness.wait_until(ext.gmail, lambda: (harness.diagnostics(ext.context).get("stream") or {}).get("state") == "open",
                       15, 200, "the stream to reconnect")
    compose = harness.Compose.new(ext, to=[harness.RAE], subject="Back online")
    compose.wait_toggle(tracked=True)
    compose.toggle().click()
    compose.wait_toggle(tracked=False, state="skip")
    compose.toggle().click()  # and back: the toggle is a two-way switch
    compose.wait_toggle(tracked=True, state="auto")
    _sent, outcome = compose.send()
    assert outcome["applied"]
    message = harness.registered(ext, outcome["messageId"])
    ext.api("PATCH", "/api/v1/threads", {"thread_id": message["thread_id"], "pinned": True})
    assert harness.recipient_fetch(message["pixel_url"]) == (200, None)
    harness.wait_until(ext.gmail, lambda: harness.badge_text(ext.context) == "1", 3, 50, "the badge")
