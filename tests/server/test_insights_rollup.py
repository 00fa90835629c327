"""The insights' sums the writer keeps (insight_hours, each email's first counted
open and click) equal what the stored events add up to (a rebuild), through real hits:
opens, clicks, an implied open, a duplicate, a scanner, and a Gmail proxy open that a
self-view report re-files as the sender's. On SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa

from .helpers import CHROME_DESKTOP, GOOGLE_PROXY, LINKOPING, LONDON, click, hit_pixel, register, threads


def _sums(app):
    from server.extensions import db
    from server.models import InsightEmailDay, InsightHitDay, InsightHour, Message

    with app.app_context():
        hours = {(r.user_id, r.hour, r.kind, r.verdict, r.local_dow, r.local_hour): r.n
                 for r in db.session.execute(sa.select(InsightHour)).scalars() if r.n}
        emails = {m.id: (m.first_open_after, m.first_click_at, m.engaged)
                  for m in db.session.execute(sa.select(Message)).scalars()}
        hit_days = {(r.user_id, r.kind, r.day, r.verdict, r.local_dow, r.local_hour): r.n
                    for r in db.session.execute(sa.select(InsightHitDay)).scalars() if r.n}
        email_days = {(r.user_id, r.day, r.domain, r.bucket): (r.emails, r.opened, r.clicked, r.known)
                      for r in db.session.execute(sa.select(InsightEmailDay)).scalars() if any(
                          (r.emails, r.opened, r.clicked, r.known))}
        return hours, emails, hit_days, email_days


def _rebuilt(app):
    from server.extensions import db
    from server.insights_rollup import rebuild_all

    with app.app_context():
        rebuild_all(db.session.connection())
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
    hours, emails, hit_days, email_days = kept
    # The day rows: both emails' day, opened (each first open in its delay bucket), one clicked
    (day_total,) = [v for k, v in email_days.items() if k[2:] == ("", -1)]
    assert day_total[:3] == (2, 2, 2)
    assert sum(v[1] for k, v in email_days.items() if k[3] >= 0) == 2
    # the counted opens by UTC hour: the implied one, London's, the Gmail proxy's
    assert sum(n for k, n in hit_days.items() if k[1] == "hour") == 3
    assert sum(n for k, n in hours.items() if k[2] == "implied") == 1
    assert {k[3] for k in hours} >= {"human", "duplicate", "scanner", "gmail"}
    london = [k for k in hours if k[2] == "open" and k[3] == "human"]
    assert [k[4:] != (-1, -1) for k in london] == [True]  # London's local hour is kept
    assert kept == _rebuilt(app)

    unopened = register(client, ann, thread_id="t-unopened")  # registered, then deleted: out of its day
    assert _sums(app) == _rebuilt(app)
    assert client.delete(f"/api/v1/messages/{unopened['id']}", headers=ann.headers).status_code == 204
    assert _sums(app) == _rebuilt(app)

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
    _rebuilt(app)  # the date moved past the writer: the sums as the migration makes them
    with app.app_context():
        purge(90)
    hours, _, hit_days, email_days = _sums(app)
    assert hours == {} and hit_days == {} and email_days == {}


def test_retention_keeps_the_cut_days_sums_equal_to_a_rebuild(app, client, ann):
    """The day the cutoff falls in keeps what is after it: its emails and hours."""
    from datetime import timedelta

    from server.extensions import db
    from server.models import Message, utcnow
    from server.retention import purge

    now = utcnow().replace(hour=12, minute=30)
    msgs = [register(client, ann, thread_id=f"t-{i}") for i in range(3)]
    for m in msgs:
        hit_pixel(client, m, ip=LONDON)
    with app.app_context():  # sent on the cut day: before the cutoff, after it, and the day after
        for m, at in zip(msgs, (now - timedelta(days=90, hours=2), now - timedelta(days=90) + timedelta(hours=2),
                                now - timedelta(days=89))):
            db.session.execute(sa.update(Message).where(Message.public_id == m["id"]).values(sent_at=at))
        db.session.commit()
    _rebuilt(app)  # the dates moved past the writer: the sums as the migration makes them
    with app.app_context():
        purge(90, now=now)
    kept = _sums(app)
    assert sum(v[0] for k, v in kept[3].items() if k[2:] == ("", -1)) == 2
    assert kept == _rebuilt(app)
