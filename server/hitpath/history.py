"""One email's history, read under that email's lock: every stored hit as a
``verdicts.Hit`` value and everything the verdicts depend on as a ``verdicts.Context``.

Work on one email is serialized wherever it runs (several writer processes, several
machines on one PostgreSQL, the API re-filing after a self-view report): ``lock``
takes the messages' row locks (``SELECT ... FOR UPDATE``, in id order so two writers
never deadlock) on PostgreSQL, and SQLite's single write lock (a no-op write as the
transaction's first statement, so everything read after it is current). Whoever
holds the lock reads the history, decides, writes what changed and commits; the next
one reads that.

What a stored hit keeps (``Event.facts``) is what the rules need, never the raw
address: the /24 or /48 it is in, the ranges the full address matched, whether it was
in the sender's office ranges, its place (shown or not depending on the verdict),
and the prefetch headers.

The writer keeps the histories it settled (``Memory``): every settle bumps the
email's ``history_rev`` under the lock, so a kept history whose rev is one behind,
with as many events as the table holds for the email (retention deletes without a
settle), is exactly what ``load`` would read, and need not be read again."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Iterable, Optional

import sqlalchemy as sa

from ..extensions import db
from ..models import Event, Link, Message, Org, SelfView, SenderAddress, User
from . import ids as ids_mod
from .rules import Network
from .verdicts import Context, Hit, Running, Shared

_M, _E, _U, _O, _L = (Message.__table__.c, Event.__table__.c, User.__table__.c, Org.__table__.c, Link.__table__.c)
_SA, _SV = SenderAddress.__table__.c, SelfView.__table__.c
one_of, statement = ids_mod.one_of, ids_mod.statement


@statement
def _lock_rows(d):
    return sa.select(_M.id).where(one_of(_M.id, "ids", d)).order_by(_M.id).with_for_update()


@statement
def _bump(d):
    return Message.__table__.update().where(one_of(_M.id, "ids", d)).values(history_rev=_M.history_rev + 1)


@statement
def _revs(d):
    return sa.select(_M.id, _M.history_rev).where(one_of(_M.id, "ids", d))


@statement
def _counts(d):
    return sa.select(_E.message_id, sa.func.count()).where(one_of(_E.message_id, "ids", d)).group_by(_E.message_id)


@statement
def _messages(d):
    return (sa.select(_M.id, _M.user_id, _M.thread_id, _M.sent_at, _M.external, _M.pixel_token)
            .where(one_of(_M.id, "ids", d)))


@statement
def _ranges(d):
    return (sa.select(_U.id, _O.office_ranges).join_from(User.__table__, Org.__table__, _O.id == _U.org_id)
            .where(one_of(_U.id, "ids", d)))


@statement
def _addresses(d):
    return sa.select(_SA.user_id, _SA.ip_hash, _SA.last_seen).where(one_of(_SA.user_id, "ids", d))


@statement
def _views(d):
    # in order: two loads of the same views are equal contexts
    return sa.select(_SV.thread_id, _SV.at).where(one_of(_SV.thread_id, "ids", d)).order_by(_SV.at)


@statement
def _hits(d):
    return (sa.select(_E.id, _E.message_id, _E.hit_id, _E.kind, _E.method, _E.at, _E.verdict, _E.reason, _E.country,
                      _E.region, _E.city, _E.device, _E.user_agent, _E.ip_hash, _E.source_hash, _E.implied, _E.facts,
                      _L.url)
            .select_from(Event.__table__).outerjoin(Link.__table__, _L.id == _E.link_id)
            .where(one_of(_E.message_id, "ids", d)))


NO_HEADERS = MappingProxyType({})  # a hit without prefetch headers (most): one for all of them
_PLACES = Shared(65536)


def shared_place(place) -> tuple:
    """(country, region, city), one tuple for every kept hit from the same place."""
    return _PLACES(tuple(place))


def _run(stmt, values):
    d = ids_mod.dialect_name(db.session)
    return db.session.execute(stmt(d), {"ids": ids_mod.values(values, d)})


@dataclass(slots=True)
class Stored:
    """An event row as it is now (what ``record`` compares the decision with)."""

    id: int
    verdict: str
    reason: str
    country: Optional[str]
    region: Optional[str]
    city: Optional[str]
    device: str


@dataclass
class History:
    message_id: int
    user_id: int
    thread_id: int
    external: bool
    ctx: Context
    hits: list[Hit] = field(default_factory=list)
    stored: dict[str, Stored] = field(default_factory=dict)  # hit key -> its row
    implied: dict[str, Stored] = field(default_factory=dict)  # click key -> its implied open's row
    geo: dict[str, tuple] = field(default_factory=dict)  # hit key -> (country, region, city)
    pixel_token: str = ""  # the email's (drain: a token the writer remembers is checked against it)

    index: dict[str, Hit] = field(default_factory=dict)  # hit key -> the hit

    def add(self, hit: Hit, geo: tuple) -> None:
        self.hits.append(hit)
        self.index[hit.key] = hit
        self.geo[hit.key] = geo


def lock(message_ids: Iterable[int]) -> dict[int, int]:
    """Serialize work on these emails with every other writer, until commit; bumps
    each one's ``history_rev`` and returns the new values (message id -> rev)."""
    ids = sorted(set(message_ids))
    if not ids:
        return {}
    if db.session.get_bind().dialect.name == "postgresql":
        _run(_lock_rows, ids).all()
    # SQLite: this is the transaction's first write, which waits for the one write lock;
    # reads after it see everything committed before (WAL takes the snapshot then).
    _run(_bump, ids)
    return dict(_run(_revs, ids).all())


