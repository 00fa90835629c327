"""client_py.replies: what a reply is, and the Apple MPP download a reply confirms."""

from __future__ import annotations

import pytest

from client_py.present import event_label
from client_py.render import render_thread
from client_py.replies import confirmed_by_reply, is_reply

RECIPIENTS = [{"name": "Carol Buyer", "address": "carol@buyer.example"}]


@pytest.mark.parametrize("sender, expected", [
    ("carol@buyer.example", True),
    (" Carol@Buyer.EXAMPLE ", True),
    ("ann@acme.example", False),  # the user's own follow-up
    ("dave@buyer.example", False),  # a colleague of hers: not someone the email went to
    ("", False),
    ("carol", False),
])
def test_is_reply(sender, expected):
    assert is_reply(sender, RECIPIENTS, "ann@acme.example") is expected


MPP = {"id": "1", "kind": "open", "verdict": "apple_mpp", "at": "2026-12-01T09:00:00Z", "device": "unknown"}


def test_a_reply_after_an_apple_download_confirms_it():
    assert confirmed_by_reply(MPP, "2026-12-01T10:00:00Z")
    assert not confirmed_by_reply(MPP, "2026-12-01T08:00:00Z")  # the reply came first
    assert not confirmed_by_reply(MPP, None)
    assert not confirmed_by_reply({**MPP, "verdict": "scanner"}, "2026-12-01T10:00:00Z")
    assert event_label(MPP, "en", "2026-12-01T10:00:00Z") == "Opened (confirmed by a reply)"
    assert event_label(MPP, "de", "2026-12-01T10:00:00Z") == "Geöffnet (durch eine Antwort bestätigt)"
    assert event_label(MPP, "en") == "Apple Mail Privacy Protection"


def test_the_panel_shows_the_confirmed_download_as_an_open():
    thread = {"thread_id": "t1", "subject": "Intro", "recipients": RECIPIENTS, "events": [MPP],
              "events_total": 1, "first_reply_at": "2026-12-01T10:00:00Z"}
    html = render_thread(thread, {"locale": "fr"}, now="2026-12-01T11:00:00Z")
    assert "Ouvert (confirmé par une réponse)" in html and 'data-counts="true"' in html
    assert "engage-why" not in html
    html = render_thread({**thread, "first_reply_at": None}, {}, now="2026-12-01T11:00:00Z")
    assert 'data-counts="false"' in html and "Apple Mail Privacy Protection" in html
