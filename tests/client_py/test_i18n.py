"""The panel in the user's language: client_py.i18n's catalogue, dates, times and
numbers, and the rendered panel in German, French and Spanish (values in, values out;
these run on CPython and in Pyodide)."""

import re
import string

import pytest
from panel_fixtures import NOW, event, message

from client_py import i18n
from client_py.panel import build_panel, thread_summary
from client_py.present import format_time, format_time_full
from client_py.render import render_panel


@pytest.mark.parametrize(("tag", "expected"), [
    ("de-DE", "de"), ("de", "de"), ("fr-CA", "fr"), ("es-419", "es"), ("es_MX", "es"), ("EN-gb", "en"),
    ("pt-BR", "en"), ("", "en"), (None, "en"), (42, "en"), (" fr ", "fr"),
])
def test_language_from_a_display_language_tag(tag, expected):
    assert i18n.language(tag) == expected


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("key", sorted(i18n.MESSAGES))
def test_every_message_has_every_language_with_the_same_placeholders(key):
    entry = i18n.MESSAGES[key]
    assert set(entry) == set(i18n.LANGUAGES)
    english = entry["en"]
    for lang, value in entry.items():
        assert isinstance(value, type(english)), (key, lang)
        forms = value if isinstance(value, tuple) else (value,)
        english_forms = english if isinstance(english, tuple) else (english,)
        assert len(forms) == len(english_forms)
        for form, english_form in zip(forms, english_forms):
            assert form.strip() and fields(form) == fields(english_form), (key, lang, form)


@pytest.mark.parametrize(("n", "lang", "expected"), [
    (7, "en", "7"), (1234, "en", "1,234"), (1234567, "en", "1,234,567"),
    (1234, "de", "1.234"), (1234567, "de", "1.234.567"),
    (1234, "fr", "1\u202f234"), (-1234567, "fr", "-1\u202f234\u202f567"),
    (1234, "es", "1234"), (12345, "es", "12.345"),  # Spanish groups from five digits (CLDR)
])
def test_numbers(n, lang, expected):
    assert i18n.number(n, lang) == expected


@pytest.mark.parametrize(("iso", "now", "lang", "expected"), [
    ("2026-11-27T08:05:00Z", NOW, "de", "Heute, 09:05"),
    ("2026-11-26T17:40:00Z", NOW, "de", "Gestern, 18:40"),
    ("2026-11-23T14:10:00Z", NOW, "de", "Mo., 23. Nov., 15:10"),
    ("2025-03-24T14:10:00Z", NOW, "de", "Mo., 24. März 2025, 15:10"),
    ("2026-11-27T08:05:00Z", NOW, "fr", "Aujourd’hui, 09:05"),
    ("2026-11-26T17:40:00Z", NOW, "fr", "Hier, 18:40"),
    ("2026-11-23T14:10:00Z", NOW, "fr", "lun. 23 nov., 15:10"),
    ("2026-02-18T14:10:00Z", NOW, "fr", "mer. 18 févr., 15:10"),
    ("2026-11-27T08:05:00Z", NOW, "es", "Hoy, 9:05"),
    ("2026-11-26T17:40:00Z", NOW, "es", "Ayer, 18:40"),
    ("2026-11-25T14:10:00Z", NOW, "es", "mié, 25 nov, 15:10"),
    ("2026-11-27T08:05:00Z", NOW, "en", "Today, 9:05 AM"),
    # The day is the user's: 00:30 in Paris on the 27th is "today" there, 23:30 UTC the 26th.
    ("2026-11-26T23:30:00Z", NOW, "de", "Heute, 00:30"),
])
def test_short_times_in_paris(iso, now, lang, expected):
    assert format_time(iso, "Europe/Paris", now, lang) == expected


@pytest.mark.parametrize(("lang", "expected"), [
    ("en", "Friday 27 November 2026, 05:44 CET"),
    ("de", "Freitag, 27. November 2026, 05:44 CET"),
    ("fr", "vendredi 27 novembre 2026, 05:44 CET"),
    ("es", "viernes, 27 de noviembre de 2026, 05:44 CET"),
])
def test_full_times(lang, expected):
    assert format_time_full("2026-11-27T04:44:00Z", "Europe/Paris", lang) == expected