@dataclass
class Kept:
    """An email's history as this process last settled it, with its decisions kept
    up to date (``verdicts.Running``): valid while nobody else has settled the email
    (``rev``) and none of its events went another way (``count``: retention).
    ``read``: its history was just read from the database (it was not kept)."""

    rev: int
    count: int
    history: History
    running: Running
    read: bool = False


class Memory:
    """The histories this writer settled last, about 1.2 KB a hit, ``max_hits`` hits
    in all (``HISTORY_MEMORY_HITS``; but the latest one always). Entries are taken out
    while an email is settled and put back only after the commit, so a rolled-back
    batch never leaves a wrong one.

    What goes when it is full: a plain least-recently-used order thrashes as soon as
    one batch's emails hold more hits than it (each batch touches nearly every one of
    them, group by group, and putting one group back dropped the histories the next
    group was about to take): every email's history was read again every batch
    (bench/README.md, issue 10). So a writer tells it the emails of the batch it is
    storing (``expect``), and past the cap it drops, in order: the emails the batch does
    not touch, least recently used first; then a history the batch had to read (it
    was not kept, it is not kept now either); then one the batch is done with; only
    then one the batch is yet to take. The emails kept stay kept across batches, so a
    batch reads only the histories that do not fit, and a new email gets in as soon as
    an idle one makes room (tests/server/test_history_memory.py)."""

    def __init__(self, max_hits: int = 60_000):
        self.max_hits = max_hits
        self._idle: "OrderedDict[int, Kept]" = OrderedDict()  # not in the batch, least recently used first
        self._waiting: "OrderedDict[int, Kept]" = OrderedDict()  # the batch's, not taken yet
        self._done: "OrderedDict[int, Kept]" = OrderedDict()  # the batch's, settled and put back
        self._hits = 0
        # A process whose request threads store hits themselves (the spool's disk full)
        # beside its drainer: two batches may use the memory at once.
        self._lock = threading.Lock()

    def expect(self, message_ids: Iterable[int]) -> None:
        """The emails of the batch about to be stored. Costs what the last batch and this
        one touch, not what is kept."""
        with self._lock:
            self._expect(message_ids)

    def _expect(self, message_ids: Iterable[int]) -> None:
        for entries in (self._waiting, self._done):  # the last batch's: more recent than any idle one
            for mid, k in entries.items():
                self._idle[mid] = k
        self._waiting, self._done = OrderedDict(), OrderedDict()
        for mid in message_ids:
            k = self._idle.pop(mid, None)
            if k is not None:
                self._waiting[mid] = k

    def _pop(self, mid: int) -> Optional[Kept]:
        for entries in (self._waiting, self._done, self._idle):
            k = entries.pop(mid, None)
            if k is not None:
                self._hits -= len(k.history.hits)
                return k
        return None

    def take(self, message_ids: Iterable[int], revs: dict[int, int],
             counts: Optional[dict[int, int]] = None) -> dict[int, Kept]:
        """The kept histories of these emails that are still current (call after ``lock``).
        ``counts``: the emails' event counts (message id -> count, none: 0), if the
        caller has just read them in this transaction."""
        found = {}
        with self._lock:
            for mid in message_ids:
                kept = self._pop(mid)
                if kept is not None and kept.rev == revs.get(mid, 0) - 1:
                    found[mid] = kept
        if found:
            if counts is None:
                counts = dict(_run(_counts, sorted(found)).all())
            found = {mid: k for mid, k in found.items() if counts.get(mid, 0) == k.count}
        return found

    def put(self, kept: Kept) -> None:
        with self._lock:
            self._put(kept)

    def _put(self, kept: Kept) -> None:
        mid = kept.history.message_id
        self._pop(mid)
        size = len(kept.history.hits)
        while self._hits + size > self.max_hits and self._idle:
            self._drop(self._idle)
        if self._hits + size > self.max_hits and kept.read and (self._waiting or self._done):
            return  # the batch's kept emails fill it: this one was not kept, and is not now
        self._done[mid] = kept
        self._hits += size
        # Over with this one's new hits: one the batch is done with goes (it is read again
        # next batch), the latest first, not one the batch is about to take (read again
        # now, and so on); this one stays.
        while self._hits > self.max_hits and len(self._done) > 1:
            self._done.popitem(last=True)
            _, dropped = self._done.popitem(last=True)
            self._hits -= len(dropped.history.hits)
            self._done[mid] = kept
        while self._hits > self.max_hits and self._waiting:
            self._drop(self._waiting, last=True)  # the one the batch takes last

    def _drop(self, entries: "OrderedDict[int, Kept]", last: bool = False) -> None:
        _, dropped = entries.popitem(last=last)
        self._hits -= len(dropped.history.hits)

    def __len__(self) -> int:
        return len(self._idle) + len(self._waiting) + len(self._done)


