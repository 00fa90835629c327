"""A disk that fills up, for real: a tiny tmpfs holds the spool (and, in one test, the
SQLite database too), a filler file takes every free page, and the server answers
recipients meanwhile. No answered hit is lost while anything can take it; when nothing
can, the image is still served, the hit is counted as lost and the log says so once a
second. (Mounting a tmpfs needs root, or the passwordless sudo scripts/test.sh uses.)"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from server.causes import describe
from tests.fixtures.app import _truncate_pg, make_app
from tests.server.helpers import CHROME_DESKTOP, LONDON, path_of

pytestmark = pytest.mark.timeout(120)


@contextmanager
def tiny_disk(path: Path, size_kb: int):
    path.mkdir(parents=True, exist_ok=True)
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    mounted = subprocess.run([*sudo, "mount", "-t", "tmpfs", "-o", f"size={size_kb}k,mode=0777", "tmpfs", str(path)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.fail(f"cannot mount a {size_kb} KB tmpfs at {path} (root or passwordless sudo needed): "
                    f"{mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run([*sudo, "umount", "-l", str(path)], capture_output=True)


def fill(disk: Path) -> Path:
    """Take every free page of the disk; returns the filler (delete it to recover)."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            try:
                if os.write(fd, b"\0" * 65536) == 0:
                    break
            except OSError as err:
                assert err.errno == errno.ENOSPC
                break
    finally:
        os.close(fd)
    return filler


@pytest.fixture
def databases(request, sqlite_template) -> dict:
    """Where each backend's database comes from (asked for before the test runs: a
    migration run during the test would reset the log capture)."""
    callspec = getattr(request.node, "callspec", None)
    wanted = callspec.params.get("backend", "sqlite") if callspec else "sqlite"
    return {"sqlite": sqlite_template, "postgres": request.getfixturevalue("pg_migrated") if wanted == "postgres" else None}


@contextmanager
def engage_app(backend: str, databases: dict, instance: Path, geo_db: str, sqlite_file: Path | None = None, **config):
    if backend == "sqlite":
        sqlite_file = sqlite_file or instance / "engage.db"
        shutil.copy(databases["sqlite"], sqlite_file)
        url = f"sqlite:///{sqlite_file}"
    else:
        url = databases["postgres"]
    app = make_app(url, instance, geo_db, **config)
    if backend == "postgres":
        _truncate_pg(app)
    try:
        yield app
    finally:
        from server.extensions import db

        svc = app.extensions["engage"]
        svc.drainer.close()
        svc.broker.stop()
        svc.spool.close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


MESSAGE = {"subject": "Disk", "recipients": [{"name": "", "address": "rae@prospect.example"}],
           "thread_id": "t1", "mode": "manual", "client": "gmail"}


def sign_in_and_register(app) -> tuple[object, str]:
    from server.extensions import db
    from server.models import ApiToken, Org, User, hash_token, new_token

    with app.app_context():
        org = Org(name="Acme", internal_domains=["acme.example"], office_ranges=[])
        user = User(org=org, email="ann@acme.example", password_hash="-", settings={})
        token = new_token(32)
        db.session.add_all([org, user, ApiToken(user=user, token_hash=hash_token(token))])
        db.session.commit()
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    resp = client.post("/api/v1/messages", json=MESSAGE)
    assert resp.status_code == 201, resp.get_json()
    return client, path_of(resp.get_json()["pixel_url"])


def open_pixel(client, pixel: str, ua: str) -> None:
    resp = client.get(pixel, headers={"User-Agent": ua}, environ_base={"REMOTE_ADDR": LONDON})
    assert resp.status_code == 200 and resp.data.startswith(b"GIF89a")


def stored_agents(app) -> set[str]:
    from server.extensions import db

    with app.app_context():
        agents = set(db.session.execute(sa.text("SELECT user_agent FROM events")).scalars())
        db.session.rollback()
        return agents


def lost_so_far(client) -> float:
    """engage_hits_lost_total{kind="open"} as /metrics says it."""
    from prometheus_client.parser import text_string_to_metric_families

    resp = client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert resp.status_code == 200
    for family in text_string_to_metric_families(resp.get_data(as_text=True)):
        for sample in family.samples:
            if sample.name == "engage_hits_lost_total" and sample.labels == {"kind": "open"}:
                return sample.value
    raise AssertionError("no engage_hits_lost_total in /metrics")


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_disk_filling_mid_record_then_recovering_loses_no_answered_hit(backend, databases, tmp_path, geo_db, caplog):
    """The spool's last page fills in the middle of a record: the write comes back short.
    That fragment must not be left for the next record to be glued onto."""
    with tiny_disk(tmp_path / "disk", 256) as disk, \
            engage_app(backend, databases, tmp_path, geo_db, SPOOL_DIR=str(disk / "spool"), SPOOL_RESERVE_MB=0) as app:
        client, pixel = sign_in_and_register(app)
        answered = [f"{CHROME_DESKTOP} before/0"]
        open_pixel(client, pixel, answered[0])  # opens the spool file: part of a page in use
        filler = fill(disk)
        with caplog.at_level("WARNING"):
            for i in range(30):  # the page fills mid-record, then every append fails
                answered.append(f"{CHROME_DESKTOP} full/{i}")
                open_pixel(client, pixel, answered[-1])
            assert "short write" in caplog.text  # the scenario really happened
            with pytest.raises(OSError) as full, app.app_context():
                app.extensions["engage"].drainer.drain_all()  # its progress mark needs a page too
            assert describe(full.value)[1].startswith("disk full: No space left on device")  # not "database?"
            filler.unlink()  # space is back
            for i in range(10):
                answered.append(f"{CHROME_DESKTOP} after/{i}")
                open_pixel(client, pixel, answered[-1])
            with app.app_context():
                app.extensions["engage"].drainer.drain_all()
        missing = set(answered) - stored_agents(app)
        assert not missing, f"{len(missing)} answered hits were lost: {sorted(missing)[:3]}"
        assert "unreadable" not in caplog.text and "torn record" not in caplog.text


