"""Automatic insertion through the launch events, in the real runtime page: emails and
meeting invites with an external, non-blocklisted recipient get the pixel (queued when
the recipients call for it, added by Outlook on send) and tracked links; others go
untouched; the send is never held beyond its budget, whatever the server, Outlook or
Pyodide do."""

from __future__ import annotations

import uuid
from urllib.parse import quote

import pytest

from client_py.snippet import find_snippet

from .conftest import hit_pixel, open_commands, open_runtime, outlook_context

pytestmark = pytest.mark.browser

BODY = ('<html><body><div>Hello,</div><div>Agenda: <a href="https://docs.example.org/agenda">agenda</a></div>'
        '<div>-- Ann</div></body></html>')
EXTERNAL = {"displayName": "Bob Client", "emailAddress": "bob@client.example"}
COLLEAGUE = {"displayName": "Cat Colleague", "emailAddress": "cat@acme.example"}
BLOCKED = {"displayName": "Dan Partner", "emailAddress": "dan@blocked.example"}


@pytest.fixture(scope="module")
def blocklist(live):
    assert live.request("PATCH", "/api/v1/settings", {"blocklist": ["blocked.example"]}, token=live.token)[0] == 200
    yield
    live.request("PATCH", "/api/v1/settings", {"blocklist": []}, token=live.token)


@pytest.fixture(scope="module")
def runtime(browser, live, launch_events, blocklist):
    context = outlook_context(browser, live, launch_events, token=live.token)
    page = open_runtime(context, live)
    yield page
    context.close()


def item_for(kind: str, recipients: list[dict], subject: str) -> dict:
    if kind == "meeting":
        return {"itemType": "appointment", "subject": subject, "body": BODY, "requiredAttendees": recipients}
    return {"subject": subject, "body": BODY, "conversationId": f"conv-{uuid.uuid4()}", "to": recipients}


def send(page, item: dict) -> tuple[dict, dict]:
    """Compose ``item`` (Outlook runs the compose event), then send it."""
    page.evaluate("(spec) => __officeDouble.setItem(spec)", item)
    appointment = item.get("itemType") == "appointment"
    compose = page.evaluate("(type) => __officeDouble.launch(type)",
                            "OnNewAppointmentOrganizer" if appointment else "OnNewMessageCompose")
    assert compose["calls"] == 1
    done = page.evaluate("(type) => __officeDouble.launch(type)", "OnAppointmentSend" if appointment else "OnMessageSend")
    return done, page.evaluate("() => __officeDouble.item()")


def registered(live, subject: str) -> list[dict]:
    status, page, _ = live.request("GET", f"/api/v1/threads?q={quote(subject)}", token=live.token)
    assert status == 200
    return [m for t in page["threads"] for m in t["messages"]]


@pytest.mark.parametrize(("case", "kind", "recipients", "tracked"), [
    ("email to an external recipient", "email", [EXTERNAL], True),
    ("email to a colleague and an external recipient", "email", [COLLEAGUE, EXTERNAL], True),
    ("email only to colleagues", "email", [COLLEAGUE], False),
    ("email only to a blocklisted domain and colleagues", "email", [BLOCKED, COLLEAGUE], False),
    ("meeting invite with an external attendee", "meeting", [COLLEAGUE, EXTERNAL], True),
    ("meeting invite only to colleagues", "meeting", [COLLEAGUE], False),
])
def test_send_tracks_external_recipients_only(runtime, live, case, kind, recipients, tracked):
    subject = f"Auto {uuid.uuid4().hex[:8]}"
    done, item = send(runtime, item_for(kind, recipients, subject))
    assert done["calls"] == 1 and done["options"] == {"allowEvent": True}, case
    assert item["sent"] is True
    messages = registered(live, subject)
    delivered = item["delivered"]["body"]
    if tracked:
        assert delivered.count('class="engage-pixel"') == 1, case
        assert f'href="{live.url}/c/' in delivered
        assert [(m["mode"], m["kind"], m["external"]) for m in messages] == [("auto", kind, True)]
    else:
        assert delivered == BODY, case
        assert messages == []


