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

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterable, Optional

import sqlalchemy as sa

from ..extensions import db
from ..models import Event, Link, Message, Org, SelfView, SenderAddress, User
from .rules import Network
from .verdicts import Context, Hit, Running


@dataclass
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
    agents: dict[str, str] = field(default_factory=dict)  # hit key -> user agent (device)

    index: dict[str, Hit] = field(default_factory=dict)  # hit key -> the hit

    def add(self, hit: Hit, geo: tuple) -> None:
        self.hits.append(hit)
        self.index[hit.key] = hit
        self.geo[hit.key] = geo
        self.agents[hit.key] = hit.user_agent


def lock(message_ids: Iterable[int]) -> dict[int, int]:
    """Serialize work on these emails with every other writer, until commit; bumps
    each one's ``history_rev`` and returns the new values (message id -> rev)."""
    ids = sorted(set(message_ids))
    if not ids:
        return {}
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(Message.id).where(Message.id.in_(ids)).order_by(Message.id).with_for_update())
    # SQLite: this is the transaction's first write, which waits for the one write lock;
    # reads after it see everything committed before (WAL takes the snapshot then).
    db.session.execute(sa.update(Message).where(Message.id.in_(ids)).values(history_rev=Message.history_rev + 1)
                       .execution_options(synchronize_session=False))
    return dict(db.session.execute(sa.select(Message.id, Message.history_rev).where(Message.id.in_(ids))).all())


@dataclass
class Kept:
    """An email's history as this process last settled it, with its decisions kept
    up to date (``verdicts.Running``): valid while nobody else has settled the email
    (``rev``) and none of its events went another way (``count``: retention)."""

    rev: int
    count: int
    history: History
    running: Running


class Memory:
    """The histories this writer settled last, least recently used dropped first
    (about 2.4 KB a hit; ``HISTORY_MEMORY_HITS`` in all, but the latest one always).
    Entries are taken out while an email is settled and put back only after the
    commit, so a rolled-back batch never leaves a wrong one."""

    def __init__(self, max_hits: int = 30_000):
        self.max_hits = max_hits
        self._kept: "OrderedDict[int, Kept]" = OrderedDict()
        self._hits = 0

    def take(self, message_ids: Iterable[int], revs: dict[int, int]) -> dict[int, Kept]:
        """The kept histories of these emails that are still current (call after ``lock``)."""
        found = {}
        for mid in message_ids:
            kept = self._kept.pop(mid, None)
            if kept is not None:
                self._hits -= len(kept.history.hits)
                if kept.rev == revs.get(mid, 0) - 1:
                    found[mid] = kept
        if found:
            counts = dict(db.session.execute(
                sa.select(Event.message_id, sa.func.count()).where(Event.message_id.in_(list(found)))
                .group_by(Event.message_id)).all())
            found = {mid: k for mid, k in found.items() if counts.get(mid, 0) == k.count}
        return found

    def put(self, kept: Kept) -> None:
        mid = kept.history.message_id
        old = self._kept.pop(mid, None)
        if old is not None:
            self._hits -= len(old.history.hits)
        self._kept[mid] = kept
        self._hits += len(kept.history.hits)
        while self._hits > self.max_hits and len(self._kept) > 1:
            _, dropped = self._kept.popitem(last=False)
            self._hits -= len(dropped.history.hits)

    def __len__(self) -> int:
        return len(self._kept)


def memory(app) -> Memory:
    """This app's (this process's) kept histories."""
    found = app.extensions.get("engage_histories")
    if found is None:
        found = app.extensions["engage_histories"] = Memory(app.config.get("HISTORY_MEMORY_HITS", 30_000))
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
    messages = db.session.execute(
        sa.select(Message.id, Message.user_id, Message.thread_id, Message.sent_at, Message.external)
        .where(Message.id.in_(ids))).all()
    users = {m.user_id for m in messages}
    threads = {m.thread_id for m in messages}
    ranges = {uid: tuple(r or ()) for uid, r in db.session.execute(
        sa.select(User.id, Org.office_ranges).join(Org, Org.id == User.org_id).where(User.id.in_(users)))}
    addresses: dict[int, dict[str, datetime]] = {}
    for uid, ip_hash, seen in db.session.execute(
            sa.select(SenderAddress.user_id, SenderAddress.ip_hash, SenderAddress.last_seen)
            .where(SenderAddress.user_id.in_(users))):
        addresses.setdefault(uid, {})[ip_hash] = seen
    views: dict[int, list[datetime]] = {}
    for thread_id, at in db.session.execute(
            sa.select(SelfView.thread_id, SelfView.at).where(SelfView.thread_id.in_(threads))
            .order_by(SelfView.at)):  # in order: two loads of the same views are equal contexts
        views.setdefault(thread_id, []).append(at)
    out: dict[int, History] = {}
    for m in messages:
        out[m.id] = History(m.id, m.user_id, m.thread_id, bool(m.external), Context(
            sent_at=m.sent_at, org_ranges=ranges.get(m.user_id, ()),
            sender_addresses=addresses.get(m.user_id, {}),
            sender_address_window=timedelta(days=cfg["SELF_ADDRESS_DAYS"]),
            self_views=tuple(views.get(m.thread_id, ())),
            self_view_window=timedelta(seconds=cfg["SELF_VIEW_SECONDS"])))
    return out


def load_hits(out: dict[int, History]) -> dict[int, History]:
    """Fill these histories (from ``contexts``) with their stored hits."""
    ids = sorted(out)
    if not ids:
        return out
    E = Event.__table__.c
    rows = db.session.execute(
        sa.select(E.id, E.message_id, E.hit_id, E.kind, E.method, E.at, E.verdict, E.reason, E.country, E.region,
                  E.city, E.device, E.user_agent, E.ip_hash, E.source_hash, E.implied, E.facts, Link.url)
        .outerjoin(Link, Link.id == E.link_id)
        .where(E.message_id.in_(ids)))
    for r in rows:
        h = out[r.message_id]
        stored = Stored(r.id, r.verdict, r.reason, r.country, r.region, r.city, r.device)
        key = r.hit_id or f"event-{r.id}"
        if r.implied:
            h.implied[key[:-len("+open")] if key.endswith("+open") else key] = stored
            continue
        facts = r.facts
        h.stored[key] = stored
        h.add(hit_from_row(key, r, facts), tuple((facts or {}).get("geo") or (r.country, r.region, r.city)))
    return out


def hit_from_row(key: str, r, facts: Optional[dict]) -> Hit:
    common = dict(key=key, kind=r.kind, at=r.at, method=r.method, user_agent=r.user_agent or "",
                  source=r.source_hash or "", address=r.ip_hash or "", link=r.url if r.kind == "click" else None)
    if facts is None:  # stored before facts were kept: its verdict stays as it was
        return Hit(**common, settled=(r.verdict, r.reason))
    return Hit(**common, headers=facts.get("headers") or {}, network=network_from(facts))


def network_from(facts: dict) -> Network:
    return Network(kind=facts.get("kind") or "unreadable", prefix=facts.get("net"),
                   matched=tuple(tuple(m) for m in facts.get("matched") or ()), org=facts.get("org"))


def facts_of(network: Network, geo: tuple, headers: dict) -> dict:
    return {"net": network.prefix, "kind": network.kind, "matched": [list(m) for m in network.matched],
            "org": network.org, "geo": list(geo), "headers": dict(headers or {})}
