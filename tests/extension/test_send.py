"""Tracking in Gmail compose, end to end: real Chromium with the built extension, the
Gmail double enforcing Trusted Types, a real Engage server. Each test looks at the
body Gmail would send and at what the server registered.

Every test runs against both editors of the Gmail double: "draft" (Gmail's: it sends
its own copy of the body, updated only from the editing events it listens to) and
"dom" (reads innerHTML at Send)."""

from __future__ import annotations

import pytest

from client_py.links import rewrite_links
from client_py.snippet import find_snippet, insert_snippet

from . import harness

pytestmark = pytest.mark.browser

RAE, BOB, SEED_THREAD = harness.RAE, harness.BOB, harness.SEED_THREAD
Compose, outcomes, registered = harness.Compose, harness.outcomes, harness.registered
BUDGET_MS = 400  # shared/constants.js SEND_BUDGET_MS
BODY_WITH_LINK = ('<div dir="ltr">Hi Rae,<div><br></div><div>Our <a href="https://acme.example/pricing?plan=pro&amp;seats=5">'
                  'pricing</a> is attached.</div></div>')


def expected_body(original: str, message: dict, where: str = "last") -> str:
    """client_py's tracked body, computed here on CPython from the body before sending."""
    tracked = {link["url"]: link["tracked_url"] for link in message["links"]}
    return rewrite_links(insert_snippet(original, message["pixel_url"], where), tracked)


def subjects_on_server(ext) -> set[str]:
    return {t["subject"] for t in ext.threads()}


@pytest.fixture(scope="module", autouse=True, params=harness.EDITOR_MODES)
def editor(request, ext):
    """The module's tests once with each editor of the Gmail double, in a tab of its own."""
    page = harness.open_gmail(ext.context, editor=request.param)
    previous, ext.gmail = ext.gmail, page
    assert page.evaluate("() => fakeGmail.editor") == request.param
    yield request.param
    ext.gmail = previous
    page.close()


@pytest.fixture(autouse=True)
def no_trusted_types_violations(ext):
    before = len(ext.fake.csp_reports)
    yield
    assert ext.fake.csp_reports[before:] == [], "a Trusted Types / CSP violation on the Gmail page"


def test_new_email_to_an_external_recipient_is_tracked_before_gmail_reads_it(ext):
    compose = Compose.new(ext, to=[RAE], subject="Proposal for Rae", body=BODY_WITH_LINK)
    compose.wait_toggle(tracked=True, state="auto")
    original = compose.body()

    sent, outcome = compose.send("click")

    assert outcome["applied"] and outcome["reason"] == "auto", outcome
    message = registered(ext, outcome["messageId"])
    assert sent["html"] == expected_body(original, message)
    assert find_snippet(sent["html"]) == message["pixel_url"]
    assert message["subject"] == "Proposal for Rae"
    assert message["mode"] == "auto" and message["client"] == "gmail"
    assert message["thread_id"].startswith("gmail-draft:")
    assert [(r["address"], r["kind"]) for r in message["recipients"]] == [("rae@prospect.example", "external")]
    assert {link["url"] for link in message["links"]} == {
        "https://acme.example/pricing?plan=pro&seats=5", "https://acme.example/"}
    # The tracked link takes the recipient where the sender meant.
    pricing = next(l for l in message["links"] if "pricing" in l["url"])
    assert pricing["tracked_url"] in sent["html"]
    assert harness.recipient_fetch(pricing["tracked_url"]) == (302, "https://acme.example/pricing?plan=pro&seats=5")
    assert outcome["holdFromReleaseMs"] < BUDGET_MS
    assert sent["strays"] == 0  # the editor took no key event for typing


def test_what_the_user_typed_is_sent_byte_identical_with_the_pixel(ext, editor):
    compose = Compose.new(ext, to=[RAE], subject="Typed by hand", body=BODY_WITH_LINK)
    compose.wait_toggle(tracked=True)
    ext.gmail.click(f"{compose.sel} div[g_editable='true'] div")  # into the first line
    ext.gmail.keyboard.press("End")
    ext.gmail.keyboard.type(" Ünïcødé & <tags>, typed.")
    ext.gmail.wait_for_function("(id) => fakeGmail.saved(id) === fakeGmail.body(id)", arg=compose.id)
    original = compose.body()
    assert "Ünïcødé &amp; &lt;tags&gt;, typed." in original
    if editor == "draft":  # Gmail's editor saved what was typed as a draft
        ext.gmail.wait_for_function("(id) => fakeGmail.drafts(id).includes(fakeGmail.body(id))", arg=compose.id)

    sent, outcome = compose.send()

    assert outcome["applied"]
    message = registered(ext, outcome["messageId"])
    assert sent["html"] == expected_body(original, message)
    assert len(harness.PIXEL_RE.findall(sent["html"])) == 1
    assert sent["html"] == sent["dom"]  # what Gmail sent is what the writer saw


