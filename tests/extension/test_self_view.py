"""No self-opens: the sender's own browser never counts as an open of their email.

Two ways the sender's browser could load their pixel, two defences:
- directly (the compose window right after insertion, a mail client that does not
  proxy images): the extension's declarativeNetRequest rule blocks <server>/p/*;
- through Google's image proxy, when Gmail shows the sent email or a reply quoting
  it: the content script reports the view and the server files those loads as `self`.
"""

from __future__ import annotations

import pytest

from tests.fixtures.addresses import GOOGLE_PROXY_IP
from tests.fixtures.agents import GMAIL_PROXY

from . import harness

pytestmark = pytest.mark.browser
Compose = harness.Compose


@pytest.fixture(scope="module", autouse=True)
def notify_on_every_open(ext):
    # With this on, a wrongly counted open would raise the badge and notify: the tests
    # below would see it.
    harness.save_settings(ext.context, notify_on_open=True)


def send_tracked(ext, subject):
    compose = Compose.new(ext, to=[harness.RAE], subject=subject)
    compose.wait_toggle(tracked=True)
    sent, outcome = compose.send()
    assert outcome["applied"]
    return sent, harness.registered(ext, outcome["messageId"])


def events_of(ext, thread_id):
    thread = ext.thread(thread_id)
    return thread["events"] if thread else []


def image_state(page) -> str:
    return page.evaluate("""() => new Promise((resolve) => {
        const img = document.querySelector('span.engage-pixel img');
        if (img.complete) return resolve(img.naturalWidth > 0 ? 'loaded' : 'blocked');
        img.addEventListener('load', () => resolve('loaded'));
        img.addEventListener('error', () => resolve('blocked'));
    })""")


def test_the_senders_browser_cannot_load_their_pixel_directly(ext):
    sent, message = send_tracked(ext, "Direct loads are blocked")
    # The pixel sat in the compose window (an <img> in Gmail's page) before Gmail sent it.
    ext.gmail.wait_for_timeout(500)
    assert events_of(ext, message["thread_id"]) == []

    index = ext.fake.sent.index(sent)
    viewer = ext.context.new_page()
    viewer.goto(f"{ext.fake.url}/_fake/viewer?n={index}")  # a client showing images as they are
    assert image_state(viewer) == "blocked"
    viewer.wait_for_timeout(300)
    assert events_of(ext, message["thread_id"]) == []

    # Without the extension's rule the same page does reach the server: the test can fail.
    rules = harness.sw_eval(ext.context, "() => chrome.declarativeNetRequest.getDynamicRules()")
    assert [r["condition"]["urlFilter"] for r in rules] == [f"|{ext.server.url}/p/"]
    harness.sw_eval(ext.context, "(ids) => chrome.declarativeNetRequest.updateDynamicRules({removeRuleIds: ids})",
                    [r["id"] for r in rules])
    try:
        viewer.reload()
        assert image_state(viewer) == "loaded"
        harness.wait_until(viewer, lambda: events_of(ext, message["thread_id"]), 3, 50, "the unblocked load")
    finally:
        harness.sw_eval(ext.context, "(rules) => chrome.declarativeNetRequest.updateDynamicRules({addRules: rules})",
                        rules)
        viewer.close()


def test_viewing_a_sent_email_in_gmail_counts_no_open(ext):
    sent, message = send_tracked(ext, "Looking at my own email")
    panel = harness.open_side_panel(ext.context)
    panel.wait_for_selector(f'article.engage-thread[data-thread-id="{message["thread_id"]}"]', state="attached")
    counter_before = ext.api("GET", "/api/v1/counter")["unread"]
    fetches_before = len(ext.fake.proxy_fetches)

    # The sender opens the email in Gmail: its images come through Google's proxy.
    ext.gmail.bring_to_front()
    ext.gmail.evaluate("(id) => fakeGmail.show('#sent/' + id)", sent["threadId"])
    harness.wait_until(ext.gmail, lambda: any(f["url"] == message["pixel_url"]
                                              for f in ext.fake.proxy_fetches[fetches_before:]),
                       5, 25, "Google's proxy to fetch the pixel")
    # Long enough for a wrong notification or badge, and for the extension's second
    # report (the server may have stored the proxy's hit just after the first one).
    ext.gmail.wait_for_timeout(2600)

    events = events_of(ext, message["thread_id"])
    assert events, "the proxy load reached the server"
    assert {e["verdict"] for e in events} == {"self"}
    # The counter and the badge settle once the extension's second report is in.
    harness.wait_until(ext.gmail, lambda: ext.api("GET", "/api/v1/counter")["unread"] == counter_before,
                       3, 100, "the server's counter to stay put")
    harness.wait_until(ext.gmail, lambda: harness.badge_text(ext.context) == "", 2, 50, "no badge")
    notifications = harness.sw_eval(ext.context, "() => chrome.notifications.getAll()")
    assert f'engage-thread:{message["thread_id"]}' not in notifications
    # The panel says why it does not count.
    panel.click(f'article.engage-thread[data-thread-id="{message["thread_id"]}"] [data-action="toggle"]')
    why = panel.locator(f'article.engage-thread[data-thread-id="{message["thread_id"]}"] .engage-why').first
    assert why.inner_text() == "You (or someone in your company) opened it"
    panel.close()

    # Gmail's own id for the conversation is now known: a reply joins the same thread.
    aliases = harness.sw_eval(ext.context, "() => chrome.storage.local.get('aliases')")["aliases"]
    assert aliases[sent["threadId"]] == message["thread_id"]
    reply = Compose.reply(ext, sent["threadId"])
    reply.wait_toggle(tracked=True)
    _reply_sent, outcome = reply.send()
    assert harness.registered(ext, outcome["messageId"])["thread_id"] == message["thread_id"]


def test_the_recipient_opening_through_gmails_proxy_still_counts(ext):
    _sent, message = send_tracked(ext, "Read by Rae in Gmail")
    status = harness.recipient_fetch(message["pixel_url"], ip=GOOGLE_PROXY_IP,
                                     user_agent=GMAIL_PROXY)
    assert status == (200, None)
    harness.wait_until(ext.gmail, lambda: events_of(ext, message["thread_id"]), 3, 50, "the open")
    assert [e["verdict"] for e in events_of(ext, message["thread_id"])] == ["gmail"]
    harness.wait_until(ext.gmail, lambda: harness.badge_text(ext.context) == "1", 3, 50, "the badge")
