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
