"""``column IN (a list of values)`` as ONE bound parameter, for the writer's batches.

SQLAlchemy expands ``column.in_(values)`` into one bound parameter per value every
time the statement runs (``_process_parameters_for_postcompile``), and building the
clause coerces each value: with the writer's 500-value lists that was about a fifth of
its CPU (bench/README.md, "Writer CPU per hit"). Here the list is one JSON text
(SQLite: ``IN (SELECT value FROM json_each(:ids))``) or one array (PostgreSQL:
``= ANY(:ids)``), so a statement built once is compiled once and runs with any list.
The rows matched are the same as ``in_`` (tests/server/test_hit_ids.py)."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Iterable

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


def one_of(column, name: str, dialect: str):
    """``column`` is one of the values bound as ``name`` (pass them through ``values``)."""
    if dialect == "postgresql":
        return column == sa.any_(sa.bindparam(name, type_=postgresql.ARRAY(column.type)))
    return column.in_(sa.select(sa.literal_column("value")).select_from(
        sa.func.json_each(sa.bindparam(name, type_=sa.String))))


def values(items: Iterable, dialect: str):
    """The bound value ``one_of`` takes for these items (ints or strings)."""
    items = list(items)
    return items if dialect == "postgresql" else json.dumps(items)


def dialect_name(session) -> str:
    return session.get_bind().dialect.name


def statement(build):
    """A statement built once per dialect: ``build(dialect name)`` -> statement."""
    return lru_cache(maxsize=4)(build)


_PLANS: dict = {}  # id(statement), dialect name -> (statement, plan): the statement kept, so its id is not reused
_MISSING = object()


def execute_many(conn, stmt, rows: list[dict]) -> None:
    """``conn.execute(stmt, rows)`` (an executemany) with the same SQL and the same
    driver parameters. On SQLite the statement is compiled once and each row goes to
    the driver as a tuple through the compiled statement's own bind processors:
    SQLAlchemy builds every row's parameters again (``construct_params``), a few
    microseconds a row, and the writer's thread totals and insights run these for
    every email of a batch (tests/server/test_hit_ids.py compares what the driver
    receives both ways)."""
    if not rows:
        return
    dialect = conn.dialect
    if dialect.name != "sqlite":
        conn.execute(stmt, rows)
        return
    # The row keys are part of the statement: a key naming a column SQLAlchemy was not
    # told of is SET too (it compiles with the first row's keys, as here).
    keys = tuple(sorted(rows[0]))
    key = (id(stmt), dialect.name, keys)
    found = _PLANS.get(key)
    if found is None or found[0] is not stmt:
        found = _PLANS[key] = (stmt, _plan(stmt, dialect, keys))
    plan = found[1]
    first = rows[0].keys()
    if plan is None or any(row.keys() != first for row in rows):
        conn.execute(stmt, rows)
        return
    sql, names, processors, defaults = plan
    params = []
    try:
        for row in rows:
            values = []
            for name, processor in zip(names, processors):
                value = row.get(name, _MISSING)
                if value is _MISSING:
                    value = defaults[name]
                values.append(value if processor is None else processor(value))
            params.append(tuple(values))
    except KeyError:  # a row without a value SQLAlchemy would find or complain of: its way
        conn.execute(stmt, rows)
        return
    conn.exec_driver_sql(sql, params)


def _plan(stmt, dialect, keys: tuple):
    compiled = stmt.compile(dialect=dialect, column_keys=list(keys), for_executemany=True)
    if (not compiled.positional or compiled.post_compile_params or compiled.literal_execute_params
            or getattr(compiled, "escaped_bind_names", None)):
        return None  # not the plain case: left to SQLAlchemy
    names = list(compiled.positiontup)
    processors = compiled._bind_processors
    defaults = {name: bind.effective_value for name, bind in compiled.binds.items()
                if not bind.required and not callable(bind.callable)}
    return compiled.string, names, [processors.get(n) for n in names], defaults
