"""client_py's activity feed, Due section, reminder rules and notification rules:
values in, words and HTML out."""

from __future__ import annotations

import pytest

from client_py.feed import company_of, feed_line, link_name, relative_age, render_feed
from client_py.followup_calls import digest_for, notification_for, reminder_alert
from client_py.notify import digest_due, in_quiet_hours
from client_py.reminder_view import render_due
from client_py.reminders import ReminderError, due_time, settled
from client_py.render import render_thread

NOW = "2026-12-01T12:00:00Z"
CAROL = {"name": "Carol Buyer", "address": "carol@buyer.example"}
OPEN = {"id": "e1", "kind": "open", "verdict": "human", "at": "2026-12-01T11:58:00Z", "thread_id": "t1",
        "subject": "Intro", "who": CAROL, "location": "London", "device": "mobile"}


def test_a_feed_line_names_the_recipient_and_ticks():
    html = render_feed([OPEN], {}, NOW)
    assert "Carol Buyer opened “Intro”" in html
    assert "2 min ago" in html and "London" in html and "mobile" in html and ">Buyer<" in html
    assert 'data-action="open-thread" data-thread-id="t1"' in html
    assert "3 min ago" in render_feed([OPEN], {}, "2026-12-01T12:01:00Z")  # the same item, a minute on


@pytest.mark.parametrize("item, lang, line", [
    ({**OPEN, "who": None}, "en", "Someone on “Intro” opened it"),
    ({**OPEN, "kind": "click", "url": "https://buyer.example/pricing"}, "en",
     "Carol Buyer clicked the pricing link in “Intro”"),
    ({**OPEN, "kind": "reply", "who": {"name": "", "address": "dan@buyer.example"}}, "en",
     "dan@buyer.example replied to “Intro”"),
    ({**OPEN, "kind": "machine", "verdict": "apple_mpp", "who": None}, "en",
     "Apple Mail Privacy Protection loaded “Intro”: not a read"),
    (OPEN, "de", "Carol Buyer hat „Intro“ geöffnet"),
    ({**OPEN, "who": None}, "fr", "Quelqu’un sur « Intro » l’a ouvert"),
    (OPEN, "es", "Carol Buyer abrió «Intro»"),
])
def test_feed_lines(item, lang, line):
    assert feed_line(item, lang) == line


def test_values_are_escaped_and_an_empty_feed_says_so():
    html = render_feed([{**OPEN, "subject": "<img src=x onerror=alert(1)>"}], {}, NOW)
    assert "<img" not in html and "&lt;img" in html
    assert "Nothing yet" in render_feed([], {}, NOW)


def test_companies_links_and_ages():
    assert [company_of(a) for a in ("c@buyer.example", "c@eu.acme-corp.co.uk", "c@gmail.com", "nobody")] == [
        "Buyer", "Acme Corp", "", ""]
    assert link_name("https://x.example/docs/price-list.pdf?a=1") == "price list"
    assert link_name("https://www.x.example/") == "x.example"
    assert relative_age("2026-11-28T12:00:00Z", NOW, "de") == "vor 3 Tagen"
    assert relative_age("2026-12-01T11:59:30Z", NOW, "es") == "ahora mismo"


def test_reminder_times_and_bad_ones():
    assert due_time(NOW, in_days=3) == "2026-12-04T12:00:00Z"
    assert due_time(NOW, on_date="2026-12-24", time_zone="Europe/Paris") == "2026-12-24T08:00:00Z"
    for kwargs, field in (({"in_days": 0}, "in_days"), ({"due_at": "2026-12-01T11:00:00Z"}, "due_at"),
                          ({"due_at": "2036-12-01T11:00:00Z"}, "due_at"), ({}, "due_at"),
                          ({"on_date": "24/12/2026"}, "on_date"), ({"in_days": 1, "on_date": "2026-12-24"}, "due_at")):
        with pytest.raises(ReminderError) as err:
            due_time(NOW, **kwargs)
        assert err.value.field == field
    assert settled("open", True, False) and settled("open", False, True) and not settled("open", False, False)
    assert not settled("reply", True, False) and settled("reply", False, True)


