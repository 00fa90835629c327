"""Only opens that count reach Salesforce: the verdict decides, at hit time and
again at delivery time."""

from __future__ import annotations

import pytest

from tests.server.helpers import CHROME_DESKTOP, GOOGLE_PROXY, LINKOPING, LONDON, hit_pixel
from tests.fixtures.agents import GMAIL_PREFETCH

from .helpers import counting_opens, linked_task, tracked, verdicts

OFFICE = LINKOPING  # in the org's office range set below


@pytest.mark.parametrize("name, hit, verdict", [
    ("apple mail privacy protection", dict(ip="17.58.63.12", ua="Mozilla/5.0"), "apple_mpp"),
    ("a HEAD request", dict(ip=LONDON, method="HEAD"), "scanner"),
    ("a scanner's user agent", dict(ip=LONDON, ua="python-requests/2.31"), "scanner"),
    ("gmail's prefetch", dict(ip="66.102.8.73", ua=GMAIL_PREFETCH), "gmail_prefetch"),
    ("the org's office range", dict(ip=OFFICE), "self"),
    ("the sender's own address", dict(ip="127.0.0.1"), "self"),
])
def test_opens_that_do_not_count_never_reach_salesforce(synced, client, name, hit, verdict):
    s = synced
    r = client.patch("/api/v1/org", json={"office_ranges": ["89.160.20.0/24"]}, headers=s.admin.headers)
    assert r.status_code == 200
    message, _ = linked_task(s, client)
    hit_pixel(client, message, **hit)
    assert verdicts(s.app, message) == [verdict]
    assert s.rows() == []
    s.run(seconds=600, step=30)
    assert s.standin.calls == []


def test_a_duplicate_open_adds_nothing(synced, client):
    s = synced
    message, task = linked_task(s, client)
    hit_pixel(client, message)
    s.run()
    s.clock.advance(5)
    hit_pixel(client, message)  # same reader again within the duplicate window
    assert verdicts(s.app, message) == ["human", "duplicate"]
    [row] = s.rows()
    assert (row.status, row.version) == ("delivered", 1)
    s.run(seconds=60)
    assert len(s.standin.patches(task)) == 1


def test_an_internal_only_email_is_not_synced(synced, client):
    s = synced
    message = tracked(client, s.admin, recipients=[{"name": "", "address": "bo@acme.example"}])
    hit_pixel(client, message)
    assert verdicts(s.app, message) == ["human"]
    assert s.rows() == []


def test_nothing_is_queued_while_salesforce_is_off(synced, client):
    s = synced
    s.configure(enabled=False)
    message, _ = linked_task(s, client)
    hit_pixel(client, message)
    assert s.rows() == []


def test_an_open_through_gmails_proxy_waits_until_it_cannot_be_the_senders_own(synced, client):
    s = synced
    message, task = linked_task(s, client)
    hit_pixel(client, message, ip="66.249.84.1", ua=GOOGLE_PROXY)
    assert verdicts(s.app, message) == ["gmail"]
    s.run(seconds=100, step=10)
    assert s.standin.calls == [], "not before SELF_VIEW_SECONDS have passed"
    s.run(seconds=30, step=10)
    assert s.standin.records[task]["First_Open__c"] == counting_opens(s.app, message)[0]


def test_an_open_refiled_as_the_senders_own_view_is_not_written(synced, client):
    s = synced
    message, task = linked_task(s, client)
    hit_pixel(client, message, ip="66.249.84.1", ua=GOOGLE_PROXY)
    r = client.post("/api/v1/threads/self-view", json={"thread_id": message["thread_id"]}, headers=s.admin.headers)
    assert r.get_json()["reclassified"] == 1
    s.run(seconds=300, step=10)
    assert s.standin.applied == []
    assert "First_Open__c" not in s.standin.records[task]


def test_an_open_with_an_implied_open_from_a_click_counts_once(synced, client):
    from tests.server.helpers import click

    s = synced
    message, task = linked_task(s, client)
    click(client, message["links"][0]["tracked_url"], ip=LONDON, ua=CHROME_DESKTOP)
    assert verdicts(s.app, message) == ["human", "human"]  # the click and the open it implies
    s.run()
    assert [body for _, _, body in s.standin.patches(task)] == [
        dict(zip(("First_Open__c", "Last_Open__c"), counting_opens(s.app, message)))]


def test_a_refiled_open_moves_a_last_open_not_yet_delivered_back(synced, client):
    s = synced
    message, task = linked_task(s, client)
    hit_pixel(client, message, ip=LONDON, ua=CHROME_DESKTOP)  # the reader, delivered at once
    s.run()
    first = counting_opens(s.app, message)[0]
    assert s.standin.records[task]["Last_Open__c"] == first
    s.clock.advance(600)
    hit_pixel(client, message, ip="66.249.84.1", ua=GOOGLE_PROXY)  # queued: could still be the sender's
    assert max(r.last_open for r in s.rows()) > min(r.first_open for r in s.rows())
    r = client.post("/api/v1/threads/self-view", json={"thread_id": message["thread_id"]}, headers=s.admin.headers)
    assert r.get_json()["reclassified"] == 1
    assert verdicts(s.app, message) == ["human", "self"]
    s.run(seconds=300, step=10)
    assert s.standin.records[task]["Last_Open__c"] == first  # never moved to the re-filed open
    assert counting_opens(s.app, message) == (first, first)
