"""The Engagement task pane (taskpane.html + taskpane/*.mjs, rendered by client_py in
Pyodide) against a running server, inside the Office.js double; and the same page as
the web panel at /panel in a plain browser."""

from __future__ import annotations

import time
import uuid
from urllib.parse import quote

import pytest

from client_py.present import format_time_full
from tests.fixtures.agents import IPHONE_SAFARI

from .conftest import ARTIFACTS, PASSWORD, USER, hit_pixel, open_runtime, outlook_context

pytestmark = pytest.mark.browser


def register(live, subject: str, mode: str = "manual", address: str = "bob@client.example",
             name: str = "Bob Client", sequence: str | None = None, step: int | None = None) -> dict:
    status, message, _ = live.request("POST", "/api/v1/messages", {
        "subject": subject, "recipients": [{"name": name, "address": address}],
        "thread_id": f"conv-{uuid.uuid4()}", "mode": mode, "client": "outlook",
        "sequence": sequence, "step": step}, token=live.token)
    assert status == 201, message
    return message


def open_pane(context, live, path: str = "/addin/taskpane/taskpane.html"):
    page = context.new_page()
    page.goto(live.url + path)
    page.wait_for_selector(".engage-panel", timeout=60000)
    return page


def article(page, thread_id: str):
    return page.locator(f'article.engage-thread[data-thread-id="{thread_id}"]')


@pytest.fixture
def signed_in(browser, live, launch_events):
    context = outlook_context(browser, live, launch_events, token=live.token)
    yield context
    context.close()


def test_sign_in_from_the_task_pane(browser, live, launch_events):
    context = outlook_context(browser, live, launch_events, token=None)
    try:
        page = context.new_page()
        page.goto(f"{live.url}/addin/taskpane/taskpane.html")
        # Pyodide's boot holds the page's main thread for a while on a loaded machine.
        page.wait_for_function("() => window.EngageApi && EngageApi.engineState() !== 'starting'", timeout=90000)
        page.fill("#signin-email", USER)
        page.fill("#signin-password", "not the password")
        page.click("#signin-submit")
        page.wait_for_selector("#signin-error:not([hidden])")
        assert page.inner_text("#signin-error") == "Wrong email or password."
        page.fill("#signin-password", PASSWORD)
        page.click("#signin-submit")
        page.wait_for_selector(".engage-panel", timeout=60000)
        token = page.evaluate("() => localStorage.getItem('engage.token')")
        assert token and page.evaluate("() => __officeDouble.roamingSettings().engageToken") == token
        assert live.request("GET", "/api/v1/me", token=token)[0] == 200
    finally:
        context.close()


def new_user(live, email: str) -> str:
    """Another user of the Acme org (an empty panel of their own); returns a token."""
    return live.create_user(email=email, org="Acme", password=PASSWORD)


