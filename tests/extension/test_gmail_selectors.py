"""content/gmail_selectors.js against the Gmail double: each lookup finds what it should,
and still finds it when the hooks its preferred selectors rely on are gone (Gmail
renamed a class, another language changed a label): every fallback is exercised."""

from __future__ import annotations

import pytest

from . import harness
from .conftest import content_script

pytestmark = pytest.mark.browser


@pytest.fixture
def gmail(plain_browser, fake_gmail):
    page = plain_browser.new_page()
    page.goto(f"{fake_gmail.url}/mail/u/0/#inbox")
    page.wait_for_function("document.documentElement.dataset.fakeGmailReady === 'true'")
    page.evaluate(content_script("gmail_selectors.js"))
    yield page
    page.close()


def new_compose(page, **options) -> str:
    defaults = {"to": [harness.RAE, harness.BOB], "subject": "Hello there", "text": "Hi"}
    return page.evaluate("(o) => fakeGmail.compose(o)", {**defaults, **options})


def lookup(page, compose_id: str, expression: str):
    """Evaluate ``expression`` with ``G`` (EngageGmail) and ``c`` (the compose root)."""
    return page.evaluate(f"""(id) => {{
        const G = EngageGmail;
        const c = document.querySelector('[data-test-compose="' + id + '"]');
        return {expression};
    }}""", compose_id)


def test_a_new_compose_is_read_completely(gmail):
    cid = new_compose(gmail)
    gmail.wait_for_timeout(600)  # Gmail's first autosave gives the draft its id
    found = lookup(gmail, cid, """({
        bodies: G.bodies().length,
        root: G.composeOf(G.bodyOf(c)) === c,
        fromSend: G.composeOf(G.sendButtonOf(c)) === c,
        sendAt: (() => { const s = G.sendButtonOf(c), inner = document.createElement('span'); s.append(inner);
                          return G.sendButtonAt(inner) === s && G.sendButtonAt(G.bodyOf(c)) === null; })(),
        subject: G.subjectOf(c),
        recipients: G.recipientsOf(c),
        draft: G.draftIdOf(c),
        thread: G.threadIdOf(c),
        plain: G.isPlainText(c),
        toolbar: G.toolbarOf(c).row.tagName,
    })""")
    assert found == {
        "bodies": 1, "root": True, "fromSend": True, "sendAt": True, "subject": "Hello there",
        "recipients": [{"name": "Rae Prospect", "address": "rae@prospect.example"},
                       {"name": "Bob Builder", "address": "bob@acme.example"}],
        "draft": found["draft"], "thread": "", "plain": False, "toolbar": "TR",
    }
    assert found["draft"].startswith("#msg-a:r-")


def test_several_composes_are_told_apart(gmail):
    first, second = new_compose(gmail), new_compose(gmail, to=[], subject="Second")
    assert gmail.evaluate("() => EngageGmail.bodies().length") == 2
    assert lookup(gmail, second, "G.composeOf(G.sendButtonOf(c)) === c && G.recipientsOf(c).length === 0")
    assert lookup(gmail, first, "G.recipientsOf(c).length") == 2


def test_an_inline_reply_belongs_to_its_conversation(gmail):
    cid = gmail.evaluate("(t) => fakeGmail.reply(t, 'Sure')", harness.SEED_THREAD)
    found = lookup(gmail, cid, "({thread: G.threadIdOf(c), subject: G.subjectOf(c), open: G.openThreadId(document),"
                               " to: G.recipientsOf(c).map(r => r.address), root: G.composeOf(G.bodyOf(c)) === c})")
    assert found == {"thread": harness.SEED_THREAD, "subject": "Re: Pricing for Q3", "open": harness.SEED_THREAD,
                     "to": ["rae@prospect.example"], "root": True}


def test_plain_text_mode_is_recognised(gmail):
    cid = new_compose(gmail)
    sel = harness.compose_selector(cid)
    gmail.click(f"{sel} div.J-JN-M-I[role='button']")  # More options
    gmail.click(f"{sel} [role='menuitemcheckbox']")
    assert lookup(gmail, cid, "G.isPlainText(c)") is True


