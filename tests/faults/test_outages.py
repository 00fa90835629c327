"""Faults a production server meets: the database goes away, the disk fills up.
Recipients notice nothing; no answered hit is lost; the log says what happened."""

from __future__ import annotations

import http.client
import time

import sqlalchemy as sa

from tests.fixtures.app import empty_pg_database
from tests.live_server import TRUST_LOCAL_PROXY, LiveServer
from tests.server.helpers import CHROME_DESKTOP, LONDON

from .tcp_proxy import CuttableProxy


def _register(server, links=("https://prospect.example/pricing",)):
    status, body, _ = server.request("POST", "/api/v1/messages", {
        "subject": "Outage", "recipients": [{"name": "", "address": "rae@prospect.example"}],
        "thread_id": "t1", "mode": "manual", "client": "gmail", "links": list(links),
    }, token=server.token)
    assert status == 201, body
    return body


def _get(server, path: str, ua: str):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", path, headers={"User-Agent": ua, "X-Forwarded-For": LONDON})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, resp.getheader("Location"), body


def _stored_agents(url: str) -> set[str]:
    eng = sa.create_engine(url)
    try:
        with eng.connect() as c:
            return {r[0] for r in c.execute(sa.text("SELECT user_agent FROM events"))}
    finally:
        eng.dispose()


def test_postgres_unreachable_pixels_and_redirects_still_served_then_all_stored(tmp_path, geo_db, pg_url):
    empty_pg_database(pg_url)
    proxy = CuttableProxy("127.0.0.1", 5432)
    via_proxy = pg_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    server = LiveServer(instance=tmp_path, database_url=via_proxy, geo_db=geo_db, workers=1,
                        extra_env=TRUST_LOCAL_PROXY)
    server.migrate()
    server.token = server.create_user()
    server.start()
    try:
        msg = _register(server)
        pixel = msg["pixel_url"].replace(server.url, "")
        link = msg["links"][0]["tracked_url"].replace(server.url, "")
        proxy.cut()  # PostgreSQL is gone
        answered = []
        for i in range(40):
            ua = f"{CHROME_DESKTOP} outage/{i}"
            status, _, body = _get(server, pixel, ua)
            assert status == 200 and body.startswith(b"GIF89a")
            answered.append(ua)
        for i in range(5):
            ua = f"{CHROME_DESKTOP} outage-click/{i}"
            status, location, _ = _get(server, link, ua)
            assert status == 302 and location == "https://prospect.example/pricing"
            answered.append(ua)
        time.sleep(2)  # the writer keeps failing meanwhile; nothing is lost
        proxy.restore()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            missing = [ua for ua in answered if ua not in _stored_agents(pg_url)]
            if not missing:
                break
            time.sleep(0.5)
        assert not missing, f"{len(missing)} answered hits were not stored after the database came back"
        log = server.log_path.read_text()
        assert "could not store hits" in log and "nothing is lost" in log
    finally:
        server.stop()
        proxy.close()


def test_full_disk_image_still_served_hit_stored_and_the_log_says_so(app, client, ann, monkeypatch, caplog):
    """The spool cannot be written (ENOSPC): the hit goes straight to the database."""
    import errno
    import os

    from tests.server.helpers import hit_pixel, register, threads

    msg = register(client, ann)
    real_write = os.write
    spool = app.extensions["engage"].spool

    def full(fd, data):
        if fd == spool.fd:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    spool.append({"hit_id": "warm-up", "kind": "open", "token": "x" * 20, "method": "GET", "ip": "",
                  "ua": "", "headers": {}, "at": "2026-01-01T00:00:00+00:00"})  # opens the file
    monkeypatch.setattr(os, "write", full)
    with caplog.at_level("CRITICAL"):
        resp = hit_pixel(client, msg)
    assert resp.status_code == 200 and resp.data.startswith(b"GIF89a")
    assert "SPOOL WRITE FAILED" in caplog.text and "No space left" in caplog.text
    monkeypatch.setattr(os, "write", real_write)
    [thread] = threads(client, ann)["threads"]
    assert thread["opens"] == 1