def test_ctrl_enter_sends_tracked(ext):
    compose = Compose.new(ext, to=[RAE], subject="Sent with the keyboard")
    compose.wait_toggle(tracked=True)
    original = compose.body()

    sent, outcome = compose.send("shortcut")

    assert outcome["trigger"] == "shortcut" and outcome["applied"]
    assert sent["how"] == "button"  # the extension clicked Send for Gmail after planning
    assert sent["html"] == expected_body(original, registered(ext, outcome["messageId"]))


def test_enter_on_the_focused_send_button_sends_tracked(ext):
    compose = Compose.new(ext, to=[RAE], subject="Sent from the keyboard focus")
    compose.wait_toggle(tracked=True)
    original = compose.body()
    before_sent, before_outcomes = len(ext.fake.sent), outcomes(ext)
    ext.gmail.bring_to_front()
    ext.gmail.focus(f"{compose.sel} div.T-I.aoO")
    ext.gmail.keyboard.press("Enter")
    sent = ext.fake.wait_sent(before_sent + 1, page=ext.gmail)[-1]
    outcome = harness.wait_until(ext.gmail, lambda: harness.new_outcomes(ext, before_outcomes), what="the outcome")[-1]
    assert outcome["trigger"] == "keyboard" and outcome["applied"]
    assert sent["html"] == expected_body(original, registered(ext, outcome["messageId"]))


def test_reply_is_tracked_in_its_gmail_conversation_and_the_quote_is_left_alone(ext):
    compose = Compose.reply(ext, SEED_THREAD)
    compose.wait_toggle(tracked=True)
    original = compose.body()
    assert "https://prospect.example/rfp" in original  # Rae's link, in the quote

    sent, outcome = compose.send()

    message = registered(ext, outcome["messageId"])
    assert message["thread_id"] == SEED_THREAD
    assert message["subject"] == "Re: Pricing for Q3"
    assert sent["html"] == expected_body(original, message)
    assert "https://prospect.example/rfp" in sent["html"]  # quoted links are not tracked
    assert sent["html"].index("engage-pixel") < sent["html"].index("gmail_quote")


def test_forward_to_a_typed_recipient_is_tracked(ext):
    compose = Compose.reply(ext, SEED_THREAD, kind="forward", text="FYI")
    compose.wait_toggle(tracked=False)  # nobody to send to yet
    compose.type_recipient("to", "Dana Lead <dana@lead.example>")
    compose.wait_toggle(tracked=True)
    original = compose.body()

    sent, outcome = compose.send()

    message = registered(ext, outcome["messageId"])
    assert message["subject"] == "Fwd: Pricing for Q3"
    assert [r["address"] for r in message["recipients"]] == ["dana@lead.example"]
    assert sent["html"] == expected_body(original, message)


def test_several_compose_windows_at_once(ext):
    first = Compose.new(ext, to=[RAE], subject="Window one")
    internal = Compose.new(ext, to=[BOB], subject="Window two (internal)")
    third = Compose.new(ext, to=[{"name": "", "address": "max@other.example"}, BOB], subject="Window three")
    first.wait_toggle(tracked=True)
    internal.wait_toggle(tracked=False)
    third.wait_toggle(tracked=True)
    originals = {c.id: c.body() for c in (first, internal, third)}
    before = len(ext.fake.sent)

    for compose in (first, internal, third):  # one after the other, without waiting
        ext.gmail.click(f"{compose.sel} div.T-I.aoO")
    sent = {s["composeId"]: s for s in ext.fake.wait_sent(before + 3, page=ext.gmail)[before:]}

    assert sent[internal.id]["html"] == originals[internal.id]
    pixels = {harness.pixel_of(sent[c.id]["html"]) for c in (first, third)}
    assert None not in pixels and len(pixels) == 2, (
        outcomes(ext)[-3:], [(harness.pixel_of(sent[c.id]["dom"]), sent[c.id]["strays"]) for c in (first, third)])
    assert {"Window one", "Window three"} <= subjects_on_server(ext)
    assert "Window two (internal)" not in subjects_on_server(ext)


def test_internal_only_recipients_leave_the_body_untouched(ext):
    compose = Compose.new(ext, to=[BOB], subject="Lunch on Friday", body=BODY_WITH_LINK)
    compose.wait_toggle(tracked=False, state="auto")
    assert "inside your company" in compose.toggle().get_attribute("title")
    original = compose.body()

    sent, outcome = compose.send()

    assert sent["html"] == original
    assert not outcome["applied"] and outcome["reason"] == "decision"
    assert "Lunch on Friday" not in subjects_on_server(ext)