def test_spool_and_sqlite_on_one_full_disk_hits_within_the_reserve_are_kept(databases, tmp_path, geo_db, caplog):
    """Before: the spool could not take a hit and neither could SQLite, so every hit was
    lost. Now the reserve gives room back for the spool; the writer waits for space
    rather than filling it with the database; past the reserve, hits are counted lost
    and logged once a second."""
    from server.hitpath.spool import RESERVE_NAME, DiskFull

    with tiny_disk(tmp_path / "disk", 4096) as disk, \
            engage_app("sqlite", databases, disk, geo_db, sqlite_file=disk / "engage.db",
                       SPOOL_RESERVE_MB=0.25) as app:
        client, pixel = sign_in_and_register(app)
        drainer = app.extensions["engage"].drainer
        with app.app_context():
            drainer.drain_all()
        assert (disk / "spool" / RESERVE_NAME).stat().st_size == 256 * 1024  # the drainer made it
        filler = fill(disk)
        lost_before = lost_so_far(client)
        kept = [f"{CHROME_DESKTOP} kept/{i}" for i in range(150)]  # ~60 KB of spool: within the reserve
        with caplog.at_level("WARNING"):
            for ua in kept:
                open_pixel(client, pixel, ua)
            assert lost_so_far(client) == lost_before
            assert "released the 0.25 MB reserve" in caplog.text
            with pytest.raises(DiskFull), app.app_context():
                drainer.drain_all()  # the writer waits: storing would eat the spool's room
            started = time.monotonic()
            beyond = [f"{CHROME_DESKTOP} beyond/{i}" for i in range(1200)]
            for ua in beyond:  # past the reserve: still served, then lost
                open_pixel(client, pixel, ua)
            elapsed = time.monotonic() - started
            refused = client.post("/api/v1/messages", json={**MESSAGE, "thread_id": "t2"})
            assert refused.status_code == 503, refused.get_json()  # was a 500
            assert refused.get_json()["error"]["code"] == "unavailable"
            assert "disk is full" in refused.get_json()["error"]["message"]
            lost = lost_so_far(client) - lost_before
            loss_lines = [r for r in caplog.records if "LOST" in r.getMessage()]
        assert lost > 0, "the test should have run past the reserve"
        assert len(loss_lines) <= elapsed + 1, f"{len(loss_lines)} loss lines in {elapsed:.1f} s"
        filler.unlink()
        with app.app_context():
            drainer.drain_all()
        stored = stored_agents(app)
        assert set(kept) <= stored, f"{len(set(kept) - stored)} hits within the reserve were lost"
        # Every answered hit is either stored or counted as lost: none vanished silently.
        assert len(set(beyond) - stored) == lost


def test_a_torn_record_does_not_take_the_next_one_with_it(tmp_path, geo_db, databases):
    """A crash mid-write leaves a fragment; a record appended after it is still read."""
    import json

    with engage_app("sqlite", databases, tmp_path, geo_db) as app:
        client, pixel = sign_in_and_register(app)
        record = {"hit_id": "a" * 32, "kind": "open", "token": pixel.split("/")[-1][:-4], "method": "GET",
                  "ip": LONDON, "ua": f"{CHROME_DESKTOP} glued", "headers": {}, "at": "2026-03-01T10:00:00+00:00"}
        line = json.dumps(record, separators=(",", ":")).encode()
        (Path(app.extensions["engage"].spool.dir) / "hits-1-1-abcdef.jsonl").write_bytes(line[:98] + line + b"\n")
        with app.app_context():
            app.extensions["engage"].drainer.drain_all()
        assert f"{CHROME_DESKTOP} glued" in stored_agents(app)


def test_a_disk_too_small_for_the_reserve_still_stores_hits(databases, tmp_path, geo_db):
    """No room for the reserve twice over: none is made, and the writer stores hits as
    before (it waits only while a reserve it made is in use)."""
    from server.hitpath.spool import RESERVE_NAME

    with tiny_disk(tmp_path / "disk", 3072) as disk, \
            engage_app("sqlite", databases, disk, geo_db, sqlite_file=disk / "engage.db", SPOOL_RESERVE_MB=2) as app:
        client, pixel = sign_in_and_register(app)
        open_pixel(client, pixel, f"{CHROME_DESKTOP} small disk")
        with app.app_context():
            app.extensions["engage"].drainer.drain_all()
        assert not (disk / "spool" / RESERVE_NAME).exists()
        assert f"{CHROME_DESKTOP} small disk" in stored_agents(app)
