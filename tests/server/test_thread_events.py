"""A thread with a huge number of events (anyone holding the pixel URL can add them):
the panel's page carries the latest few with the totals of all, and the rest is paged."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from .helpers import register

MANY = 3_000


def _flood(app, message_public_id: str, n: int = MANY) -> None:
    from server.extensions import db
    from server.models import Event, Message, utcnow

    with app.app_context():
        message = db.session.execute(sa.select(Message).where(Message.public_id == message_public_id)).scalar_one()
        start = utcnow() - timedelta(hours=2)
        rows = []
        for i in range(n):
            engaged = i % 3 != 0  # two in three count
            rows.append({
                "user_id": message.user_id, "message_id": message.id, "kind": "click" if i % 10 == 1 else "open",
                "method": "GET", "at": start + timedelta(seconds=i), "verdict": "human" if engaged else "scanner",
                "reason": "", "country": "Sweden" if i % 2 else "United Kingdom", "region": "", "city": "",
                "device": "mobile" if i % 5 == 0 else "desktop", "user_agent": "", "ip_hash": "", "source_hash": "",
                "implied": False, "hit_id": f"flood-{i}"})
        db.session.execute(sa.insert(Event), rows)
        db.session.commit()


def test_a_flooded_thread_comes_with_its_latest_events_and_the_totals_of_all(app, client, ann):
    message = register(client, ann, links=[])
    _flood(app, message["id"])
    response = client.get("/api/v1/threads", headers=ann.headers)
    assert response.status_code == 200
    assert len(response.get_data()) < 50_000, "a page stays small whatever the number of events"
    thread = response.get_json()["threads"][0]
    assert thread["events_total"] == MANY
    assert len(thread["events"]) == 20
    engaged = [i for i in range(MANY) if i % 3 != 0]
    clicks = sum(1 for i in engaged if i % 10 == 1)
    assert (thread["opens"], thread["clicks"], thread["not_counted"]) == (len(engaged) - clicks, clicks, MANY - len(engaged))
    assert thread["devices"] == ["desktop", "mobile"]
    assert set(thread["places"]) == {"Sweden", "United Kingdom"}
    times = [e["at"] for e in thread["events"]]
    assert times == sorted(times, reverse=True)
    from client_py.times import parse_time

    assert parse_time(thread["last_triggered_at"]) == parse_time(times[0])
    assert parse_time(thread["last_engagement_at"]) == parse_time(times[0])  # the newest (2999) counts


def test_every_event_of_a_thread_is_paged_exactly_once(app, client, ann):
    message = register(client, ann, links=[])
    _flood(app, message["id"], 250)
    seen, cursor, pages = [], None, 0
    while True:
        query = "?limit=100" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(f"/api/v1/threads/{message['thread_id']}/events{query}", headers=ann.headers).get_json()
        seen += [e["id"] for e in page["events"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and len(seen) == len(set(seen)) == 250


def test_another_users_thread_events_are_not_found(client, ann, bob):
    message = register(client, ann, links=[])
    response = client.get(f"/api/v1/threads/{message['thread_id']}/events", headers=bob.headers)
    assert response.status_code == 404


def test_a_thread_with_few_events_is_unchanged(app, client, ann):
    message = register(client, ann, links=[])
    _flood(app, message["id"], 5)
    thread = client.get("/api/v1/threads", headers=ann.headers).get_json()["threads"][0]
    assert thread["events_total"] == 5 and len(thread["events"]) == 5
