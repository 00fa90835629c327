"""The "Track Email Opens" button (a function command) in the real runtime page, with
Pyodide and client_py, against a running server; Outlook is the Office.js double."""

from __future__ import annotations

import uuid
from urllib.parse import quote

import pytest

from client_py.snippet import find_snippet

from .conftest import open_commands, open_runtime, outlook_context

pytestmark = pytest.mark.browser

BODY = ('<html><body><div>Hi Bob,</div><div>Our prices: <a href="https://shop.example.org/pricing">pricing</a>'
        '</div><div>-- Ann</div></body></html>')


def compose(subject: str, body: str = BODY, **extra) -> dict:
    return {"subject": subject, "body": body, "conversationId": f"conv-{uuid.uuid4()}",
            "to": [{"displayName": "Bob Client", "emailAddress": "bob@client.example"}], **extra}


@pytest.fixture(scope="module")
def context(browser, live, launch_events):
    context = outlook_context(browser, live, launch_events, token=live.token)
    yield context
    context.close()


@pytest.fixture(scope="module")
def runtime(context, live):
    return open_runtime(context, live)


def press(runtime, subject: str, **item) -> dict:
    """Put a new compose item in Outlook, press the button, return the item after."""
    runtime.evaluate("(spec) => __officeDouble.setItem(spec)", compose(subject, **item))
    done = runtime.evaluate("() => __officeDouble.invoke('trackEmailOpens')")
    assert done["calls"] == 1 and done["options"] is None  # event.completed() once
    return runtime.evaluate("() => __officeDouble.item()")


def threads_about(live, subject: str) -> list[dict]:
    status, page, _ = live.request("GET", f"/api/v1/threads?q={quote(subject)}", token=live.token)
    assert status == 200
    return page["threads"]


def pixel_place(body: str) -> str:
    start = body.index('class="engage-pixel"')
    if start < body.index("Hi Bob"):
        return "first"
    assert start > body.index("-- Ann") and start < body.index("</body>")
    return "last"


def test_button_puts_the_pixel_on_the_last_line_once_and_confirms(runtime, live):
    subject = f"Quote {uuid.uuid4().hex[:8]}"
    item = press(runtime, subject)
    body = item["body"]
    assert body.count('class="engage-pixel"') == 1
    assert pixel_place(body) == "last"
    assert find_snippet(body).startswith(f"{live.url}/p/")
    assert "https://shop.example.org/pricing" not in body and f'href="{live.url}/c/' in body
    [notice] = item["notifications"]
    assert notice["type"] == "informationalMessage"
    assert notice["message"].startswith("Engage will track opens of this email")
    [thread] = threads_about(live, subject)
    assert thread["pinned"] is True  # tracked by hand
    assert [m["mode"] for m in thread["messages"]] == ["manual"]

    again = runtime.evaluate("() => __officeDouble.invoke('trackEmailOpens')")
    assert again["calls"] == 1
    after = runtime.evaluate("() => __officeDouble.item()")
    assert after["body"] == body
    assert after["notifications"][0]["message"] == "Engage already tracks opens of this email."
    assert len(threads_about(live, subject)[0]["messages"]) == 1


def test_two_quick_presses_insert_once(runtime, live):
    subject = f"Twice {uuid.uuid4().hex[:8]}"
    runtime.evaluate("(spec) => __officeDouble.setItem(spec)", compose(subject))
    both = runtime.evaluate("() => Promise.all([__officeDouble.invoke('trackEmailOpens'),"
                            " __officeDouble.invoke('trackEmailOpens')])")
    assert [b["calls"] for b in both] == [1, 1]
    body = runtime.evaluate("() => __officeDouble.item().body")
    assert body.count('class="engage-pixel"') == 1
    assert len(threads_about(live, subject)[0]["messages"]) == 1


def test_with_the_task_pane_open_the_pixel_goes_on_the_first_line(context, runtime, live):
    pane = context.new_page()
    try:
        pane.goto(f"{live.url}/addin/taskpane/taskpane.html")
        pane.wait_for_function("() => document.documentElement.dataset.host === 'outlook'")
        body = press(runtime, f"Pane {uuid.uuid4().hex[:8]}")["body"]
        assert pixel_place(body) == "first"
    finally:
        pane.close()
    # Closed: back to the user's setting (the last line by default).
    runtime.wait_for_function("() => !EngageApi.paneOpen()")
    assert pixel_place(press(runtime, f"Closed {uuid.uuid4().hex[:8]}")["body"]) == "last"


def test_the_users_setting_can_ask_for_the_first_line(runtime, live):
    assert live.request("PATCH", "/api/v1/settings", {"insert_at": "first"}, token=live.token)[0] == 200
    try:
        assert pixel_place(press(runtime, f"Setting {uuid.uuid4().hex[:8]}")["body"]) == "first"
    finally:
        live.request("PATCH", "/api/v1/settings", {"insert_at": "last"}, token=live.token)


def test_plain_text_email_gets_a_notification_saying_why(runtime, live):
    subject = f"Plain {uuid.uuid4().hex[:8]}"
    item = press(runtime, subject, format="text", body="Hi Bob,\nsee you Tuesday.\n-- Ann")
    assert item["body"] == "Hi Bob,\nsee you Tuesday.\n-- Ann"
    [notice] = item["notifications"]
    assert notice["type"] == "errorMessage"
    assert "plain text" in notice["message"] and "HTML" in notice["message"]
    assert threads_about(live, subject) == []


def test_meeting_invite_is_tracked_from_its_attendees(runtime, live):
    subject = f"Demo call {uuid.uuid4().hex[:8]}"
    item = press(runtime, subject, itemType="appointment", conversationId=None, to=None,
                 requiredAttendees=[{"displayName": "Dee", "emailAddress": "dee@client.example"}])
    assert item["body"].count('class="engage-pixel"') == 1
    [thread] = threads_about(live, subject)
    assert thread["messages"][0]["kind"] == "meeting"
    assert thread["thread_id"] == item["customProperties"]["engageThreadId"]


def test_signed_out_button_asks_to_sign_in(browser, live, launch_events):
    context = outlook_context(browser, live, launch_events, token=None, item=compose("Nobody signed in"))
    try:
        page = open_commands(context, live)
        assert page.evaluate("() => __officeDouble.invoke('trackEmailOpens')")["calls"] == 1
        item = page.evaluate("() => __officeDouble.item()")
        assert item["notifications"][0]["type"] == "errorMessage"
        assert "Sign in" in item["notifications"][0]["message"]
        assert "engage-pixel" not in item["body"]
    finally:
        context.close()
