"""Holes found by probing a running server (issue 11, section 3): each answered with a
4xx in the API's one error shape, never a 500."""

from __future__ import annotations

import base64
import json

import pytest

from tests.fixtures.api import assert_api_error
from tests.server.helpers import register


@pytest.mark.parametrize("cursor", [
    "1733000000000000_" + "9" * 30,  # an id no BIGINT holds
    f"1733000000000000_{2**63}",
    "1733000000000000_0",
    "1733000000000000_-1",
    "1733000000000000_1.5",
    "1733000000000000_1\n",
    "1" * 18 + "_5",  # a time past what the database compares
    "_5",
    # The form cursors had before (base64 of a JSON pair): start again from the first page.
    base64.urlsafe_b64encode(json.dumps(["2024-01-01T00:00:00.000Z", 5]).encode()).decode().rstrip("="),
])
def test_a_cursor_out_of_bounds_is_a_422_naming_it(client, ann, cursor):
    register(client, ann)
    response = client.get("/api/v1/threads", query_string={"cursor": cursor}, headers=ann.headers)
    assert "cursor" in assert_api_error(response, 422)["details"]["query"]


def test_the_largest_thread_id_is_still_a_cursor(client, ann):
    register(client, ann)
    response = client.get(f"/api/v1/threads?cursor=32503680000000000_{2**63 - 1}", headers=ann.headers)
    assert response.status_code == 200 and len(response.get_json()["threads"]) == 1


@pytest.mark.parametrize("link", [
    "https://prospect.example/a\r\nSet-Cookie: x=1",
    "https://prospect.example/a\nb",
    "https://prospect.example/\x00",
    "https://prospect.example/\tx",
    "https://prospect.example/\x7f",
])
def test_a_link_with_control_characters_is_refused_at_registration(client, ann, link):
    response = client.post("/api/v1/messages", headers=ann.headers, json={
        "subject": "s", "recipients": [{"address": "carla@prospect.example"}], "thread_id": "t",
        "mode": "manual", "client": "gmail", "links": [link]})
    assert "links" in json.dumps(assert_api_error(response, 422)["details"])


@pytest.mark.parametrize("address", ["a b@c d", "<script>@x.y", "carla@prospect", "carla@@prospect.example",
                                     "carla@prospect..example", "carla\u00a0x@prospect.example"])
def test_recipients_follow_client_pys_address_rules(client, ann, address):
    response = client.post("/api/v1/messages", headers=ann.headers, json={
        "subject": "s", "recipients": [{"address": address}], "thread_id": "t",
        "mode": "manual", "client": "gmail"})
    assert_api_error(response, 422)


def test_healthz_is_not_ok_on_a_database_without_the_schema(tmp_path, geo_db):
    """A load balancer must not send traffic to a server whose every request would fail."""
    from flask_migrate import upgrade

    from server.extensions import db
    from tests.fixtures.app import make_app

    app = make_app(f"sqlite:///{tmp_path / 'empty.db'}", tmp_path, geo_db)
    try:
        client = app.test_client()
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.get_json()["status"] == "degraded" and response.get_json()["schema"] == "missing"
        with app.app_context():
            upgrade()
        ok = client.get("/healthz")
        assert ok.status_code == 200 and ok.get_json() == {"status": "ok", "database": "ok", "schema": "ok"}
        with app.app_context():
            db.session.execute(db.text("UPDATE alembic_version SET version_num = '0001'"))
            db.session.commit()
        assert client.get("/healthz").get_json()["schema"] == "outdated"
    finally:
        app.extensions["engage"].spool.close()
        with app.app_context():
            db.engine.dispose()


