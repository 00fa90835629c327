"""Replies, follow-up reminders, the activity feed and notifications in real Chromium
with the real extension (one browser for the module). A recipient's message arriving in
a tracked conversation reaches the server once. A reminder chosen in the compose
toolbar or on a thread in the side panel lives on the server; when it comes due with
nobody opening, a desktop notification and a "Due" section at the top of the panel
(screenshot saved), where it is snoozed or done. The Activity view lists the
recipient's open, one click from the thread. Opens within a minute make one
notification; quiet hours hold them back."""

from __future__ import annotations

import sqlalchemy as sa

import pytest

from . import harness

pytestmark = pytest.mark.browser
CAROL = {"name": "Carol Buyer", "address": "carol@buyer.example"}


def send_tracked(ext, subject, remind=None):
    compose = harness.Compose.new(ext, to=[CAROL], subject=subject)
    compose.wait_toggle(tracked=True)
    if remind:
        ext.gmail.click(f"{compose.sel} .engage-remind-button")
        ext.gmail.click(f"{compose.sel} .engage-remind-item[data-remind-key='{remind}']")
        assert ext.gmail.locator(f"{compose.sel} .engage-remind-button").get_attribute("aria-pressed") == "true"
    _sent, outcome = compose.send()
    assert outcome["applied"]
    return harness.registered(ext, outcome["messageId"])


def reminders(ext, status="active"):
    return ext.api("GET", f"/api/v1/reminders?status={status}")["reminders"]


def make_due(ext, reminder_id):
    """Time passes: the server's scheduler (every second here) finds it due."""
    engine = sa.create_engine(ext.server.database_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE reminders SET due_at = datetime('now', '-1 second') WHERE public_id = :id"),
                     {"id": reminder_id})
    engine.dispose()
    harness.wait_until(ext.gmail, lambda: any(r["id"] == reminder_id for r in reminders(ext, "due")), 10, 100,
                       "the scheduler to fire the reminder")


def test_a_reminder_chosen_in_the_compose_is_set_on_the_thread(ext):
    message = send_tracked(ext, "Following up on pricing", remind="reply:3")
    harness.wait_until(ext.gmail, lambda: any(r["thread_id"] == message["thread_id"] for r in reminders(ext)),
                       5, 50, "the compose's reminder on the server")
    reminder = next(r for r in reminders(ext) if r["thread_id"] == message["thread_id"])
    assert reminder["condition"] == "reply" and reminder["status"] == "pending"
    assert reminder["subject"] == "Following up on pricing"


def test_a_due_reminder_notifies_once_and_heads_the_panel(ext, artifacts):
    message = send_tracked(ext, "Intro")
    panel = harness.open_side_panel(ext.context)
    thread = f'article.engage-thread[data-thread-id="{message["thread_id"]}"]'
    panel.wait_for_selector(thread, state="attached")
    panel.click(f"{thread} .engage-remind-summary")
    panel.click(f'{thread} [data-action="remind"][data-condition="open"][data-days="1"]')
    panel.wait_for_selector(f"{thread} .engage-remind-set", state="attached")
    reminder = next(r for r in reminders(ext) if r["thread_id"] == message["thread_id"])
    assert reminder["condition"] == "open"

    make_due(ext, reminder["id"])
    panel.reload()  # the panel asks for what is due when it renders (also on every poll)
    item = panel.locator(f'.engage-due-item[data-reminder-id="{reminder["id"]}"]')
    item.wait_for(state="visible", timeout=5000)
    assert item.locator(".engage-due-line").inner_text().startswith("Nobody opened “Intro” since ")
    key = f'engage-reminder:{reminder["id"]}:{message["thread_id"]}'
    harness.wait_until(panel, lambda: key in harness.sw_eval(ext.context, "() => chrome.notifications.getAll()"),
                       5, 50, "the desktop notification")
    panel.locator("#due").screenshot(path=str(artifacts / "due-reminder.png"))
    panel.screenshot(path=str(artifacts / "due-reminder-panel.png"))
    # Shown once: the server gives the notification to one caller only.
    again = ext.api("POST", f'/api/v1/reminders/{reminder["id"]}/notified')
    assert again == {"first": False}

    item.locator('[data-action="reminder-snooze"][data-days="1"]').click()
    panel.wait_for_selector(f'.engage-due-item[data-reminder-id="{reminder["id"]}"]', state="detached", timeout=5000)
    snoozed = next(r for r in reminders(ext) if r["id"] == reminder["id"])
    assert snoozed["status"] == "pending" and snoozed["notified_at"] is None
    make_due(ext, reminder["id"])
    panel.reload()
    panel.locator(f'.engage-due-item[data-reminder-id="{reminder["id"]}"] [data-action="reminder-done"]').click()
    panel.wait_for_selector("#due .engage-due-item", state="detached", timeout=5000)
    assert all(r["id"] != reminder["id"] for r in reminders(ext))
    panel.close()


