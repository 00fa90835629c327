"""The Insights view in the Outlook task pane and at /panel (the same page in a plain
browser): real hits stored by the real server, the view rendered by client_py in
Pyodide, its period control and the CSV export; a screenshot of each goes to
test-artifacts/."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.fixtures.addresses import LINKOPING, LONDON
from tests.fixtures.agents import IPHONE_SAFARI

from .conftest import ARTIFACTS, hit_pixel, outlook_context
from .test_taskpane import open_pane, register

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def opened_emails(live):
    """Two emails: one opened in London on a desktop and in Linköping on a phone."""
    tag = uuid.uuid4().hex[:6]
    first = register(live, f"Insights <b>{tag}</b>", address="eve@globex.example")
    register(live, f"Quiet one {tag}", address="max@initech.example")
    assert hit_pixel(live, first["pixel_url"], ip=LONDON) == 200
    assert hit_pixel(live, first["pixel_url"], user_agent=IPHONE_SAFARI, ip=LINKOPING) == 200
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:  # the writer stores the hits a moment after they were answered
        status, body, _ = live.request("GET", "/api/v1/insights?period=30d", token=live.token)
        assert status == 200, body
        if sum(n for _d, _h, n in body["figures"]["heatmap"]) >= 2:
            return first
        time.sleep(0.1)
    pytest.fail("the two opens were not stored")


def open_insights(pane):
    pane.click("#insights-toggle")
    pane.wait_for_selector('#insights[data-loaded="me:30d"] .engage-heatmap', timeout=30000)


def check_view(pane, subject: str) -> None:
    text = pane.inner_text("#insights")
    assert "Emails tracked" in text and "Not enough opens" in text  # two placed opens: no claim
    assert pane.locator("#insights .engage-heatmap").count() == 1
    assert pane.locator("#columns").is_hidden() and pane.locator(".toolbar").is_hidden()
    reader = pane.locator("#insights .engage-reader-email", has_text=subject)
    assert "2 readers: desktop in London, mobile in Linköping" in reader.inner_text()
    assert pane.locator("#insights b").count() == 0  # the subject's markup is text


def test_insights_in_the_task_pane(context, live, opened_emails):
    pane = open_pane(context, live)
    try:
        open_insights(pane)
        check_view(pane, opened_emails["subject"])
        pane.select_option('#insights select[data-action="period"]', "7d")
        pane.wait_for_selector('#insights[data-loaded="me:7d"]')
        with pane.expect_download() as download:
            pane.click('#insights [data-action="export"]')
        csv_text = download.value.path().read_text(encoding="utf-8")
        assert csv_text.startswith("record,email_id,") and opened_emails["subject"] in csv_text
        assert "@" not in csv_text
        ARTIFACTS.mkdir(exist_ok=True)
        pane.mouse.move(0, 0)
        pane.screenshot(path=str(ARTIFACTS / "addin-insights.png"), full_page=True)
        pane.click("#insights-toggle")  # back to the list
        pane.wait_for_selector("#panel .engage-panel", state="visible")
    finally:
        pane.close()


def test_insights_at_the_web_panel(browser, live, launch_events, opened_emails):
    context = outlook_context(browser, live, launch_events, token=live.token, office=False)
    try:
        pane = open_pane(context, live, "/panel")
        open_insights(pane)
        check_view(pane, opened_emails["subject"])
        pane.mouse.move(0, 0)
        pane.screenshot(path=str(ARTIFACTS / "web-panel-insights.png"), full_page=True)
    finally:
        context.close()
