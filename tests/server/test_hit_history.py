"""Verdicts follow each email's whole history, through the real writer on each
database: whatever order and batching the hits are stored in, the same verdicts;
later evidence re-files earlier hits, and the thread, counter and panel follow."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import sqlalchemy as sa

from .helpers import CHROME_DESKTOP, GOOGLE_PROXY, IPHONE_MAIL, LONDON, click, drain, hit_pixel, path_of, register, threads
from tests.fixtures.agents import APPLE_MPP, IPHONE_SAFARI


def _verdicts(app, message) -> list[tuple]:
    from server.extensions import db
    from server.models import Event, Message

    with app.app_context():
        rows = db.session.execute(
            sa.select(Event.kind, Event.verdict, Event.implied).join(Message, Message.id == Event.message_id)
            .where(Message.public_id == message["id"]).order_by(Event.at, Event.kind, Event.implied)).all()
        db.session.rollback()
        return [tuple(r) for r in rows]


def _records(message, n, seed):
    """Spool records as the pixel and links write them: a few readers, a scanner,
    repeats, all answered within a couple of minutes, in shuffled arrival order."""
    from server.hitpath.spool import new_hit_id
    from server.models import utcnow

    rnd = random.Random(seed)
    start = utcnow() - timedelta(minutes=5)
    pixel = path_of(message["pixel_url"]).split("/")[-1][:-4]
    links = [path_of(l["tracked_url"]).split("/")[-1] for l in message["links"]]
    sources = [("81.2.69.142", CHROME_DESKTOP), ("89.160.20.112", IPHONE_MAIL), ("66.249.84.1", GOOGLE_PROXY),
               ("17.58.63.12", APPLE_MPP), ("::ffff:81.2.69.142", CHROME_DESKTOP), ("81.2.69.9", "curl/8.5.0")]
    out = []
    for i in range(n):
        ip, ua = rnd.choice(sources)
        kind = rnd.choice(["open", "open", "click"])
        out.append({"hit_id": new_hit_id(), "kind": kind, "token": pixel if kind == "open" else rnd.choice(links),
                    "method": "GET", "ip": ip, "ua": ua, "headers": {},
                    "at": start + timedelta(seconds=rnd.uniform(0, 120))})
    return out


def _twin_tokens(emails, twins) -> dict[str, str]:
    """Each email's pixel and link tokens -> its twin's (the same hits stored on both)."""
    tokens = {}
    for m, t in zip(emails, twins):
        tokens[path_of(m["pixel_url"]).split("/")[-1][:-4]] = path_of(t["pixel_url"]).split("/")[-1][:-4]
        for a, b in zip(m["links"], t["links"]):
            tokens[path_of(a["tracked_url"]).split("/")[-1]] = path_of(b["tracked_url"]).split("/")[-1]
    return tokens


def test_the_same_hits_get_the_same_verdicts_whatever_the_order_and_batching(app, client, ann):
    from server.hitpath.drain import ingest

    links = ["https://prospect.example/a", "https://prospect.example/b", "https://prospect.example/c"]
    first = register(client, ann, thread_id="t-a", links=links)
    second = register(client, ann, thread_id="t-b", links=links)
    hits = _records(first, 120, seed=3)
    twin = {**{k: v for k, v in zip((path_of(first["pixel_url"]).split("/")[-1][:-4],
                                     *[path_of(l["tracked_url"]).split("/")[-1] for l in first["links"]]),
                                    (path_of(second["pixel_url"]).split("/")[-1][:-4],
                                     *[path_of(l["tracked_url"]).split("/")[-1] for l in second["links"]]))}}
    with app.app_context():
        # The first email: in time order, one batch.
        ingest(sorted(hits, key=lambda r: r["at"]))
        # Its twin: the same hits in reverse, in uneven batches, one replayed twice.
        others = [{**r, "hit_id": r["hit_id"][::-1], "token": twin[r["token"]]} for r in reversed(hits)]
        i, sizes = 0, [1, 7, 2, 30, 3, 50, 100]
        for size in sizes:
            ingest(others[i:i + size])
            i += size
        ingest(others[:10])
    assert _verdicts(app, first) == _verdicts(app, second)
    assert len([v for v in _verdicts(app, first) if not v[2]]) == 120


def test_a_batch_of_many_emails_is_stored_in_one_transaction(app, client, ann, caplog):
    from server.hitpath.drain import ingest

    emails = [register(client, ann, thread_id=f"t-{i}") for i in range(5)]
    records = [r for i, m in enumerate(emails) for r in _records(m, 20, seed=i)]
    with app.app_context():
        assert ingest(records) == 100
    assert "a batch failed" not in caplog.text  # not the slow path, one email at a time
    page = threads(client, ann)
    assert len(page["threads"]) == 5


def test_a_batch_over_many_emails_is_stored_a_group_of_emails_per_transaction(app, client, ann, monkeypatch):
    """A big batch holds the write lock one group of emails at a time (others' writes
    wait for one group, not the whole batch), with the verdicts of one transaction."""
    from server.extensions import db
    from server.hitpath import drain

    links = ["https://prospect.example/a", "https://prospect.example/b"]
    emails = [register(client, ann, thread_id=f"t-{i}", links=links) for i in range(5)]
    twins = [register(client, ann, thread_id=f"twin-{i}", links=links) for i in range(5)]
    tokens = _twin_tokens(emails, twins)
    records = [r for i, m in enumerate(emails) for r in _records(m, 40, seed=i)]
    random.Random(2).shuffle(records)
    commits = []

    def committed(session):
        commits.append(1)

    sa.event.listen(db.session, "after_commit", committed)
    try:
        with app.app_context():
            assert drain.ingest(records) == 200
            assert len(commits) == 1
            monkeypatch.setattr(drain, "GROUP_EMAILS", 2)
            commits.clear()
            assert drain.ingest([{**r, "hit_id": r["hit_id"][::-1], "token": tokens[r["token"]]}
                                 for r in records]) == 200
            assert len(commits) == 3  # 2 + 2 + 1 emails
    finally:
        sa.event.remove(db.session, "after_commit", committed)
    assert [_verdicts(app, m) for m in emails] == [_verdicts(app, t) for t in twins]


def test_a_waiting_backlog_is_stored_in_batches_of_writer_batch(app, client, ann):
    """A backlog is read a batch's worth at a time and stored in batches of
    WRITER_BATCH (what a batch costs is mostly per email, bench/README.md), and every
    hit of it is stored whatever the batch size."""
    from server.extensions import db
    from server.hitpath.drain import ingest
    from server.hitpath.spool import READ_BYTES, Drainer, pending_bytes
    from server.models import Event

    assert app.extensions["engage"].drainer.batch == app.config["WRITER_BATCH"] >= 10_000
    emails = [register(client, ann, thread_id=f"t-{i}") for i in range(7)]
    spool = app.extensions["engage"].spool
    sizes = []

    def counted(batch):
        sizes.append(len(batch))
        return ingest(batch)

    drainer = Drainer(spool.dir, counted)
    with app.app_context():
        for batch, mails, expected in ((4000, emails[:4], [4000]), (500, emails[4:], [500] * 3)):
            for m in mails:
                for r in _records(m, len(expected) * batch // len(mails), seed=batch):
                    # A browser's agent and headers: a record about as long as most.
                    spool.append({**r, "at": r["at"].isoformat(), "headers": {"accept": "image/*" + "," * 150}})
            if batch > 500:
                assert pending_bytes(spool.dir) > READ_BYTES  # more than one read's least
            sizes.clear()
            drainer.batch = batch
            drainer.drain_all()
            assert sizes == expected
        assert db.session.execute(sa.select(sa.func.count()).select_from(Event).where(
            Event.implied.is_(False))).scalar_one() == 5500
        db.session.rollback()


def test_a_four_link_burst_files_all_its_clicks_as_a_scanner(client, ann):
    msg = register(client, ann, links=[f"https://prospect.example/{i}" for i in range(4)])
    for link in msg["links"]:  # each click stored before the next arrives
        click(client, link["tracked_url"], ip=LONDON, ua=CHROME_DESKTOP)
    [thread] = threads(client, ann)["threads"]
    assert [e["verdict"] for e in thread["events"]] == ["scanner"] * 4
    assert all(e["reason"].startswith("4 different links clicked") for e in thread["events"])
    assert thread["opens"] == 0 and thread["clicks"] == 0
    assert threads(client, ann)["unread"] == 0  # the inferred open the first click made is gone


def test_two_hundred_hits_from_one_source_count_as_one_open(app, client, ann):
    msg = register(client, ann)
    for _ in range(200):
        client.get(path_of(msg["pixel_url"]), headers={"User-Agent": IPHONE_MAIL},
                   environ_base={"REMOTE_ADDR": LONDON})
        if random.random() < 0.1:
            drain(client)
    drain(client)
    [thread] = threads(client, ann)["threads"]
    assert thread["opens"] == 1 and thread["events_total"] == 200
    verdicts, cursor = [], None  # /threads carries the latest events; page through them all
    while True:
        query = "?limit=100" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(f"/api/v1/threads/{thread['thread_id']}/events{query}", headers=ann.headers).get_json()
        verdicts += [e["verdict"] for e in page["events"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(verdicts) == 200 and verdicts.count("duplicate") == 199


def test_a_click_confirms_an_apple_mpp_download(client, ann):
    msg = register(client, ann)
    hit_pixel(client, msg, ip="17.58.63.12", ua=APPLE_MPP)
    [thread] = threads(client, ann)["threads"]
    assert [e["verdict"] for e in thread["events"]] == ["apple_mpp"] and thread["opens"] == 0
    click(client, msg["links"][0]["tracked_url"], ip=LONDON, ua=IPHONE_SAFARI)
    [thread] = threads(client, ann)["threads"]
    verdicts = sorted((e["kind"], e["verdict"], e.get("implied", False)) for e in thread["events"])
    assert verdicts == [("click", "human", False), ("open", "confirmed", False)]
    assert thread["opens"] == 1


def test_a_self_view_report_refiles_the_proxy_load_and_the_thread_follows(client, ann):
    msg = register(client, ann)
    hit_pixel(client, msg, ip="66.249.84.1", ua=GOOGLE_PROXY)
    page = threads(client, ann)
    assert page["threads"][0]["opens"] == 1 and page["unread"] == 1
    resp = client.post("/api/v1/threads/self-view", json={"thread_id": "thread-1"}, headers=ann.headers)
    assert resp.status_code == 200 and resp.get_json()["reclassified"] == 1
    page = threads(client, ann)
    [event] = page["threads"][0]["events"]
    assert event["verdict"] == "self" and page["threads"][0]["opens"] == 0
    assert page["unread"] == 0  # the counter follows the re-filed verdict


def test_reclassify_after_a_data_change(app, client, ann, tmp_path):
    msg = register(client, ann)
    hit_pixel(client, msg, ip=LONDON, ua="AcmeMailGuard/3.1 (+https://acme-guard.example)")
    assert [e["verdict"] for e in threads(client, ann)["threads"][0]["events"]] == ["human"]
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    (rules_dir / "user_agent_markers.json").write_text(json.dumps({"markers": [
        {"group": "scanner", "match": "contains", "text": "AcmeMailGuard", "name": "Acme's mail guard",
         "source": "our gateway's documentation", "as_of": "2026-12"}]}))
    from server.hitpath.rules import Rules

    app.extensions["engage"].rules = Rules.load(rules_dir)  # what a restart with ENGAGE_RULES_DIR loads
    result = app.test_cli_runner().invoke(args=["reclassify", "--since", "30"])
    assert result.exit_code == 0, result.output
    assert "1 emails decided again; 1 verdicts changed" in result.output
    assert "human -> scanner" in result.output and "Acme's mail guard" in result.output
    [thread] = threads(client, ann)["threads"]
    assert [e["verdict"] for e in thread["events"]] == ["scanner"] and thread["opens"] == 0
    again = app.test_cli_runner().invoke(args=["reclassify"])
    assert "0 verdicts changed" in again.output  # nothing left to change


def test_reclassify_rejects_a_bad_since(app):
    result = app.test_cli_runner().invoke(args=["reclassify", "--since", "0"])
    assert result.exit_code != 0 and "--since" in result.output


def test_a_writer_reads_an_email_again_when_another_writer_stored_hits_on_it_meanwhile(app, client, ann, tmp_path,
                                                                                       geo_db):
    """The writer keeps the emails it settled (history.Memory) and decides only what new
    hits change; another writer's batch on the same email in between makes it read the
    email again, so the verdicts are those of one writer storing everything at once."""
    from server.hitpath import history
    from server.hitpath.drain import ingest
    from tests.fixtures.app import make_app

    links = ["https://prospect.example/a", "https://prospect.example/b", "https://prospect.example/c"]
    first = register(client, ann, thread_id="t-a", links=links)
    twin = register(client, ann, thread_id="t-b", links=links)
    hits = sorted(_records(first, 90, seed=11), key=lambda r: r["at"])
    tokens = dict(zip((path_of(first["pixel_url"]).split("/")[-1][:-4],
                       *[path_of(l["tracked_url"]).split("/")[-1] for l in first["links"]]),
                      (path_of(twin["pixel_url"]).split("/")[-1][:-4],
                       *[path_of(l["tracked_url"]).split("/")[-1] for l in twin["links"]])))
    other = make_app(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "other", geo_db,
                     SECRET_KEY=app.config["SECRET_KEY"])  # another process of the same installation
    try:
        with app.app_context():
            ingest(hits[:30])
            assert len(history.memory(app)) == 1  # kept for the next batch
        with other.app_context():
            ingest(hits[30:60])
        with app.app_context():
            ingest(hits[60:])
            ingest([{**r, "hit_id": r["hit_id"][::-1], "token": tokens[r["token"]]} for r in hits])
    finally:
        _close(other)
    assert len(_verdicts(app, first)) >= 90
    assert _verdicts(app, first) == _verdicts(app, twin)


def _close(other) -> None:
    """Let go of a second app of the same installation (its writer, spool and pool)."""
    from server.extensions import db

    other.extensions["engage"].drainer.close()
    other.extensions["engage"].spool.close()
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def test_two_writers_store_a_flood_with_the_verdicts_of_one(app, client, ann):
    """ENGAGE_WRITERS=2: two writers drain the same spool, each the emails of its share
    (by pixel token), noting their own progress; every hit is stored once, with the
    verdicts one writer gives the same hits, and a drained file goes once both are done.
    Each skips, unparsed, the lines of tokens it knows to be the other's (drain.claims)."""
    from server.hitpath.drain import claims, ingest, writer_of
    from server.hitpath.spool import Drainer, pending_bytes

    links = ["https://prospect.example/a", "https://prospect.example/b"]
    emails, shares = [], {0: 0, 1: 0}
    while min(shares.values()) < 2:  # each writer gets emails of its own (drain.writer_of)
        emails.append(register(client, ann, thread_id=f"t-{len(emails)}", links=links))
        shares[writer_of(path_of(emails[-1]["pixel_url"]).split("/")[-1][:-4], 2)] += 1
    twins = [register(client, ann, thread_id=f"twin-{i}", links=links) for i in range(len(emails))]
    flood = register(client, ann, thread_id="t-flood")
    records = [r for i, m in enumerate(emails) for r in _records(m, 30, seed=i)]
    pixel = path_of(flood["pixel_url"]).split("/")[-1][:-4]
    start = records[0]["at"]
    records += [{**records[0], "hit_id": f"{i:032x}", "kind": "open", "token": pixel, "ip": LONDON,
                 "ua": IPHONE_MAIL, "at": start + timedelta(milliseconds=10 * i)} for i in range(200)]
    random.Random(1).shuffle(records)
    stored, skipped = {0: 0, 1: 0}, {0: 0, 1: 0}

    def writer(index):
        def counted(batch, shard):
            n = ingest(batch, shard=shard)
            stored[shard[0]] += n
            return n

        def claiming(keys, shard):
            mine = claims(keys, shard)
            skipped[shard[0]] += mine.count(False)
            return mine
        return Drainer(app.extensions["engage"].spool.dir, counted, shard=(index, 2), claims=claiming)

    spool = app.extensions["engage"].spool
    writers = [writer(0), writer(1)]
    try:
        with app.app_context():
            for i, r in enumerate(records):
                spool.append({**r, "at": r["at"].isoformat()})
                if i % 97 == 0:
                    writers[i % 2].drain_all(batch=13)
            spool.close()  # its owner is gone: the file goes once both writers drained it
            writers[1].drain_all()
            assert list(spool.dir.glob("hits-*")), "writer 0 has not read it all yet"
            writers[0].drain_all()
            assert not list(spool.dir.glob("hits-*")) and pending_bytes(spool.dir) == 0
            # The same hits on the twins, stored by one writer in one batch.
            tokens = _twin_tokens(emails, twins)
            ingest([{**r, "hit_id": r["hit_id"][::-1], "token": tokens[r["token"]]}
                    for r in records if r["token"] in tokens])
    finally:
        for w in writers:
            w.close()
    assert stored[0] and stored[1] and stored[0] + stored[1] == len(records)  # each its share, none twice
    assert skipped[0] and skipped[1]  # each writer passed over lines of the other's share
    for m, t in zip(emails, twins):
        assert len(_verdicts(app, m)) >= 30 and _verdicts(app, m) == _verdicts(app, t)
    [thread] = [t for t in threads(client, ann)["threads"] if t["thread_id"] == "t-flood"]
    assert thread["opens"] == 1 and thread["events_total"] == 200


