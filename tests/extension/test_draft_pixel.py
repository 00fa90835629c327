"""The tracking image goes into Gmail's draft as soon as the email is known to be
tracked (content/draft_pixel.js), so that the draft Gmail saves while the user writes
carries it (gmail.js #802, #170); it comes out again when the email stops being
tracked; Send re-checks it (one pixel, client_py's place) and rewrites the links.

Real Chromium with the built extension and a real Engage server; the Gmail double in
both of its modes ("draft": Gmail's editor, which sends its saved copy; "dom": reads
innerHTML at Send), one in German and one in French (its labels translated, as
Gmail's are: nothing here may depend on them)."""

from __future__ import annotations

import pytest

from client_py.links import find_trackable_links, rewrite_links
from client_py.snippet import find_snippet, insert_snippet, remove_snippet

from . import harness

pytestmark = pytest.mark.browser

RAE, BOB, Compose = harness.RAE, harness.BOB, harness.Compose
BODY = ('<div dir="ltr">Hi Rae,<div><br></div><div>Our <a href="https://acme.example/pricing">pricing</a>, '
        'and Ünïcødé &amp; &lt;tags&gt;.</div></div>')


@pytest.fixture(scope="module", autouse=True, params=[("draft", "de"), ("dom", "fr")], ids=lambda p: "-".join(p))
def gmail(request, ext):
    editor, hl = request.param
    page = harness.open_gmail(ext.context, editor=editor, hl=hl)
    previous, ext.gmail = ext.gmail, page
    assert page.evaluate("() => [fakeGmail.editor, fakeGmail.lang]") == [editor, hl]
    yield editor
    ext.gmail = previous
    page.close()


@pytest.fixture(autouse=True)
def no_trusted_types_violations(ext):
    before = len(ext.fake.csp_reports)
    yield
    assert ext.fake.csp_reports[before:] == [], "a Trusted Types / CSP violation on the Gmail page"


LOCKED = ' contenteditable="false"'  # on the draft's pixel wrapper (content/draft_pixel.js)


def pixels(html: str) -> list[str]:
    return harness.PIXEL_RE.findall(html)


def hrefs(html: str) -> list[str]:
    return [link["url"] for link in find_trackable_links(html)]


def tracked_body(original: str, message: dict) -> str:
    tracked = {link["url"]: link["tracked_url"] for link in message["links"]}
    return rewrite_links(insert_snippet(original, message["pixel_url"]), tracked)


def test_the_draft_gets_the_pixel_when_a_recipient_makes_it_tracked(ext, gmail):
    compose = Compose.new(ext, to=[BOB], subject=f"Pricing, draft first ({gmail})", body=BODY)
    compose.wait_toggle(tracked=False)  # a colleague: no pixel
    original = compose.body()
    assert "data-engage-pixel" not in original and compose.saved() == original

    compose.type_recipient("to", RAE["address"])
    compose.wait_toggle(tracked=True)
    pixel = compose.wait_draft_pixel()

    draft = compose.saved()
    assert pixels(draft) == [pixel] and remove_snippet(draft) == original
    # client_py's snippet in client_py's place; not editable in the draft, so the caret
    # cannot go into its zero-height box (Chromium puts it there on Ctrl+End).
    assert draft.count(LOCKED) == 1 and draft.replace(LOCKED, "") == insert_snippet(original, pixel)
    assert hrefs(draft) == hrefs(original)  # links are rewritten only at Send
    if gmail == "draft":  # Gmail autosaved the draft with the pixel in it
        ext.gmail.wait_for_function("([id, p]) => fakeGmail.drafts(id).some(d => d.includes(p))",
                                    arg=[compose.id, pixel])
    assert not any(t["subject"] == f"Pricing, draft first ({gmail})" for t in ext.threads())  # nothing registered yet

    # The user goes on writing at the very end, after the signature, where the pixel is.
    ext.gmail.click(f"{compose.sel} div[g_editable='true'] div")
    ext.gmail.keyboard.press("Control+End")
    ext.gmail.keyboard.type("P.S. Call me.")
    ext.gmail.wait_for_function("(id) => fakeGmail.saved(id) === fakeGmail.body(id)", arg=compose.id)
    original = compose.user_body()
    assert "P.S. Call me." in original  # outside the pixel's box (remove_snippet kept it), so it is seen

    sent, outcome = compose.send()

    assert outcome["applied"] and sent["strays"] == 0
    assert outcome["workerTimings"]["replanned"] is False  # one trip to Python at Send (prepare_send)
    message = harness.registered(ext, outcome["messageId"])
    assert message["pixel_url"] == pixel  # registered with the draft's pixel
    assert sent["html"] == tracked_body(original, message) == sent["dom"]
    assert pixels(sent["html"]) == [pixel]
    assert message["links"][0]["tracked_url"] in sent["html"]


