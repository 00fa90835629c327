"""Honest counts under real traffic, through a running ``engage serve`` (two granian
workers and the writer process) over real HTTP, on SQLite and PostgreSQL: a flood
from one reader is one open whichever worker answered each hit; two servers (two
writers) on one PostgreSQL store a flood with the same verdicts as one; and after a
run with every spelling of an address, no raw address is anywhere at rest."""

from __future__ import annotations

import http.client
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from tests.fixtures.app import empty_pg_database
from tests.live_server import TRUST_LOCAL_PROXY, LiveServer

from .helpers import CHROME_DESKTOP, IPHONE_MAIL

SERVER_ENV = {**TRUST_LOCAL_PROXY, "ENGAGE_SPOOL_RETIRE_SECONDS": "2"}


def _serve(tmp_path, url, geo_db, name="a", **env) -> LiveServer:
    return LiveServer(instance=tmp_path / name, database_url=url, geo_db=geo_db, workers=2, mode="serve",
                      extra_env={**SERVER_ENV, **env})


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'live.db'}"
    url = request.getfixturevalue("pg_url")
    empty_pg_database(url)
    return url


def _send(server, hits: list[tuple[str, str, str]], connections: int = 8) -> int:
    """(path, user agent, X-Forwarded-For) each over its own keep-alive connections."""
    def worker(k: int) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        ok = 0
        for path, ua, forwarded in hits[k::connections]:
            conn.request("GET", path, headers={"User-Agent": ua, "X-Forwarded-For": forwarded})
            resp = conn.getresponse()
            resp.read()
            ok += resp.status in (200, 302)
        conn.close()
        return ok

    with ThreadPoolExecutor(max_workers=connections) as pool:
        return sum(pool.map(worker, range(connections)))


def _events(url: str, n: int, message_ids=None, timeout: float = 60) -> list[tuple]:
    eng = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    deadline = time.monotonic() + timeout
    try:
        while True:
            with eng.connect() as c:
                rows = c.execute(sa.text(
                    "SELECT m.public_id, e.kind, e.verdict, e.implied FROM events e "
                    "JOIN messages m ON m.id = e.message_id")).all()
            real = [r for r in rows if not r[3] and (message_ids is None or r[0] in message_ids)]
            if len(real) >= n or time.monotonic() > deadline:
                return rows
            time.sleep(0.2)
    finally:
        eng.dispose()


def register(server, thread_id="t1", links=("https://prospect.example/pricing",)):
    status, body, _ = server.request("POST", "/api/v1/messages", {
        "subject": "Live", "recipients": [{"name": "Rae", "address": "rae@prospect.example"}],
        "thread_id": thread_id, "mode": "manual", "client": "gmail", "links": list(links),
    }, token=server.token)
    assert status == 201, body
    return body


def _path(server, url: str) -> str:
    return url.replace(server.url, "")


def test_two_hundred_hits_from_one_source_in_two_seconds_count_as_one_open(tmp_path, geo_db, database_url):
    server = _serve(tmp_path, database_url, geo_db)
    server.migrate()
    server.token = server.create_user()
    server.start()
    try:
        msg = register(server)
        path = _path(server, msg["pixel_url"])
        started = time.monotonic()
        assert _send(server, [(path, IPHONE_MAIL, "81.2.69.142")] * 200) == 200
        assert time.monotonic() - started < 10
        rows = _events(database_url, 200)
        assert Counter(r[2] for r in rows) == {"human": 1, "duplicate": 199}
        status, page, _ = server.request("GET", "/api/v1/threads", token=server.token)
        assert page["threads"][0]["opens"] == 1
    finally:
        server.stop()


def _flood(server, msg):
    """Ten readers each loading the image 15 times within a second or two; then a
    gateway clicking every link at once."""
    pixel = _path(server, msg["pixel_url"])
    loads = [(pixel, f"{CHROME_DESKTOP} reader/{r}", f"81.2.69.{10 + r}") for _ in range(15) for r in range(10)]
    clicks = [(_path(server, link["tracked_url"]), CHROME_DESKTOP, "89.160.20.112") for link in msg["links"]]
    return loads, clicks


