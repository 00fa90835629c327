"""Writing what the verdicts decided: the events (new ones inserted, changed ones
updated, implied opens added or taken back), the threads' totals, the live stream
and the CRM — only what changed.

Thread totals are computed here and nowhere else (``thread_totals``): from the
stored events and emails of the thread, in one UPDATE, so a re-filed hit moves them
back as well as forward, and the unread counter (read from them) follows.

The CRM: when the first or last open that counts of an email changes, the
``opens_changed`` signal carries the new pair; the Salesforce subscriber queues it.
A row not delivered yet takes the new values (a re-filed open can move Last Open
back); a delivered Last Open stays in Salesforce until a later open that counts
moves it forward (docs: README, "Verdicts")."""

from __future__ import annotations

import json
import operator
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Optional

import sqlalchemy as sa

from .. import insights_rollup
from ..device import device_class
from ..extensions import db
from ..models import Event, Message, Thread
from ..signals import opens_changed
from . import ids as ids_mod
from .history import History, Stored
from .verdicts import COUNTING, IMPLIED_REASON, Decision

E = Event.__table__
# A re-filed event takes a new id: an event's id is its place in the live stream
# (server/api/stream.py sends the events after the client's Last-Event-ID), so an open
# panel hears of the new verdict like of a new hit, and a reconnect does not miss it.
_UPDATE = (E.update().where(E.c.id == sa.bindparam("eid")).values(
    id=sa.bindparam("nid"), verdict=sa.bindparam("v"), reason=sa.bindparam("r"), country=sa.bindparam("c"),
    region=sa.bindparam("rg"), city=sa.bindparam("ct"), device=sa.bindparam("d")))


@dataclass
class NewHit:
    """A hit not stored yet, with the row values only the writer knows."""

    message_id: int
    user_id: int
    key: str
    kind: str
    method: str
    at: datetime
    user_agent: str
    link_id: Optional[int]
    ip_hash: str
    source_hash: str
    facts: dict


@dataclass
class Changes:
    """What a write did, for the caller (the stream, ``engage reclassify``)."""

    inserted: int = 0
    inserted_kinds: dict[str, int] = field(default_factory=dict)  # kind -> hits inserted (for /metrics)
    refiled: list[tuple[str, str, str]] = field(default_factory=list)  # (old verdict, new verdict, new reason)
    users: dict[int, int] = field(default_factory=dict)  # user id -> highest event id touched
    threads: set[int] = field(default_factory=set)
    # Rows to write, for all the batch's emails at once (``flush``): one multi-row
    # INSERT and one executemany UPDATE per batch, not per email.
    inserts: list[dict] = field(default_factory=list)
    updates: list[dict] = field(default_factory=list)
    deletes: list[tuple[int, int]] = field(default_factory=list)  # (user id, event id)
    # The insights' sums (server/insights_rollup.py): insight_hours differences, and
    # each changed email's (first counted open, first counted click, counted events).
    hours: Counter = field(default_factory=Counter)
    summaries: dict[int, tuple] = field(default_factory=dict)
    # For each insert: the history and hit key it is for, and whether it is the
    # implied open (``flush`` fills the history's rows in with the new ids).
    targets: list[tuple[History, str, bool]] = field(default_factory=list)
    update_targets: list[tuple[History, str, bool]] = field(default_factory=list)  # the same, per update
    kept: list = field(default_factory=list)  # history.Kept: to remember once committed
    # opens_changed to send (``flush``: in the transaction that writes the rows, which on
    # SQLite may not be the one the decisions were made in: drain.settle).
    signals: list[dict] = field(default_factory=list)
    # Emails the hits were meant for that are gone (deleted since their tokens were
    # looked up): drain.ingest looks those hits' tokens up again, once.
    gone: set = field(default_factory=set)

    def merge(self, other: "Changes") -> None:
        self.inserted += other.inserted
        self.gone |= other.gone
        for kind, n in other.inserted_kinds.items():
            self.inserted_kinds[kind] = self.inserted_kinds.get(kind, 0) + n
        self.refiled += other.refiled
        for uid, eid in other.users.items():
            self.users[uid] = max(self.users.get(uid, 0), eid)
        self.threads |= other.threads
        self.kept += other.kept


def _shown(history: History, key: str, d: Decision) -> dict:
    geo = history.geo.get(key) or (None, None, None)
    place = (None, None, None) if d.proxy else tuple(geo)
    hit = history.index.get(key)
    return dict(verdict=d.verdict, reason=d.reason[:300], country=place[0], region=place[1], city=place[2],
                device=device_class(hit.user_agent if hit is not None else "", d.verdict))


