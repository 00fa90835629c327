"""The Gmail double's editor is as unkind as Gmail's (gmail.js #802, #170; InboxSDK's
``_triggerDraftSave``), and content/editor_signal.js gets a change into it: tested on
the page alone, without the extension, in real Chromium."""

from __future__ import annotations

import pytest

from .conftest import content_script

pytestmark = pytest.mark.browser

PIXEL = "http://t.example/p/TokenTokenTokenToken.gif"


def gmail_page(browser, fake_gmail, editor, hl="en"):
    page = browser.new_page()
    page.goto(f"{fake_gmail.url}/mail/u/0/?editor={editor}&hl={hl}#inbox")
    page.wait_for_function("document.documentElement.dataset.fakeGmailReady === 'true'")
    assert page.evaluate("() => [fakeGmail.editor, fakeGmail.lang]") == [editor, hl]
    return page


# Both editors, and Gmail in German and French: its labels change, its editor does not.
@pytest.fixture(params=[("draft", "en"), ("dom", "en"), ("draft", "de"), ("dom", "fr")], ids="-".join)
def page(request, plain_browser, fake_gmail):
    page = gmail_page(plain_browser, fake_gmail, *request.param)
    yield page
    page.close()


@pytest.fixture(params=["en", "de", "fr"])
def draft_page(request, plain_browser, fake_gmail):
    page = gmail_page(plain_browser, fake_gmail, "draft", request.param)
    page.evaluate(content_script("editor_signal.js"))
    yield page
    page.close()


def compose(page, text="Hi Rae"):
    return page.evaluate("(t) => fakeGmail.compose({to: [{name: '', address: 'rae@prospect.example'}], text: t})", text)


def append_pixel_without_telling(page, cid):
    """A content script's DOM edit with no event: what Engage did before."""
    page.evaluate("""([id, src]) => {
        const body = document.querySelector('[data-test-compose="' + id + '"] [g_editable]');
        const img = document.createElement('img');
        img.setAttribute('src', src);
        body.append(img);
    }""", [cid, PIXEL])


def send(page, cid) -> dict:
    page.click(f'[data-test-compose="{cid}"] div.T-I.aoO')
    return page.evaluate("(id) => fakeGmail.sent.find(s => s.composeId === id)", cid)


def test_a_change_gmails_editor_did_not_see_is_not_sent(page):
    cid = compose(page)
    before = page.evaluate("(id) => fakeGmail.body(id)", cid)
    append_pixel_without_telling(page, cid)
    page.wait_for_timeout(50)

    sent = send(page, cid)

    if sent["editor"] == "draft":
        assert sent["html"] == before  # Gmail sends the copy it saved
        assert "TokenToken" in sent["dom"]
    else:
        assert "TokenToken" in sent["html"]  # the kind double reads the DOM


def test_what_the_user_types_is_saved_as_a_draft_and_sent(page):
    cid = compose(page, text="")
    page.click(f'[data-test-compose="{cid}"] [g_editable] div')
    page.keyboard.type("Typed, as a person would.")
    page.wait_for_function("(id) => fakeGmail.drafts(id).some(d => d.includes('as a person would'))", arg=cid)

    sent = send(page, cid)

    assert "Typed, as a person would." in sent["html"] and sent["html"] == sent["dom"]


def test_a_synthetic_key_event_in_the_task_of_the_change_types_a_stray_character(draft_page):
    cid = compose(draft_page)
    draft_page.evaluate("""(id) => {
        const body = document.querySelector('[data-test-compose="' + id + '"] [g_editable]');
        body.firstElementChild.append(document.createTextNode(' and more'));
        for (const type of ['keydown', 'keypress', 'keyup'])  // at once: Gmail takes it for typing
            body.dispatchEvent(new KeyboardEvent(type, {bubbles: true, cancelable: true, keyCode: 190, charCode: 0}));
    }""", cid)
    draft_page.wait_for_timeout(30)

    sent = send(draft_page, cid)

    assert sent["strays"] == 1 and "and more\u00be" in sent["html"]


def test_editor_signal_gets_a_change_into_gmails_copy_without_a_stray_character(draft_page):
    cid = compose(draft_page)
    append_pixel_without_telling(draft_page, cid)
    took = draft_page.evaluate("""async (id) => {
        const body = document.querySelector('[data-test-compose="' + id + '"] [g_editable]');
        const announced = EngageEditor.changed(body);
        const before = fakeGmail.saved(id) === body.innerHTML;
        await EngageEditor.settled(body);
        await announced;
        return {before, after: fakeGmail.saved(id) === body.innerHTML, noticed: fakeGmail.noticed(id)};
    }""", cid)
    assert took == {"before": False, "after": True, "noticed": 3}  # keydown, keypress, keyup

    sent = send(draft_page, cid)

    assert sent["strays"] == 0
    assert "TokenToken" in sent["html"] and sent["html"] == sent["dom"]
    draft_page.wait_for_function("(id) => fakeGmail.drafts(id).some(d => d.includes('TokenToken'))", arg=cid)


GMAIL_WORDS = {  # Gmail's own: the body's label and the Send button
    "en": ("Message Body", "Send"), "de": ("Nachrichtentext", "Senden"), "fr": ("Corps du message", "Envoyer"),
}


def test_every_label_is_in_gmails_language_and_the_structure_is_not(page):
    cid = compose(page)
    lang = page.evaluate("() => fakeGmail.lang")
    sel = f'[data-test-compose="{cid}"]'
    assert (page.get_attribute(f"{sel} div[g_editable='true'][contenteditable]", "aria-label"),
            page.inner_text(f"{sel} div.T-I.aoO[role=button]")) == GMAIL_WORDS[lang]
    assert page.locator(f"{sel} input[name=subjectbox]").count() == 1
    assert page.locator(f"{sel} input[name=composeid]").count() == 1
