from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from panel_fixtures import NOW, message

from client_py.errors import InvalidQueryError
from client_py.search import (
    PERIODS,
    PanelQuery,
    matches_text,
    message_matches,
    normalize_text,
    period_start,
    query_terms,
    recipient_domains,
    search_key,
)

FAST = settings(max_examples=60, deadline=None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("José", "jose"),
        ("JOSÉ", "jose"),
        ("  Hello\n\tWORLD  ", "hello world"),
        ("Straße", "strasse"),
        ("ﬁle", "file"),
        ("Ångström", "angstrom"),
        ("Zoë\u00a0Ça", "zoe ca"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalize_text(text, expected):
    assert normalize_text(text) == expected


@FAST
@given(st.text())
def test_normalize_text_is_idempotent(text):
    once = normalize_text(text)
    assert normalize_text(once) == once


@pytest.mark.parametrize(
    ("query", "terms"),
    [("", []), ("   ", []), ("José  García", ["jose", "garcia"]), ("acme.com", ["acme.com"])],
)
def test_query_terms(query, terms):
    assert query_terms(query) == terms


JOSE = message(
    subject="Renewal for Q4",
    recipients=(("García López, José", "jose.garcia@Client.com"), ("Ana Núñez", "ana@other.org")),
)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("jose", True),
        ("JOSÉ", True),
        ("garcia", True),
        ("lopez", True),
        ("jose garcia", True),
        ("nunez ana", True),
        ("ana@other", True),
        ("client.com", True),
        ("renewal", True),
        ("renewal q4", True),
        ("q4 bob", False),
        ("bob", False),
        ("", True),
    ],
)
def test_matches_text_case_and_accent_insensitive(query, expected):
    assert matches_text(JOSE, query) is expected


def test_search_key_holds_each_field_once_normalized():
    key = search_key(message(subject="Hi José", recipients=(("José", "jose@x.com"),)))
    assert key == "hi jose jose@x.com jose"


names = st.text(max_size=12)
messages = st.builds(
    lambda subject, people: message(subject=subject, recipients=tuple(people)),
    names,
    st.lists(st.tuples(names, names), max_size=3),
)


@FAST
@given(messages, st.text(max_size=12))
def test_matches_text_is_the_substring_rule_the_server_runs(msg, query):
    key = search_key(msg)
    terms = query_terms(query)
    assert matches_text(msg, query) == all(term in key for term in terms)
    if len(terms) == 1:
        assert matches_text(msg, query) == (normalize_text(query) in key)


@FAST
@given(messages)
def test_an_email_matches_its_own_subject_and_names(msg):
    assert matches_text(msg, msg["subject"])
    for recipient in msg["recipients"]:
        assert matches_text(msg, recipient["name"])
        assert matches_text(msg, recipient["address"])


def test_recipient_domains_are_distinct_and_lower_case():
    msg = message(recipients=(("", "a@Client.com"), ("", "b@client.com"), ("", "c@bücher.de")))
    assert recipient_domains(msg) == ["client.com", "bücher.de"]


@pytest.mark.parametrize(
    ("period", "now", "tz_name", "expected"),
    [
        ("all", NOW, "UTC", None),
        ("7d", "2026-11-27T12:00:00Z", "UTC", "2026-11-20T12:00:00+00:00"),
        ("30d", "2026-11-27T12:00:00Z", "Europe/Paris", "2026-10-28T12:00:00+00:00"),
        ("90d", "2026-11-27T12:00:00Z", "UTC", "2026-08-29T12:00:00+00:00"),
        ("today", "2026-11-27T12:00:00Z", "UTC", "2026-11-27T00:00:00+00:00"),
        # 22:30 on 26 November in New York: today began at local midnight, 05:00 UTC.
        ("today", "2026-11-27T03:30:00Z", "America/New_York", "2026-11-26T05:00:00+00:00"),
        # 00:30 on 27 November in New York.
        ("today", "2026-11-27T05:30:00Z", "America/New_York", "2026-11-27T05:00:00+00:00"),
        # 08:00 on 28 November in Tokyo although UTC still says the 27th.
        ("today", "2026-11-27T23:00:00Z", "Asia/Tokyo", "2026-11-27T15:00:00+00:00"),
        # Summer time in Paris: midnight is 22:00 UTC the day before.
        ("today", "2026-07-01T10:00:00Z", "Europe/Paris", "2026-06-30T22:00:00+00:00"),
        ("today", "2026-11-27T12:00:00Z", "Not/AZone", "2026-11-27T00:00:00+00:00"),
    ],
)
def test_period_start(period, now, tz_name, expected):
    start = period_start(period, now, tz_name)
    assert (start.isoformat() if start else None) == expected