def _differs(row: Stored, values: dict) -> bool:
    return (row.verdict, row.reason, row.country, row.region, row.city, row.device) != (
        values["verdict"], values["reason"], values["country"], values["region"], values["city"], values["device"])


def write(history: History, decisions: dict[str, Decision], new: dict[str, NewHit], app, changes: Changes,
          engagement: tuple, keys=None, counting: Optional[tuple] = None) -> None:
    """Queue in ``changes`` what brings the email's stored events in line with
    ``decisions`` (then ``flush``; the caller commits). With ``keys``, only those hits
    can differ from their rows (the rest are as the history holds them: the writer's
    kept history, server/hitpath/history.Memory), and ``counting`` is the (first, last,
    proxied) of the opens that count before and after; else every hit is compared.
    ``engagement`` is (the first click that counts, how many events count), as
    ``verdicts.Running.engagement`` keeps them.
    The history's rows are brought up to date too."""
    inserts, updates, deletes = [], [], []
    counting_before = _counting_opens(history) if counting is None else counting[0][:2]
    hours = changes.hours

    def hour_key(kind, at, v):  # the insight_hours row of a stored row or of values to write
        verdict, country, region = (v["verdict"], v["country"], v["region"]) if isinstance(v, dict) \
            else (v.verdict, v.country, v.region)
        return insights_rollup.key(history.user_id, kind, at, verdict, country, region)

    if keys is None:
        hits = history.hits
    else:
        hits = [history.index[k] for k in new] + [history.index[k] for k in keys if k not in new]
    for hit in hits:
        d = decisions[hit.key]
        values = _shown(history, hit.key, d)
        row = history.stored.get(hit.key)
        if row is None:
            hours[hour_key(hit.kind, hit.at, values)] += 1
        elif _differs(row, values):
            hours[hour_key(hit.kind, hit.at, row)] -= 1
            hours[hour_key(hit.kind, hit.at, values)] += 1
        if row is None:
            n = new[hit.key]
            inserts.append(dict(user_id=n.user_id, message_id=n.message_id, link_id=n.link_id, kind=n.kind,
                                method=n.method[:8], at=n.at, user_agent=n.user_agent[:512], ip_hash=n.ip_hash,
                                source_hash=n.source_hash, implied=False, hit_id=n.key, facts=n.facts, **values))
            changes.targets.append((history, hit.key, False))
        elif _differs(row, values):
            if row.verdict != d.verdict:
                changes.refiled.append((row.verdict, d.verdict, d.reason))
            updates.append(dict(eid=row.id, v=values["verdict"], r=values["reason"], c=values["country"],
                                rg=values["region"], ct=values["city"], d=values["device"]))
            changes.update_targets.append((history, hit.key, False))
            history.stored[hit.key] = _row(row.id, values)
        implied = history.implied.get(hit.key)
        if d.implied_open:
            ivalues = {**values, "reason": IMPLIED_REASON}
            if implied is None:
                hours[hour_key("implied", hit.at, ivalues)] += 1
            elif _differs(implied, ivalues):
                hours[hour_key("implied", hit.at, implied)] -= 1
                hours[hour_key("implied", hit.at, ivalues)] += 1
            if implied is None:
                src = new.get(hit.key)
                inserts.append(dict(user_id=history.user_id, message_id=history.message_id, link_id=None,
                                    kind="open", method=hit.method[:8], at=hit.at, user_agent=hit.user_agent[:512],
                                    ip_hash=hit.address, source_hash=hit.source, implied=True,
                                    hit_id=f"{hit.key}+open" if not hit.key.startswith("event-") else None,
                                    facts=None, **ivalues))
                changes.targets.append((history, hit.key, True))
                if src is None:
                    changes.refiled.append(("", "implied open", IMPLIED_REASON))
            elif _differs(implied, ivalues):
                updates.append(dict(eid=implied.id, v=ivalues["verdict"], r=ivalues["reason"], c=ivalues["country"],
                                    rg=ivalues["region"], ct=ivalues["city"], d=ivalues["device"]))
                changes.update_targets.append((history, hit.key, True))
                history.implied[hit.key] = _row(implied.id, ivalues)
        elif implied is not None:
            hours[hour_key("implied", hit.at, implied)] -= 1
            deletes.append(implied.id)
            del history.implied[hit.key]
            changes.refiled.append((implied.verdict, "no implied open", "an open that counts came before the click"))
    changes.inserts += inserts
    changes.updates += updates
    changes.deletes += [(history.user_id, d) for d in deletes]
    for r in inserts:
        if not r["implied"]:
            changes.inserted += 1
            changes.inserted_kinds[r["kind"]] = changes.inserted_kinds.get(r["kind"], 0) + 1
    if inserts or updates or deletes:
        changes.threads.add(history.thread_id)
        after = _counting_after(history, decisions) if counting is None else counting[1]
        opened_after = None if after[0] is None else max(0, round((after[0] - history.ctx.sent_at).total_seconds()))
        changes.summaries[history.message_id] = (opened_after, *engagement)
        if after[:2] != counting_before:
            changes.signals.append(dict(app=app, message_id=history.message_id, user_id=history.user_id,
                                        external=history.external, first=after[0], last=after[1],
                                        proxied=after[2]))


