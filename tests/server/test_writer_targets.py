"""The writer remembers which email each token it has seen belongs to (a token never
moves), so each batch looks up only new tokens; an email deleted meanwhile (retention)
must still get none of its hits stored, even where SQLite gives its id to a new email."""

from __future__ import annotations

import sqlalchemy as sa

from .helpers import CHROME_DESKTOP, path_of, register


def _record(token: str, kind: str = "open") -> dict:
    from server.hitpath.spool import new_hit_id
    from server.models import utcnow

    return {"hit_id": new_hit_id(), "kind": kind, "token": token, "method": "GET", "ip": "81.2.69.142",
            "ua": CHROME_DESKTOP, "headers": {}, "at": utcnow()}


def _tokens(message) -> tuple[str, str]:
    return (path_of(message["pixel_url"]).split("/")[-1][:-4],
            path_of(message["links"][0]["tracked_url"]).split("/")[-1])


def _id_of(message) -> int:
    from server.extensions import db
    from server.models import Message

    return db.session.execute(sa.select(Message.id).where(Message.public_id == message["id"])).scalar_one()


def _delete(app, message) -> int:
    """The email, its links and events deleted as retention (server/retention.py) does."""
    from server.extensions import db
    from server.models import Event, Link, Message

    with app.app_context():
        mid = _id_of(message)
        db.session.execute(sa.delete(Event).where(Event.message_id == mid))
        db.session.execute(sa.delete(Link).where(Link.message_id == mid))
        db.session.execute(sa.delete(Message).where(Message.id == mid))
        db.session.commit()
        return mid


def _events(app) -> list[tuple]:
    from server.extensions import db
    from server.models import Event

    with app.app_context():
        rows = db.session.execute(sa.select(Event.message_id, Event.kind, Event.implied)
                                  .order_by(Event.message_id, Event.kind, Event.implied)).all()
        db.session.rollback()
        return [tuple(r) for r in rows]


def _remembered_then_replaced(app, client, ann):
    """An email whose tokens the writer remembers, deleted, and a new email registered
    after it: the old tokens, the new ones and the new email's id."""
    from server.hitpath.drain import ingest

    old = register(client, ann)
    pixel, link = _tokens(old)
    with app.app_context():
        assert ingest([_record(pixel), _record(link, "click")]) == 2
    _delete(app, old)
    new = register(client, ann, thread_id="thread-2", links=["https://prospect.example/other"])
    with app.app_context():
        return (pixel, link), _tokens(new), _id_of(new)


def test_a_remembered_token_of_a_deleted_email_gets_no_hit_stored(app, client, ann):
    from server.hitpath.drain import ingest

    old = register(client, ann)
    pixel, link = _tokens(old)
    with app.app_context():
        assert ingest([_record(pixel), _record(link, "click")]) == 2  # now remembered
        assert ingest([_record(pixel)]) == 1  # found from memory
    old_id = _delete(app, old)
    assert _events(app) == []
    new = register(client, ann, thread_id="thread-2", links=["https://prospect.example/other"])
    new_pixel, new_link = _tokens(new)
    with app.app_context():
        new_id = _id_of(new)
        # SQLite gives the deleted email's id (the highest) to the next one: the old
        # tokens must not be taken for the new email's.
        assert (new_id == old_id) == (db_name(app) == "sqlite")
        assert ingest([_record(pixel), _record(link, "click")]) == 0
        assert ingest([_record(pixel), _record(new_pixel), _record(link, "click"), _record(new_link, "click")]) == 2
        assert ingest([_record(pixel), _record(new_pixel)]) == 1  # both remembered again, the old one still refused
    assert [(m, k) for m, k, implied in _events(app) if not implied] == [(new_id, "click"), (new_id, "open"),
                                                                          (new_id, "open")]


def test_a_remembered_token_of_a_deleted_email_in_a_batch_with_the_email_given_its_id(app, client, ann):
    """The new email's token looked up, the deleted one's remembered, in one batch:
    only the new email's hit is stored."""
    from server.hitpath.drain import ingest

    (pixel, link), (new_pixel, new_link), new_id = _remembered_then_replaced(app, client, ann)
    with app.app_context():
        assert ingest([_record(new_pixel), _record(link, "click")]) == 1
        assert ingest([_record(new_link, "click"), _record(pixel)]) == 1
    assert [(m, k) for m, k, implied in _events(app) if not implied] == [(new_id, "click"), (new_id, "open")]


