"""The hot endpoints: a recipient's mail client always gets its image or redirect."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from .helpers import CHROME_DESKTOP, LONDON, drain, hit_pixel, path_of, register

NO_CACHE = {
    "Cache-Control": "no-cache, no-store, must-revalidate, max-age=0",
    "Pragma": "no-cache",
    "Expires": "0",
}


def count_events(app):
    drain(app)
    from server.extensions import db
    from server.models import Event

    with app.app_context():
        return db.session.execute(sa.select(sa.func.count(Event.id))).scalar_one()


def assert_gif(resp):
    assert resp.status_code == 200
    assert resp.mimetype == "image/gif"
    assert resp.data.startswith(b"GIF89a") and len(resp.data) < 100
    for k, v in NO_CACHE.items():
        assert resp.headers[k] == v


def test_pixel_answers_a_gif_and_records_an_open(app, client, ann):
    msg = register(client, ann)
    resp = hit_pixel(client, msg)
    assert_gif(resp)
    assert count_events(app) == 1


@pytest.mark.parametrize("path", [
    "/p/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.gif",  # well-formed but unknown
    "/p/short.gif",
    "/p/not a token!.gif",
    "/p/../../etc/passwd",
    "/p/a/b/c.gif",
    "/p/" + "x" * 500 + ".gif",
    "/p/%00%ff.gif",
])
def test_unknown_or_malformed_pixel_still_gets_an_image_and_records_nothing(app, client, ann, path):
    register(client, ann)
    resp = client.get(path, headers={"User-Agent": CHROME_DESKTOP})
    assert_gif(resp)
    assert count_events(app) == 0


def test_pixel_tokens_are_unguessable_and_meaningless(client, ann):
    a = register(client, ann, thread_id="t-a")
    b = register(client, ann, thread_id="t-b")
    ta = path_of(a["pixel_url"]).split("/")[-1][:-4]
    tb = path_of(b["pixel_url"]).split("/")[-1][:-4]
    assert ta != tb
    assert len(ta) * 6 >= 128  # base64url: 6 bits a character
    for meaningful in ("ann", "acme", "thread", a["id"]):
        assert meaningful not in ta


def test_head_is_answered_but_recorded_as_a_scanner(app, client, ann):
    msg = register(client, ann)
    resp = hit_pixel(client, msg, method="HEAD")
    assert resp.status_code == 200
    assert resp.data == b""
    from server.extensions import db
    from server.models import Event

    with app.app_context():
        event = db.session.execute(sa.select(Event)).scalar_one()
        assert event.verdict == "scanner"
        assert "HEAD" in event.reason


def test_click_redirects_to_the_registered_url_only(app, client, ann):
    msg = register(client, ann)
    tracked = msg["links"][0]
    assert tracked["url"] == "https://prospect.example/pricing?a=1&b=2"
    resp = client.get(path_of(tracked["tracked_url"]), headers={"User-Agent": CHROME_DESKTOP},
                      environ_base={"REMOTE_ADDR": LONDON})
    assert resp.status_code == 302
    assert resp.headers["Location"] == "https://prospect.example/pricing?a=1&b=2"
    assert resp.headers["Cache-Control"].startswith("no-cache")
    # Appending a destination of one's own changes nothing: there is no parameter to abuse.
    evil = client.get(path_of(tracked["tracked_url"]) + "?url=https://evil.example/",
                      headers={"User-Agent": CHROME_DESKTOP})
    assert evil.headers["Location"] == "https://prospect.example/pricing?a=1&b=2"


@pytest.mark.parametrize("path", ["/c/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "/c/x", "/c/https://evil.example/"])
def test_unknown_click_token_gets_a_404_page_not_a_redirect(app, client, ann, path):
    register(client, ann)
    resp = client.get(path)
    assert resp.status_code == 404
    assert "Location" not in resp.headers
    assert b"Link not found" in resp.data
    assert resp.mimetype == "text/html"
    assert count_events(app) == 0


def test_a_click_counts_as_an_open_when_none_was_seen(app, client, ann):
    msg = register(client, ann)
    client.get(path_of(msg["links"][0]["tracked_url"]), headers={"User-Agent": CHROME_DESKTOP},
               environ_base={"REMOTE_ADDR": LONDON})
    drain(app)
    from server.extensions import db
    from server.models import Event

    with app.app_context():
        kinds = sorted((e.kind, e.implied) for e in db.session.execute(sa.select(Event)).scalars())
    assert kinds == [("click", False), ("open", True)]


def test_x_forwarded_for_is_believed_only_from_trusted_proxies(app, client, ann, geo_db, tmp_path):
    msg = register(client, ann)
    # Not behind a trusted proxy: the header is ignored, the peer address is used.
    client.get(path_of(msg["pixel_url"]), headers={"User-Agent": CHROME_DESKTOP, "X-Forwarded-For": LONDON},
               environ_base={"REMOTE_ADDR": "127.0.0.1"})
    drain(app)
    from server.extensions import db
    from server.models import Event

    with app.app_context():
        event = db.session.execute(sa.select(Event)).scalar_one()
        assert event.city is None
    app.extensions["engage"].trusted_proxies = [__import__("ipaddress").ip_network("127.0.0.0/8")]
    client.get(path_of(msg["pixel_url"]), headers={"User-Agent": "Other/1.0 (Macintosh)", "X-Forwarded-For": f"10.9.9.9, {LONDON}"},
               environ_base={"REMOTE_ADDR": "127.0.0.1"})
    drain(app)
    with app.app_context():
        cities = [e.city for e in db.session.execute(sa.select(Event).order_by(Event.id)).scalars()]
    assert cities[-1] == "London"


def test_raw_addresses_are_not_stored(app, client, ann):
    msg = register(client, ann)
    hit_pixel(client, msg, ip=LONDON)
    from server.extensions import db

    with app.app_context():
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(sa.select(table)).all():
                assert LONDON not in repr(tuple(row)), table.name
