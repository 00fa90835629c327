"""Events and tracked emails older than 90 days are purged, by the command and by
the running server's own job; newer ones stay."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from .helpers import hit_pixel, register, threads


def _age(app, days: int, thread_id: str) -> None:
    """Move one thread's emails and events `days` into the past."""
    from server.extensions import db
    from server.models import Event, Message, Thread

    with app.app_context():
        thread = db.session.execute(sa.select(Thread).where(Thread.client_thread_id == thread_id)).scalar_one()
        shift = timedelta(days=days)
        for m in db.session.execute(sa.select(Message).where(Message.thread_id == thread.id)).scalars():
            m.sent_at -= shift
            for e in db.session.execute(sa.select(Event).where(Event.message_id == m.id)).scalars():
                e.at -= shift
        thread.last_sent_at -= shift
        thread.last_activity_at -= shift
        if thread.last_triggered_at:
            thread.last_triggered_at -= shift
        db.session.commit()


def _counts(app):
    from server.extensions import db
    from server.models import Event, Link, Message, Thread

    with app.app_context():
        return tuple(db.session.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                     for t in (Message, Event, Link, Thread))


def test_purge_command_deletes_only_what_is_past_retention(app, client, ann):
    old = register(client, ann, thread_id="old")
    hit_pixel(client, old)
    new = register(client, ann, thread_id="new")
    hit_pixel(client, new)
    _age(app, 91, "old")
    assert _counts(app) == (2, 2, 2, 2)
    out = app.test_cli_runner().invoke(args=["purge"])
    assert out.exit_code == 0, out.output
    assert "purged 1 events, 1 emails, 1 threads" in out.output
    assert _counts(app) == (1, 1, 1, 1)
    # The purged email's pixel still answers (with nothing recorded).
    assert hit_pixel(client, old).status_code == 200
    assert _counts(app)[1] == 1


def test_eighty_nine_days_is_kept(app, client, ann):
    register(client, ann, thread_id="recent")
    _age(app, 89, "recent")
    app.test_cli_runner().invoke(args=["purge"])
    assert _counts(app)[0] == 1


def test_running_server_purges_on_its_own(app, client, ann):
    from server.retention import start_retention_thread

    register(client, ann, thread_id="old")
    _age(app, 120, "old")
    app.config["RETENTION_INTERVAL_SECONDS"] = 0.05
    start_retention_thread(app)
    import time

    deadline = time.monotonic() + 10
    while _counts(app)[0] and time.monotonic() < deadline:
        time.sleep(0.05)
    app.extensions["engage_stop"].set()
    assert _counts(app)[0] == 0


def test_display_window_hides_threads_not_triggered_for_over_14_days(app, client, ann):
    register(client, ann, thread_id="stale")
    register(client, ann, thread_id="fresh")
    _age(app, 15, "stale")
    page = threads(client, ann)
    assert [t["thread_id"] for t in page["threads"]] == ["fresh"]
    assert page["hidden_by_window"] == 1
    client.patch("/api/v1/settings", json={"display_window_days": 30}, headers=ann.headers)
    assert sorted(t["thread_id"] for t in threads(client, ann)["threads"]) == ["fresh", "stale"]


def test_a_follow_up_in_an_old_thread_shows_it_again(app, client, ann):
    register(client, ann, thread_id="stale")
    _age(app, 20, "stale")
    assert threads(client, ann)["threads"] == []
    register(client, ann, thread_id="stale", subject="Following up")
    [thread] = threads(client, ann)["threads"]
    assert thread["subject"] == "Following up" and len(thread["messages"]) == 2
