"""The "Track Email Opens" button (a function command) in the real runtime page, with
Pyodide and client_py, against a running server; Outlook is the Office.js double."""

from __future__ import annotations

import uuid
from urllib.parse import quote

import pytest

from client_py.snippet import find_snippet

from .conftest import hit_pixel, open_commands, outlook_context

pytestmark = pytest.mark.browser

BODY = ('<html><body><div>Hi Bob,</div><div>Our prices: <a href="https://shop.example.org/pricing">pricing</a>'
        '</div><div>-- Ann</div></body></html>')


def compose(subject: str, body: str = BODY, **extra) -> dict:
    return {"subject": subject, "body": body, "conversationId": f"conv-{uuid.uuid4()}",
            "to": [{"displayName": "Bob Client", "emailAddress": "bob@client.example"}], **extra}


def press(runtime, subject: str, **item) -> dict:
    """Put a new compose item in Outlook, press the button, return the item after."""
    runtime.evaluate("(spec) => __officeDouble.setItem(spec)", compose(subject, **item))
    done = runtime.evaluate("() => __officeDouble.invoke('trackEmailOpens')")
    assert done["calls"] == 1 and done["options"] is None  # event.completed() once
    return runtime.evaluate("() => __officeDouble.item()")


def send(runtime, event: str = "OnMessageSend") -> dict:
    done = runtime.evaluate("(type) => __officeDouble.launch(type)", event)
    assert done["calls"] == 1 and done["options"] == {"allowEvent": True}
    item = runtime.evaluate("() => __officeDouble.item()")
    assert item["sent"] is True
    return item


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


def test_button_queues_the_pixel_for_the_last_line_and_registers_on_send(runtime, live):
    subject = f"Quote {uuid.uuid4().hex[:8]}"
    item = press(runtime, subject)
    # Nothing written into the body and nothing registered yet: the image is queued
    # with appendOnSendAsync and the email is registered when it is sent.
    assert item["body"] == BODY
    [queued] = item["queuedOnSend"]["append"]
    assert 'class="engage-pixel"' in queued and not item["queuedOnSend"]["prepend"]
    [notice] = item["notifications"]
    assert notice["type"] == "informationalMessage"
    assert notice["message"] == ("Engage will track opens of this email when you send it "
                                 "(tracking image on the last line).")
    assert threads_about(live, subject) == []

    again = runtime.evaluate("() => __officeDouble.invoke('trackEmailOpens')")
    assert again["calls"] == 1
    after = runtime.evaluate("() => __officeDouble.item()")
    assert after["queuedOnSend"]["append"] == [queued]
    assert after["notifications"][0]["message"] == "Engage already tracks opens of this email."

    delivered = send(runtime)["delivered"]["body"]
    assert delivered.count('class="engage-pixel"') == 1
    assert pixel_place(delivered) == "last"
    assert "https://shop.example.org/pricing" not in delivered and f'href="{live.url}/c/' in delivered
    [thread] = threads_about(live, subject)
    assert thread["pinned"] is True  # tracked by hand
    assert [m["mode"] for m in thread["messages"]] == ["manual"]
    assert hit_pixel(live, find_snippet(delivered)) == 200
    runtime.wait_for_timeout(100)
    for _ in range(50):  # the writer stores hits within moments
        if threads_about(live, subject)[0]["opens"] == 1:
            break
        runtime.wait_for_timeout(100)
    assert threads_about(live, subject)[0]["opens"] == 1


def test_two_quick_presses_queue_once(runtime, live):
    subject = f"Twice {uuid.uuid4().hex[:8]}"
    runtime.evaluate("(spec) => __officeDouble.setItem(spec)", compose(subject))
    both = runtime.evaluate("() => Promise.all([__officeDouble.invoke('trackEmailOpens'),"
                            " __officeDouble.invoke('trackEmailOpens')])")
    assert [b["calls"] for b in both] == [1, 1]
    assert len(runtime.evaluate("() => __officeDouble.item().queuedOnSend.append")) == 1
    assert send(runtime)["delivered"]["body"].count('class="engage-pixel"') == 1
    assert len(threads_about(live, subject)[0]["messages"]) == 1