def test_email_tracked_by_hand_is_not_tracked_again_on_send(runtime, live):
    subject = f"Manual then send {uuid.uuid4().hex[:8]}"
    runtime.evaluate("(spec) => __officeDouble.setItem(spec)", item_for("email", [EXTERNAL], subject))
    runtime.evaluate("() => __officeDouble.invoke('trackEmailOpens')")
    runtime.evaluate("() => __officeDouble.launch('OnMessageRecipientsChanged', {changedRecipientFields: {to: true}})")
    done = runtime.evaluate("() => __officeDouble.launch('OnMessageSend')")
    assert done["options"] == {"allowEvent": True}
    assert runtime.evaluate("() => __officeDouble.item().delivered.body").count('class="engage-pixel"') == 1
    assert [m["mode"] for m in registered(live, subject)] == ["manual"]


def test_setting_off_sends_untouched(runtime, live):
    assert live.request("PATCH", "/api/v1/settings", {"auto_insert": False}, token=live.token)[0] == 200
    try:
        runtime.evaluate("() => localStorage.removeItem('engage.me')")  # as the task pane does on a change
        subject = f"Setting off {uuid.uuid4().hex[:8]}"
        done, item = send(runtime, item_for("email", [EXTERNAL], subject))
        assert done["options"] == {"allowEvent": True}
        assert item["delivered"]["body"] == BODY and registered(live, subject) == []
    finally:
        live.request("PATCH", "/api/v1/settings", {"auto_insert": True}, token=live.token)
        runtime.evaluate("() => localStorage.removeItem('engage.me')")


def test_server_down_at_send_the_email_goes_with_its_pixel_and_is_registered_later(runtime, live):
    subject = f"Down {uuid.uuid4().hex[:8]}"
    runtime.route(f"{live.url}/api/v1/messages", lambda route: route.abort("connectionrefused"))
    try:
        done, item = send(runtime, item_for("email", [EXTERNAL], subject))
    finally:
        runtime.unroute(f"{live.url}/api/v1/messages")
    assert done["options"] == {"allowEvent": True}
    assert done["ms"] < 2500
    assert item["sent"] is True and item["delivered"]["body"].count('class="engage-pixel"') == 1
    assert registered(live, subject) == []
    # The next time the runtime runs, the registration it kept goes through, with the
    # pixel token that went out: the open is then counted.
    runtime.evaluate("(spec) => __officeDouble.setItem(spec)", item_for("email", [COLLEAGUE], "Next one"))
    runtime.evaluate("() => __officeDouble.launch('OnNewMessageCompose')")
    runtime.wait_for_function("() => JSON.parse(localStorage.getItem('engage.outbox') || '[]').length === 0")
    [message] = registered(live, subject)
    assert message["mode"] == "auto"
    assert hit_pixel(live, find_snippet(item["delivered"]["body"])) == 200


def test_server_that_never_answers_cannot_hold_the_email(runtime, live):
    runtime.evaluate("() => { window.ENGAGE_SEND_BUDGET_MS = 1500; }")
    runtime.route(f"{live.url}/api/v1/messages", lambda route: None)  # never answered
    try:
        done, item = send(runtime, item_for("email", [EXTERNAL], f"Hang {uuid.uuid4().hex[:8]}"))
        assert done["options"] == {"allowEvent": True}
        assert 1000 <= done["ms"] <= 1600  # it waited for the server, within the budget
        runtime.wait_for_timeout(300)
        # The image went (queued before the send), the links were not rewritten.
        assert item["delivered"]["body"] == BODY.replace("</body>", find_snippet_markup(item) + "</body>")
    finally:
        runtime.unroute(f"{live.url}/api/v1/messages")
        runtime.evaluate("() => { delete window.ENGAGE_SEND_BUDGET_MS; localStorage.removeItem('engage.outbox'); }")


def find_snippet_markup(item: dict) -> str:
    [snippet] = item["queuedOnSend"]["append"]
    return snippet


def test_slow_engine_boot_never_blocks_sending(browser, live, launch_events):
    """Pyodide still loading when the user sends: nothing was prepared, the decision
    needs no Python (not tracked), the email goes untouched, well within 3 seconds."""
    item = item_for("email", [EXTERNAL], f"Cold start {uuid.uuid4().hex[:8]}")
    context = outlook_context(browser, live, launch_events, token=live.token, item=item)
    context.route("**/addin/pyodide/pyodide.asm.wasm", lambda route: None)  # the download never ends
    try:
        page = open_commands(context, live)
        page.evaluate("() => { __officeDouble.launch('OnNewMessageCompose'); }")  # waits for the engine
        done = page.evaluate("() => __officeDouble.launch('OnMessageSend')")
        assert done["options"] == {"allowEvent": True}
        assert done["ms"] < 3000
        assert page.evaluate("() => EngageApi.engineState()") == "starting"
        assert page.evaluate("() => __officeDouble.item().delivered.body") == BODY
    finally:
        context.close()