def test_two_remembered_emails_with_one_id(app, client, ann):
    """The deleted email's token and the new one's (same id on SQLite) both remembered
    by earlier batches, then in one batch: only the new email's hit is stored."""
    from server.hitpath.drain import ingest

    (pixel, link), (new_pixel, new_link), new_id = _remembered_then_replaced(app, client, ann)
    with app.app_context():
        assert ingest([_record(new_pixel), _record(new_link, "click")]) == 2  # the old ones still remembered
        assert ingest([_record(link, "click"), _record(new_pixel)]) == 1
        assert ingest([_record(new_pixel), _record(pixel)]) == 1
    assert [(m, k) for m, k, implied in _events(app) if not implied] == [
        (new_id, "click"), (new_id, "open"), (new_id, "open"), (new_id, "open")]


def test_remembered_tokens_give_the_rows_looked_up_tokens_give(app, client, ann):
    """The same records through a writer that remembers their tokens and through one
    that looks every token up: the same email, user and link on every row."""
    from server.extensions import db
    from server.hitpath.drain import ingest

    messages = [register(client, ann, thread_id=f"t{i}", links=[f"https://prospect.example/{i}"]) for i in range(4)]
    tokens = [_tokens(m) for m in messages]

    def batch():
        return [_record(t, kind) for p, l in tokens for t, kind in ((p, "open"), (l, "click"))]

    def rows(records):
        keys = [r["hit_id"] for r in records]
        found = db.session.execute(sa.text(
            "SELECT hit_id, message_id, user_id, link_id, kind FROM events WHERE implied = :f"), {"f": False}).all()
        db.session.rollback()
        by_key = {r[0]: tuple(r[1:]) for r in found}
        return [by_key[k] for k in keys]

    with app.app_context():
        looked_up = batch()
        assert ingest(looked_up) == 8
        assert len(app.extensions["engage_targets"]) == 8
        remembered = batch()
        assert ingest(remembered) == 8
        app.extensions["engage_targets"].clear()
        again = batch()
        assert ingest(again) == 8
        assert rows(remembered) == rows(looked_up) == rows(again)
        assert {link for _, _, link, kind in rows(remembered) if kind == "click"} == set(_links(app, messages))


def _links(app, messages) -> list[int]:
    from server.extensions import db
    from server.models import Link, Message

    return [db.session.execute(sa.select(Link.id).join(Message, Message.id == Link.message_id).where(
        Message.public_id == m["id"])).scalar_one() for m in messages]


def db_name(app) -> str:
    from server.extensions import db

    return db.engine.dialect.name


def test_a_token_registered_again_for_a_new_email_gets_its_hits_with_two_writers(app, client, ann, tmp_path,
                                                                                  geo_db):
    """A client may register a deleted email's pixel token again (the extension chose
    it). Two writer processes both remember it as the old email's; the new email's
    first hit is still stored, once, whichever writer the old email's id pointed at."""
    from server.hitpath.drain import ingest
    from tests.fixtures.app import make_app
    from tests.server.test_hit_history import _close

    token = "reused-pixel-token-0001"
    old = register(client, ann, pixel_token=token, thread_id="t-old")
    other = make_app(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "other", geo_db,
                     SECRET_KEY=app.config["SECRET_KEY"])  # the second writer's process
    writers = [(app, (0, 2)), (other, (1, 2))]
    try:
        first = _record(token)
        for a, shard in writers:
            with a.app_context():
                ingest([first], shard=shard)  # both look the token up and remember it
        with app.app_context():
            old_id = _id_of(old)
        fillers = []
        while True:  # so the new email's id is not the old one's, nor of the same parity
            fillers.append(register(client, ann, thread_id=f"t-filler-{len(fillers)}"))
            with app.app_context():
                if (_id_of(fillers[-1]) + 1) % 2 != old_id % 2:
                    break
        _delete(app, old)
        new = register(client, ann, pixel_token=token, thread_id="t-new")
        again = _record(token)
        for a, shard in writers:
            with a.app_context():
                ingest([again], shard=shard)
        with app.app_context():
            new_id = _id_of(new)
    finally:
        _close(other)
    assert new_id % 2 != old_id % 2
    assert [e for e in _events(app) if e[0] == new_id] == [(new_id, "open", False)]