def test_with_the_task_pane_open_the_pixel_goes_on_the_first_line(context, runtime, live):
    pane = context.new_page()
    try:
        pane.goto(f"{live.url}/addin/taskpane/taskpane.html")
        pane.wait_for_function("() => document.documentElement.dataset.host === 'outlook'")
        item = press(runtime, f"Pane {uuid.uuid4().hex[:8]}")
        assert len(item["queuedOnSend"]["prepend"]) == 1  # prependOnSendAsync (Mailbox 1.13)
        assert pixel_place(send(runtime)["delivered"]["body"]) == "first"
    finally:
        pane.close()
    # Closed: back to the user's setting (the last line by default).
    runtime.wait_for_function("() => !EngageApi.paneOpen()")
    press(runtime, f"Closed {uuid.uuid4().hex[:8]}")
    assert pixel_place(send(runtime)["delivered"]["body"]) == "last"


def test_the_users_setting_can_ask_for_the_first_line(runtime, live):
    assert live.request("PATCH", "/api/v1/settings", {"insert_at": "first"}, token=live.token)[0] == 200
    try:
        runtime.evaluate("() => localStorage.removeItem('engage.me')")  # as the task pane does on a change
        press(runtime, f"Setting {uuid.uuid4().hex[:8]}")
        assert pixel_place(send(runtime)["delivered"]["body"]) == "first"
    finally:
        live.request("PATCH", "/api/v1/settings", {"insert_at": "last"}, token=live.token)
        runtime.evaluate("() => localStorage.removeItem('engage.me')")


def test_plain_text_email_gets_a_notification_saying_why(runtime, live):
    subject = f"Plain {uuid.uuid4().hex[:8]}"
    item = press(runtime, subject, format="text", body="Hi Bob,\nsee you Tuesday.\n-- Ann")
    assert item["body"] == "Hi Bob,\nsee you Tuesday.\n-- Ann"
    [notice] = item["notifications"]
    assert notice["type"] == "errorMessage"
    assert "plain text" in notice["message"] and "HTML" in notice["message"]
    assert item["queuedOnSend"] == {"append": [], "prepend": []}
    assert send(runtime)["delivered"]["body"] == "Hi Bob,\nsee you Tuesday.\n-- Ann"
    assert threads_about(live, subject) == []


def test_meeting_invite_is_tracked_from_its_attendees(runtime, live):
    subject = f"Demo call {uuid.uuid4().hex[:8]}"
    press(runtime, subject, itemType="appointment", conversationId=None, to=None,
          requiredAttendees=[{"displayName": "Dee", "emailAddress": "dee@client.example"}])
    item = send(runtime, "OnAppointmentSend")
    assert item["delivered"]["body"].count('class="engage-pixel"') == 1
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
        assert "engage-pixel" not in item["body"] and item["queuedOnSend"]["append"] == []
    finally:
        context.close()


def test_in_classic_outlook_on_windows_the_button_says_it_cannot_track(runtime, live):
    """There the button runs in a browser, but OnMessageSend runs commands.js alone (the
    JavaScript-only runtime), which cannot register anything: an image queued now would
    go out and its opens be counted nowhere, after a promise to track them."""
    subject = f"Classic {uuid.uuid4().hex[:8]}"
    runtime.evaluate("() => __officeDouble.setPlatform('PC')")
    try:
        item = press(runtime, subject)
    finally:
        runtime.evaluate("() => __officeDouble.setPlatform('OfficeOnline')")
    [notice] = item["notifications"]
    assert notice["type"] == "errorMessage"
    assert notice["message"] == "This Outlook cannot run Engage's tracking: use Outlook on the web or the new Outlook."
    assert item["queuedOnSend"] == {"append": [], "prepend": []} and "engage" not in item["customProperties"]
