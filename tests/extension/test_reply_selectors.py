"""The conversation lookups behind replies (content/gmail_selectors.js) against the
Gmail double: each message with its Gmail id, sender and time, also when Gmail's classes
are gone (the fallbacks), and no time from an id that holds none."""

from __future__ import annotations

import pytest

from .conftest import content_script

pytestmark = pytest.mark.browser
RAE_THREAD = "18c2f0a1b2c3d4e5"  # in the double: Rae's email to Ann


@pytest.fixture
def conversation(plain_browser, fake_gmail):
    page = plain_browser.new_page()
    page.goto(f"{fake_gmail.url}/mail/u/0/#inbox/{RAE_THREAD}")
    page.wait_for_function("document.documentElement.dataset.fakeGmailReady === 'true'")
    page.evaluate(content_script("gmail_selectors.js"))
    yield page
    page.close()


def test_messages_of_the_open_conversation_with_sender_and_time(conversation):
    arrived = conversation.evaluate(
        "() => fakeGmail.receive('%s', {name: 'Carol Buyer', address: 'Carol@Buyer.example'}, 'Hi')" % RAE_THREAD)
    found = conversation.evaluate("() => EngageGmail.conversationMessages(document)")
    assert [(m["id"], m["from"], m["name"]) for m in found] == [
        (RAE_THREAD, "rae@prospect.example", "Rae Prospect"), (arrived, "carol@buyer.example", "Carol Buyer")]
    assert found[0]["at"].startswith("2023-12-03T09:37:20")  # Gmail's ids carry their time
    assert found[1]["at"] > found[0]["at"]
    # Gmail renamed its classes: the attribute fallbacks still find both.
    conversation.evaluate("() => document.querySelectorAll('.adn, .gD').forEach((n) => n.className = 'x')")
    assert [m["id"] for m in conversation.evaluate("() => EngageGmail.conversationMessages(document)")] == [
        RAE_THREAD, arrived]


@pytest.mark.parametrize("legacy_id, has_time", [
    ("18c2f0a1b2c3d4e5", True), ("0000000000000001", False),  # 1970: not a Gmail message time
    ("ffffffffffffffff", False), ("thread-f:123", False), ("", False),
])
def test_only_a_plausible_time_is_read_from_an_id(conversation, legacy_id, has_time):
    at = conversation.evaluate("(id) => EngageGmail.messageTime(id)", legacy_id)
    assert (at is not None) is has_time