def test_recipient_changes_preview_automatic_tracking(runtime, live):
    runtime.evaluate("(spec) => __officeDouble.setItem(spec)", item_for("email", [COLLEAGUE], "Preview"))
    assert runtime.evaluate("() => __officeDouble.launch('OnNewMessageCompose')")["calls"] == 1
    assert runtime.evaluate("() => __officeDouble.item().notifications") == []
    assert runtime.evaluate("() => __officeDouble.item().queuedOnSend.append") == []

    runtime.evaluate("""() => new Promise((resolve) => Office.context.mailbox.item.to.addAsync(
        [{displayName: 'Bob Client', emailAddress: 'bob@client.example'}], resolve))""")
    done = runtime.evaluate("() => __officeDouble.launch('OnMessageRecipientsChanged', {changedRecipientFields: {to: true}})")
    assert done["calls"] == 1 and done["options"] is None
    [notice] = runtime.evaluate("() => __officeDouble.item().notifications")
    assert notice["type"] == "informationalMessage"
    assert notice["message"] == "Engage will track opens of this email when you send it (1 external recipient)."
    assert len(runtime.evaluate("() => __officeDouble.item().queuedOnSend.append")) == 1

    runtime.evaluate("() => new Promise((resolve) => Office.context.mailbox.item.to.setAsync([], resolve))")
    runtime.evaluate("() => __officeDouble.launch('OnMessageRecipientsChanged', {changedRecipientFields: {to: true}})")
    assert runtime.evaluate("() => __officeDouble.item().notifications") == []
    assert runtime.evaluate("() => __officeDouble.item().queuedOnSend.append") == []  # taken out again
    runtime.evaluate("() => new Promise((resolve) => Office.context.mailbox.item.to.setAsync([], resolve))")
    done = runtime.evaluate("() => __officeDouble.launch('OnMessageSend')")
    assert done["options"] == {"allowEvent": True}
    assert runtime.evaluate("() => __officeDouble.item().delivered.body") == BODY
    assert registered(live, "Preview") == []


def test_plain_text_to_an_external_recipient_says_it_will_not_be_tracked(runtime, live):
    """It used to say "Engage will track opens of this email" and then send it untracked."""
    subject = f"Plain {uuid.uuid4().hex[:8]}"
    runtime.evaluate("(spec) => __officeDouble.setItem(spec)", {
        "subject": subject, "format": "text", "body": "Hi Bob,\nthe agenda: https://docs.example.org/agenda\n-- Ann",
        "conversationId": f"conv-{uuid.uuid4()}", "to": [EXTERNAL]})
    runtime.evaluate("() => __officeDouble.launch('OnNewMessageCompose')")
    [notice] = runtime.evaluate("() => __officeDouble.item().notifications")
    assert notice["message"].startswith("Engage: not tracked: plain text.")
    done = runtime.evaluate("() => __officeDouble.launch('OnMessageSend')")
    assert done["options"] == {"allowEvent": True}
    assert runtime.evaluate("() => __officeDouble.item().delivered.body") == (
        "Hi Bob,\nthe agenda: https://docs.example.org/agenda\n-- Ann")
    assert registered(live, subject) == []


def test_javascript_only_runtime_of_classic_outlook_sends_untouched(browser, live, launch_events):
    """Classic Outlook on Windows loads commands.js alone (the manifest's JSRuntime
    override): no engine, no API client. Every event still completes at once."""
    item = item_for("email", [EXTERNAL], "Classic Outlook")
    context = outlook_context(browser, live, launch_events, token=live.token, item=item)
    try:
        page = context.new_page()
        page.goto(f"{live.url}/addin/support.html")  # any page of ours: just a document to run in
        page.add_script_tag(url="https://appsforoffice.microsoft.com/lib/1/hosted/office.js")  # the double
        page.add_script_tag(url=f"{live.url}/addin/commands/commands.js")
        assert page.evaluate("() => window.EngageApi === undefined")
        done = page.evaluate("() => __officeDouble.launch('OnMessageSend')")
        assert done["options"] == {"allowEvent": True} and done["ms"] < 500
        assert page.evaluate("() => __officeDouble.launch('OnNewMessageCompose')")["calls"] == 1
        assert page.evaluate("() => __officeDouble.item().body") == BODY
    finally:
        context.close()