def flush(changes: Changes) -> None:
    """Write the queued rows, then the threads' totals."""
    if changes.inserts:
        ids = _insert(changes.inserts)
        for row, event_id, (history, key, implied) in zip(changes.inserts, ids, changes.targets):
            changes.users[row["user_id"]] = max(changes.users.get(row["user_id"], 0), event_id)
            (history.implied if implied else history.stored)[key] = _row(event_id, row)
    if changes.updates:
        for u, new_id, (history, key, implied) in zip(changes.updates, _new_ids(len(changes.updates)),
                                                      changes.update_targets):
            u["nid"] = new_id
            changes.users[history.user_id] = max(changes.users.get(history.user_id, 0), new_id)
            rows = history.implied if implied else history.stored
            old = rows[key]
            rows[key] = Stored(new_id, old.verdict, old.reason, old.country, old.region, old.city, old.device)
        db.session.execute(_UPDATE, changes.updates)
    if changes.deletes:
        db.session.execute(sa.delete(Event).where(Event.id.in_([d for _, d in changes.deletes]))
                           .execution_options(synchronize_session=False))
        for user_id, _ in changes.deletes:
            changes.users.setdefault(user_id, 0)
    changes.inserts, changes.updates, changes.deletes, changes.targets, changes.update_targets = [], [], [], [], []
    insights_rollup.apply(db.session, changes.hours)
    insights_rollup.set_messages(db.session, changes.summaries)
    changes.hours, changes.summaries = Counter(), {}
    if changes.threads:
        thread_totals(changes.threads)
    for signal in changes.signals:
        opens_changed.send(signal.pop("app"), session=db.session, **signal)
    changes.signals = []


def _row(event_id: int, values: dict) -> Stored:
    return Stored(event_id, values["verdict"], values["reason"], values["country"], values["region"],
                  values["city"], values["device"])


def _counting_opens(history: History) -> tuple:
    """(first, last) of the opens that count, as stored now (implied ones included)."""
    kinds = {h.key: (h.kind, h.at) for h in history.hits}
    times = [kinds[k][1] for k, row in history.stored.items() if row.verdict in COUNTING and kinds[k][0] == "open"]
    times += [kinds[k][1] for k, row in history.implied.items() if row.verdict in COUNTING and k in kinds]
    return (min(times), max(times)) if times else (None, None)


def _counting_after(history: History, decisions: dict[str, Decision]) -> tuple:
    """(first, last, whether the last is through a mail proxy) of the opens that count."""
    opens = [(h.at, decisions[h.key].proxy is not None) for h in history.hits
             if decisions[h.key].counts and (h.kind == "open" or decisions[h.key].implied_open)]
    if not opens:
        return (None, None, False)
    last = max(opens)
    return (min(opens)[0], last[0], last[1])


def _insert(rows: list[dict]) -> list[int]:
    """One multi-row INSERT (Core: a batch has hundreds of rows) returning the ids; on
    PostgreSQL, COPY with ids taken from the table's sequence first."""
    dialect = db.session.get_bind().dialect
    if dialect.name == "postgresql" and len(rows) >= COPY_FROM:
        return _copy(rows, dialect)
    if dialect.name == "sqlite" and len(rows) >= COPY_FROM:
        return _sqlite_many(rows, dialect)
    if getattr(dialect, "use_insertmanyvalues", False) and dialect.insert_returning:
        ids = db.session.execute(sa.insert(E).returning(E.c.id), rows).scalars().all()
        if len(ids) == len(rows):
            return list(ids)
    return [db.session.execute(sa.insert(E).values(**row)).inserted_primary_key[0] for row in rows]


COPY_FROM = 20  # rows: below this a multi-row INSERT is as quick


