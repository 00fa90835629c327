"""The tracking image goes into Gmail's draft as soon as the email is known to be
tracked (content/draft_pixel.js), so that the draft Gmail saves while the user writes
carries it (gmail.js #802, #170); it comes out again when the email stops being
tracked; Send re-checks it (one pixel, client_py's place) and rewrites the links.

Real Chromium with the built extension and a real Engage server; the Gmail double in
both of its modes ("draft": Gmail's editor, which sends its saved copy; "dom": reads
innerHTML at Send), one in German and one in French (its labels translated, as
Gmail's are: nothing here may depend on them).

A draft reopened later (a page reload, Drafts) carries the pixel an earlier page put
in: it is adopted, never left in an untracked email, never doubled, and a quoted
email's pixel is never touched."""

from __future__ import annotations

import secrets

import pytest

from client_py.links import find_trackable_links, rewrite_links
from client_py.snippet import build_snippet, find_snippet, insert_snippet, remove_snippet

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


# -- a draft reopened with the pixel an earlier page put in ------------------------------
def old_pixel(ext) -> str:
    """A pixel address of this account's shape (send_flow.js pixelUrlOf), never registered."""
    return f"{ext.server.url}/p/{secrets.token_urlsafe(16)}.gif"


def reopen(ext, to, subject, pixel: str) -> tuple[Compose, str]:
    """A compose opened on a saved draft that carries ``pixel`` the way an earlier page
    left it (client_py's snippet, locked); returns it and the body as the user wrote it."""
    original = BODY + ext.gmail.evaluate("() => fakeGmail.signature")
    locked = build_snippet(pixel).replace('"><img', f'"{LOCKED}><img', 1)
    draft = insert_snippet(original, pixel).replace(build_snippet(pixel), locked)
    assert remove_snippet(draft) == original and LOCKED in draft
    compose_id = ext.gmail.evaluate("(o) => fakeGmail.compose(o)", {"to": to, "subject": subject, "bodyHtml": draft})
    return Compose(ext, compose_id), original


def test_a_reopened_draft_sent_untracked_goes_without_its_old_pixel(ext, gmail):
    compose, original = reopen(ext, [BOB], f"Reopened, to a colleague ({gmail})", old_pixel(ext))
    compose.wait_toggle(tracked=False)
    compose.wait_draft_pixel(present=False)  # withdrawn from the draft, Gmail's copy too
    assert compose.saved() == original == compose.body()

    sent, outcome = compose.send()

    assert not outcome["applied"] and outcome["reason"] == "decision", outcome
    assert sent["html"] == original == sent["dom"] and not pixels(sent["html"])


def test_a_reopened_draft_sent_tracked_goes_with_its_one_pixel_registered(ext, gmail):
    pixel = old_pixel(ext)
    compose, original = reopen(ext, [RAE], f"Reopened, tracked ({gmail})", pixel)
    compose.wait_toggle(tracked=True)
    assert compose.wait_draft_pixel() == pixel  # adopted, not replaced
    assert pixels(compose.saved()) == [pixel] and compose.saved().count(LOCKED) == 1

    sent, outcome = compose.send()

    assert outcome["applied"] and outcome["workerTimings"]["replanned"] is False, outcome
    message = harness.registered(ext, outcome["messageId"])
    assert message["pixel_url"] == pixel  # the draft's token is the one registered
    assert pixels(sent["html"]) == [pixel]
    assert sent["html"] == tracked_body(original, message) == sent["dom"]


@pytest.fixture(scope="module")
def colleague(ext):
    """Another account on the same server (a draft written there, reopened here)."""
    return ext.server.create_user(email="carl-draft-pixel@other.example", org="Other draft-pixel",
                                  domains=("other.example",))


def test_a_reopened_draft_whose_token_another_account_holds_goes_with_a_fresh_pixel(ext, gmail, colleague):
    pixel = old_pixel(ext)
    token = pixel.rsplit("/", 1)[1].removesuffix(".gif")
    status, theirs, _ = ext.server.request("POST", "/api/v1/messages", {
        "subject": "Carl's", "recipients": [RAE], "thread_id": f"carl-{gmail}", "mode": "auto",
        "client": "gmail", "links": [], "pixel_token": token}, token=colleague)
    assert status == 201 and theirs["pixel_url"] == pixel
    compose, original = reopen(ext, [RAE], f"Reopened, token taken ({gmail})", pixel)
    compose.wait_toggle(tracked=True)
    assert compose.wait_draft_pixel() == pixel

    sent, outcome = compose.send()  # the server refuses the token (409): a fresh one

    assert outcome["applied"], outcome
    message = harness.registered(ext, outcome["messageId"])
    assert message["pixel_url"] != pixel and pixels(sent["html"]) == [message["pixel_url"]]
    assert sent["html"] == tracked_body(original, message) == sent["dom"]  # the user's text as written
    status, still, _ = ext.server.request("GET", f"/api/v1/messages/{theirs['id']}", token=colleague)
    assert status == 200 and still["pixel_url"] == pixel


def quote_of(html: str) -> str:
    return html[html.index('<div class="gmail_quote'):]


def test_a_reply_and_a_forward_leave_the_quoted_emails_pixel_as_it_was(ext, gmail):
    # Rae's email in the thread was tracked with a pixel of this very server (her
    # company uses it too): in the reply and the forward it is quoted content.
    quoted = old_pixel(ext)
    ext.gmail.evaluate("([t, from, html]) => fakeGmail.receive(t, from, html)",
                       [harness.SEED_THREAD, RAE, f'<div dir="ltr">Here is the RFP.</div>{build_snippet(quoted)}'])

    reply = Compose.reply(ext, harness.SEED_THREAD)  # to Rae: tracked, a pixel of its own
    reply.wait_toggle(tracked=True)
    own = reply.wait_draft_pixel()
    original = reply.user_body()
    assert own != quoted and quoted in quote_of(original)
    sent, outcome = reply.send()
    assert outcome["applied"], outcome
    message = harness.registered(ext, outcome["messageId"])
    assert pixels(sent["html"]) == [message["pixel_url"], quoted]
    assert quote_of(sent["html"]) == quote_of(original)  # byte for byte
    assert sent["html"] == tracked_body(original, message) == sent["dom"]

    # Forwarded to a colleague: untracked; the quote (now the reply, with both pixels) stays.
    forward = Compose.reply(ext, harness.SEED_THREAD, kind="forward")
    forward.type_recipient("to", BOB["address"])
    forward.wait_toggle(tracked=False)
    original = forward.body()
    assert quoted in quote_of(original) and message["pixel_url"] in quote_of(original)
    sent, outcome = forward.send()
    assert not outcome["applied"], outcome
    assert sent["html"] == original == sent["dom"]
