"""Linking a tracked email to its Salesforce record: attached by id, found by the
reported Message-ID (EmailMessage), or by subject, recipient and time (Task)."""

from __future__ import annotations

from datetime import timedelta

from tests.server.helpers import hit_pixel

from .helpers import counting_opens, link, tracked
from .standin import sf_time

TRICKY_ID = "<CAJ+it's\\odd\"@mail.gmail.com>"


def test_the_emailmessage_is_found_by_the_reported_message_id(synced, client):
    s = synced
    s.configure(sobject="EmailMessage")
    record = s.standin.add_record("EmailMessage", MessageIdentifier=TRICKY_ID)
    s.standin.add_record("EmailMessage", MessageIdentifier="<someone-else@mail.gmail.com>")
    message = tracked(client, s.admin)
    view = link(client, s.admin, message, client_message_id=TRICKY_ID.strip("<>"))  # brackets or not
    assert view["client_message_id"] == TRICKY_ID.strip("<>") and view["record_id"] is None
    hit_pixel(client, message)
    s.run()
    assert s.standin.records[record]["First_Open__c"] == counting_opens(s.app, message)[0]
    got = client.get(f"/api/v1/messages/{message['id']}/salesforce", headers=s.admin.headers).get_json()
    assert (got["object"], got["record_id"], got["source"]) == ("EmailMessage", record, "message_id")
    assert got["update"]["status"] == "delivered"


def test_a_message_id_given_at_registration_is_used(synced, client):
    s = synced
    s.configure(sobject="EmailMessage")
    record = s.standin.add_record("EmailMessage", MessageIdentifier="<abc@mail.example>")
    message = tracked(client, s.admin, client_message_id="<abc@mail.example>")
    hit_pixel(client, message)
    s.run()
    assert s.standin.records[record]["Last_Open__c"] == counting_opens(s.app, message)[1]


def test_the_task_is_found_by_subject_recipient_and_time(synced, client):
    s = synced
    now = s.clock()
    task = s.standin.add_record("Task", Subject="Email: Proposal for Q3", **{"Who.Email": "carla@prospect.example"})
    s.standin.add_record("Task", Subject="Email: Proposal for Q3", **{"Who.Email": "someone@else.example"})
    s.standin.add_record("Task", Subject="Email: Proposal for Q3", CreatedDate=sf_time(now - timedelta(days=3)),
                         **{"Who.Email": "carla@prospect.example"})
    message = tracked(client, s.admin, subject="Proposal for Q3")
    hit_pixel(client, message)
    s.run()
    assert [rid for _, rid, _ in s.standin.applied] == [task]
    [row] = s.rows()
    assert (row.status, row.sobject, row.record_id) == ("delivered", "Task", task)


def test_two_matching_tasks_are_not_guessed_between(synced, client):
    s = synced
    for _ in range(2):
        s.standin.add_record("Task", Subject="Proposal for Q3", **{"Who.Email": "carla@prospect.example"})
    message = tracked(client, s.admin, subject="Proposal for Q3")
    hit_pixel(client, message)
    s.run()
    [row] = s.rows()
    assert (row.status, row.reason) == ("failed", "AMBIGUOUS_MATCH")
    assert s.standin.applied == []


def test_a_record_logged_later_is_found_later(synced, client):
    s = synced
    message = tracked(client, s.admin, subject="Kickoff")
    hit_pixel(client, message)
    s.run()
    [row] = s.rows()
    assert (row.status, row.reason) == ("pending", "RECORD_NOT_FOUND_YET")
    s.clock.advance(600)
    task = s.standin.add_record("Task", Subject="Email: Kickoff", **{"Who.Email": "carla@prospect.example"})
    s.run(seconds=3600, step=60)
    assert [r.status for r in s.rows()] == ["delivered"]
    assert s.standin.records[task]["First_Open__c"] == counting_opens(s.app, message)[0]
    assert s.standin.count("/query", status=200) < 20, "asking again backs off"


def test_no_record_within_the_linking_window_is_set_aside(synced, client):
    s = synced
    message = tracked(client, s.admin, subject="Nobody logs this")
    hit_pixel(client, message)
    s.run(seconds=8 * 86400, step=3600)
    [row] = s.rows()
    assert (row.status, row.reason) == ("failed", "NOT_LINKED")
    assert s.standin.count("/query") < 8 * 24 + 10, "at most about hourly"


def test_without_a_message_id_the_emailmessage_waits_for_a_link_without_asking(synced, client):
    s = synced
    s.configure(sobject="EmailMessage")
    message = tracked(client, s.admin)
    hit_pixel(client, message)
    s.run(seconds=3600, step=60)
    [row] = s.rows()
    assert (row.status, row.reason) == ("pending", "WAITING_FOR_RECORD")
    assert s.standin.count("/query") == 0
    record = s.standin.add_record("EmailMessage")
    view = link(client, s.admin, message, record_id=record)
    assert (view["object"], view["source"]) == ("EmailMessage", "api")  # from the 02s prefix
    s.run()
    assert s.standin.records[record]["First_Open__c"] == counting_opens(s.app, message)[0]


def test_a_record_attached_after_the_opens_gets_them(synced, client):
    s = synced
    s.configure(enabled=False)
    message = tracked(client, s.admin)
    hit_pixel(client, message)
    s.configure(enabled=True)
    task = s.standin.add_record("Task")
    link(client, s.admin, message, record_id=task)
    s.run()
    assert s.standin.records[task]["Last_Open__c"] == counting_opens(s.app, message)[1]


def test_relinking_a_delivered_email_writes_to_the_new_record(synced, client):
    s = synced
    message = tracked(client, s.admin)
    old, new = s.standin.add_record("Task"), s.standin.add_record("Task")
    link(client, s.admin, message, record_id=old)
    hit_pixel(client, message)
    s.run()
    link(client, s.admin, message, record_id=new)
    s.run()
    assert s.standin.records[new]["First_Open__c"] == s.standin.records[old]["First_Open__c"]
