"""Delivery through the outbox against the stand-in: outages, restarts, set-aside
errors, expired sessions and timeouts, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from server.salesforce import outbox
from tests.server.helpers import hit_pixel

from .helpers import counting_opens, field_updates, linked_task


def test_an_outage_of_a_minute_then_recovery_delivers_every_update_exactly_once(synced, client):
    s = synced
    emails = [linked_task(s, client, subject=f"Proposal {i}") for i in range(3)]
    for message, _ in emails:
        hit_pixel(client, message)
    # The outage starts once the hits are stored: the simulated clock also runs with
    # real time, and storing hits on a loaded machine must not eat into the minute.
    s.standin.outage_for(60)
    s.clock.advance(35)  # past the duplicate window: a second open by the same reader
    hit_pixel(client, emails[0][0])

    # Most of the rest of the minute: the simulated clock runs with real time too, so
    # 20 simulated seconds leave 5 s for the real time the steps take on a busy machine.
    s.run(seconds=20)
    assert s.standin.count("/services/", status=503) >= 3, "the worker kept trying during the outage"
    assert s.standin.applied == []
    assert {r.status for r in s.rows()} == {"pending"}
    assert all(r.reason in ("HTTP_5XX", "AUTH_HTTP_5XX") for r in s.rows())

    s.run(seconds=300)
    rows = s.rows()
    assert [r.status for r in rows] == ["delivered"] * 3
    for message, task in emails:
        first, last = counting_opens(s.app, message)
        assert s.standin.records[task]["First_Open__c"] == first
        assert s.standin.records[task]["Last_Open__c"] == last
    assert s.standin.records[emails[0][1]]["First_Open__c"] != s.standin.records[emails[0][1]]["Last_Open__c"]
    updates = field_updates(s.standin)
    assert len(s.standin.applied) == 3, "one PATCH per email after the outage"
    assert len(updates) == len(set(updates)) == 6

    # A later open moves Last Open forward, once; First Open is not sent again.
    s.clock.advance(60)
    hit_pixel(client, emails[1][0])
    s.run(seconds=10)
    _, task = emails[1]
    assert s.standin.applied[-1] == ("Task", task, {"Last_Open__c": counting_opens(s.app, emails[1][0])[1]})
    assert len(s.standin.applied) == 4


class Crash(BaseException):
    """The process dies: not an error any handler in the server would catch."""


def test_a_restart_in_the_middle_of_the_queue_loses_nothing_and_doubles_nothing(synced, client, monkeypatch, geo_db):
    from server.extensions import db
    from server.salesforce.delivery import Deliverer
    from tests.fixtures.app import make_app

    s = synced
    emails = [linked_task(s, client, subject=f"Renewal {i}") for i in range(5)]
    for message, _ in emails:
        hit_pixel(client, message)

    with s.app.app_context():
        assert s.deliverer.run_due(limit=2)["delivered"] == 2
    real_finish = outbox.finish_delivered

    def die(*args, **kwargs):
        raise Crash()

    # The third delivery: Salesforce applies the PATCH, then the process dies before
    # it can record that.
    monkeypatch.setattr(outbox, "finish_delivered", die)
    with pytest.raises(Crash), s.app.app_context():
        s.deliverer.run_due(limit=1)
    monkeypatch.setattr(outbox, "finish_delivered", real_finish)
    assert len(s.standin.applied) == 3
    with s.app.app_context():
        db.session.remove()
        db.engine.dispose()

    # A new server process on the same database and instance folder.
    second = make_app(s.app.config["SQLALCHEMY_DATABASE_URI"], s.app.instance_path, geo_db,
                      SALESFORCE_CA_BUNDLE=s.app.config["SALESFORCE_CA_BUNDLE"],
                      # configured like the first: the stand-in's address is an allowed host
                      SALESFORCE_EXTRA_HOSTS=s.app.config["SALESFORCE_EXTRA_HOSTS"])
    worker = Deliverer(second, clock=s.clock, owner="worker-2")
    with second.app_context():
        assert worker.run_due()["delivered"] == 2  # the dead process's row is still leased to it
    s.clock.advance(outbox.LEASE.total_seconds() + 1)
    with second.app_context():
        assert worker.run_due()["delivered"] == 1
        db.session.remove()
        db.engine.dispose()

    assert [r.status for r in s.rows()] == ["delivered"] * 5
    assert sorted(rid for _, rid, _ in s.standin.applied) == sorted(task for _, task in emails)
    for message, task in emails:
        assert (s.standin.records[task]["First_Open__c"], s.standin.records[task]["Last_Open__c"]) == \
            counting_opens(s.app, message)


def test_a_missing_field_sets_the_update_aside_with_its_reason(synced, client):
    s = synced
    s.standin.schema["Task"].discard("Last_Open__c")
    message, task = linked_task(s, client)
    hit_pixel(client, message)
    assert s.run()["failed"] == 1
    [row] = s.rows()
    assert (row.status, row.reason) == ("failed", "INVALID_FIELD")
    assert row.last_error == "No such column 'Last_Open__c' on sobject of type Task"
    calls = len(s.standin.calls)
    s.run(seconds=3600, step=60)
    assert len(s.standin.calls) == calls, "a set-aside update is not retried by itself"

    # The admin creates the field and retries: delivered, once.
    s.standin.schema["Task"].add("Last_Open__c")
    r = client.post("/api/v1/salesforce/outbox/retry", json={}, headers=s.admin.headers)
    assert r.get_json() == {"requeued": 1}
    s.run()
    assert [r.status for r in s.rows()] == ["delivered"]
    assert len(s.standin.patches(task)) == 1


@pytest.mark.parametrize("status, code, message, outcome", [
    (400, "INVALID_FIELD", "No such column 'First_Open__c' on sobject of type Task", "failed"),
    (404, "ENTITY_IS_DELETED", "entity is deleted", "failed"),
    (400, "INSUFFICIENT_ACCESS_OR_READONLY", "insufficient access rights on object id", "failed"),
    (400, "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Last Open must be after First Open", "failed"),
    (503, "SERVER_UNAVAILABLE", "Server unavailable", "delivered"),
    (400, "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record", "delivered"),
    (403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", "delivered"),
])
def test_patch_errors_are_retried_or_set_aside_by_their_code(synced, client, status, code, message, outcome):
    s = synced
    email, task = linked_task(s, client)
    s.standin.patch_errors[task] = [(status, code, message)]
    hit_pixel(client, email)
    s.run(seconds=60)
    [row] = s.rows()
    assert row.status == outcome
    if outcome == "failed":
        assert (row.reason, row.last_error) == (code, message)
        assert s.standin.patches(task) == []
    else:
        assert row.attempts == 0 and row.reason is None
        assert [body for _, _, body in s.standin.patches(task)] == [
            dict(zip(("First_Open__c", "Last_Open__c"), counting_opens(s.app, email)))]


def test_a_deleted_record_is_set_aside(synced, client):
    s = synced
    email, task = linked_task(s, client)
    s.standin.deleted.add(task)
    hit_pixel(client, email)
    s.run()
    [row] = s.rows()
    assert (row.status, row.reason, row.last_error) == ("failed", "ENTITY_IS_DELETED", "entity is deleted")


def test_an_expired_session_signs_in_again_within_the_same_attempt(synced, client):
    s = synced
    email, task = linked_task(s, client)
    hit_pixel(client, email)
    s.run()
    assert s.standin.count("/services/oauth2/token") == 1
    s.standin.expire_sessions()
    s.clock.advance(40)
    hit_pixel(client, email)
    assert s.run()["delivered"] == 1
    assert s.standin.count("/services/oauth2/token") == 2
    assert s.standin.count("/sobjects/Task/", status=401) == 1
    [row] = s.rows()
    assert (row.status, row.attempts) == ("delivered", 0)
    assert s.standin.records[task]["Last_Open__c"] == counting_opens(s.app, email)[1]
    assert len(s.standin.patches(task)) == 2


def test_a_timed_out_patch_that_salesforce_applied_is_not_sent_twice(synced, client):
    import time

    s = synced
    s.app.config["SALESFORCE_TIMEOUT_SECONDS"] = 0.5
    s.configure(enabled=True)  # a configuration change: the worker makes a new connection
    email, task = linked_task(s, client)
    hit_pixel(client, email)
    s.standin.stall = [0, 0, 1.2]  # token, GET, then the PATCH answers too late for the client
    assert s.run()["retry"] == 1
    [row] = s.rows()
    assert (row.status, row.reason) == ("pending", "TIMEOUT")
    time.sleep(1.0)  # Salesforce finishes applying it after the client gave up
    assert len(s.standin.patches(task)) == 1
    s.run(seconds=30)
    [row] = s.rows()
    assert row.status == "delivered"
    assert len(s.standin.patches(task)) == 1, "the retry read the values back and sent nothing"
    assert (s.standin.records[task]["First_Open__c"], s.standin.records[task]["Last_Open__c"]) == \
        counting_opens(s.app, email)


def test_first_open_already_in_salesforce_is_kept_and_last_open_never_moves_back(synced, client):
    s = synced
    email, task = linked_task(s, client)
    s.standin.records[task]["First_Open__c"] = "2020-01-01T00:00:00.000+0000"
    s.standin.records[task]["Last_Open__c"] = "2099-01-01T00:00:00.000+0000"
    hit_pixel(client, email)
    s.run()
    [row] = s.rows()
    assert row.status == "delivered"
    assert s.standin.patches(task) == []
    assert s.standin.records[task]["First_Open__c"] == "2020-01-01T00:00:00.000+0000"


def test_several_workers_deliver_each_update_once(synced, client):
    import threading

    from server.salesforce.delivery import Deliverer

    s = synced
    emails = [linked_task(s, client, subject=f"Offer {i}") for i in range(8)]
    for message, _ in emails:
        hit_pixel(client, message)
    workers = [Deliverer(s.app, clock=s.clock, owner=f"worker-{n}") for n in range(3)]
    errors = []

    def work(worker):
        try:
            with s.app.app_context():
                worker.run_due()
        except Exception as err:  # surfaced below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert [r.status for r in s.rows()] == ["delivered"] * 8
    assert sorted(rid for _, rid, _ in s.standin.applied) == sorted(task for _, task in emails)


def test_a_field_that_is_not_a_date_time_is_set_aside(synced, client):
    s = synced
    email, task = linked_task(s, client)
    s.standin.records[task]["Last_Open__c"] = "2026-11-27"  # created as a Date field
    hit_pixel(client, email)
    s.run()
    [row] = s.rows()
    assert (row.status, row.reason) == ("failed", "FIELD_NOT_DATETIME")
    assert "Last_Open__c holds '2026-11-27'" in row.last_error


def test_a_restarted_worker_takes_over_what_a_killed_process_on_this_host_held(synced, client):
    import socket
    import subprocess
    import sys

    from server.extensions import db
    from server.salesforce.delivery import Deliverer

    s = synced
    email, task = linked_task(s, client)
    hit_pixel(client, email)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    killed_owner = f"{socket.gethostname()[:20]}:{gone.stdout.strip()}:0ld0ne"
    with s.app.app_context():
        assert outbox.claim_one(db.session, killed_owner, s.clock()) is not None
        assert outbox.claim_one(db.session, "other-host:1:x", s.clock()) is None  # leased
        assert Deliverer(s.app, clock=s.clock).run_due()["delivered"] == 1  # not after LEASE: now
    assert len(s.standin.patches(task)) == 1