def test_two_servers_on_one_postgres_store_a_flood_with_the_verdicts_of_one(tmp_path, geo_db, pg_url):
    empty_pg_database(pg_url)
    # Another machine: its own instance folder, spool and writer; the same secret key,
    # as docs/deploy.md requires (address hashes must agree).
    key = {"ENGAGE_SECRET_KEY": "a shared key for the two test servers, 32+ chars"}
    one = _serve(tmp_path, pg_url, geo_db, "one", **key)
    two = _serve(tmp_path, pg_url, geo_db, "two", **key)
    one.migrate()
    one.token = one.create_user()
    one.start()
    two.start()
    try:
        emails = []
        for name in ("alone", "shared"):
            status, body, _ = one.request("POST", "/api/v1/messages", {
                "subject": name, "recipients": [{"name": "Rae", "address": "rae@prospect.example"}],
                "thread_id": f"t-{name}", "mode": "manual", "client": "gmail",
                "links": [f"https://prospect.example/{i}" for i in range(4)]}, token=one.token)
            assert status == 201, body
            emails.append(body)
        alone, shared = emails
        (loads_a, clicks_a), (loads_s, clicks_s) = _flood(one, alone), _flood(one, shared)
        # Every reader's loads, and the gateway's clicks, alternate between the servers.
        with ThreadPoolExecutor(max_workers=3) as pool:
            sent = [pool.submit(_send, one, loads_a, 4),
                    pool.submit(_send, one, [h for k, h in enumerate(loads_s) if (k // 10) % 2 == 0], 4),
                    pool.submit(_send, two, [h for k, h in enumerate(loads_s) if (k // 10) % 2 == 1], 4)]
            assert sum(f.result() for f in sent) == 2 * len(loads_a)
        with ThreadPoolExecutor(max_workers=3) as pool:
            sent = [pool.submit(_send, one, clicks_a, 4), pool.submit(_send, one, clicks_s[0::2], 2),
                    pool.submit(_send, two, clicks_s[1::2], 2)]
            assert sum(f.result() for f in sent) == 8
        n = len(loads_a) + len(clicks_a)
        rows = _events(pg_url, 2 * n)
        by_email = {pid: Counter((k, v, i) for p, k, v, i in rows if p == pid) for pid in (alone["id"], shared["id"])}
        assert by_email[shared["id"]] == by_email[alone["id"]]
        assert by_email[alone["id"]][("open", "human", False)] == 10
        assert by_email[alone["id"]][("click", "scanner", False)] == 4
        assert sum(n for (k, v, i), n in by_email[alone["id"]].items() if i) == 0
    finally:
        two.stop()
        one.stop()


SPELLINGS = [
    # (what the reverse proxy forwards, the address it is)
    ("81.2.69.142", "81.2.69.142"),
    ("::ffff:81.2.69.142", "81.2.69.142"),
    ("::FFFF:5102:458e", "81.2.69.142"),
    ("2001:0db8:0000:0000:0000:ff00:0042:8329", "2001:db8::ff00:42:8329"),
    ("2001:DB8::FF00:42:8329", "2001:db8::ff00:42:8329"),
    ("[2001:db8::ff00:42:8329]", "2001:db8::ff00:42:8329"),
    ("2001:218:0:0:0:0:0:7", "2001:218::7"),
    ("89.160.20.112", "89.160.20.112"),
]


def _needles() -> set[bytes]:
    out = set()
    for raw, canon in SPELLINGS:
        out |= {raw.encode(), raw.strip("[]").encode(), raw.lower().strip("[]").encode(), canon.encode()}
    return out


def test_no_raw_address_at_rest_anywhere(tmp_path, geo_db, database_url):
    server = _serve(tmp_path, database_url, geo_db)
    server.migrate()
    server.token = server.create_user(ranges=("203.0.113.0/24",))
    server.start()
    try:
        msg = register(server)
        hits = []
        for raw, _ in SPELLINGS:
            hits += [(_path(server, msg["pixel_url"]), IPHONE_MAIL, raw),
                     (_path(server, msg["links"][0]["tracked_url"]), CHROME_DESKTOP, raw)]
        assert _send(server, hits, connections=2) == len(hits)
        for raw, _ in SPELLINGS:  # the sender's own API calls from those addresses
            status, _, _ = server.request("GET", "/api/v1/counter", token=server.token,
                                          headers={"X-Forwarded-For": raw})
            assert status == 200
        _events(database_url, len(hits))
        # The spool files are let go (2 s here, 20 s by default), drained, truncated, deleted.
        spool = tmp_path / "a" / "spool"
        deadline = time.monotonic() + 30
        while any(spool.glob("hits-*")) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not any(spool.glob("hits-*.jsonl")), sorted(p.name for p in spool.iterdir())
    finally:
        server.stop()
    found = []
    needles = _needles()
    for path in (tmp_path).rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path.relative_to(tmp_path)}: {n.decode()}" for n in needles if n in data]
    if not database_url.startswith("sqlite"):
        eng = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
        with eng.connect() as c:
            for table in sa.inspect(c).get_table_names():
                for row in c.execute(sa.text(f'SELECT * FROM "{table}"')):
                    text = repr(tuple(row)).encode()
                    found += [f"{table}: {n.decode()}" for n in needles if n in text]
        eng.dispose()
    assert found == []