@pytest.mark.parametrize(("lang", "args", "expected"), [
    ("de", (3, 1, 4, ["desktop", "mobile"], ["London"], 0),
     "3-mal geöffnet und einmal geklickt von einem oder mehreren von 4 Empfängern, auf Computer und Mobilgerät, "
     "in London"),
    ("fr", (1, 0, 2, ["tablet"], ["Paris", "Lyon"], 0),
     "Ouvert une fois par l’un des 2 destinataires, sur tablette, à 2 endroits"),
    ("es", (0, 2, 1, [], [], 0), "Clicado dos veces"),
    ("fr", (0, 0, 1, [], [], 1), "Pas encore ouvert (1 événement non compté)"),
    ("fr", (0, 0, 1, [], [], 3), "Pas encore ouvert (3 événements non comptés)"),
    ("de", (0, 0, 1, [], [], 0), "Noch nicht geöffnet"),
    ("en", (3, 1, 4, ["desktop"], ["London"], 0),
     "Opened 3 times and clicked once by one or more of 4 recipients, on desktop, in London"),
])
def test_thread_summaries(lang, args, expected):
    assert thread_summary(*args, lang=lang) == expected


def visible_text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def sample_panel(locale):
    messages = [
        message(id="m1", thread_id="t1", mode="manual", subject="Pricing",
                recipients=(("Jane Doe", "jane@client.com"),), sent_at="2026-11-26T08:00:00Z"),
        message(id="m2", thread_id="t2", mode="auto", subject="",
                recipients=tuple((f"P{i}", f"p{i}@other.org") for i in range(5)), sent_at="2026-11-25T08:00:00Z"),
    ]
    events = [
        event("m1", at="2026-11-27T08:05:00Z", verdict="human", device="mobile"),
        event("m1", at="2026-11-26T08:00:02Z", verdict="gmail_prefetch"),
    ]
    settings = {"time_zone": "Europe/Paris", "locale": locale}
    panel = build_panel(messages, events, [], settings, now=NOW)
    return render_panel(panel, settings, now=NOW)


@pytest.mark.parametrize(("locale", "shown", "not_shown"), [
    ("de-DE", ["Angeheftet", "Weitere verfolgte E-Mails", "Heute, 09:05", "Geöffnet", "Mobilgerät",
               "Gmail-Vorabruf", "E-Mail öffnen", "(kein Betreff)", "An P0, P1, P2 und 2 weitere",
               "Einmal geöffnet, auf Mobilgerät, in Paris, Île-de-France, France",
               "Gmails Vorabruf hat das Bild vorab geladen", "Noch nicht geöffnet oder angeklickt."],
     ["Pinned", "Today", "Opened", "Open email", "No opens"]),
    ("fr-FR", ["Épinglés", "Autres e-mails suivis", "Aujourd’hui, 09:05", "Ouvert", "Préchargement Gmail",
               "Ouvrir l’e-mail", "(aucun objet)", "À P0, P1, P2 et 2 de plus", "Ouvert une fois"],
     ["Pinned", "Today", "Open email"]),
    ("es", ["Fijados", "Otros correos con seguimiento", "Hoy, 9:05", "Abierto", "Abrir correo", "(sin asunto)",
            "Para P0, P1, P2 y 2 más", "Abierto una vez"],
     ["Pinned", "Today", "Open email"]),
    ("en-US", ["Pinned", "Other tracked emails", "Today, 9:05 AM", "Open email", "(no subject)",
               "To P0, P1, P2 and 2 more", "Opened once"], ["Heute"]),
    ("ja-JP", ["Pinned", "Today, 9:05 AM"], []),  # not spoken here: English
])
def test_the_panel_speaks_the_users_language(locale, shown, not_shown):
    html = sample_panel(locale)
    words = visible_text(html)
    for text in shown:
        assert text in words or text in html, (locale, text)
    for text in not_shown:
        assert text not in words, (locale, text)
    assert f'lang="{i18n.language(locale)}"' in html
    # The hooks the hosts use never change with the language.
    for hook in ('data-action="toggle"', 'data-action="pin"', 'data-action="open"', 'data-category="pinned"'):
        assert hook in html


def test_a_hidden_note_and_the_counter_in_french():
    settings = {"time_zone": "UTC", "locale": "fr"}
    panel = {"pinned": [], "other": [], "unread": 1234, "hidden_by_window": 1, "display_window_days": 14}
    html = render_panel(panel, settings, now=NOW)
    assert "1 e-mail plus ancien est masqué : aucune activité depuis plus de 14 jours." in html
    assert 'aria-label="1\u202f234 non lus">1\u202f234</span>' in html
    assert "Aucun autre e-mail suivi ces 14 derniers jours." in html
