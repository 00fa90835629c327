"""The live stream as `engage serve` runs it: granian's RSGI interface, streams on the
event loop (server/stream_hub.py), over real HTTP to real processes and databases.

Many subscribers on two processes sharing one PostgreSQL each get exactly their own
events, once; a client resumes by Last-Event-ID across a server restart with nothing
lost or repeated; a client that never reads delays nobody and is dropped; a storm of
reconnects leaves the pixel answered and every stream served; sign-out ends an open
stream; one user cannot take every stream."""

from __future__ import annotations

import http.client
import threading
import time

import pytest
import sqlalchemy as sa

from tests.fixtures.app import empty_pg_database
from tests.live_server import LiveServer

from .helpers import CHROME_DESKTOP, LONDON
from .sse_clients import SseClient, StreamCrowd

pytestmark = pytest.mark.timeout(300)
SECRET = {"ENGAGE_SECRET_KEY": "stream-hub-tests-shared-key", "ENGAGE_TRUSTED_PROXIES": "127.0.0.1/32"}


def _server(tmp_path, name: str, url: str, geo_db, **env) -> LiveServer:
    return LiveServer(instance=tmp_path / name, database_url=url, geo_db=geo_db, mode="rsgi",
                      extra_env={**SECRET, **env})


def _register(server, token: str, thread_id: str) -> str:
    status, body, _ = server.request("POST", "/api/v1/messages", {
        "subject": "Live", "recipients": [{"name": "Rae", "address": "rae@prospect.example"}],
        "thread_id": thread_id, "mode": "manual", "client": "gmail",
    }, token=token)
    assert status == 201, body
    return body["pixel_url"].replace(server.url, "")


def _sign_out(server, token: str) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("POST", "/api/v1/auth/signout", headers={"Authorization": f"Bearer {token}"})
    resp = conn.getresponse()
    resp.read()
    conn.close()
    assert resp.status in (200, 204)


def _hit(server, pixel_path: str, ua: str = CHROME_DESKTOP) -> float:
    """One pixel hit; returns the time it took to be answered."""
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", pixel_path, headers={"User-Agent": ua, "X-Forwarded-For": LONDON})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    assert resp.status == 200 and body.startswith(b"GIF")
    return time.monotonic() - started


@pytest.fixture
def sqlite_server(tmp_path, geo_db, request):
    env = getattr(request, "param", {})
    server = _server(tmp_path, "one", f"sqlite:///{tmp_path / 'hub.db'}", geo_db, **env)
    server.migrate()
    server.token = server.create_user()
    server.start()
    yield server
    server.stop()


def test_many_subscribers_on_two_processes_get_exactly_their_own_events_once(tmp_path, geo_db, pg_url):
    empty_pg_database(pg_url)  # the session's database, which other tests leave with users in it
    a = _server(tmp_path, "a", pg_url, geo_db, ENGAGE_STREAMS_PER_USER="50")
    b = _server(tmp_path, "b", pg_url, geo_db, ENGAGE_STREAMS_PER_USER="50")
    a.migrate()
    tokens = {"ann": a.create_user(), "bob": a.create_user("bob@globex.example", "Globex", ("globex.example",))}
    a.start()
    b.start()
    clients = []
    try:
        for name, token in tokens.items():
            for server in (a, b):
                clients += [(name, SseClient(server.port, token)) for _ in range(15)]
        assert all(c.wait_for(lambda c: ": connected" in c.text, 30) for _, c in clients)
        pixels = {name: _register(a, token, f"thread-{name}") for name, token in tokens.items()}
        for _ in range(3):
            for name in tokens:
                _hit(b if name == "ann" else a, pixels[name])  # stored by one process, heard by both
        for name, client in clients:
            assert client.wait_for(lambda c: len(c.ids()) >= 3, 20), f"{name}'s stream got {client.ids()}"
        time.sleep(1.0)  # time for any duplicate or stray event to show up
        by_user = {name: {tuple(c.ids()) for n, c in clients if n == name} for name in tokens}
        for name, seen in by_user.items():
            [ids] = seen  # every subscriber of a user saw the same events
            assert len(ids) == 3 and list(ids) == sorted(set(ids)), ids
        assert not set(*by_user["ann"]) & set(*by_user["bob"])  # nobody sees another user's events
        assert len(clients) == 60
    finally:
        for _, client in clients:
            client.close()
        a.stop()
        b.stop()


