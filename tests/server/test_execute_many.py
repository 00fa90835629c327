"""``ids.execute_many`` (the writer's executemany UPDATEs, compiled once on SQLite)
sends the driver exactly the SQL and parameters ``conn.execute(stmt, rows)`` sends, for
the thread totals and the insights' email summaries (times, NULLs, a bound default),
and leaves the rows as ``conn.execute`` leaves them."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from server import insights_rollup
from server.hitpath import ids, record


def _captured(engine, run) -> list:
    seen = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, [tuple(p) for p in parameters] if executemany else tuple(parameters or ())))

    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        with engine.connect() as c:
            run(c)
            c.rollback()
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
    return seen


def test_execute_many_sends_what_sqlalchemy_sends(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'many.db'}")
    meta = sa.MetaData()
    t = sa.Table("t", meta, sa.Column("id", sa.Integer, primary_key=True), sa.Column("at", sa.DateTime),
                 sa.Column("n", sa.Integer), sa.Column("s", sa.String))
    meta.create_all(engine)
    from server.models import Message

    Message.metadata.create_all(engine)  # messages, events, threads for the writer's own statements
    with engine.begin() as c:
        c.execute(t.insert(), [{"id": i, "n": 0} for i in range(1, 8)])
    when = datetime(2026, 12, 1, 23, 0, 0)
    rows = [{"tid": 1, "at": when, "n": 3}, {"tid": 2, "at": None, "n": None},
            {"tid": 3, "at": when + timedelta(microseconds=1), "n": -1}, {"tid": 4, "at": when.replace(second=5), "n": 0}]
    stmts = [
        t.update().where(t.c.id == sa.bindparam("tid")).values(at=sa.bindparam("at"), n=sa.bindparam("n")),
        t.update().where(t.c.id == sa.bindparam("tid")).values(n=t.c.n + 5, s="fixed"),  # bound defaults
        insights_rollup._SET_MESSAGES,
    ]
    message_rows = [{"mid": 1, "fo": 10, "fc": when, "en": 2}, {"mid": 2, "fo": None, "fc": None, "en": 0}]
    for stmt, params in [(stmts[0], rows), (stmts[1], rows), (stmts[2], message_rows),
                         (record._TOTALS, [{"tid": 1}, {"tid": 2}]), (record._ACTIVITY, [{"tid": 1}, {"tid": 2}])]:
        want = _captured(engine, lambda c: c.execute(stmt, params))
        got = _captured(engine, lambda c: ids.execute_many(c, stmt, params))
        assert got == want, stmt
        assert ids._PLANS[(id(stmt), "sqlite", tuple(sorted(params[0])))][1] is not None  # the quick path was taken, not the fallback
    with engine.begin() as c:
        ids.execute_many(c, stmts[0], rows)
        ids.execute_many(c, stmts[1], rows[:2])
        got = c.execute(sa.select(t).order_by(t.c.id)).all()
    with engine.begin() as c:
        c.execute(t.update().values(at=None, n=0, s=None))
        c.execute(stmts[0], rows)
        c.execute(stmts[1], rows[:2])
        assert c.execute(sa.select(t).order_by(t.c.id)).all() == got
    engine.dispose()