def test_pixels_behind_gmails_proxy_are_found_in_shown_messages_only(gmail):
    pixel = "http://t.example/p/TokenTokenTokenToken.gif"
    gmail.evaluate("""(pixel) => {
        const c = fakeGmail.compose({to: [], text: 'x'});
        fakeGmail.setBody(c, '<img src="' + pixel + '">');  // in an editor: not a view
        const shown = document.createElement('div');
        shown.className = 'a3s aiL';
        const img = document.createElement('img');
        img.setAttribute('src', 'https://ci3.googleusercontent.com/meips/abc=s0-d-e1-ft#' + pixel);
        shown.append(img);
        document.getElementById('main').append(shown);
    }""", pixel)
    found = gmail.evaluate("(base) => EngageGmail.pixelImages(document.documentElement, base)"
                           ".map(i => EngageGmail.unproxied(i.getAttribute('src')))", "http://t.example")
    assert found == [pixel]


# (lookup, JavaScript that removes the hooks of the selectors tried before, check)
FALLBACKS = [
    ("body", "", "G.bodyOf(c) && G.bodyOf(c).isContentEditable"),
    ("body", "b.classList.remove('Am')", "G.bodyOf(c) && G.bodyOf(c).isContentEditable"),
    ("body", "b.classList.remove('Am'); b.removeAttribute('g_editable')", "G.bodyOf(c).isContentEditable"),
    ("body", "b.classList.remove('Am'); b.removeAttribute('g_editable'); b.removeAttribute('role')",
     "G.bodyOf(c).isContentEditable"),
    ("sendButton", "s.classList.remove('aoO')", "G.sendButtonOf(c).textContent === 'Send'"),
    ("sendButton", "s.classList.remove('aoO'); s.closest('td').classList.remove('Up')",
     "G.sendButtonOf(c).textContent === 'Send'"),
    ("sendButton", "s.classList.remove('aoO'); s.closest('td').classList.remove('Up'); s.removeAttribute('data-tooltip')",
     "G.sendButtonOf(c).textContent === 'Send'"),
    ("composeRoot", "c.removeAttribute('role')", "G.composeOf(G.bodyOf(c)) === c"),
    ("subject", "c.querySelector('[name=subjectbox]').setAttribute('name', 'subject')", "G.subjectOf(c) === 'Hello there'"),
    ("subject", "c.querySelector('[name=subjectbox]').removeAttribute('name')", "G.subjectOf(c) === 'Hello there'"),
    ("recipientChip", """c.querySelectorAll('[data-hovercard-id]').forEach(chip => {
        const span = document.createElement('span');
        span.setAttribute('email', chip.getAttribute('data-hovercard-id'));
        span.setAttribute('name', chip.getAttribute('data-name'));
        chip.replaceWith(span); })""",
     "JSON.stringify(G.recipientsOf(c).map(r => r.address)) === '[\"rae@prospect.example\",\"bob@acme.example\"]'"),
    ("recipientField", """c.querySelectorAll('[data-hovercard-id]').forEach(chip => chip.remove());
        const to = document.createElement('input'); to.type = 'hidden'; to.name = 'to';
        to.value = 'Rae Prospect <rae@prospect.example>, bob@acme.example'; c.querySelector('form').append(to)""",
     "G.recipientsOf(c)[0] === 'Rae Prospect <rae@prospect.example>, bob@acme.example'"),
    ("toolbarRow", "c.querySelector('tr.btC').classList.remove('btC')", "G.toolbarOf(c).after === G.sendButtonOf(c)"),
]


@pytest.mark.parametrize(("name", "break_js", "check"), FALLBACKS,
                         ids=[f"{name}-{i}" for i, (name, _b, _c) in enumerate(FALLBACKS)])
def test_fallbacks(gmail, name, break_js, check):
    cid = new_compose(gmail)
    assert lookup(gmail, cid, f"""(() => {{
        const b = G.bodyOf(c), s = G.sendButtonOf(c);
        {break_js};
        return {check};
    }})()""") is True


def test_thread_heading_fallback_and_the_url(gmail):
    gmail.evaluate("(t) => fakeGmail.show('#inbox/' + t)", harness.SEED_THREAD)
    gmail.evaluate("() => document.querySelector('h2.hP').classList.remove('hP')")
    assert gmail.evaluate("() => EngageGmail.openThreadId(document)") == harness.SEED_THREAD
    gmail.evaluate("() => document.querySelector('h2').removeAttribute('data-legacy-thread-id')")
    assert gmail.evaluate("() => EngageGmail.openThreadId(document)") == harness.SEED_THREAD  # from the URL


