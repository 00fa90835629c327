"""client_py.insights: the readers and forwards rule on tables of realistic hit
histories, and the Insights view's escaping, accessibility and languages."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from client_py.calls import FUNCTIONS, call
from client_py.insights import best_hours, readers, readers_line, render_insights

A = "2026-11-02T09:00:00.000Z"


def hit(at, verdict="human", device="desktop", country="United Kingdom", city="London", network=None,
        agent="Chrome", kind="open"):
    return {"at": at, "kind": kind, "verdict": verdict, "device": device, "country": country, "region": None,
            "city": city, "network": network, "agent": agent}


def t(day, hour, minute=0):
    return f"2026-11-{day:02d}T{hour:02d}:{minute:02d}:00.000Z"


ONE = [{"domain": "globex.io"}]
THREE = [{"domain": "globex.io"}, {"domain": "globex.io"}, {"domain": "acme.com"}]

# (name, hits, recipients, readers line (en), forwarded, reason)
HISTORIES = [
    ("one reader opening three times at the office",
     [hit(t(2, 9), network="n1"), hit(t(2, 11), network="n1"), hit(t(3, 8), network="n1")], ONE,
     "1 reader: desktop in London", False, ""),
    ("desktop and phone in the same city: one reader, not two",
     [hit(t(2, 9)), hit(t(2, 19), device="mobile", agent="Mobile Safari")], ONE,
     "1 reader: desktop and mobile in London", False, ""),
    ("London then Berlin an hour later: two readers, not a forward (too soon)",
     [hit(t(2, 9)), hit(t(2, 10), device="mobile", country="Germany", city="Berlin")], ONE,
     "2 readers: desktop in London, mobile in Berlin · possibly forwarded", True, "more_than_recipients"),
    ("London then Berlin three days later: possibly forwarded",
     [hit(t(2, 9)), hit(t(5, 14), device="mobile", country="Germany", city="Berlin")], THREE,
     "2 readers: desktop in London, mobile in Berlin · possibly forwarded", True, "late_reader"),
    ("same country days later, other city: a second reader, not flagged",
     [hit(t(2, 9)), hit(t(6, 9), city="Manchester")], THREE,
     "2 readers: desktop in London, desktop in Manchester", False, ""),
    ("Gmail's proxy hides device and place: one reader through Gmail",
     [hit(t(2, 9), verdict="gmail", device="unknown", country=None, city=None, agent=""),
      hit(t(4, 9), verdict="gmail", device="unknown", country=None, city=None, agent="")], [{"domain": "gmail.com"}],
     "1 reader: through Gmail", False, ""),
    ("no place, new network days later: possibly forwarded",
     [hit(t(2, 9), country=None, city=None, network="n1"), hit(t(5, 9), country=None, city=None, network="n2")],
     THREE, "2 readers: desktop, place unknown, desktop, place unknown · possibly forwarded", True, "late_reader"),
    ("one network seen in two cities (a lookup difference): one reader",
     [hit(t(2, 9), network="n1"), hit(t(2, 9, 5), city="Croydon", network="n1")], ONE,
     "1 reader: desktop in London", False, ""),
    ("a hit with no evidence joins the only reader with its device and agent",
     [hit(t(2, 9)), hit(t(3, 9), country=None, city=None)], ONE, "1 reader: desktop in London", False, ""),
    ("scanners, prefetches and self views are not readers",
     [hit(t(2, 9), verdict="scanner"), hit(t(2, 9), verdict="gmail_prefetch"), hit(t(2, 9), verdict="apple_mpp"),
      hit(t(2, 9), verdict="self"), hit(t(2, 9), verdict="duplicate")], ONE, "", False, ""),
    ("an Apple download confirmed by a click counts; the click is the same reader",
     [hit(t(2, 9), verdict="confirmed", device="unknown", country=None, city=None, network="n3", agent=""),
      hit(t(2, 9, 2), kind="click", device="mobile", country=None, city=None, network="n3", agent="Mobile Safari")],
     ONE, "1 reader: mobile, place unknown", False, ""),
]


@pytest.mark.parametrize("name, hits, recipients, line, forwarded, reason", HISTORIES, ids=[h[0] for h in HISTORIES])
def test_readers_rule(name, hits, recipients, line, forwarded, reason):
    found = readers(hits, recipients)
    assert readers_line(found) == line
    assert found["forwarded"] is forwarded and found["reason"] == reason


def test_hit_order_does_not_change_the_readers():
    hits = HISTORIES[3][1]
    assert readers(list(reversed(hits)), THREE) == readers(hits, THREE)


@pytest.mark.parametrize("recipients, verdict, who", [
    ([{"domain": "globex.io"}, {"domain": "globex.io"}], "human", {"kind": "domain", "domain": "globex.io"}),
    ([{"domain": "globex.io"}, {"domain": "acme.com"}], "human", {"kind": "any", "n": 2}),
    ([{"domain": "gmail.com"}], "human", {"kind": "any", "n": 1}),  # a Gmail address says nothing of who
    ([{"domain": "globex.io"}], "gmail", {"kind": "gmail"}),
    ([{"domain": "hotmail.com"}], "outlook", {"kind": "outlook"}),
])
def test_who_is_said_only_as_far_as_the_recipients_tell(recipients, verdict, who):
    [reader] = readers([hit(t(2, 9), verdict=verdict)], recipients)["readers"]
    assert reader["who"] == who


def test_best_hours_need_enough_opens_and_sum_weekdays():
    assert best_hours([[0, 9, 3], [1, 10, 2]]) == []  # 5 opens: too few to claim
    assert best_hours([[0, 9, 4], [3, 9, 3], [1, 14, 5], [2, 8, 1]]) == [9, 14, 8]


HOSTILE = '<img src=x onerror=alert(1)><script>alert(2)</script>"\'&'


def _data(subject=HOSTILE, domain=HOSTILE):
    return {"scope": "me", "team_available": False,
            "period": {"first_day": "2026-11-01", "last_day": "2026-11-30", "time_zone": "UTC"},
            "figures": {"emails": 20, "opened": 12, "clicked": 3, "replied": None, "median_first_open_seconds": 5400,
                        "domains": [{"domain": domain, "emails": 20, "opened": 12, "clicked": 3}],
                        "hits": {"open": {"human": 30, "gmail_prefetch": 10, "apple_mpp": 8, "scanner": 2},
                                 "click": {"human": 3}},
                        "heatmap": [[0, 9, 7], [1, 14, 4], [4, 9, 2]], "heatmap_unplaced": 6,
                        "opens_by_day": [["2026-11-02", 5], ["2026-11-03", 8]],
                        "top_emails": [{"id": "m1", "subject": subject, "recipients": [{"domain": domain}],
                                        "hits": [hit(t(2, 9), city=HOSTILE), hit(t(5, 9), country=HOSTILE)]}]}}


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)


def test_hostile_subjects_and_domains_are_text():
    html = render_insights(_data())
    parser = _Collect()
    parser.feed(html)
    assert "script" not in parser.tags and "img" not in parser.tags
    assert not [a for a, _v in parser.attrs if a.startswith("on") or a == "style"]
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img" not in html
    assert not re.search(r"(href|src)=\"(?!#\")", html)  # no external resource, no link but the export hook


def test_charts_carry_their_numbers_in_text():
    html = render_insights(_data(subject="Renewal", domain="globex.io"))
    assert '<svg class="engage-heatmap" role="img"' in html and "<title" in html and "<desc" in html
    assert 'data-day="0" data-hour="9" data-n="7"' in html
    assert "Mon 9:00 AM: 7 opens" in html  # each cell's title, and the desc's busiest cells
    assert "Best hours to send: 9:00 AM and 2:00 PM" in html
    assert "globex.io: 12 of 20 opened, 3 clicked" in html
    assert "Gmail prefetch: 10 of 53 hits (19 %)" in html and "Counted (people): 33 of 53 hits (62 %)" in html
    assert "6 opens without a known place" in html
    assert "Replied</dt><dd>not known" in html and "2 hours" in html
    assert "2 readers: desktop in " in html and "possibly forwarded" in html
    assert "<table>" in html  # the heatmap's numbers, under "Show the numbers"


@pytest.mark.parametrize("locale, words", [
    ("de-DE", ["Einblicke", "Beste Sendezeiten", "Mo."]), ("fr-FR", ["Statistiques", "Meilleures heures", "lun."]),
    ("es-ES", ["Estadísticas", "Mejores horas", "lun"]), ("en-US", ["Insights", "Best hours", "Mon"]),
])
def test_the_view_speaks_the_hosts_language(locale, words):
    html = render_insights(_data(subject="S", domain="d.example"), {"locale": locale})
    for word in words:
        assert word in html


def test_empty_period_and_the_bridge_call():
    html = render_insights({"scope": "me", "figures": {"emails": 0}, "period": {}})
    assert "No tracked emails were sent in this period." in html
    assert "insights_html" in FUNCTIONS
    answer = call(FUNCTIONS, "insights_html", '[{"scope": "me", "figures": {"emails": 0}}, {"locale": "de"}]')
    assert '"ok": true' in answer and "Keine verfolgten" not in answer and "keine verfolgten" in answer


def test_a_device_the_rules_do_not_know_reads_as_unknown_not_as_a_crash():
    # The panel gets its events from the server (or a hostile API double): an unknown
    # device word is shown as "unknown device", never looked up as a message key.
    found = readers([hit(t(2, 9), device="</span><img src=y onerror=alert(1)>"),
                     hit(t(6, 9), device="mobile", country="Germany", city="Berlin")], THREE)
    assert readers_line(found) == "2 readers: unknown device in London, mobile in Berlin · possibly forwarded"


def test_the_panel_says_who_read_the_latest_email():
    from client_py.render import render_thread

    def event(at, city, country, device, message="m2"):
        return {"id": at, "message_id": message, "kind": "open", "at": at, "verdict": "human", "device": device,
                "country": country, "city": city, "region": None, "reason": ""}

    thread = {"thread_id": "t1", "latest_message_id": "m2", "subject": "Offer", "client": "gmail",
              "recipients": [{"name": "", "address": "rae@globex.io"}],
              "events": [event(t(5, 9), "Berlin", "Germany", "mobile"), event(t(2, 9), "London", "United Kingdom", "desktop"),
                         event(t(1, 9), "Paris", "France", "desktop", message="m1")]}
    html = render_thread(thread, {"locale": "en"}, now=t(6, 9))
    assert '<li class="engage-readers">2 readers: desktop in London, mobile in Berlin · possibly forwarded</li>' in html
    thread["events"] = thread["events"][1:]  # one reader of the latest email: no line
    assert "engage-readers" not in render_thread(thread, {"locale": "en"}, now=t(6, 9))


def test_the_team_view_lists_members_and_the_org():
    data = {**_data(subject="S", domain="d.example"), "scope": "team", "team_available": True,
            "members": [{"user_id": 7, "name": HOSTILE, "emails": 1234, "opened": 3, "clicked": 1}]}
    html = render_insights(data, {"locale": "de"})
    assert 'data-scope="team"' in html and "Team-Einblicke" in html and "Gesamte Organisation" in html
    assert "1.234 verfolgt, 3 geöffnet, 1 geklickt" in html and "<script>" not in html
    assert '<input type="checkbox" data-action="team" checked>' in html
    assert 'data-action="team"' not in render_insights({**data, "scope": "me", "team_available": False})
