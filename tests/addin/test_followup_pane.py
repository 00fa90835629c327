"""The activity feed and follow-up reminders at /panel and in the task pane: on a
desktop screen the feed sits beside the threads (not one stretched column); a narrow
pane switches between them; a reminder set on a thread comes back in the Due section
when it is due. One page (one Pyodide start), resized from desktop to task pane."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from tests.live_server import recipient_fetch

from .conftest import ARTIFACTS, outlook_context
from .test_taskpane import register

pytestmark = pytest.mark.browser


def make_due(live, reminder_id):
    engine = sa.create_engine(live.database_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE reminders SET due_at = datetime('now', '-1 second') WHERE public_id = :id"),
                     {"id": reminder_id})
    engine.dispose()


def test_feed_beside_the_threads_on_a_desktop_and_a_reminder_that_comes_back_due(browser, live, launch_events):
    subject = f"Intro {uuid.uuid4().hex[:6]}"
    message = register(live, subject, name="Carol Buyer", address="carol@buyer.example")
    assert recipient_fetch(message["pixel_url"])[0] == 200
    context = outlook_context(browser, live, launch_events, token=live.token, office=False)
    try:
        pane = context.new_page()
        pane.set_viewport_size({"width": 1440, "height": 900})  # /panel on a desktop screen
        pane.goto(live.url + "/panel")
        pane.wait_for_selector(".engage-panel", timeout=60000)
        line = pane.locator(f'#feed li.engage-feed-item[data-thread-id="{message["thread_id"]}"]').first
        line.wait_for(state="visible", timeout=10000)
        assert line.locator(".engage-feed-line").inner_text() == f"Carol Buyer opened “{subject}”"
        threads, feed = pane.locator("#panel").bounding_box(), pane.locator("#feed").bounding_box()
        assert feed["x"] >= threads["x"] + threads["width"] - 1  # beside, not below
        assert abs(feed["y"] - threads["y"]) < 80 and threads["width"] > 600
        assert pane.locator("#views").is_hidden()
        ARTIFACTS.mkdir(exist_ok=True)
        pane.screenshot(path=str(ARTIFACTS / "web-panel-desktop.png"))

        pane.set_viewport_size({"width": 360, "height": 720})  # a task pane's width
        assert pane.locator("#feed").is_hidden() and pane.locator("#views").is_visible()
        pane.click('#views button[data-view="feed"]')
        assert line.is_visible() and pane.locator("#panel").is_hidden()
        pane.click('#views button[data-view="threads"]')

        thread = f'article.engage-thread[data-thread-id="{message["thread_id"]}"]'
        pane.click(f"{thread} .engage-remind-summary")
        pane.click(f'{thread} [data-action="remind"][data-condition="reply"][data-days="3"]')
        pane.wait_for_selector(f"{thread} .engage-remind-set", state="attached", timeout=5000)
        _status, listed, _ = live.request("GET", "/api/v1/reminders", token=live.token)
        reminder = next(r for r in listed["reminders"] if r["thread_id"] == message["thread_id"])
        assert reminder["condition"] == "reply"
        make_due(live, reminder["id"])
        item = pane.locator(f'.engage-due-item[data-reminder-id="{reminder["id"]}"]')
        for _ in range(20):  # the scheduler runs every second here; the pane asks on each render
            pane.reload()
            pane.wait_for_selector(".engage-panel", timeout=60000)
            if item.count():
                break
            pane.wait_for_timeout(500)
        assert item.locator(".engage-due-line").inner_text().startswith(f"Nobody replied to “{subject}” since ")
        item.locator('[data-action="reminder-done"]').click()
        item.wait_for(state="detached", timeout=5000)
    finally:
        context.close()