def test_the_pixel_comes_out_when_the_email_stops_being_tracked(ext, gmail):
    compose = Compose.new(ext, to=[RAE], subject="Changed my mind", body=BODY)
    compose.wait_toggle(tracked=True)
    original = compose.user_body()

    compose.toggle().click()  # send this one untracked
    compose.wait_toggle(tracked=False, state="skip")
    compose.wait_draft_pixel(present=False)
    assert compose.saved() == original == compose.body()

    compose.toggle().click()  # tracked again: a pixel again
    compose.wait_toggle(tracked=True, state="auto")
    compose.toggle().click()
    compose.wait_toggle(tracked=False, state="skip")
    compose.wait_draft_pixel(present=False)

    sent, outcome = compose.send()

    assert not outcome["applied"] and outcome["reason"] == "skipped"
    assert sent["html"] == original  # byte for byte what the user wrote


def test_send_puts_back_a_pixel_the_user_deleted_and_never_sends_two(ext, gmail):
    deleted = Compose.new(ext, to=[RAE], subject="Pixel deleted", body=BODY)
    doubled = Compose.new(ext, to=[RAE], subject="Pixel doubled", body=BODY)
    for compose in (deleted, doubled):
        compose.wait_toggle(tracked=True)
    originals = {c.id: c.user_body() for c in (deleted, doubled)}
    # Edits Gmail's editor sees (an input event, as typing gives): the user selects the
    # image and deletes it; Gmail duplicates it (a paste of the last line, say).
    ext.gmail.evaluate("""([gone, two]) => {
        const bodyOf = (id) => document.querySelector('[data-test-compose="' + id + '"] [g_editable]');
        const a = bodyOf(gone);
        a.querySelector('[data-engage-pixel]').remove();
        a.dispatchEvent(new InputEvent('input', {bubbles: true}));
        const b = bodyOf(two);
        b.querySelector('div').append(b.querySelector('[data-engage-pixel]').cloneNode(true));
        b.dispatchEvent(new InputEvent('input', {bubbles: true}));
    }""", [deleted.id, doubled.id])
    ext.gmail.wait_for_function("(ids) => ids.every(id => fakeGmail.saved(id) === fakeGmail.body(id))",
                                arg=[deleted.id, doubled.id])
    assert len(pixels(doubled.saved())) == 2

    for compose in (deleted, doubled):
        sent, outcome = compose.send()
        assert outcome["applied"], outcome
        message = harness.registered(ext, outcome["messageId"])
        assert pixels(sent["html"]) == [message["pixel_url"]] and find_snippet(sent["html"]) == message["pixel_url"]
        assert sent["html"] == tracked_body(originals[compose.id], message) == sent["dom"]


def test_an_email_sent_untracked_goes_without_the_drafts_pixel(ext, gmail):
    # Tracked while written, then a colleague only, just before Send (the send path
    # decides again, or the toggle follows first): sent as the user wrote it, no pixel.
    compose = Compose.new(ext, to=[RAE], subject="Recipients changed at the last moment", body=BODY)
    compose.wait_toggle(tracked=True)
    original = compose.user_body()
    ext.gmail.evaluate("""([id, bob]) => {
        const row = document.querySelector('[data-test-compose="' + id + '"] [name="to"]');
        const chip = row.querySelector('.afV');
        chip.setAttribute('data-hovercard-id', bob.address);
        chip.setAttribute('data-name', bob.name);
    }""", [compose.id, BOB])

    sent, outcome = compose.send()

    assert not outcome["applied"], outcome
    assert sent["html"] == original and not pixels(sent["html"])
