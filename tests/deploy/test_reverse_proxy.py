"""The documented way to grow past one machine (docs/deploy.md): several
`engage serve` instances on one PostgreSQL database behind nginx. A recipient's
open that lands on one instance reaches the sender's live stream held open on the
other within 2 seconds; every hit is stored; the client's address is the one
nginx saw (X-Forwarded-For from the trusted proxy)."""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.fixtures.app import empty_pg_database
from tests.live_server import TRUST_LOCAL_PROXY, LiveServer, free_port
from tests.server.helpers import CHROME_DESKTOP

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CONF = """
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 256; }}
http {{
  access_log off;
  upstream engage {{ server 127.0.0.1:{a}; server 127.0.0.1:{b}; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://engage;
      proxy_http_version 1.1;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header Connection "";
      proxy_buffering off;          # live stream: pass each event on at once
      proxy_read_timeout 1h;
    }}
  }}
}}
"""


@pytest.fixture
def cluster(tmp_path, geo_db, pg_url):
    if not Path(NGINX).exists():
        pytest.fail("nginx is missing: scripts/test.sh installs Debian's nginx-light")
    empty_pg_database(pg_url)
    port = free_port()
    env = {**TRUST_LOCAL_PROXY, "ENGAGE_SECRET_KEY": "shared-by-all-instances-" + "x" * 20}
    servers = [LiveServer(instance=tmp_path / name, database_url=pg_url, geo_db=geo_db, workers=1,
                          mode="serve", extra_env=env) for name in ("a", "b")]
    servers[0].migrate()
    token = servers[0].create_user()
    for s in servers:
        s.extra_env["ENGAGE_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
        s.start()
    conf = tmp_path / "nginx.conf"
    conf.write_text(CONF.format(dir=tmp_path, a=servers[0].port, b=servers[1].port, port=port))
    subprocess.run([NGINX, "-c", str(conf)], check=True)
    yield servers, port, token
    subprocess.run([NGINX, "-c", str(conf), "-s", "stop"], check=False)
    for s in servers:
        s.stop()


def _open_stream(port: int, token: str, backend_port: int):
    """A stream held open on one named instance (bypassing nginx's balancing)."""
    conn = http.client.HTTPConnection("127.0.0.1", backend_port, timeout=10)
    conn.request("GET", "/api/v1/stream", headers={"Authorization": f"Bearer {token}"})
    resp = conn.getresponse()
    assert resp.status == 200 and resp.readline().startswith(b"retry:")
    return conn, resp


def test_open_on_one_instance_reaches_a_stream_on_the_other(cluster):
    (a, b), port, token = cluster
    status, msg, _ = a.request("POST", "/api/v1/messages", {
        "subject": "Scale", "recipients": [{"name": "", "address": "rae@prospect.example"}],
        "thread_id": "t1", "mode": "manual", "client": "gmail"}, token=token)
    assert status == 201
    assert msg["pixel_url"].startswith(f"http://127.0.0.1:{port}/p/")
    path = msg["pixel_url"].split(str(port), 1)[1]
    streams = [_open_stream(port, token, a.port), _open_stream(port, token, b.port)]
    time.sleep(0.5)
    sent = time.monotonic()
    for i in range(6):  # through nginx: spread over both instances
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", path, headers={"User-Agent": f"{CHROME_DESKTOP} n{i}", "X-Forwarded-For": "203.0.113.9"})
        r = conn.getresponse()
        assert r.status == 200 and r.read().startswith(b"GIF89a")
        conn.close()
    for conn, resp in streams:
        got = []
        while len(got) < 1 and time.monotonic() - sent < 2.0:
            line = resp.readline().decode()
            if line.startswith("data: "):
                got.append(json.loads(line[6:]))
        assert got, "no event within 2 seconds on one of the instances"
        conn.close()
    # Every hit stored once; nginx's own address was not taken for the reader's.
    eng = sa.create_engine(a.database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with eng.connect() as c:
            n = c.execute(sa.text("SELECT count(*) FROM events")).scalar()
        if n >= 6:
            break
        time.sleep(0.2)
    eng.dispose()
    assert n == 6
    status, page, _ = a.request("GET", "/api/v1/threads", token=token)
    verdicts = {e["verdict"] for e in page["threads"][0]["events"]}
    assert "self" not in verdicts  # 127.0.0.1 (nginx) was not mistaken for the reader