def test_an_open_appears_live_within_two_seconds(browser, live, launch_events):
    token = new_user(live, f"sam-{uuid.uuid4().hex[:6]}@acme.example")
    as_sam = {"token": token}
    assert live.request("PATCH", "/api/v1/settings", {"time_zone": "Asia/Tokyo"}, **as_sam)[0] == 200
    context = outlook_context(browser, live, launch_events, token=token)
    try:
        # Other tracked emails (automatic) and a pinned one with an unread open, before the pane opens.
        def sam_registers(subject, name, address, mode, links=()):
            status, message, _ = live.request("POST", "/api/v1/messages", {
                "subject": subject, "recipients": [{"name": name, "address": address}], "links": list(links),
                "thread_id": f"conv-{uuid.uuid4()}", "mode": mode, "client": "outlook"}, **as_sam)
            assert status == 201
            return message

        sam_registers("Onboarding follow-up", "Cara North", "cara@northwind.example", "auto")
        renewal = sam_registers("Renewal terms for 2026", "Flo Contoso", "flo@contoso.example", "auto",
                                links=["https://docs.example.org/renewal.pdf"])
        pricing = sam_registers("Pricing for 40 seats", "Dana Fabrikam", "dana@fabrikam.example", "manual")
        hit_pixel(live, renewal["pixel_url"])
        hit_pixel(live, renewal["links"][0]["tracked_url"])  # a click on the tracked link
        hit_pixel(live, pricing["pixel_url"], user_agent=IPHONE_SAFARI)

        # Tracked with the button, as a user would.
        subject = "Proposal for the Q3 rollout"
        runtime = open_runtime(context, live)
        runtime.evaluate("(spec) => __officeDouble.setItem(spec)", {
            "subject": subject, "conversationId": f"conv-{uuid.uuid4()}",
            "body": "<html><body><div>Hi Bob, the proposal is attached.</div></body></html>",
            "to": [{"displayName": "Bob Client", "emailAddress": "bob@client.example"}]})
        runtime.evaluate("() => __officeDouble.invoke('trackEmailOpens')")
        runtime.evaluate("() => __officeDouble.launch('OnMessageSend')")  # registered when sent
        runtime.close()
        status, page, _ = live.request("GET", f"/api/v1/threads?q={quote(subject)}", **as_sam)
        [thread] = page["threads"]
        status, message, _ = live.request("GET", f"/api/v1/messages/{thread['latest_message_id']}", **as_sam)
        pixel = message["pixel_url"]

        pane = open_pane(context, live)
        pane.wait_for_selector('#live[data-live="on"]', timeout=10000)
        entry = article(pane, thread["thread_id"])
        assert entry.locator("li.engage-event").count() == 0

        started = time.monotonic()
        assert hit_pixel(live, pixel) == 200
        entry.locator('li.engage-event[data-verdict="human"]').wait_for(state="attached", timeout=5000)
        assert time.monotonic() - started < 2.0

        time.sleep(0.3)
        assert hit_pixel(live, pixel, user_agent=IPHONE_SAFARI) == 200  # a second open, on a phone
        entry.locator("li.engage-event").nth(1).wait_for(state="attached", timeout=5000)
        assert entry.get_attribute("data-unread") == "true" and entry.locator(".engage-dot").count() == 1
        entry.locator(".engage-thread-toggle").click()  # expanding it marks it as seen
        pane.wait_for_selector(f'article[data-thread-id="{thread["thread_id"]}"][data-unread="false"]')
        events = entry.locator("li.engage-event")
        assert "Mobile" in events.nth(0).inner_text()  # newest first
        first_open = events.nth(1)
        assert "Desktop" in first_open.inner_text()
        assert "London" in first_open.inner_text()
        at = first_open.locator("time").get_attribute("datetime")
        assert first_open.get_attribute("title").endswith(format_time_full(at, "Asia/Tokyo"))
        assert "JST" in first_open.get_attribute("title")

        article(pane, renewal["thread_id"]).locator(".engage-thread-toggle").click()
        pane.wait_for_selector(f'article[data-thread-id="{renewal["thread_id"]}"] a.engage-link')
        pane.mouse.move(0, 0)
        ARTIFACTS.mkdir(exist_ok=True)
        pane.screenshot(path=str(ARTIFACTS / "addin-task-pane.png"), full_page=True)
    finally:
        context.close()


def test_without_the_live_stream_the_pane_polls(signed_in, live):
    signed_in.route("**/api/v1/stream?*", lambda route: route.abort("connectionreset"))
    message = register(live, f"Polled {uuid.uuid4().hex[:6]}")
    pane = open_pane(signed_in, live)
    pane.wait_for_selector('#live[data-live="off"]')
    entry = article(pane, message["thread_id"])
    entry.wait_for(state="attached")
    started = time.monotonic()
    hit_pixel(live, message["pixel_url"])
    entry.locator("li.engage-event").wait_for(state="attached", timeout=5000)
    assert time.monotonic() - started < 2.5  # a poll every 1.5 s


