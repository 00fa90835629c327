"""The backlog in plain sight: during a PostgreSQL outage `engage serve` keeps answering,
/metrics shows the spool growing and the drain lag rising, /healthz says why it is
degraded, and the log names the cause in a few lines (no traceback per retry, no SQL
parameters); once the database is back, all of it drains and both say so."""

from __future__ import annotations

import re
import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from tests.fixtures.app import empty_pg_database
from tests.live_server import TRUST_LOCAL_PROXY, LiveServer, recipient_fetch

from .tcp_proxy import CuttableProxy


def scrape(server) -> dict:
    """/metrics as {(name, labels...): value}."""
    with urllib.request.urlopen(server.url + "/metrics", timeout=10) as r:
        assert r.headers.get_content_type() == "text/plain"
        text = r.read().decode()
    return {(s.name, *sorted(s.labels.values())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def test_metrics_and_healthz_show_a_growing_backlog_during_an_outage_and_recover(tmp_path, geo_db, pg_url):
    empty_pg_database(pg_url)
    proxy = CuttableProxy("127.0.0.1", 5432)
    server = LiveServer(instance=tmp_path, database_url=pg_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}"),
                        geo_db=geo_db, workers=1, mode="serve",
                        extra_env={**TRUST_LOCAL_PROXY, "ENGAGE_DRAIN_LAG_DEGRADED_SECONDS": "2"})
    server.start()
    try:
        token = server.create_user()
        status, message, _ = server.request("POST", "/api/v1/messages", {
            "subject": "Outage", "recipients": [{"address": "rae@prospect.example"}], "thread_id": "t1",
            "mode": "manual", "client": "gmail"}, token=token)
        assert status == 201, message
        assert recipient_fetch(message["pixel_url"])[0] == 200
        wait_for(lambda: scrape(server).get(("engage_hits_stored_total", "open")) == 1, 30, "the first hit stored")
        assert server.request("GET", "/healthz")[1]["status"] == "ok"
        before = scrape(server)
        assert before[("engage_writer_up",)] == 1 and before[("engage_spool_bytes_waiting",)] == 0

        log_at_cut = server.log_path.stat().st_size
        proxy.cut()  # PostgreSQL is gone
        answered = 1
        for i in range(10):
            assert recipient_fetch(message["pixel_url"], ip=f"81.2.69.{161 + i}")[0] == 200
            answered += 1
        first = wait_for(lambda: (m := scrape(server))[("engage_drain_lag_seconds",)] > 2 and m, 30,
                         "the drain lag to pass 2 s")
        for i in range(10):
            assert recipient_fetch(message["pixel_url"], ip=f"81.2.69.{171 + i}")[0] == 200
            answered += 1
        second = scrape(server)
        assert 0 < first[("engage_spool_bytes_waiting",)] < second[("engage_spool_bytes_waiting",)]
        assert second[("engage_drain_lag_seconds",)] >= first[("engage_drain_lag_seconds",)]
        assert second[("engage_hits_answered_total", "open")] == answered
        assert second[("engage_hits_stored_total", "open")] == 1
        assert second[("engage_database_errors_total", "writer")] >= 1
        status, health, _ = server.request("GET", "/healthz")
        assert status == 503 and health["status"] == "degraded", health
        assert any("unreachable" in r for r in health["reasons"]) and any("behind" in r for r in health["reasons"])
        assert health["spool_bytes_waiting"] > 0 and health["drain_lag_seconds"] > 2

        proxy.restore()
        after = wait_for(lambda: (m := scrape(server))[("engage_hits_stored_total", "open")] == answered and m, 60,
                         "every answered hit stored")
        wait_for(lambda: scrape(server)[("engage_spool_bytes_waiting",)] == 0, 30, "the spool drained")
        assert after[("engage_hits_lost_total", "open")] == 0
        assert wait_for(lambda: server.request("GET", "/healthz")[1]["status"] == "ok", 30, "healthz ok again")
        assert scrape(server)[("engage_drain_lag_seconds",)] == 0

        with open(server.log_path, "rb") as f:
            f.seek(log_at_cut)
            outage_log = f.read().decode(errors="replace")
        assert "could not store hits: database unavailable" in outage_log and "retrying in" in outage_log
        assert "storing hits again after" in outage_log
        assert outage_log.count("Traceback") <= 3, outage_log  # the first of each part at most
        assert "parameters:" not in outage_log or "hidden due to hide_parameters" in outage_log
        assert len(outage_log.encode()) < 4000, outage_log  # was 130 KB for 7 s: a traceback per retry
    finally:
        server.stop()
        proxy.close()


def test_metrics_are_for_loopback_and_configured_addresses_only(tmp_path, geo_db):
    """A reverse proxy on the same machine makes every visitor look like loopback:
    a forwarded request is judged by the address the trusted proxy vouches for."""
    from tests.fixtures.app import make_app

    app = make_app(f"sqlite:///{tmp_path / 'engage.db'}", tmp_path, geo_db,
                   TRUSTED_PROXIES=["127.0.0.1/32"], METRICS_ALLOW=["10.1.0.0/16"])
    try:
        client = app.test_client()

        def status(peer: str, forwarded: str | None = None) -> int:
            headers = {"X-Forwarded-For": forwarded} if forwarded else {}
            return client.get("/metrics", headers=headers, environ_base={"REMOTE_ADDR": peer}).status_code

        assert status("127.0.0.1") == 200
        assert status("::1") == 200
        assert status("10.1.2.3") == 200  # ENGAGE_METRICS_ALLOW
        assert status("203.0.113.9") == 403
        assert status("127.0.0.1", forwarded="203.0.113.9") == 403  # a visitor through the local proxy
        assert status("127.0.0.1", forwarded="10.1.2.3") == 200
        assert status("10.1.2.3", forwarded="127.0.0.1") == 403  # an untrusted proxy's say-so counts for nothing
    finally:
        app.extensions["engage"].spool.close()
        from server.extensions import db

        with app.app_context():
            db.engine.dispose()


def test_healthz_says_when_no_writer_stores_hits_and_the_log_when_the_backlog_grows(tmp_path, geo_db, caplog,
                                                                                  sqlite_template):
    """The writer's lock is free: hits are answered but nobody stores them. And while
    the backlog grows, the writer's log says how far behind it is, once a minute."""
    import shutil
    from datetime import datetime, timedelta, timezone

    from server.extensions import db
    from server.hitpath.spool import BacklogWatch
    from tests.fixtures.app import make_app

    shutil.copy(sqlite_template, tmp_path / "engage.db")
    app = make_app(f"sqlite:///{tmp_path / 'engage.db'}", tmp_path, geo_db, EXPECT_WRITER=True)
    try:
        client = app.test_client()
        health = client.get("/healthz")
        assert health.status_code == 200 and health.get_json()["status"] == "degraded"
        assert health.get_json()["writer"] == "down" and "the writer is down" in health.get_json()["reasons"][0]
        with app.app_context():  # a failed statement is logged without its values
            import sqlalchemy as sa

            try:
                db.session.execute(sa.text("SELECT * FROM no_such_table WHERE ip = :ip"), {"ip": "203.0.113.9"})
                raise AssertionError("the statement should fail")
            except sa.exc.DBAPIError as err:
                assert "203.0.113.9" not in str(err) and "hide_parameters" in str(err)
            db.session.rollback()
        svc = app.extensions["engage"]
        assert svc.drainer.try_lead()  # a writer now holds the spool
        assert client.get("/healthz").get_json() == {"status": "ok", "database": "ok", "schema": "ok"}
        text = client.get("/metrics").get_data(as_text=True)
        for line in ('engage_salesforce_outbox{status="pending"} 0.0', 'engage_salesforce_outbox{status="failed"} 0.0',
                     "engage_writer_up 1.0", "engage_spool_bytes_waiting 0.0", "engage_drain_lag_seconds 0.0"):
            assert line in text.splitlines(), line
        assert "engage_live_streams" in text

        watch = BacklogWatch(svc.spool.dir)
        t0 = watch._checked
        old = (datetime.now(timezone.utc) - timedelta(minutes=2)).isoformat()
        with caplog.at_level("WARNING"):
            for i in range(8):  # a hit every 10 s for 80 s, none stored
                assert svc.spool.append({"hit_id": f"{i:032d}", "kind": "open", "token": "t" * 32, "method": "GET",
                                         "ip": "", "ua": "", "headers": {}, "at": old})
                watch.check(now=t0 + 10 * (i + 1))
        warnings = [r.getMessage() for r in caplog.records if "backlog grows" in r.getMessage()]
        assert len(warnings) == 2, warnings  # at 10 s and at 70 s, not every 10 s
        lag = re.search(r"the writer is (\d+) s behind", warnings[0])
        assert lag and int(lag.group(1)) >= 120 and "bytes waiting" in warnings[0]
    finally:
        app.extensions["engage"].drainer.close()
        app.extensions["engage"].spool.close()
        with app.app_context():
            db.engine.dispose()