def test_a_batch_decided_outside_the_lock_is_settled_again_if_another_writer_stored_meanwhile(
        app, client, ann, tmp_path, geo_db, monkeypatch, caplog):
    """SQLite: the writer decides before it takes the write lock; another writer's
    batch on the same email in between is seen under the lock, and the batch is
    decided again from what is stored: the verdicts of one writer storing everything."""
    from server.hitpath import drain, history
    from server.hitpath.drain import ingest
    from tests.fixtures.app import make_app

    first = register(client, ann, thread_id="t-a")
    twin = register(client, ann, thread_id="t-b")
    hits = sorted(_records(first, 40, seed=5), key=lambda r: r["at"])
    hits = [r for r in hits if r["kind"] == "open"]
    pixel = path_of(twin["pixel_url"]).split("/")[-1][:-4]
    other = make_app(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "other", geo_db,
                     SECRET_KEY=app.config["SECRET_KEY"])
    real_lock, calls = history.lock, []

    def lock_after_another_writer(by_message):
        calls.append(1)
        if len(calls) == 1:  # between deciding and locking, the other writer stores a batch
            with other.app_context():
                ingest(hits[len(hits) // 2:])
        return real_lock(by_message)

    monkeypatch.setattr(history, "lock", lock_after_another_writer)
    try:
        with app.app_context():
            ingest(hits[:len(hits) // 2])
        monkeypatch.setattr(history, "lock", real_lock)
        with app.app_context():
            ingest([{**r, "hit_id": r["hit_id"][::-1], "token": pixel} for r in hits])
    finally:
        _close(other)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        assert len(calls) == 3  # ours, the other writer's, ours again: the check failed, settled under the lock
    assert "a batch failed" not in caplog.text
    assert len(_verdicts(app, first)) == len(hits)
    assert _verdicts(app, first) == _verdicts(app, twin)