def test_the_due_section_and_the_thread_menu():
    due = {"id": "r1", "thread_id": "t1", "subject": "Intro", "condition": "open", "status": "due",
           "since": "2026-11-28T09:00:00Z", "recipients": [CAROL]}
    html = render_due([due, {**due, "id": "r2", "status": "pending"}], {"time_zone": "Europe/London"}, NOW)
    assert html.count('class="engage-due-item"') == 1
    assert "Nobody opened “Intro” since Sat 28 Nov, 9:00 AM" in html
    assert 'data-action="reminder-snooze" data-reminder-id="r1" data-days="1"' in html
    assert render_due([{**due, "status": "pending"}], {}, NOW) == ""
    thread = {"thread_id": "t1", "subject": "Intro", "events": [], "reminders": [
        {"id": "r3", "condition": "reply", "status": "pending", "due_at": "2026-12-04T12:00:00Z"}]}
    menu = render_thread(thread, {"with_reminders": True, "locale": "de"}, NOW)
    assert 'data-action="remind" data-thread-id="t1" data-condition="reply" data-days="7"' in menu
    assert "Erinnerung Fr., 4. Dez., 12:00, wenn niemand antwortet" in menu
    assert "engage-remind" not in render_thread(thread, {}, NOW)  # hosts that do not wire it


QUIET = {"time_zone": "Europe/Berlin", "quiet_start": "22:00", "quiet_end": "07:00"}


@pytest.mark.parametrize("now, quiet", [
    ("2026-12-01T20:59:00Z", False), ("2026-12-01T21:00:00Z", True),  # 22:00 in Berlin
    ("2026-12-02T05:59:00Z", True), ("2026-12-02T06:00:00Z", False),  # 07:00 in Berlin
])
def test_quiet_hours_are_in_the_users_zone(now, quiet):
    assert in_quiet_hours(QUIET, now) is quiet


def test_only_counted_verdicts_notify_and_a_minute_groups():
    machine = {**OPEN, "verdict": "apple_mpp"}
    assert notification_for([machine], {}, NOW)["show"] is False
    first = notification_for([OPEN], {}, NOW)
    assert first == {"show": True, "why": None, "group": False, "title": "Opened: Intro", "message": "mobile · London"}
    second = {**OPEN, "subject": "Pricing", "at": NOW}
    grouped = notification_for([OPEN, second, {**second, "kind": "click"}], {}, NOW,
                               last_shown_at="2026-12-01T11:59:30Z")
    assert grouped["group"] is True and grouped["title"] == "3 new engagements in the last minute"
    assert grouped["message"] == "Intro and Pricing (2)"
    opens = notification_for([OPEN, second], {"locale": "de"}, NOW, last_shown_at="2026-12-01T11:59:30Z")
    assert opens["title"] == "2 Öffnungen in der letzten Minute" and opens["message"] == "Intro und Pricing"
    later = notification_for([OPEN, second], {}, NOW, last_shown_at="2026-12-01T11:58:00Z")
    assert later["group"] is False and later["title"] == "Opened: Pricing"
    assert notification_for([OPEN], QUIET, "2026-12-01T23:00:00Z")["why"] == "quiet"
    assert notification_for([OPEN], {"notify_mode": "digest"}, NOW)["why"] == "digest"


def test_the_daily_digest_comes_once_a_day_at_its_hour():
    settings = {"notify_mode": "digest", "digest_hour": 9, "time_zone": "America/New_York"}
    assert not digest_due(settings, None, "2026-12-01T13:59:00Z")  # 8:59 in New York
    assert digest_due(settings, None, "2026-12-01T14:00:00Z")
    assert not digest_due(settings, "2026-12-01T14:00:05Z", "2026-12-01T20:00:00Z")  # shown today already
    assert digest_due(settings, "2026-12-01T14:00:05Z", "2026-12-02T14:01:00Z")
    assert not digest_due({**settings, "notify_mode": "each"}, None, "2026-12-01T14:00:00Z")
    items = [OPEN, {**OPEN, "kind": "click"}, {**OPEN, "kind": "reply", "thread_id": "t2"},
             {**OPEN, "kind": "machine", "verdict": "scanner", "thread_id": "t3"}]
    digest = digest_for(items, settings, "2026-12-01T14:00:00Z")
    assert digest == {"show": True, "title": "Your day in Engage", "message": "1 open, 1 click and 1 reply on 2 emails"}
    assert reminder_alert({"subject": "Intro", "condition": "open", "since": NOW}, QUIET,
                          "2026-12-01T23:00:00Z") == {"show": False}
