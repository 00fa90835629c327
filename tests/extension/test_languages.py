"""Engage for a user whose Chrome and Gmail are in German or French: real Chromium in
that display language (``--lang``, as a German Chrome is) with the built extension, the
Gmail double in the same language (every label translated, as Gmail's are), a real
Engage server. Each test asserts what the user sees: Gmail read correctly whatever its
words, and Engage's own words in the user's language."""

from __future__ import annotations

import re
import secrets

import pytest

from . import harness
from .conftest import make_user, signed_in_session

pytestmark = pytest.mark.browser
RAE, BOB = harness.RAE, harness.BOB

WORDS = {
    "de-DE": {
        "gmail_body": "Nachrichtentext", "gmail_send": "Senden", "gmail_plain": "Nur-Text-Modus",
        "tracked": "Verfolgt", "tracked_title": "Verfolgung: 1 externer Empfänger. Klicken Sie, um diese E-Mail "
                                                 "ohne Verfolgung zu senden.",
        "not_tracked": "Nicht verfolgt", "internal_title": "Alle Empfänger sind in Ihrer Firma. Klicken Sie, um "
                                                           "diese E-Mail von Hand zu verfolgen (sie wird angeheftet).",
        "plain": "Nicht verfolgt: Nur-Text", "pinned": "Verfolgt · angeheftet",
        "panel": ["Angeheftet", "Weitere verfolgte E-Mails"], "search": "Betreff oder Empfänger suchen",
        "today": r"^Heute, \d\d:\d\d$", "opened": "Geöffnet", "summary": "Einmal geöffnet", "device": "Computer",
        "open_email": "E-Mail öffnen", "not_opened": "Noch nicht geöffnet",
        "mark_sent": "Verfolgt · noch nicht geöffnet",
        "options": {"title": "Engage für Gmail: Einstellungen", "#save": "Speichern",
                    "#settings h2": "Verfolgung", "#health-python": "Bereit (gestartet in "},
    },
    "fr-FR": {
        "gmail_body": "Corps du message", "gmail_send": "Envoyer", "gmail_plain": "Mode texte brut",
        "tracked": "Suivi", "tracked_title": "Suivi : 1 destinataire externe. Cliquez pour envoyer celui-ci sans suivi.",
        "not_tracked": "Non suivi", "internal_title": "Tous les destinataires sont dans votre entreprise. Cliquez "
                                                      "pour suivre cet e-mail manuellement (il sera épinglé).",
        "plain": "Non suivi : texte brut", "pinned": "Suivi · épinglé",
        "panel": ["Épinglés", "Autres e-mails suivis"], "search": "Rechercher un objet ou un destinataire",
        "today": r"^Aujourd’hui, \d\d:\d\d$", "opened": "Ouvert", "summary": "Ouvert une fois",
        "device": "Ordinateur", "open_email": "Ouvrir l’e-mail", "not_opened": "Pas encore ouvert",
        "mark_sent": "Suivi · pas encore ouvert",
        "options": {"title": "Engage pour Gmail : paramètres", "#save": "Enregistrer",
                    "#settings h2": "Suivi", "#health-python": "Prêt (démarré en "},
    },
}


@pytest.fixture(scope="module", params=sorted(WORDS), ids=lambda locale: locale.split("-")[0])
def user(request, live, fake_gmail, extension_dir, playwright_instance, tmp_path_factory):
    """A browser in the user's language, signed in; Gmail open (in that language too)."""
    locale = request.param
    email, token = make_user(live, f"{request.module.__name__}_{locale[:2]}")
    with signed_in_session(playwright_instance, extension_dir, tmp_path_factory.mktemp("profile"), live, email,
                           token, fake_gmail, locale=locale) as session:
        session.words = WORDS[locale]
        session.locale = locale
        yield session


def label(compose) -> str:
    return compose.toggle().locator(".engage-toggle-label").inner_text()


def test_gmail_is_in_the_users_language_and_chrome_too(user):
    page = user.gmail
    assert page.evaluate("() => fakeGmail.lang") == user.locale[:2]
    assert harness.sw_eval(user.context, "() => chrome.i18n.getUILanguage()").startswith(user.locale[:2])
    compose = harness.Compose.new(user, to=[RAE], subject="Langue")
    assert page.get_attribute(f"{compose.sel} div[g_editable]", "aria-label") == user.words["gmail_body"]
    assert page.inner_text(f"{compose.sel} div.T-I.aoO") == user.words["gmail_send"]