def memory(app) -> Memory:
    """This app's (this process's) kept histories."""
    found = app.extensions.get("engage_histories")
    if found is None:
        found = app.extensions["engage_histories"] = Memory(app.config.get("HISTORY_MEMORY_HITS", 60_000))
    return found


def load(message_ids: Iterable[int], cfg) -> dict[int, History]:
    """The histories of these emails (call ``lock`` first)."""
    return load_hits(contexts(message_ids, cfg))


def contexts(message_ids: Iterable[int], cfg) -> dict[int, History]:
    """These emails' histories without their hits: what the verdicts depend on besides
    the hits (``History.ctx``), read fresh for every batch."""
    ids = sorted(set(message_ids))
    if not ids:
        return {}
    messages = _run(_messages, ids).all()
    users = sorted({m.user_id for m in messages})
    threads = sorted({m.thread_id for m in messages})
    ranges = {uid: tuple(r or ()) for uid, r in _run(_ranges, users)}
    addresses: dict[int, dict[str, datetime]] = {}
    for uid, ip_hash, seen in _run(_addresses, users):
        addresses.setdefault(uid, {})[ip_hash] = seen
    views: dict[int, list[datetime]] = {}
    for thread_id, at in _run(_views, threads):
        views.setdefault(thread_id, []).append(at)
    out: dict[int, History] = {}
    for m in messages:
        out[m.id] = History(m.id, m.user_id, m.thread_id, bool(m.external), Context(
            sent_at=m.sent_at, org_ranges=ranges.get(m.user_id, ()),
            sender_addresses=addresses.get(m.user_id, {}),
            sender_address_window=timedelta(days=cfg["SELF_ADDRESS_DAYS"]),
            self_views=tuple(views.get(m.thread_id, ())),
            self_view_window=timedelta(seconds=cfg["SELF_VIEW_SECONDS"])), pixel_token=m.pixel_token)
    return out


def load_hits(out: dict[int, History]) -> dict[int, History]:
    """Fill these histories (from ``contexts``) with their stored hits."""
    ids = sorted(out)
    if not ids:
        return out
    for r in _run(_hits, ids):
        h = out[r.message_id]
        stored = Stored(r.id, r.verdict, r.reason, r.country, r.region, r.city, r.device)
        key = r.hit_id or f"event-{r.id}"
        if r.implied:
            h.implied[key[:-len("+open")] if key.endswith("+open") else key] = stored
            continue
        facts = r.facts
        h.stored[key] = stored
        h.add(hit_from_row(key, r, facts), shared_place((facts or {}).get("geo") or (r.country, r.region, r.city)))
    return out


def hit_from_row(key: str, r, facts: Optional[dict]) -> Hit:
    common = dict(key=key, kind=r.kind, at=r.at, method=r.method, user_agent=r.user_agent or "",
                  source=r.source_hash or "", address=r.ip_hash or "", link=r.url if r.kind == "click" else None)
    if facts is None:  # stored before facts were kept: its verdict stays as it was
        return Hit(**common, settled=(r.verdict, r.reason))
    return Hit(**common, headers=facts.get("headers") or NO_HEADERS, network=network_from(facts))


def network_from(facts: dict) -> Network:
    return Network(kind=facts.get("kind") or "unreadable", prefix=facts.get("net"),
                   matched=tuple(tuple(m) for m in facts.get("matched") or ()), org=facts.get("org"))


def facts_of(network: Network, geo: tuple, headers: dict) -> dict:
    return {"net": network.prefix, "kind": network.kind, "matched": [list(m) for m in network.matched],
            "org": network.org, "geo": list(geo), "headers": dict(headers or {})}