# Gmail in the user's language: the double's every label translated, as Gmail's are.
LANGUAGES = {
    "de": {"body": "Nachrichtentext", "send": "Senden", "plain": "Nur-Text-Modus"},
    "fr": {"body": "Corps du message", "send": "Envoyer", "plain": "Mode texte brut"},
    "es": {"body": "Cuerpo del mensaje", "send": "Enviar", "plain": "Modo de texto sin formato"},
    # Languages Engage's own words do not cover: Gmail's must still be read.
    "ja": {"body": "メッセージ本文", "send": "送信", "plain": "プレーン テキスト モード"},
    "pl": {"body": "Treść wiadomości", "send": "Wyślij", "plain": "Tryb zwykłego tekstu"},
}


@pytest.fixture(params=sorted(LANGUAGES))
def localized_gmail(request, plain_browser, fake_gmail):
    page = plain_browser.new_page()
    page.goto(f"{fake_gmail.url}/mail/u/0/?hl={request.param}#inbox")
    page.wait_for_function("document.documentElement.dataset.fakeGmailReady === 'true'")
    page.evaluate(content_script("gmail_selectors.js"))
    yield page, LANGUAGES[request.param]
    page.close()


def test_gmail_in_another_language_is_read_completely(localized_gmail):
    page, words = localized_gmail
    cid = new_compose(page)
    sel = harness.compose_selector(cid)
    assert page.get_attribute(f"{sel} div[g_editable]", "aria-label") == words["body"]  # the page is translated
    found = lookup(page, cid, """({
        body: G.bodyOf(c) === c.querySelector('[g_editable]'),
        send: G.sendButtonOf(c).textContent,
        root: G.composeOf(G.bodyOf(c)) === c,
        subject: G.subjectOf(c),
        recipients: G.recipientsOf(c).map(r => r.address),
        plain: G.isPlainText(c),
    })""")
    assert found == {"body": True, "send": words["send"], "root": True, "subject": "Hello there",
                     "recipients": ["rae@prospect.example", "bob@acme.example"], "plain": False}
    page.click(f"{sel} div.J-JN-M-I[role='button']")  # More options
    page.click(f"{sel} [role='menuitemcheckbox']")
    assert page.inner_text(f"{sel} [role='menuitemcheckbox']") == words["plain"]
    assert lookup(page, cid, "G.isPlainText(c)") is True


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_the_localized_label_fallbacks_find_the_body_and_send(plain_browser, fake_gmail, language):
    """With every structural hook gone, the words of the page's language still work."""
    page = plain_browser.new_page()
    try:
        page.goto(f"{fake_gmail.url}/mail/u/0/?hl={language}#inbox")
        page.wait_for_function("document.documentElement.dataset.fakeGmailReady === 'true'")
        page.evaluate(content_script("gmail_selectors.js"))
        cid = new_compose(page)
        assert lookup(page, cid, """(() => {
            const b = G.bodyOf(c), s = G.sendButtonOf(c);
            b.classList.remove('Am'); b.removeAttribute('g_editable'); b.removeAttribute('role');
            s.classList.remove('aoO'); s.closest('td').classList.remove('Up');
            return G.bodyOf(c) === b && G.sendButtonOf(c) === s;
        })()""") is True
    finally:
        page.close()


def test_an_unchecked_menu_item_or_another_checked_one_is_not_plain_text(gmail):
    cid = new_compose(gmail)
    assert lookup(gmail, cid, """(() => {
        const other = document.createElement('div');
        other.setAttribute('role', 'menuitemcheckbox');
        other.setAttribute('aria-checked', 'true');
        other.textContent = 'Standardm\u00e4\u00dfig im Vollbildmodus';  // "Default to full screen"
        c.querySelector('[role=menu]').append(other);
        return G.isPlainText(c);
    })()""") is False


# -- thread lists and shown messages (content/list_marks.js) -------------------------
LIST_THREADS = [{"id": "18c2f0a1b2c3d4f1", "subject": "One", "sent": True},
                {"id": "18c2f0a1b2c3d4f2", "subject": "Two", "sent": True},
                {"id": "18c2f0a1b2c3d4f3", "subject": "No ids", "sent": True, "noId": True}]


@pytest.fixture
def sent_list(gmail):
    gmail.evaluate("(t) => { fakeGmail.addThreads(t); fakeGmail.show('#sent'); }", LIST_THREADS)
    return gmail