def test_the_toggle_speaks_the_users_language(user):
    external = harness.Compose.new(user, to=[RAE], subject="Angebot")
    internal = harness.Compose.new(user, to=[BOB], subject="Mittagessen")
    external.wait_toggle(tracked=True)
    internal.wait_toggle(tracked=False)
    assert label(external) == user.words["tracked"]
    assert external.toggle().get_attribute("title") == user.words["tracked_title"]
    assert label(internal) == user.words["not_tracked"]
    assert internal.toggle().get_attribute("title") == user.words["internal_title"]
    internal.toggle().click()
    internal.wait_toggle(tracked=True, state="manual")
    assert label(internal) == user.words["pinned"]


def test_plain_text_mode_in_gmails_language_is_recognised_and_sent_untracked(user):
    compose = harness.Compose.new(user, to=[RAE], subject="Nur Text")
    compose.wait_toggle(tracked=True)
    user.gmail.click(f"{compose.sel} div.J-JN-M-I[role='button']")  # More options
    assert user.gmail.inner_text(f"{compose.sel} [role='menuitemcheckbox']") == user.words["gmail_plain"]
    user.gmail.click(f"{compose.sel} [role='menuitemcheckbox']")
    compose.wait_toggle(tracked=False, state="plain")
    assert label(compose) == user.words["plain"]
    original = compose.body()

    sent, outcome = compose.send()

    assert sent["plain"] and sent["html"] == original and outcome["reason"] == "plain_text"


def test_a_tracked_email_and_its_open_in_the_panel_in_the_users_language(user):
    compose = harness.Compose.new(user, to=[RAE], subject="Quarterly review",
                                  body='<div dir="ltr">See <a href="https://acme.example/demo">the demo</a>.</div>')
    compose.wait_toggle(tracked=True)
    sent, outcome = compose.send()
    assert outcome["applied"] and len(harness.PIXEL_RE.findall(sent["html"])) == 1
    message = harness.registered(user, outcome["messageId"])

    panel = harness.open_side_panel(user.context)
    panel.wait_for_selector(".engage-panel")
    thread = f'article.engage-thread[data-thread-id="{message["thread_id"]}"]'
    panel.wait_for_selector(thread, state="attached")
    assert [h.text_content() for h in panel.locator(".engage-category h2").all()] == user.words["panel"]
    assert panel.get_attribute("#q", "placeholder") == user.words["search"]
    assert panel.locator(f"{thread} .engage-summary").inner_text() == user.words["not_opened"]
    assert re.match(user.words["today"], panel.locator(f"{thread} .engage-when").inner_text())
    assert panel.locator(f"{thread} .engage-open").inner_text() == user.words["open_email"]

    assert harness.recipient_fetch(message["pixel_url"]) == (200, None)
    event = panel.locator(f'{thread} li.engage-event[data-verdict="human"]')
    event.wait_for(state="attached", timeout=10000)  # the live stream, on a loaded machine
    panel.click(f"{thread} [data-action='toggle']")
    assert event.locator(".engage-kind").inner_text() == user.words["opened"]
    assert event.locator(".engage-device").inner_text() == user.words["device"]
    assert re.match(user.words["today"], event.locator("time").inner_text())
    assert panel.locator(f"{thread} .engage-summary").inner_text().startswith(user.words["summary"])


def test_the_marks_in_gmails_list_speak_the_users_language(user):
    thread_id = "18" + secrets.token_hex(7)
    user.api("POST", "/api/v1/messages", {"subject": "Angebot", "recipients": [RAE], "thread_id": thread_id,
                                          "mode": "manual", "client": "gmail", "links": []})
    page = user.gmail
    page.evaluate("(id) => { fakeGmail.addThreads([{id, subject: 'Angebot', sent: true}]); fakeGmail.show('#sent'); }",
                  thread_id)
    mark = page.locator(f'tr.zA:has([data-legacy-thread-id="{thread_id}"]) [data-engage-mark]')
    mark.wait_for(timeout=10000)
    assert mark.get_attribute("title") == user.words["mark_sent"]


def test_the_options_page_speaks_the_users_language(user):
    page = harness.options_page(user.context)
    page.reload()
    page.wait_for_selector("#settings:not([hidden])")
    words = dict(user.words["options"])
    assert page.title() == words.pop("title")
    assert page.evaluate("() => document.documentElement.lang").startswith(user.locale[:2])
    for selector, text in words.items():
        assert page.locator(selector).inner_text().startswith(text), selector
