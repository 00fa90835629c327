"""Reminders fire once across two server processes on PostgreSQL, and not at all for
a thread that was opened: both processes run the scheduler against one database, as
two instances behind a load balancer do."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from tests.fixtures.app import empty_pg_database
from tests.live_server import TRUST_LOCAL_PROXY, LiveServer, recipient_fetch

COUNT = 16


def test_due_reminders_fire_once_across_two_processes_and_never_after_an_open(tmp_path, geo_db, pg_url):
    empty_pg_database(pg_url)
    env = {**TRUST_LOCAL_PROXY, "ENGAGE_SECRET_KEY": "shared-by-both-instances-" + "x" * 20,
           "ENGAGE_REMINDER_INTERVAL": "0.05"}
    servers = [LiveServer(instance=tmp_path / name, database_url=pg_url, geo_db=geo_db, workers=1, extra_env=env)
               for name in ("a", "b")]
    servers[0].migrate()
    token = servers[0].create_user()
    for server in servers:
        server.start()
    try:
        ids, pixels = [], []
        for n in range(COUNT):
            status, message, _ = servers[n % 2].request("POST", "/api/v1/messages", token=token, body={
                "subject": f"Intro {n}", "recipients": [{"name": "Carol Buyer", "address": "carol@buyer.example"}],
                "thread_id": f"t-{n}", "mode": "manual", "client": "gmail"})
            assert status == 201, message
            pixels.append(message["pixel_url"])
            status, reminder, _ = servers[n % 2].request("POST", "/api/v1/reminders", token=token, body={
                "thread_id": f"t-{n}", "condition": "open", "in_days": 1})
            assert status == 201, reminder
            ids.append(reminder["id"])
        # Carol opens the first email before its reminder is due.
        assert recipient_fetch(pixels[0])[0] == 200
        status, page, _ = servers[1].request("GET", "/api/v1/threads?limit=100", token=token)
        deadline = time.monotonic() + 20
        while not any(t["thread_id"] == "t-0" and t["opens"] for t in page["threads"]):
            assert time.monotonic() < deadline, "the open was not stored"
            time.sleep(0.1)
            status, page, _ = servers[1].request("GET", "/api/v1/threads?limit=100", token=token)

        # Time passes: every reminder is due at once, both schedulers race for them.
        engine = sa.create_engine(pg_url)
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE reminders SET due_at = :t"),
                         {"t": datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(seconds=1)})
        deadline = time.monotonic() + 30
        while True:
            with engine.connect() as conn:
                rows = dict(conn.execute(sa.text("SELECT public_id, status FROM reminders")).all())
            if all(status != "pending" for status in rows.values()):
                break
            assert time.monotonic() < deadline, rows
            time.sleep(0.1)
        with engine.connect() as conn:
            fired_by = dict(conn.execute(sa.text("SELECT id, fired_by FROM reminders WHERE status = 'due'")).all())
            pk = dict(conn.execute(sa.text("SELECT public_id, id FROM reminders")).all())
        engine.dispose()
        assert rows[ids[0]] == "settled"
        assert all(rows[i] == "due" for i in ids[1:])

        time.sleep(0.5)  # a late second firing would show in the logs now
        logs = "".join(s.log_path.read_text() for s in servers)
        fired = [int(i) for i in re.findall(r"reminder (\d+) fired by", logs)]
        assert sorted(fired) == sorted(pk[i] for i in ids[1:])  # each once, the opened one never
        owners = {owner.rsplit(":", 1)[0] for owner in fired_by.values()}
        print(f"{len(fired)} reminders fired by {len(owners)} processes: "
              f"{sorted(list(fired_by.values()).count(o) for o in set(fired_by.values()))}")

        status, due, _ = servers[0].request("GET", "/api/v1/reminders?status=due", token=token)
        assert status == 200 and len(due["reminders"]) == COUNT - 1
        assert "Intro 0" not in {r["subject"] for r in due["reminders"]}
    finally:
        for server in servers:
            server.stop()