def test_period_start_rejects_unknown_periods():
    with pytest.raises(InvalidQueryError, match="Unknown period 'week'"):
        period_start("week", NOW, "UTC")


def test_periods_offer_today_to_all():
    assert PERIODS == ("today", "7d", "30d", "90d", "all")


@pytest.mark.parametrize(
    ("sent_at", "expected"),
    [
        ("2026-11-27T04:59:59Z", False),  # 23:59:59 the day before in New York
        ("2026-11-27T05:00:00Z", True),  # local midnight
        ("2026-11-27T05:20:00Z", True),
    ],
)
def test_today_filter_uses_the_users_midnight(sent_at, expected):
    now = "2026-11-27T05:30:00Z"
    msg = message(sent_at=sent_at)
    assert message_matches(msg, {"period": "today"}, now, "America/New_York") is expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, True),
        ({"domain": "client.com"}, True),
        ({"domain": "@CLIENT.com"}, True),
        ({"domain": "eu.client.com"}, True),
        ({"domain": "lient.com"}, False),
        ({"domain": "xn--bcher-kva.de"}, True),
        ({"domain": "other.com"}, False),
        ({"sequence": "Q4 outreach"}, True),
        ({"sequence": "Q1"}, False),
        ({"step": 2}, True),
        ({"step": "2"}, True),
        ({"step": 3}, False),
        ({"period": "7d"}, True),
        ({"period": "today"}, False),
        ({"text": "jane", "domain": "client.com", "sequence": "Q4 outreach", "step": 2, "period": "30d"}, True),
        ({"text": "bob", "domain": "client.com"}, False),
    ],
)
def test_message_matches_filters(query, expected):
    msg = message(
        recipients=(("Jane", "jane@eu.client.com"), ("Max", "max@bücher.de")),
        sequence="Q4 outreach",
        step=2,
        sent_at="2026-11-25T09:00:00Z",
    )
    assert message_matches(msg, query, NOW, "UTC") is expected


def test_message_without_sent_at_fails_a_period_filter_but_not_all():
    msg = message(sent_at=None)
    assert message_matches(msg, {"period": "all"}, NOW, "UTC")
    assert not message_matches(msg, {"period": "90d"}, NOW, "UTC")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"period": "week"}, "period"),
        ({"step": -1}, "step"),
        ({"step": "-1"}, "step"),
        ({"step": "two"}, "step"),
        ({"step": 1.5}, "step"),
        ({"step": True}, "step"),
        ({"domain": 5}, "domain"),
        ({"sequence": ["a"]}, "sequence"),
    ],
)
def test_panel_query_rejects_nonsense(data, field):
    with pytest.raises(InvalidQueryError) as info:
        PanelQuery.from_dict(data)
    assert info.value.code == "invalid_query"
    assert info.value.fields["field"] == field


def test_panel_query_reads_form_values_and_round_trips():
    query = PanelQuery.from_dict(
        {"text": "jose", "period": "", "domain": " client.com ", "sequence": "", "step": "0", "page": "3"}
    )
    assert query == PanelQuery(text="jose", period="all", domain="client.com", sequence=None, step=0)
    assert PanelQuery.from_dict(query.to_dict()) == query
    assert query.to_dict() == {"text": "jose", "period": "all", "domain": "client.com", "sequence": None, "step": 0}


@pytest.mark.parametrize(
    ("query", "empty"),
    [(PanelQuery(), True), (PanelQuery(text="  "), True), (PanelQuery(text="x"), False), (PanelQuery(step=0), False)],
)
def test_panel_query_is_empty(query, empty):
    assert query.is_empty is empty


def test_panel_query_accepts_datetime_now():
    now = datetime(2026, 11, 27, 12, tzinfo=timezone.utc)
    assert message_matches(message(sent_at="2026-11-27T01:00:00Z"), PanelQuery(period="today"), now, "UTC")
