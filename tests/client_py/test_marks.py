"""client_py.marks: the state and hover words of a mark, from a panel thread dict."""

from __future__ import annotations

import pytest

from client_py import i18n
from client_py.marks import age, thread_mark

NOW = "2026-03-03T12:00:00Z"
OPENED = {"opens": 3, "clicks": 1, "recipients_count": 1, "devices": ["mobile"], "places": ["London"],
          "last_engagement_at": "2026-03-03T10:00:00Z", "events": [{"verdict": "human"}]}


@pytest.mark.parametrize("thread, state, title", [
    (OPENED, "opened", "Opened 3 times and clicked once, on mobile, in London · last 2 hours ago"),
    ({"opens": 0, "events": []}, "sent", "Tracked · not opened yet"),
    # Only the sender's own views or repeats: still "not opened".
    ({"opens": 0, "events": [{"verdict": "self"}, {"verdict": "duplicate"}]}, "sent", "Tracked · not opened yet"),
    ({"opens": 0, "events": [{"verdict": "apple_mpp"}]}, "machine",
     "Apple Mail Privacy Protection downloaded the images; not a read"),
    ({"opens": 0, "events": [{"verdict": "scanner"}, {"verdict": "apple_mpp"}]}, "machine",
     "A security scanner checked the email; not a read"),
    # A reply from a recipient: read, even with the images never shown (or only Apple's download).
    ({"opens": 0, "events": [{"verdict": "apple_mpp"}], "first_reply_at": "2026-03-03T11:00:00Z",
      "last_reply_at": "2026-03-03T11:55:00Z"}, "opened", "Replied 5 min ago"),
    ({**OPENED, "first_reply_at": "2026-03-03T11:00:00Z", "last_reply_at": "2026-03-03T11:00:00Z"}, "opened",
     "Opened 3 times and clicked once, on mobile, in London · last 2 hours ago · replied 1 hour ago"),
    # A machine download later confirmed by a click counts.
    ({"opens": 1, "events": [{"verdict": "confirmed"}, {"verdict": "apple_mpp"}]}, "opened", "Opened once"),
])
def test_states_and_titles(thread, state, title):
    assert thread_mark(thread, "en", NOW) == {"state": state, "title": title}


@pytest.mark.parametrize("lang, title", [
    ("de", "3-mal geöffnet und einmal geklickt, auf Mobilgerät, in London · zuletzt vor 2 Stunden"),
    ("fr", "Ouvert 3 fois et cliqué une fois, sur mobile, à London · dernière fois il y a 2 heures"),
    ("es-419", "Abierto 3 veces y clicado una vez, en móvil, en London · la última hace 2 horas"),
])
def test_the_users_language(lang, title):
    assert thread_mark(OPENED, lang, NOW)["title"] == title


@pytest.mark.parametrize("at, lang, expected", [
    ("2026-03-03T11:59:30Z", "en", "just now"),
    ("2026-03-03T12:00:30Z", "en", "just now"),  # a little clock skew
    ("2026-03-03T11:55:00Z", "de", "vor 5 Min."),
    ("2026-03-01T12:00:00Z", "fr", "il y a 2 jours"),
    ("2026-03-02T11:00:00Z", "en", "1 day ago"),
])
def test_ages(at, lang, expected):
    assert age(at, NOW, lang) == expected


def test_every_mark_message_is_in_every_language():
    for key in [k for k in i18n.MESSAGES if k.startswith(("mark.", "age."))]:
        assert set(i18n.MESSAGES[key]) == set(i18n.LANGUAGES)


def test_the_panel_shows_the_same_mark_with_the_same_words():
    from html.parser import HTMLParser

    from client_py.render import render_thread

    marks = []

    class Marks(HTMLParser):
        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if "engage-mark" in (attrs.get("class") or ""):
                marks.append((attrs["data-engage-state"], attrs["title"]))

    thread = {**OPENED, "thread_id": "t1", "subject": "<b>Hi</b>", "messages": [], "events": []}
    Marks().feed(render_thread(thread, {"locale": "de"}, NOW))
    Marks().feed(render_thread({**thread, "opens": 0, "clicks": 0, "events": [{"verdict": "apple_mpp", "kind": "open",
                                                                            "at": NOW}]}, {}, NOW))
    assert marks == [("opened", thread_mark(OPENED, "de", NOW)["title"]),
                     ("machine", "Apple Mail Privacy Protection downloaded the images; not a read")]