def test_resume_by_last_event_id_across_a_restart_loses_and_repeats_nothing(sqlite_server):
    server = sqlite_server
    pixel = _register(server, server.token, "t-resume")
    client = SseClient(server.port, server.token)
    assert client.wait_for(lambda c: ": connected" in c.text, 30)
    for i in range(2):
        _hit(server, pixel, f"{CHROME_DESKTOP} before/{i}")
    assert client.wait_for(lambda c: len(c.ids()) == 2, 15), client.text
    last_seen = client.ids()[-1]
    client.close()
    server.stop()
    server.start()
    for i in range(3):
        _hit(server, pixel, f"{CHROME_DESKTOP} after/{i}")
    time.sleep(1.0)  # stored before the client is back
    again = SseClient(server.port, server.token, last_event_id=last_seen)
    try:
        assert again.wait_for(lambda c: len(c.ids()) >= 3, 15), again.text
        time.sleep(1.0)
        assert again.ids() == sorted(again.ids()) and len(again.ids()) == 3
        eng = sa.create_engine(server.database_url)
        with eng.connect() as c:
            stored = [r[0] for r in c.execute(sa.text("SELECT id FROM events ORDER BY id"))]
        eng.dispose()
        assert again.ids() == [i for i in stored if i > last_seen] and len(stored) == 5
    finally:
        again.close()