def test_toggle_tracks_one_internal_email_by_hand_and_pins_it(ext):
    compose = Compose.new(ext, to=[BOB], subject="Tracked by hand")
    compose.wait_toggle(tracked=False)
    compose.toggle().click()
    compose.wait_toggle(tracked=True, state="manual")
    assert compose.toggle().inner_text() == "Tracked · pinned"
    original = compose.body()

    sent, outcome = compose.send()

    message = registered(ext, outcome["messageId"])
    assert message["mode"] == "manual"
    assert sent["html"] == expected_body(original, message)
    thread = ext.thread(message["thread_id"])
    assert thread["pinned"] is True and thread["category"] == "pinned"


def test_toggle_skips_one_external_email(ext):
    compose = Compose.new(ext, to=[RAE], subject="Not this one")
    compose.wait_toggle(tracked=True)
    compose.toggle().click()
    compose.wait_toggle(tracked=False, state="skip")
    original = compose.body()

    sent, outcome = compose.send()

    assert sent["html"] == original and outcome["reason"] == "skipped"
    assert "Not this one" not in subjects_on_server(ext)


def test_plain_text_mode_is_not_tracked_and_the_toggle_says_why(ext):
    compose = Compose.new(ext, to=[RAE], subject="Plain words")
    compose.wait_toggle(tracked=True)
    ext.gmail.click(f"{compose.sel} div.J-JN-M-I[role='button']")  # More options
    ext.gmail.click(f"{compose.sel} [role='menuitemcheckbox']")
    compose.wait_toggle(tracked=False, state="plain")
    assert compose.toggle().inner_text() == "Not tracked: plain text"
    assert "Plain text mode" in compose.toggle().get_attribute("title")
    original = compose.body()

    sent, outcome = compose.send()

    assert sent["plain"] and sent["html"] == original
    assert outcome["reason"] == "plain_text"
    assert "Plain words" not in subjects_on_server(ext)


def test_a_press_dragged_off_send_sends_nothing_and_leaves_no_trace(ext, editor):
    """The user presses Send, thinks again and drags off it: the press had started the
    send path (registered, links rewritten), so all of it is undone: the body is as they
    wrote it (its draft pixel kept), nothing went out, the server forgets the email. The
    Send that follows is tracked as usual, registered once."""
    subject = f"Second thoughts ({editor})"
    compose = Compose.new(ext, to=[RAE], subject=subject, body=BODY_WITH_LINK)
    compose.wait_toggle(tracked=True, state="auto")
    original = compose.body()
    sent_before = len(ext.fake.sent)
    button = ext.gmail.locator(f"{compose.sel} div.T-I.aoO").bounding_box()
    ext.gmail.bring_to_front()
    ext.gmail.mouse.move(button["x"] + button["width"] / 2, button["y"] + button["height"] / 2)
    ext.gmail.mouse.down()
    harness.wait_until(ext.gmail, lambda: subject in subjects_on_server(ext),
                       what="the press to register the email")
    ext.gmail.mouse.move(button["x"] + button["width"] / 2, button["y"] - 200, steps=5)
    ext.gmail.mouse.up()

    harness.wait_until(ext.gmail, lambda: subject not in subjects_on_server(ext), timeout=10,
                       what="the server to forget the email")
    harness.wait_until(ext.gmail, lambda: compose.body() == original and compose.saved() == original,
                       what="the body back as written")
    assert len(ext.fake.sent) == sent_before

    sent, outcome = compose.send()

    assert outcome["applied"], outcome
    message = registered(ext, outcome["messageId"])
    assert sent["html"] == expected_body(original, message)
    assert [t["subject"] for t in ext.threads()].count(subject) == 1


def save_settings(ext, **changes) -> dict:
    harness.save_settings(ext.context, **changes)
    return ext.api("GET", "/api/v1/settings")


def test_settings_from_the_options_page_drive_the_send_path(ext):
    settings = save_settings(ext, blocklist=["partner.example"], insert_at="first")
    assert settings["blocklist"] == ["partner.example"] and settings["insert_at"] == "first"
    try:
        blocked = Compose.new(ext, to=[{"name": "Pat", "address": "pat@partner.example"}], subject="To a partner")
        blocked.wait_toggle(tracked=False)
        assert "blocklist" in blocked.toggle().get_attribute("title")
        original = blocked.body()
        sent, _outcome = blocked.send()
        assert sent["html"] == original

        first_line = Compose.new(ext, to=[RAE], subject="Pixel on the first line")
        first_line.wait_toggle(tracked=True)
        original = first_line.body()
        sent, outcome = first_line.send()
        message = registered(ext, outcome["messageId"])
        assert sent["html"] == expected_body(original, message, where="first")
        assert sent["html"].startswith('<span class="engage-pixel"')

        save_settings(ext, auto_insert=False)
        manual_only = Compose.new(ext, to=[RAE], subject="Automatic tracking off")
        manual_only.wait_toggle(tracked=False)
        assert "off" in manual_only.toggle().get_attribute("title")
        original = manual_only.body()
        sent, _outcome = manual_only.send()
        assert sent["html"] == original
    finally:
        save_settings(ext, blocklist=[], insert_at="last", auto_insert=True)