def test_open_email_opens_it_in_outlook(signed_in, live):
    pane = open_pane(signed_in, live)
    subject = f"Contract draft {uuid.uuid4().hex[:6]}"
    runtime = open_runtime(signed_in, live)
    runtime.evaluate("(spec) => __officeDouble.setItem(spec)", {
        "subject": subject, "conversationId": f"conv-{uuid.uuid4()}", "body": "<div>Draft attached.</div>",
        "to": [{"displayName": "Bob Client", "emailAddress": "bob@client.example"}]})
    runtime.evaluate("() => __officeDouble.invoke('trackEmailOpens')")
    item_id = runtime.evaluate("() => __officeDouble.item().itemId")
    assert item_id
    runtime.evaluate("() => __officeDouble.launch('OnMessageSend')")
    # The open pane lists the email the button tracked as soon as it is sent, without a reload.
    entry = pane.locator("article.engage-thread", has_text=subject)
    entry.wait_for(timeout=5000)

    with pane.expect_request(lambda r: r.url.endswith("/api/v1/threads/self-view") and r.method == "POST"):
        entry.locator("a.engage-open").click()
    pane.wait_for_function("() => __officeDouble.displayed().length === 1")
    assert pane.evaluate("() => __officeDouble.displayed()") == [item_id]


def shows(pane, subjects: list[str]) -> None:
    """Wait until the panel lists exactly these subjects, in this order."""
    pane.wait_for_function(
        "(want) => JSON.stringify([...document.querySelectorAll('article.engage-thread .engage-subject')]"
        ".map((e) => e.textContent)) === JSON.stringify(want)", arg=subjects)


def test_search_filters_and_pins(signed_in, live):
    tag = uuid.uuid4().hex[:6]
    pricing, renewal = f"Pricing sheet {tag}", f"Renewal terms {tag}"
    register(live, pricing, mode="auto", address="ed@fabrikam.example", sequence=f"Q4 {tag}", step=1)
    other = register(live, renewal, mode="auto", address="flo@contoso.example", sequence=f"Q4 {tag}", step=2)
    pane = open_pane(signed_in, live)

    pane.fill("#q", tag)
    shows(pane, [renewal, pricing])  # newest activity first
    pane.fill("#domain", "contoso.example")
    shows(pane, [renewal])
    pane.fill("#domain", "")
    pane.fill("#sequence", f"Q4 {tag}")
    shows(pane, [renewal, pricing])
    pane.fill("#step", "2")
    shows(pane, [renewal])
    pane.fill("#step", "")
    pane.fill("#sequence", "")
    pane.fill("#q", f"pricing {tag}")
    shows(pane, [pricing])
    pane.select_option("#period", "today")
    shows(pane, [pricing])

    pane.fill("#q", tag)
    shows(pane, [renewal, pricing])
    entry = article(pane, other["thread_id"])
    assert entry.locator("xpath=ancestor::section[@data-category]").get_attribute("data-category") == "other"
    entry.locator('button[data-action="pin"]').click()
    pane.wait_for_selector(f'section[data-category="pinned"] article[data-thread-id="{other["thread_id"]}"]')
    pane.select_option("#category", "pinned")
    shows(pane, [renewal])
    article(pane, other["thread_id"]).locator('button[data-action="unpin"]').click()
    shows(pane, [])
    pane.select_option("#category", "other")
    shows(pane, [renewal, pricing])


def test_counter_resets_on_ctrl_double_click_only(signed_in, live):
    message = register(live, f"Counter {uuid.uuid4().hex[:6]}")
    hit_pixel(live, message["pixel_url"])
    pane = open_pane(signed_in, live)
    counter = pane.locator(".engage-counter")
    assert int(counter.inner_text()) >= 1
    counter.dblclick()
    pane.wait_for_timeout(500)
    assert int(counter.inner_text()) >= 1
    counter.dblclick(modifiers=["Control"])
    pane.wait_for_selector('.engage-panel[data-unread="0"]')
    assert live.request("GET", "/api/v1/counter", token=live.token)[1]["unread"] == 0


