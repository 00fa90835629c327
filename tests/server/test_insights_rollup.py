"""The insights' sums the writer keeps (insight_hours, each email's first counted
open and click) equal what the stored events add up to (a rebuild), through real hits:
opens, clicks, an implied open, a duplicate, a scanner, and a Gmail proxy open that a
self-view report re-files as the sender's. On SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa

from .helpers import CHROME_DESKTOP, GOOGLE_PROXY, LINKOPING, LONDON, click, hit_pixel, register, threads


def _sums(app):
    from server.extensions import db
    from server.models import InsightHour, Message

    with app.app_context():
        hours = {(r.user_id, r.hour, r.kind, r.verdict, r.local_dow, r.local_hour): r.n
                 for r in db.session.execute(sa.select(InsightHour)).scalars() if r.n}
        emails = {m.id: (m.first_open_after, m.first_click_at, m.engaged)
                  for m in db.session.execute(sa.select(Message)).scalars()}
        return hours, emails


def _rebuilt(app):
    from server.extensions import db
    from server.insights_rollup import rebuild_with

    with app.app_context():
        rebuild_with(db.session.connection())
        db.session.commit()
    return _sums(app)


def test_the_writer_keeps_the_sums_a_rebuild_makes(app, client, ann):
    clicked_first = register(client, ann, thread_id="t-click", links=["https://prospect.example/a"])
    click(client, clicked_first["links"][0]["tracked_url"], ip=LINKOPING)  # an implied open
    msg = register(client, ann)
    hit_pixel(client, msg, ip=LONDON)
    hit_pixel(client, msg, ip=LONDON)  # a duplicate
    hit_pixel(client, msg, ip=LONDON, method="HEAD")  # a scanner
    click(client, msg["links"][0]["tracked_url"], ip=LONDON, ua=CHROME_DESKTOP)
    hit_pixel(client, msg, ip="66.249.84.1", ua=GOOGLE_PROXY)
    kept = _sums(app)
    hours, emails = kept
    assert sum(n for k, n in hours.items() if k[2] == "implied") == 1
    assert {k[3] for k in hours} >= {"human", "duplicate", "scanner", "gmail"}
    london = [k for k in hours if k[2] == "open" and k[3] == "human"]
    assert [k[4:] != (-1, -1) for k in london] == [True]  # London's local hour is kept
    assert kept == _rebuilt(app)

    r = client.post("/api/v1/threads/self-view", json={"thread_id": "thread-1"}, headers=ann.headers)
    assert r.get_json()["reclassified"] >= 1  # the Gmail proxy open was the sender's
    kept = _sums(app)
    assert any(k[3] == "self" for k in kept[0])
    assert kept == _rebuilt(app)
    assert threads(client, ann)["threads"]


def test_retention_takes_the_purged_events_out_of_the_sums(app, client, ann):
    from datetime import timedelta

    from server.extensions import db
    from server.models import Message, utcnow
    from server.retention import purge

    msg = register(client, ann)
    hit_pixel(client, msg, ip=LONDON)
    with app.app_context():  # sent long ago, opened now: purged with its email
        db.session.execute(sa.update(Message).values(sent_at=utcnow() - timedelta(days=100)))
        db.session.commit()
        purge(90)
    hours, _ = _sums(app)
    assert hours == {}
