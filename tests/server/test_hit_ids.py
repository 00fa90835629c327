"""``ids.one_of`` (a list of values as one bound parameter) matches exactly the rows
``in_`` matches, for integers and strings (quotes, unicode, empty lists), on SQLite
and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from server.hitpath import ids

CASES = [
    ([], []),
    ([1, 3, 3, 1000], []),
    ([], ["a", "it's", "\u00e9t\u00e9", 'say "x"', "", "zz"]),
    (list(range(0, 600, 2)), ["b", "a"]),
]


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        eng = sa.create_engine(f"sqlite:///{tmp_path / 'ids.db'}")
    else:
        eng = sa.create_engine(request.getfixturevalue("pg_url"))
    yield eng
    eng.dispose()


def test_one_of_matches_what_in_matches(engine):
    meta = sa.MetaData()
    t = sa.Table(f"ids_{uuid.uuid4().hex[:8]}", meta, sa.Column("n", sa.Integer, primary_key=True),
                 sa.Column("s", sa.String(40)))
    d = engine.dialect.name
    with engine.begin() as c:
        meta.create_all(c)
        c.execute(t.insert(), [{"n": i, "s": s} for i, s in enumerate(
            ["a", "b", "it's", "\u00e9t\u00e9", 'say "x"', "", "1", "zz"] * 100)])
        by_n = sa.select(t.c.n).where(ids.one_of(t.c.n, "v", d)).order_by(t.c.n)
        by_s = sa.select(t.c.n).where(ids.one_of(t.c.s, "v", d)).order_by(t.c.n)
        for numbers, strings in CASES:
            assert c.execute(by_n, {"v": ids.values(numbers, d)}).scalars().all() == \
                c.execute(sa.select(t.c.n).where(t.c.n.in_(numbers)).order_by(t.c.n)).scalars().all()
            assert c.execute(by_s, {"v": ids.values(strings, d)}).scalars().all() == \
                c.execute(sa.select(t.c.n).where(t.c.s.in_(strings)).order_by(t.c.n)).scalars().all()
        meta.drop_all(c)