def test_customization_settings(signed_in, live):
    pane = open_pane(signed_in, live)
    pane.wait_for_selector('#live[data-live="on"]', timeout=10000)
    pane.click("#settings-toggle")
    assert pane.is_checked("#set-auto")
    try:
        with pane.expect_response(lambda r: r.url.endswith("/api/v1/settings") and r.request.method == "PATCH"):
            pane.uncheck("#set-auto")
        assert live.request("GET", "/api/v1/settings", token=live.token)[1]["auto_insert"] is False
        assert pane.evaluate("() => JSON.parse(localStorage.getItem('engage.me')).me.settings.auto_insert") is False

        with pane.expect_response(lambda r: r.url.endswith("/api/v1/settings") and r.request.method == "PATCH"):
            pane.check("#set-notify")
        subject = f"Notify me {uuid.uuid4().hex[:6]}"
        message = register(live, subject)
        hit_pixel(live, message["pixel_url"])
        pane.wait_for_function("(text) => document.getElementById('toast').textContent.includes(text)",
                               arg=f"Opened: “{subject}”")
    finally:
        live.request("PATCH", "/api/v1/settings", {"auto_insert": True, "notify_on_open": False}, token=live.token)


def test_web_panel_works_in_a_plain_browser(browser, live, launch_events):
    message = register(live, f"Web panel {uuid.uuid4().hex[:6]}")
    context = outlook_context(browser, live, launch_events, token=live.token, office=False)
    try:
        opened = []
        context.route("https://outlook.office.com/**",
                      lambda route: (opened.append(route.request.url), route.fulfill(body="Outlook on the web")))
        pane = open_pane(context, live, "/panel")
        assert pane.evaluate("() => document.documentElement.dataset.host") == "browser"
        assert pane.evaluate("() => window.Office === undefined")
        assert not pane.evaluate("() => EngageApi.paneOpen()")  # not Outlook's task pane
        pane.fill("#q", message["subject"])
        shows(pane, [message["subject"]])
        with pane.expect_popup() as popup:
            pane.click("a.engage-open")
        popup.value.wait_for_load_state()
        assert opened and opened[0].startswith("https://outlook.office.com/")
    finally:
        context.close()


@pytest.mark.parametrize("path", ["/addin/taskpane/taskpane.html", "/addin/commands/commands.html", "/panel", "/addin/taskpane/panel.mjs"])
def test_pages_may_be_framed_by_outlook_and_run_pyodide(live, path):
    status, _, headers = live.request("GET", path)
    assert status == 200
    policy = headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://outlook.office.com https://outlook.office365.com" in policy
    assert "https://appsforoffice.microsoft.com 'wasm-unsafe-eval'" in policy
    assert "'unsafe-eval'" not in policy.replace("'wasm-unsafe-eval'", "")
    assert "X-Frame-Options" not in headers


def test_the_rest_of_the_server_keeps_its_strict_headers(live):
    _, _, headers = live.request("GET", "/healthz")
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"


def test_a_re_filed_verdict_changes_the_pane_without_a_reload(signed_in, live):
    """Gmail's proxy loads the image (an open); then the sender's own view is reported
    (POST /threads/self-view, as the extension does): the load was theirs. The open
    pane shows the re-filed hit and the thread's new summary over the live stream."""
    from tests.fixtures.addresses import GOOGLE_PROXY_IP
    from tests.fixtures.agents import GMAIL_PROXY

    message = register(live, f"Refiled {uuid.uuid4().hex[:6]}")
    pane = open_pane(signed_in, live)
    pane.wait_for_selector('#live[data-live="on"]', timeout=10000)
    entry = article(pane, message["thread_id"])
    entry.wait_for(state="attached")
    assert hit_pixel(live, message["pixel_url"], user_agent=GMAIL_PROXY, ip=GOOGLE_PROXY_IP) == 200
    entry.locator('li.engage-event[data-verdict="gmail"][data-counts="true"]').wait_for(state="attached",
                                                                                        timeout=5000)
    opened = entry.locator(".engage-summary").inner_text()
    status, _, _ = live.request("POST", "/api/v1/threads/self-view", {"thread_id": message["thread_id"]},
                                token=live.token)
    assert status == 200
    entry.locator('li.engage-event[data-verdict="self"][data-counts="false"]').wait_for(state="attached",
                                                                                       timeout=5000)
    assert entry.locator('li.engage-event[data-verdict="gmail"]').count() == 0
    assert entry.locator(".engage-summary").inner_text() != opened