def test_the_sqlite_file_the_key_and_the_spool_are_private(tmp_path, geo_db):
    import os
    import stat

    from server.extensions import db
    from server.hitpath.spool import Spool
    from tests.fixtures.app import make_app

    instance = tmp_path / "instance"
    old_umask = os.umask(0o022)
    try:
        app = make_app(f"sqlite:///{instance / 'engage.db'}", instance, geo_db, SECRET_KEY=None)
        with app.app_context():
            db.session.execute(db.text("CREATE TABLE t (x INTEGER)"))
            db.session.execute(db.text("INSERT INTO t VALUES (1)"))
            db.session.commit()
            spool = Spool(instance / "spool")
            assert spool.append({"hit_id": "h1", "kind": "open", "token": "x" * 20})
            spool.close()
            mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
            assert mode(instance) == 0o700
            assert mode(instance / "engage.db") == 0o600
            assert mode(instance / "engage.db-wal") == 0o600
            assert mode(instance / "secret_key") == 0o600
            assert mode(instance / "spool") == 0o700
            assert [mode(f) for f in (instance / "spool").iterdir() if f.is_file()]
            assert all(mode(f) == 0o600 for f in (instance / "spool").iterdir() if f.is_file())
            db.engine.dispose()
        app.extensions["engage"].spool.close()
    finally:
        os.umask(old_umask)


def test_the_operator_can_pin_the_extension_ids_cors_allows(tmp_path, geo_db):
    from server.extensions import db
    from tests.fixtures.app import make_app

    pinned = "abcdefghijklmnopabcdefghijklmnop"
    app = make_app(f"sqlite:///{tmp_path / 'c.db'}", tmp_path, geo_db, EXTENSION_IDS=[pinned])
    try:
        client = app.test_client()
        ours = client.get("/api/openapi.json", headers={"Origin": f"chrome-extension://{pinned}"})
        assert ours.headers.get("Access-Control-Allow-Origin") == f"chrome-extension://{pinned}"
        other = client.get("/api/openapi.json", headers={"Origin": "chrome-extension://" + "p" * 32})
        assert "Access-Control-Allow-Origin" not in other.headers
    finally:
        app.extensions["engage"].spool.close()
        with app.app_context():
            db.engine.dispose()


def test_a_pinned_extension_id_that_is_not_one_stops_the_start(tmp_path, geo_db):
    from tests.fixtures.app import make_app

    with pytest.raises(ValueError, match="not a Chrome extension id"):
        make_app(f"sqlite:///{tmp_path / 'c.db'}", tmp_path, geo_db, EXTENSION_IDS=["chrome-extension://x"])


def _click(client, message):
    from tests.server.helpers import path_of

    return client.get(path_of(message["links"][0]["tracked_url"]))


def test_a_deleted_emails_links_stop_redirecting_at_once(client, ann):
    message = register(client, ann)
    assert _click(client, message).status_code == 302
    assert client.delete(f"/api/v1/messages/{message['id']}", headers=ann.headers).status_code == 204
    assert _click(client, message).status_code == 404


def test_purged_links_stop_redirecting(app, client, ann):
    from datetime import timedelta

    from server.retention import purge
    from server.models import utcnow

    message = register(client, ann)
    assert _click(client, message).status_code == 302
    with app.app_context():
        purge(90, now=utcnow() + timedelta(days=91))
    assert _click(client, message).status_code == 404


def test_links_deleted_by_another_process_stop_redirecting_after_the_recheck(app, client, ann, monkeypatch):
    import sqlalchemy as sa

    from server.extensions import db
    from server.models import Link
    from server.hitpath.answer import LinkCache

    message = register(client, ann)
    assert _click(client, message).status_code == 302
    with app.app_context():  # as another worker (or the writer's retention) would
        db.session.execute(sa.delete(Link))
        db.session.commit()
    assert _click(client, message).status_code == 302  # this process cached it a moment ago
    monkeypatch.setattr(LinkCache, "RECHECK_SECONDS", 0.0)
    assert _click(client, message).status_code == 404


def test_header_values_are_capped_in_the_spooled_hit(app):
    from werkzeug.test import EnvironBuilder

    from server.hitpath.answer import hit_record

    huge = "prefetch" + "x" * 400_000
    environ = EnvironBuilder(path="/p/abcdefghijklmnop1234.gif", headers={
        "Purpose": huge, "Sec-Purpose": huge, "X-Purpose": huge, "X-Moz": huge, "User-Agent": huge}).get_environ()
    record = hit_record(environ, "open", "abcdefghijklmnop1234", [])
    assert set(record["headers"]) == {"purpose", "sec-purpose", "x-purpose", "x-moz"}
    assert all(value.startswith("prefetch") and len(value) <= 200 for value in record["headers"].values())
    assert len(json.dumps(record)) < 5_000
