"""Which values an update writes, SOQL building, backoff, sealed secrets (pure)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from server.salesforce.outbox import backoff_seconds
from server.salesforce.soql import email_message_query, task_query
from server.salesforce.values import format_sf, parse_sf, plan_update
from server.salesforce.vault import UnreadableSecrets, seal, unseal

from .soql_parser import parse

T = datetime(2026, 11, 27, 10, 0, 0, 400000, tzinfo=timezone.utc)
F, L = "First_Open__c", "Last_Open__c"


@pytest.mark.parametrize("remote_first, remote_last, expected", [
    (None, None, {F: "2026-11-27T10:00:00.000+0000", L: "2026-11-27T10:05:00.000+0000"}),
    ("2026-11-27T10:00:00.000+0000", None, {L: "2026-11-27T10:05:00.000+0000"}),
    ("2020-01-01T00:00:00.000+0000", "2026-11-27T10:01:00.000+0000", {L: "2026-11-27T10:05:00.000+0000"}),
    ("2026-11-27T10:00:00.000+0000", "2026-11-27T10:05:00.000+0000", {}),  # same second: already there
    ("2026-11-27T11:00:00.000+0000", "2026-11-27T12:00:00Z", {}),  # First set once; Last never moves back
])
def test_plan_update(remote_first, remote_last, expected):
    assert plan_update(T, T + timedelta(minutes=5), parse_sf(remote_first), parse_sf(remote_last), F, L) == expected


@pytest.mark.parametrize("text", ["2026-11-27T10:00:00.000+0000", "2026-11-27T10:00:00Z",
                                  "2026-11-27T11:00:00.000+0100", "2026-11-27T10:00:00.999+0000"])
def test_parse_sf_reads_salesforce_forms_to_the_second(text):
    assert parse_sf(text) == T.replace(microsecond=0)


def test_parse_sf_refuses_nonsense():
    with pytest.raises(ValueError):
        parse_sf("yesterday")
    assert parse_sf(None) is None and parse_sf("") is None


def test_format_sf_is_what_salesforce_answers_with():
    assert format_sf(T) == "2026-11-27T10:00:00.000+0000"


def test_email_message_query_escapes_and_matches_both_forms():
    q = parse(email_message_query("<a'b\\c\"d@x>"))
    assert q.sobject == "EmailMessage" and q.fields == ["Id"] and q.limit == 2
    [cond] = q.where
    assert (cond.field, cond.op, cond.values) == ("MessageIdentifier", "IN", ["<a'b\\c\"d@x>", "a'b\\c\"d@x"])


def test_task_query_matches_subject_with_and_without_the_email_prefix():
    q = parse(task_query("Hi 'there'", ["Carla@Prospect.example"], T, timedelta(hours=24)))
    conds = {c.field: c for c in q.where if c.op == "IN"}
    assert sorted(conds["Subject"].values) == ["Email: Hi 'there'", "Hi 'there'"]
    assert conds["Who.Email"].values == ["carla@prospect.example"]
    window = [c for c in q.where if c.field == "CreatedDate"]
    assert [(c.op, c.values[0]) for c in window] == [(">=", T.replace(microsecond=0) - timedelta(minutes=15)),
                                                     ("<=", T.replace(microsecond=0) + timedelta(hours=24))]


def test_backoff_grows_to_its_cap_with_jitter():
    rng = random.Random(1)
    delays = [backoff_seconds(n, rng) for n in range(1, 12)]
    assert 2.5 <= delays[0] <= 5 and 5 <= delays[1] <= 10
    assert all(300 <= d <= 600 for d in delays[8:])
    assert len({round(d, 3) for d in delays}) == len(delays)


def test_sealed_secrets_open_only_with_the_same_key():
    # Secrets long enough that a random base64 token cannot contain them by chance
    # (a two-letter "pw" did, once in a while).
    password, client_secret = "correct-horse-battery-staple", "s3cr3t-client-value-0123456789"
    sealed = seal("key-one", {"password": password, "client_secret": client_secret, "not_a_secret": "x",
                              "security_token": ""})
    assert password not in sealed and client_secret not in sealed
    assert unseal("key-one", sealed) == {"password": password, "client_secret": client_secret}
    with pytest.raises(UnreadableSecrets):
        unseal("key-two", sealed)
    assert seal("k", {}) is None and unseal("k", None) == {}