def test_a_client_that_never_reads_delays_nobody(sqlite_server):
    """The stuck client's bytes pile up in its own socket (the kernel takes a few MB on
    loopback before a write blocks; tests/server/test_stream_buffers.py covers what the
    hub does past that); the reader gets every event as it happens."""
    server = sqlite_server
    pixel = _register(server, server.token, "t-slow")
    stuck = SseClient(server.port, server.token, rcvbuf=1024, read=False)
    reader = SseClient(server.port, server.token)
    assert reader.wait_for(lambda c: ": connected" in c.text, 30)
    hits: dict[int, float] = {}
    n = 300
    lock = threading.Lock()

    def fire(k):
        for i in range(k, n, 6):
            _hit(server, pixel, f"{CHROME_DESKTOP} n/{i}")
            with lock:
                hits[i] = time.monotonic()

    threads = [threading.Thread(target=fire, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert reader.wait_for(lambda c: len(c.ids()) >= n, 60), f"{len(reader.ids())} of {n}"
        assert max(reader.arrivals.values()) - max(hits.values()) < 5.0
        assert len(set(reader.ids())) == n
    finally:
        stuck.close()
        reader.close()


@pytest.mark.parametrize("sqlite_server", [{"ENGAGE_STREAMS_PER_USER": "100000"}], indirect=True)
def test_a_reconnect_storm_leaves_the_pixel_answered_and_every_stream_served(sqlite_server):
    server = sqlite_server
    pixel = _register(server, server.token, "t-storm")
    crowd = StreamCrowd(server.port, server.token, n=2000, wanted=1).start()
    pixel_times = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and crowd.statuses().get(200, 0) < 2000:
        pixel_times.append(_hit(server, "/p/" + "x" * 20 + ".gif"))  # unregistered: answered, not stored
        time.sleep(0.05)
    try:
        statuses = crowd.statuses()
        assert statuses.get(200, 0) == 2000, statuses
        assert max(pixel_times) < 2.0, f"pixel took {max(pixel_times):.2f} s during the storm"
        _hit(server, pixel)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and crowd.with_events() < 2000:
            time.sleep(0.2)
        assert crowd.with_events() == 2000
    finally:
        crowd.release()
    assert server.proc.poll() is None


def test_sign_out_ends_an_open_stream_before_its_next_event(sqlite_server):
    server = sqlite_server
    pixel = _register(server, server.token, "t-signout")
    client = SseClient(server.port, server.token)
    assert client.wait_for(lambda c: ": connected" in c.text, 30)
    _sign_out(server, server.token)
    _hit(server, pixel)
    try:
        assert client.wait_for(lambda c: c.ended, 15), client.text
        assert "signed-out" in client.text and client.ids() == []
    finally:
        client.close()


def test_a_ticket_is_single_use_and_bound_to_its_sign_in(sqlite_server):
    server = sqlite_server
    status, body, _ = server.request("POST", "/api/v1/stream/tickets", token=server.token)
    assert status == 201
    path = f"/api/v1/stream?ticket={body['ticket']}"
    first = SseClient(server.port, None, path=path)
    assert first.wait_for(lambda c: ": connected" in c.text, 30)
    second = SseClient(server.port, None, path=path)
    assert second.wait_for(lambda c: "used already" in c.text, 15)
    assert second.status == 401 and "used already" in second.text
    _, body, _ = server.request("POST", "/api/v1/stream/tickets", token=server.token)
    _sign_out(server, server.token)
    late = SseClient(server.port, None, path=f"/api/v1/stream?ticket={body['ticket']}")
    assert late.wait_for(lambda c: "sign in again" in c.text, 15) and late.status == 401
    for c in (first, second, late):
        c.close()


@pytest.mark.parametrize("sqlite_server", [{"ENGAGE_STREAMS_PER_USER": "3"}], indirect=True)
def test_one_user_cannot_take_every_stream(sqlite_server):
    server = sqlite_server
    held = [SseClient(server.port, server.token) for _ in range(3)]
    assert all(c.wait_for(lambda c: ": connected" in c.text, 30) for c in held)
    extra = SseClient(server.port, server.token)
    assert extra.wait_for(lambda c: c.status is not None and "}" in c.text, 15)
    assert extra.status == 429 and "this user" in extra.text and "retry-after" in extra.text.lower()
    other_token = server.create_user(email="cy@o2.example", org="O2", domains=())
    other = SseClient(server.port, other_token)
    try:
        assert other.wait_for(lambda c: ": connected" in c.text, 15) and other.status == 200
    finally:
        for c in (*held, extra, other):
            c.close()


def test_a_re_filed_verdict_reaches_an_open_stream_and_the_thread_counts_follow(sqlite_server):
    """Gmail's proxy loads the image (counted); then the sender's extension reports
    viewing the thread: the load was theirs. The open stream hears the re-filed hit
    at once, so a panel showing the thread changes without a reload."""
    from tests.fixtures.addresses import GOOGLE_PROXY_IP
    from tests.fixtures.agents import GMAIL_PROXY

    server = sqlite_server
    pixel = _register(server, server.token, "t-refile")
    client = SseClient(server.port, server.token)
    try:
        assert client.wait_for(lambda c: ": connected" in c.text, 30)
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        conn.request("GET", pixel, headers={"User-Agent": GMAIL_PROXY, "X-Forwarded-For": GOOGLE_PROXY_IP})
        assert conn.getresponse().read().startswith(b"GIF")
        conn.close()
        assert client.wait_for(lambda c: len(c.events) == 1, 15), client.text
        [opened] = client.events
        assert (opened["verdict"], opened["counts"], opened["unread"]) == ("gmail", True, 1)
        status, _, _ = server.request("POST", "/api/v1/threads/self-view", {"thread_id": "t-refile"},
                                      token=server.token)
        assert status == 200
        assert client.wait_for(lambda c: len(c.events) == 2, 15), client.text
        refiled = client.events[1]
        assert refiled["thread_id"] == "t-refile" and refiled["at"] == opened["at"]
        assert (refiled["verdict"], refiled["counts"], refiled["unread"]) == ("self", False, 0)
        assert refiled["id"] > opened["id"]  # after the client's Last-Event-ID: a reconnect gets it too
        status, page, _ = server.request("GET", "/api/v1/threads", token=server.token)
        [thread] = [t for t in page["threads"] if t["thread_id"] == "t-refile"]
        assert thread["opens"] == 0
    finally:
        client.close()