def row_ids(page) -> list:
    return page.evaluate("() => EngageGmail.threadRows(document).map(r => EngageGmail.rowThreadId(r))")


def test_thread_rows_and_their_ids(sent_list):
    assert row_ids(sent_list) == ["18c2f0a1b2c3d4f1", "18c2f0a1b2c3d4f2", ""]
    # The mark goes before the subject, inside the row.
    assert sent_list.evaluate("""() => EngageGmail.threadRows(document)
        .map(r => EngageGmail.rowMarkAnchor(r)?.className)""")[:2] == ["y6", "y6"]


# (JavaScript that removes the hooks the preferred selectors rely on, expected ids)
ROW_FALLBACKS = [
    # Gmail renamed the row class: the grid row of the main area.
    ("document.querySelectorAll('tr.zA').forEach(r => r.classList.remove('zA'))", None),
    # ... and dropped the grid role: any row naming a thread (the row without ids is not one).
    ("document.querySelectorAll('tr.zA').forEach(r => r.classList.remove('zA'));"
     "document.querySelector('table.F').removeAttribute('role')", ["18c2f0a1b2c3d4f1", "18c2f0a1b2c3d4f2"]),
    # Only the permanent id ("#thread-f:<decimal>"), as some Gmail views have it.
    ("document.querySelectorAll('[data-legacy-thread-id]').forEach(s => s.removeAttribute('data-legacy-thread-id'))",
     None),
    # Garbage in the ids: no id, no error.
    ("document.querySelectorAll('[data-legacy-thread-id]').forEach(s => {"
     " s.setAttribute('data-legacy-thread-id', 'javascript:alert(1)'); s.setAttribute('data-thread-id', '#thread-f:x'); })",
     ["", "", ""]),
]


@pytest.mark.parametrize(("break_js", "expected"), ROW_FALLBACKS)
def test_thread_row_fallbacks(sent_list, break_js, expected):
    sent_list.evaluate(f"() => {{ {break_js}; }}")
    assert row_ids(sent_list) == (expected or ["18c2f0a1b2c3d4f1", "18c2f0a1b2c3d4f2", ""])


def test_shown_messages_senders_and_where_their_mark_goes(gmail):
    gmail.evaluate("""() => fakeGmail.addThreads([{id: '18c2f0a1b2c3d4f9', subject: 'Chat', messages: [
        {sent: true, html: '<div>Hi</div>'}, {sent: false, html: '<div>Hello</div>'}]}])""")
    gmail.evaluate("() => fakeGmail.show('#sent/18c2f0a1b2c3d4f9')")
    found = gmail.evaluate("""() => EngageGmail.shownMessages(document).map(m =>
        [EngageGmail.senderOf(m), EngageGmail.messageMarkAnchor(m).className])""")
    assert found == [["ann@acme.example", "gH"], ["rae@prospect.example", "gH"]]
    # Fallbacks: no legacy message id, then no header cell.
    gmail.evaluate("""() => document.querySelectorAll('div.adn').forEach(m => {
        m.removeAttribute('data-legacy-message-id'); m.querySelector('.gH').className = 'other'; })""")
    found = gmail.evaluate("""() => EngageGmail.shownMessages(document).map(m =>
        [EngageGmail.senderOf(m), EngageGmail.messageMarkAnchor(m).className])""")
    assert found == [["ann@acme.example", "g3"], ["rae@prospect.example", "g3"]]


@pytest.mark.parametrize(("param", "expected"), [
    ("18c2f0a1b2c3d4f1", "18c2f0a1b2c3d4f1"),
    (f"#thread-f:{int('18c2f0a1b2c3d4f1', 16)}|msg-f:{int('18c2f0a1b2c3d4f1', 16)}", "18c2f0a1b2c3d4f1"),
    ("javascript:alert(1)", ""),
    ("", ""),
])
def test_the_sent_toasts_message_id(gmail, param, expected):
    found = gmail.evaluate("""(param) => {
        const toast = document.getElementById('toast');
        const link = document.createElement('span');
        link.id = 'link_vsm'; link.setAttribute('param', param); link.textContent = 'View message';
        toast.replaceChildren(link);
        return [EngageGmail.sentMessageId(document), EngageGmail.sentMessageId(toast),
                EngageGmail.sentMessageId(document.getElementById('gmail'))];
    }""", param)
    assert found == [expected, expected, ""]
