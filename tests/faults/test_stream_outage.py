"""PostgreSQL restarting under open live streams (every connection to it cut, then
back): the server stays up, pixels are answered meanwhile, the streams stay open, and
once the database is back every connected client gets every event, once."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from tests.live_server import LiveServer
from tests.server.helpers import CHROME_DESKTOP
from tests.server.sse_clients import SseClient

from .tcp_proxy import CuttableProxy
from .test_outages import _get, _register

pytestmark = pytest.mark.timeout(300)


def test_postgres_restart_under_open_streams_every_client_gets_every_event_once(tmp_path, geo_db, pg_url):
    eng = sa.create_engine(pg_url)
    with eng.begin() as c:
        c.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    eng.dispose()
    proxy = CuttableProxy("127.0.0.1", 5432)
    via_proxy = pg_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    server = LiveServer(instance=tmp_path, database_url=via_proxy, geo_db=geo_db, workers=2, mode="rsgi",
                        extra_env={"ENGAGE_TRUSTED_PROXIES": "127.0.0.1/32", "ENGAGE_STREAMS_PER_USER": "20"})
    server.migrate()
    server.token = server.create_user()
    server.start()
    clients = []
    try:
        pixel = _register(server)["pixel_url"].replace(server.url, "")
        clients = [SseClient(server.port, server.token) for _ in range(20)]
        assert all(c.wait_for(lambda c: ": connected" in c.text, 30) for c in clients)
        status, _, _ = _get(server, pixel, f"{CHROME_DESKTOP} before")
        assert status == 200
        assert all(c.wait_for(lambda c: len(c.ids()) == 1, 20) for c in clients)
        proxy.cut()  # PostgreSQL restarts: every connection to it dropped, none accepted
        for i in range(10):
            status, _, body = _get(server, pixel, f"{CHROME_DESKTOP} during/{i}")
            assert status == 200 and body.startswith(b"GIF89a")
        time.sleep(3)
        proxy.restore()
        for client in clients:
            assert client.wait_for(lambda c: len(c.ids()) >= 11, 60), f"got {len(client.ids())} of 11"
        time.sleep(1.0)
        for client in clients:
            ids = client.ids()
            assert len(ids) == 11 and ids == sorted(set(ids)), ids
            assert not client.ended
        assert server.proc.poll() is None
    finally:
        for client in clients:
            client.close()
        server.stop()
        proxy.close()
