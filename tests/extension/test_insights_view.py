"""The Insights view in the Gmail side panel: real opens stored by the real server,
the view rendered by client_py in the extension's offscreen Pyodide, asked through the
service worker; its period control and the CSV export; a screenshot goes to
test-artifacts/."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.fixtures.addresses import LINKOPING, LONDON
from tests.fixtures.agents import IPHONE_SAFARI

from . import harness

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def opened(ext):
    """An email opened on a desktop in London and on a phone in Linköping, stored."""
    subject = f"Insights <img src=x onerror=alert(1)> {uuid.uuid4().hex[:6]}"
    message = ext.api("POST", "/api/v1/messages", {
        "subject": subject, "recipients": [{"name": "Rae", "address": "rae@globex.example"}],
        "thread_id": f"{uuid.uuid4().int % 16**16:016x}", "mode": "auto", "client": "gmail"})
    assert harness.recipient_fetch(message["pixel_url"], ip=LONDON) == (200, None)
    assert harness.recipient_fetch(message["pixel_url"], ip=LINKOPING, user_agent=IPHONE_SAFARI) == (200, None)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:  # the writer stores hits a moment after they were answered
        if ext.api("GET", "/api/v1/insights?period=30d")["figures"]["opened"] == 1:
            return message
        time.sleep(0.1)
    pytest.fail("the opens were not stored")


def test_insights_in_the_side_panel(ext, opened, artifacts):
    page = harness.open_side_panel(ext.context)
    page.wait_for_selector(".engage-panel")
    page.click("#insights-toggle")
    page.wait_for_selector('#insights[data-loaded="me:30d"] .engage-heatmap')
    assert page.locator("#panel").is_hidden()
    text = page.inner_text("#insights")
    assert "Emails tracked" in text
    reader = page.locator("#insights .engage-reader-email", has_text="Insights <img")
    assert "2 readers: desktop in London, mobile in Linköping" in reader.inner_text()
    assert page.locator("#insights img").count() == 0  # the hostile subject is text
    assert page.locator('#insights .engage-heatmap rect:not([data-n="0"])').count() == 2
    page.select_option('#insights select[data-action="period"]', "today")
    page.wait_for_selector('#insights[data-loaded="me:today"]')
    with page.expect_download() as download:
        page.click('#insights [data-action="export"]')
    csv_text = download.value.path().read_text(encoding="utf-8")
    assert csv_text.startswith("record,email_id,") and "@" not in csv_text
    page.select_option('#insights select[data-action="period"]', "30d")
    page.wait_for_selector('#insights[data-loaded="me:30d"]')
    page.mouse.move(0, 0)
    path = artifacts / "extension-insights.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    page.click("#insights-toggle")
    page.wait_for_selector("#panel .engage-panel", state="visible")
    page.close()