def _sqlite_many(rows: list[dict], dialect) -> list[int]:
    """SQLite: the rows as plain tuples in one prepared ``executemany``, with the ids
    SQLite would give them (the table has no AUTOINCREMENT: the next id is the
    highest plus one; the caller holds the one write lock). SQLAlchemy's multi-row
    INSERT ... RETURNING built the parameters of every row of every batch again."""
    ids = _new_ids(len(rows))
    names = list(rows[0])
    # Only the columns with a bind processor (times, JSON, booleans) are converted: the
    # rest go as they are, read out of each row in one itemgetter call.
    binds = [(i + 1, b) for i, b in enumerate(E.c[n].type._cached_bind_processor(dialect) for n in names)
             if b is not None]
    sql = f"INSERT INTO events (id, {', '.join(names)}) VALUES ({', '.join(['?'] * (len(names) + 1))})"
    get = operator.itemgetter(*names)
    params = []
    for row, event_id in zip(rows, ids):
        values = [event_id, *get(row)]
        for i, b in binds:
            values[i] = b(values[i])
        params.append(tuple(values))
    db.session.connection().exec_driver_sql(sql, params)
    return ids


def _new_ids(n: int) -> list[int]:
    """n event ids above every one given so far (the caller holds the emails' locks; on
    SQLite that is the one write lock)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return list(db.session.execute(sa.text(
            "SELECT nextval(pg_get_serial_sequence('events', 'id')) FROM generate_series(1, :n)"), {"n": n}).scalars())
    top = db.session.execute(sa.select(sa.func.coalesce(sa.func.max(E.c.id), 0))).scalar_one()
    return list(range(top + 1, top + 1 + n))


def _copy(rows: list[dict], dialect) -> list[int]:
    """PostgreSQL: the rows in one ``COPY ... FROM STDIN`` (no SQL text to build and
    parse for hundreds of rows, unlike a multi-row INSERT), in this transaction."""
    raw = db.session.connection().connection.driver_connection  # psycopg 3
    with raw.cursor() as cur:
        cur.execute("SELECT nextval(pg_get_serial_sequence('events', 'id')) FROM generate_series(1, %s)",
                    (len(rows),))
        ids = [r[0] for r in cur.fetchall()]
        names = list(rows[0])
        binds = [E.c[n].type._cached_bind_processor(dialect) for n in names]
        json_columns = {i for i, n in enumerate(names) if isinstance(E.c[n].type, sa.JSON)}
        with cur.copy(f"COPY events (id, {', '.join(names)}) FROM STDIN") as copy:
            for row, event_id in zip(rows, ids):
                values = [event_id]
                for i, n in enumerate(names):
                    v = row[n]
                    if i in json_columns:
                        v = None if v is None else json.dumps(v)
                    elif binds[i] is not None:
                        v = binds[i](v)
                    values.append(v)
                copy.write_row(values)
    return ids


_M = Message.__table__
_T = Thread.__table__
_thread_messages = sa.select(_M.c.id).where(_M.c.thread_id == sa.bindparam("tid"))
_TOTALS = (_T.update().where(_T.c.id == sa.bindparam("tid")).values(
    last_triggered_at=sa.select(sa.func.max(E.c.at)).where(E.c.message_id.in_(_thread_messages)).scalar_subquery(),
    last_engagement_at=sa.select(sa.func.max(E.c.at)).where(
        # The verdicts as literals: executemany cannot expand an IN list per row.
        E.c.message_id.in_(_thread_messages),
        E.c.verdict.in_([sa.literal_column(f"'{v}'") for v in sorted(COUNTING)])).scalar_subquery(),
    last_sent_at=sa.func.coalesce(
        sa.select(sa.func.max(_M.c.sent_at)).where(_M.c.thread_id == sa.bindparam("tid")).scalar_subquery(),
        _T.c.last_sent_at),
))
_ACTIVITY = (_T.update().where(_T.c.id == sa.bindparam("tid")).values(
    last_activity_at=sa.case(
        (sa.and_(_T.c.last_triggered_at.is_not(None), _T.c.last_triggered_at > _T.c.last_sent_at),
         _T.c.last_triggered_at),
        else_=_T.c.last_sent_at)))


def thread_totals(thread_ids) -> None:
    """The threads' totals (last sent, last hit, last engagement, last activity) from
    their emails and events: the one place they are computed."""
    params = [{"tid": t} for t in sorted(set(thread_ids))]
    if params:
        conn = db.session.connection()
        ids_mod.execute_many(conn, _TOTALS, params)
        ids_mod.execute_many(conn, _ACTIVITY, params)