def test_the_activity_feed_shows_the_open_and_leads_to_the_thread(ext, artifacts):
    message = send_tracked(ext, "Pricing for Carol")
    panel = harness.open_side_panel(ext.context)
    panel.click('#views button[data-view="feed"]')
    panel.wait_for_selector("#feed .engage-feed", state="attached")
    assert harness.recipient_fetch(message["pixel_url"]) == (200, None)
    line = panel.locator(f'#feed li.engage-feed-item[data-kind="open"][data-thread-id="{message["thread_id"]}"]')
    line.wait_for(state="visible", timeout=5000)  # live: the stream's event re-renders the feed
    assert line.locator(".engage-feed-line").inner_text() == "Carol Buyer opened “Pricing for Carol”"
    assert line.locator(".engage-feed-company").inner_text() == "Buyer"
    meta = line.locator(".engage-feed-meta").inner_text()
    assert meta.startswith("just now · London, England, United Kingdom · desktop"), meta
    assert panel.locator("#filters").is_hidden() and panel.locator("#panel").is_hidden()
    panel.screenshot(path=str(artifacts / "activity-feed.png"))
    gmail_tabs = len([p for p in ext.context.pages if p.url.startswith(harness.GMAIL)])
    line.locator("a.engage-feed-open").click()
    harness.wait_until(panel, lambda: "#search/" in ext.gmail.url or "#all/" in ext.gmail.url, 5, 50,
                       "Gmail to open the thread")
    assert len([p for p in ext.context.pages if p.url.startswith(harness.GMAIL)]) == gmail_tabs
    panel.close()


def test_opens_within_a_minute_come_as_one_notification_and_quiet_hours_hold_them(ext):
    harness.save_settings(ext.context, notify_on_open=True, notify_mode="each", quiet_start="", quiet_end="")
    first, second = send_tracked(ext, "Deck for Carol"), send_tracked(ext, "Terms for Carol")
    assert harness.recipient_fetch(first["pixel_url"]) == (200, None)
    harness.wait_until(ext.gmail, lambda: (harness.diagnostics(ext.context).get("lastNotification") or {})
                       .get("thread_id") == first["thread_id"], 5, 50, "the first notification")
    assert harness.recipient_fetch(second["pixel_url"]) == (200, None)
    harness.wait_until(ext.gmail, lambda: (harness.diagnostics(ext.context).get("lastNotification") or {})
                       .get("grouped") == 2, 5, 50, "the second open to join the first")
    shown = harness.sw_eval(ext.context, "() => chrome.notifications.getAll()")
    ours = [key for key in shown if key.startswith("engage-thread:")]
    assert ours == [f'engage-thread:{second["thread_id"]}']  # one notification, not two
    assert harness.diagnostics(ext.context)["lastNotification"]["title"] == "2 opens in the last minute"

    # Quiet all day long (00:00 to 23:59 in the user's zone): nothing pops up.
    harness.save_settings(ext.context, quiet_start="00:00", quiet_end="23:59")
    third = send_tracked(ext, "Quiet please")
    assert harness.recipient_fetch(third["pixel_url"]) == (200, None)
    harness.wait_until(ext.gmail, lambda: (harness.diagnostics(ext.context).get("lastNotification") or {})
                       .get("skipped") == "quiet", 5, 50, "the open to be held back")
    assert f'engage-thread:{third["thread_id"]}' not in harness.sw_eval(ext.context,
                                                                       "() => chrome.notifications.getAll()")
    settings = ext.api("GET", "/api/v1/settings")
    assert (settings["quiet_start"], settings["quiet_end"], settings["notify_mode"]) == ("00:00", "23:59", "each")
    harness.save_settings(ext.context, quiet_start="", quiet_end="")


def test_a_reply_arriving_in_an_open_conversation_is_reported_once(ext):
    compose = harness.Compose.new(ext, to=[harness.RAE], subject="Shall we talk?")
    compose.wait_toggle(tracked=True)
    sent, outcome = compose.send()
    message = harness.registered(ext, outcome["messageId"])
    ext.gmail.evaluate("(id) => fakeGmail.show('#sent/' + id)", sent["threadId"])
    ext.gmail.wait_for_timeout(300)  # the conversation shows only the user's email: no reply
    assert ext.thread(message["thread_id"])["first_reply_at"] is None

    # Someone not on the email writes in: not a reply. Then Rae answers.
    ext.gmail.evaluate("(id) => fakeGmail.receive(id, {name: 'Eve', address: 'eve@else.example'}, 'Hi')",
                       sent["threadId"])
    gmail_id = ext.gmail.evaluate("([id, rae]) => fakeGmail.receive(id, rae, 'Yes, Tuesday works.')",
                                  [sent["threadId"], harness.RAE])
    harness.wait_until(ext.gmail, lambda: ext.thread(message["thread_id"])["first_reply_at"], 5, 50,
                       "the reply to reach the server")
    first = ext.thread(message["thread_id"])["first_reply_at"]
    last = harness.diagnostics(ext.context)["lastReplies"]
    assert last["reported"] == [gmail_id]

    # Opening the conversation again shows the same messages: nothing new is stored.
    ext.gmail.evaluate("() => fakeGmail.show('#inbox')")
    ext.gmail.evaluate("(id) => fakeGmail.show('#sent/' + id)", sent["threadId"])
    ext.gmail.wait_for_timeout(300)
    thread = ext.thread(message["thread_id"])
    assert thread["first_reply_at"] == thread["last_reply_at"] == first
