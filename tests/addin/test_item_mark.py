"""The selected email's mark in the task pane (taskpane/item_mark.mjs): Outlook lets an
add-in draw nothing in its own message list, so when the user reads one of their
tracked emails with the pane open, the pane shows its mark and plain words, follows
the selection when pinned, and changes live when the recipient opens it."""

from __future__ import annotations

import uuid

import pytest

from .conftest import hit_pixel, outlook_context

pytestmark = pytest.mark.browser


def register(live, subject: str) -> dict:
    status, message, _ = live.request("POST", "/api/v1/messages", {
        "subject": subject, "recipients": [{"name": "Bob Client", "address": "bob@client.example"}],
        "thread_id": f"conv-{uuid.uuid4()}", "mode": "manual", "client": "outlook"}, token=live.token)
    assert status == 201, message
    return message


def sent_item(message: dict | None, subject: str = "Proposal") -> dict:
    """A message in Sent Items as Outlook shows it in the reading pane."""
    image = f'<img src="{message["pixel_url"]}" width="1" height="1" alt="">' if message else ""
    return {"mode": "read", "itemId": f"AAMkAD{uuid.uuid4().hex}", "subject": subject,
            "conversationId": message["thread_id"] if message else f"conv-{uuid.uuid4()}",
            "body": f"<html><body><div>Hi Bob, here it is.</div>{image}</body></html>"}


def test_the_selected_sent_email_shows_its_mark_and_follows_the_selection(browser, live, launch_events):
    opened, waiting = register(live, "Opened already"), register(live, "Not yet")
    assert hit_pixel(live, opened["pixel_url"]) == 200
    context = outlook_context(browser, live, launch_events, token=live.token, item=sent_item(opened),
                              outlook={"displayLanguage": "de-DE"})
    try:
        page = context.new_page()
        page.goto(f"{live.url}/addin/taskpane/taskpane.html")
        box = page.locator("#item-mark")
        box.wait_for(state="visible", timeout=60000)
        assert box.get_attribute("data-state") == "opened"
        assert box.text_content().startswith("✓✓Diese E-Mail: Einmal geöffnet, auf Computer, in London")
        assert box.get_attribute("data-thread-id") == opened["thread_id"]

        # Pinned, the pane follows the selection: a reply from the recipient (no image of ours) has no mark.
        page.evaluate("(spec) => __officeDouble.select(spec)", sent_item(None, "Re: Opened already"))
        box.wait_for(state="hidden")
        page.evaluate("(spec) => __officeDouble.select(spec)", sent_item(waiting, "Not yet"))
        page.wait_for_selector('#item-mark[data-state="sent"]:not([hidden])')
        assert box.text_content() == "✓Diese E-Mail: Verfolgt · noch nicht geöffnet"

        # The recipient opens it: the mark turns green without a click.
        assert hit_pixel(live, waiting["pixel_url"]) == 200
        page.wait_for_selector('#item-mark[data-state="opened"]', timeout=10000)
        # Nothing selected (or composing): no box.
        page.evaluate("() => __officeDouble.select(null)")
        box.wait_for(state="hidden")
    finally:
        context.close()
