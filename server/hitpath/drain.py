"""From spooled hit records to decided, stored events: the writer's work.

A record: ``{"hit_id", "kind": "open"|"click", "token", "method", "ip", "ua",
"headers", "at"}`` (``ip`` canonical, server/hitpath/addresses.py). This is the only
place that sees the raw address after the spool: it is turned into what the rules
need (``Network``: the /24 or /48, the ranges it matched, the office range; its
place; the keyed hashes) and dropped.

For each batch: the emails the hits belong to are locked (history.lock), their whole
history read (history.load), every verdict decided again from it and only what
changed written (record.write), in one transaction per group of the batch's emails
(``_groups``). So the same hits give the same verdicts whatever order, batching or
number of writers stored them. An email
this writer settled last is not read again: its history is kept in memory
(history.Memory, checked against the email's ``history_rev``) with its decisions kept
up to date (verdicts.Running: exactly ``verdicts.decide`` over the whole history, at a
cost proportional to what the new hits change), so a burst on one email drains as
fast as hits on many. With several writers (ENGAGE_WRITERS) each stores the hits of
its share of the emails (``ingest(shard=)``, by pixel token: ``writer_of``); on SQLite the reading and
deciding happen before the write lock and are checked under it (``settle``), so the
writers' Python work runs in parallel. ``refile`` reads and decides whole histories for emails whose
evidence changed without a new hit (a self-view report, ``engage reclassify``).

Unknown tokens are dropped here (the recipient got the image anyway). A batch that
fails is stored email by email so one bad email cannot block the ones behind it,
but a database that is down fails the whole batch, to be retried."""

from __future__ import annotations

import logging
import zlib
from collections import defaultdict

import sqlalchemy as sa
from flask import current_app

from .. import metrics, services
from ..causes import describe
from ..extensions import db
from ..models import Event, Link, Message, Org, User
from . import history as history_mod
from . import ids, record
from .addresses import read_address
from .verdicts import Hit, Running

log = logging.getLogger(__name__)


_M, _L, _U, _O, _E = (Message.__table__.c, Link.__table__.c, User.__table__.c, Org.__table__.c,
                      Event.__table__.c)


@ids.statement
def _opens_of(d):
    return sa.select(_M.pixel_token, _M.id, _M.user_id).where(ids.one_of(_M.pixel_token, "tokens", d))


@ids.statement
def _clicks_of(d):
    return (sa.select(_L.token, _M.id, _M.user_id, _L.id, _L.url, _M.pixel_token)
            .join_from(Link.__table__, Message.__table__, _M.id == _L.message_id)
            .where(ids.one_of(_L.token, "tokens", d)))


@ids.statement
def _offices_of(d):
    return (sa.select(_U.id, _O.office_ranges).join_from(User.__table__, Org.__table__, _O.id == _U.org_id)
            .where(ids.one_of(_U.id, "ids", d)))


@ids.statement
def _known_of(d):
    return sa.select(_E.hit_id).where(ids.one_of(_E.hit_id, "ids", d))


@ids.statement
def _counts_of(d):
    return sa.select(_E.message_id, sa.func.count()).where(ids.one_of(_E.message_id, "ids", d)).group_by(_E.message_id)


@ids.statement
def _revs_of(d):
    return sa.select(_M.id, _M.history_rev).where(ids.one_of(_M.id, "ids", d))


# A batch (WRITER_BATCH records) is stored in transactions of at most this many emails
# or hits (``_groups``). Eighth session, 5,000 emails, same run: groups of 500 emails
# held SQLite's write lock for a median 170-256 ms of CPU, a whole 20,000-record batch
# for up to 1.1-1.3 s, for the same CPU a stored hit within the noise (380-424 against
# 393-412 us; groups of 200: 492).
GROUP_EMAILS = 500
GROUP_HITS = 5000
TARGETS_KEPT = 200_000  # tokens a writer remembers the email of (~150 bytes each)


def _kept_targets() -> dict:
    """(kind, token) -> (target, the email's pixel token), for this process. A token
    never moves to another email; an email that is deleted is noticed where its
    history is read (``_settle``: no such email, or another one with its id)."""
    extensions = current_app.extensions
    found = extensions.get("engage_targets")
    if found is None:
        found = extensions["engage_targets"] = {}
    return found


def _targets(records: list[dict], again: bool = False):
    """token -> (message id, user id, link id or None, url or None) for the records'
    tokens, and message id -> pixel token for those emails (what ``_settle`` checks
    the emails it reads against). Each writer reads every record of the spool, so the
    tokens it has looked up before are remembered, not looked up again each batch.
    Two tokens of one batch naming one email id with different pixel tokens: an email
    was deleted and its id given to a new one (SQLite), so everything remembered is
    forgotten and every token looked up (``again``)."""
    kept = _kept_targets()
    opens, clicks, pixels = {}, {}, {}
    unknown = {"open": set(), "click": set()}
    for r in records:
        kind, token = r["kind"], r["token"]
        found = kept.get((kind, token))
        if found is None:
            unknown["open" if kind == "open" else "click"].add(token)
        else:
            (opens if kind == "open" else clicks)[token] = found[0]
            if pixels.setdefault(found[0][0], found[1]) != found[1]:
                kept.clear()
                return _targets(records, again=True)
    d = ids.dialect_name(db.session)
    fresh = []
    if unknown["open"]:
        fresh += [(("open", t), (mid, uid, None, None), t) for t, mid, uid in db.session.execute(
            _opens_of(d), {"tokens": ids.values(sorted(unknown["open"]), d)})]
    if unknown["click"]:
        fresh += [(("click", t), (mid, uid, lid, url), pixel) for t, mid, uid, lid, url, pixel
                  in db.session.execute(_clicks_of(d), {"tokens": ids.values(sorted(unknown["click"]), d)})]
    if len(kept) + len(fresh) > TARGETS_KEPT:
        kept.clear()
    for key, target, pixel in fresh:
        (opens if key[0] == "open" else clicks)[key[1]] = target
        if pixels.setdefault(target[0], pixel) != pixel and not again:
            kept.clear()
            return _targets(records, again=True)
        kept[key] = (target, pixel)
    return opens, clicks, pixels


def writer_of(pixel_token: str, count: int) -> int:
    """Which of ``count`` writers stores an email's hits: by its pixel token, which the
    pixel's own URL carries, so an open is placed without looking anything up, and
    which stays with the email (a deleted email's id may be given to a new one on
    SQLite, and a client may register a deleted email's token again: neither moves a
    hit to a writer that drops it). crc32: the same in every process, unlike hash()."""
    return zlib.crc32(pixel_token.encode()) % count


def claims(keys: list[tuple[str, str]], shard: tuple[int, int]) -> list[bool]:
    """For each (kind, token): whether its hit may be writer ``shard``'s (index, count).
    An open: exactly (``writer_of`` its token). A click: False only when its link is
    remembered as another writer's email (a link never moves to another email); one not
    remembered is looked up by ``ingest``. spool.Drainer skips the others' lines unparsed."""
    kept, (index, count) = _kept_targets(), shard
    out = []
    for kind, token in keys:
        if kind == "open":
            out.append(writer_of(token, count) == index)
        else:
            found = kept.get((kind, token))
            out.append(found is None or writer_of(found[1], count) == index)
    return out


def _office_ranges(user_ids) -> dict[int, tuple]:
    d = ids.dialect_name(db.session)
    return {uid: tuple(r or ()) for uid, r in db.session.execute(_offices_of(d), {"ids": ids.values(sorted(user_ids), d)})}


def _observe(record_: dict, target, svc, offices) -> tuple[Hit, record.NewHit, tuple]:
    """The hit as the verdicts see it, the row values, its place: the raw address
    is used here and nowhere after."""
    message_id, user_id, link_id, url = target
    ip, canonical = read_address(record_.get("ip") or "")  # parsed once: everything below shares it
    network = svc.rules.observe_address(ip, offices.get(user_id, ()))
    if network.kind != "global":
        geo = (None, None, None)  # unreadable, private, loopback...: no place to name
    else:
        place = svc.geo.lookup_global(canonical)  # the rules just found it global: not asked again
        geo = history_mod.shared_place((place.country, place.region, place.city))
    ua = (record_.get("ua") or "")[:512]
    sent = record_.get("headers")
    headers = {k: str(v)[:100] for k, v in sent.items()} if sent else history_mod.NO_HEADERS
    ip_hash = svc.keyed_hash("ip", canonical)
    source = svc.keyed_hash("src", canonical, ua)
    hit = Hit(key=record_["hit_id"], kind=record_["kind"], at=record_["at"], method=(record_.get("method") or "")[:8],
              user_agent=ua, headers=headers, network=network, source=source, address=ip_hash,
              link=url if record_["kind"] == "click" else None)
    row = record.NewHit(message_id=message_id, user_id=user_id, key=hit.key, kind=hit.kind, method=hit.method,
                        at=hit.at, user_agent=ua, link_id=link_id, ip_hash=ip_hash, source_hash=source,
                        facts=history_mod.facts_of(network, geo, headers))
    return hit, row, geo


def ingest(records: list[dict], shard: tuple[int, int] = (0, 1), _again: bool = False) -> int:
    """Store the records not stored yet; returns how many hits were stored. With
    ``shard`` (writer ``index`` of ``count``, ENGAGE_WRITERS), only the hits of the
    emails ``writer_of`` gives to ``index``: each email has one writer, so its kept
    history (history.Memory) stays current and writers rarely wait for each other
    (they would still be serialized by ``history.lock`` if they did). Hits for an
    email found deleted since its token was looked up (an earlier batch) are looked up
    again, once: a client may have registered that token again, for a new email."""
    if not records:
        return 0
    index, count = shard
    if count > 1:  # an open is placed by its own token, before anything is looked up
        records = [r for r in records if r["kind"] != "open" or writer_of(r["token"], count) == index]
    opens, clicks, pixels = _targets(records)
    if count > 1:  # a click by its email's pixel token; an unknown one is dropped below, once
        records = [r for r in records if r["kind"] == "open" or (t := clicks.get(r["token"])) is None
                   or writer_of(pixels[t[0]], count) == index]
    if not records:
        db.session.rollback()
        return 0
    d = ids.dialect_name(db.session)
    known = set(db.session.execute(_known_of(d), {"ids": ids.values([r["hit_id"] for r in records], d)}).scalars())
    fresh = [r for r in records if r["hit_id"] not in known]
    if not fresh:
        db.session.rollback()
        return 0
    svc = services.get()
    offices = _office_ranges({t[1] for t in (*opens.values(), *clicks.values())})
    by_message: dict[int, list] = defaultdict(list)
    raw: dict[int, list] = defaultdict(list)
    for r in fresh:
        target = (opens if r["kind"] == "open" else clicks).get(r["token"])
        if target is None:
            continue  # an unknown token: the recipient got the image, nothing to record
        by_message[target[0]].append(_observe(r, target, svc, offices))
        raw[target[0]].append(r)
    db.session.rollback()  # what follows starts with the lock (history.lock), reads after it
    history_mod.memory(current_app._get_current_object()).expect(by_message)
    stored, gone = 0, set()
    for group in _groups(by_message):
        n, lost = _store(group, pixels)
        stored, gone = stored + n, gone | lost
    if gone and not _again:  # the remembered tokens were forgotten (_settle): asked afresh
        stored += ingest([r for mid in sorted(gone) for r in raw.get(mid, ())], shard, _again=True)
    return stored


def _groups(by_message: dict[int, list]):
    """The batch's emails in groups of at most ``GROUP_EMAILS`` emails or about
    ``GROUP_HITS`` hits, each stored in its own transaction: a big batch is what makes
    a writer fast (each email settled once for all its hits of the batch), a small
    transaction is what keeps the write lock (SQLite's one, or the emails' rows) short
    for everyone else. An email's hits are never split."""
    group: dict[int, list] = {}
    hits = 0
    for message_id, observed in by_message.items():
        group[message_id] = observed
        hits += len(observed)
        if len(group) >= GROUP_EMAILS or hits >= GROUP_HITS:
            yield group
            group, hits = {}, 0
    if group:
        yield group


def _store(by_message: dict[int, list], pixels: dict[int, str]) -> tuple[int, set]:
    try:
        changes = settle(by_message, pixels=pixels)
        db.session.commit()
        remember(changes)
    except Exception as err:
        db.session.rollback()
        if describe(err)[0] in ("disk", "permission"):
            raise  # the database's disk is full (or read-only): no one email is to blame, retry later
        db.session.execute(sa.text("SELECT 1"))  # raises if the database is down: retry later
        db.session.rollback()
        log.warning("ingest: a batch failed; storing its emails one by one", exc_info=True)
        changes = _one_by_one(by_message, pixels)
    for kind, n in changes.inserted_kinds.items():
        metrics.STORED[kind].inc(n)
    wake_streams(changes)
    return changes.inserted, changes.gone


def refile(message_ids) -> record.Changes:
    """Decide the verdicts of these emails again from their stored history (new
    evidence without a new hit, or new rules), every hit compared with its row. Commits."""
    changes = settle({mid: [] for mid in message_ids}, keep=False)
    db.session.commit()
    wake_streams(changes)
    return changes


def settle(by_message: dict[int, list], keep: bool = True, pixels: dict[int, str] | None = None) -> record.Changes:
    """Lock, read, decide, write for these emails; the caller commits, then calls
    ``remember``.

    On SQLite (one write lock for the whole database) the reading and deciding are
    done first, outside the lock, and then checked under it: if no email's
    ``history_rev`` or event count moved meanwhile, what was decided is exactly what
    deciding under the lock gives, and is written; otherwise it is thrown away and the
    batch settled under the lock. So several writers decide in parallel and hold
    the lock only to write (ENGAGE_WRITERS, bench/README.md).

    With ``keep``, an email this process settled last (its ``history_rev`` says nobody
    else did since) is not read again: its kept history (history.Memory) takes the new
    hits and its decisions are brought up to date (verdicts.Running, exactly what
    deciding the whole history gives), and only the hits whose decision changed are
    written. Otherwise its whole history is read, decided and compared row by row.

    ``pixels`` (message id -> pixel token: the email the hits' tokens were found to
    belong to): an email read with another pixel token (deleted, and its id given to a
    new one) or not found gets none of its hits stored."""
    if keep and db.session.get_bind().dialect.name == "sqlite":
        changes = _settle_then_check(by_message, pixels)
        if changes is not None:
            return changes
    return _settle(by_message, keep, history_mod.lock(by_message), pixels=pixels)


def _counts(message_ids) -> dict[int, int]:
    d = ids.dialect_name(db.session)
    return dict(db.session.execute(_counts_of(d), {"ids": ids.values(message_ids, d)}).all())


def _settle_then_check(by_message: dict[int, list], pixels: dict[int, str] | None) -> record.Changes | None:
    message_ids = sorted(by_message)
    d = ids.dialect_name(db.session)
    expected = {mid: rev + 1 for mid, rev in db.session.execute(
        _revs_of(d), {"ids": ids.values(message_ids, d)}).all()}
    counts = _counts(message_ids)
    changes = _settle(by_message, True, expected, write=False, counts=counts, pixels=pixels)
    db.session.rollback()  # the read snapshot ends; nothing was written
    revs = history_mod.lock(by_message)
    if revs == expected and _counts(message_ids) == counts:
        _write(changes)
        return changes
    db.session.rollback()  # someone settled one of these emails meanwhile: again, under the lock
    return None


def _settle(by_message: dict[int, list], keep: bool, revs: dict[int, int], write: bool = True,
            counts: dict[int, int] | None = None, pixels: dict[int, str] | None = None) -> record.Changes:
    """``counts``: the emails' event counts, read in this transaction (the kept
    histories are checked against them without reading them again)."""
    app = current_app._get_current_object()
    svc = services.get()
    memory = history_mod.memory(app)
    kept = memory.take(by_message, revs, counts) if keep else {}
    shells = history_mod.contexts(by_message, app.config)
    gone: set = set()
    if pixels:
        gone = {mid for mid in by_message if mid in pixels and (
            mid not in shells or shells[mid].pixel_token != pixels[mid])}
        if gone:  # deleted since its tokens were looked up (maybe by an earlier batch)
            _kept_targets().clear()
            shells = {mid: h for mid, h in shells.items() if mid not in gone}
    kept = {mid: k for mid, k in kept.items() if mid in shells and k.running.ctx == shells[mid].ctx
            and k.running.rules is svc.rules}
    histories = history_mod.load_hits({mid: h for mid, h in shells.items() if mid not in kept})
    changes = record.Changes(gone=gone)
    for message_id in sorted(shells):
        if message_id in kept:
            h, running = kept[message_id].history, kept[message_id].running
            before = running.counting_opens()
        else:
            h, running, before = histories[message_id], Running(shells[message_id].ctx, svc.rules), None
            running.add(h.hits)
        new, fresh = {}, []
        for hit, row, geo in by_message[message_id]:
            if hit.key in h.stored or hit.key in new:
                continue  # stored meanwhile by another writer (a replayed spool)
            h.add(hit, geo)
            new[hit.key] = row
            fresh.append(hit)
        changed = running.add(fresh)
        record.write(h, decisions=running.decisions, new=new, app=app, changes=changes,
                     engagement=running.engagement(), keys=None if before is None else changed,
                     counting=None if before is None else (before, running.counting_opens()))
        if keep:
            changes.kept.append(history_mod.Kept(revs[message_id], 0, h, running, read=message_id not in kept))
    if write:
        _write(changes)
    return changes


def _write(changes: record.Changes) -> None:
    svc = services.get()
    record.flush(changes)
    for k in changes.kept:
        k.count = len(k.history.stored) + len(k.history.implied)
    for user_id, event_id in changes.users.items():
        svc.broker.publish_in_transaction(db.session, user_id, event_id)


def remember(changes: record.Changes) -> None:
    """After the commit: keep the histories just settled for the next batch."""
    memory = history_mod.memory(current_app._get_current_object())
    for k in changes.kept:
        memory.put(k)
    changes.kept = []


def _one_by_one(by_message: dict[int, list], pixels: dict[int, str]) -> record.Changes:
    changes = record.Changes()
    for message_id, hits in by_message.items():
        try:
            one = settle({message_id: hits}, pixels=pixels)
            db.session.commit()
            remember(one)
            changes.merge(one)
        except sa.exc.OperationalError:
            db.session.rollback()
            raise
        except Exception:
            db.session.rollback()
            log.exception("ingest: could not store %d hit(s) of one email; skipped", len(hits))
    return changes


def wake_streams(changes: record.Changes) -> None:
    broker = services.get().broker
    for user_id in changes.users:
        broker.published_locally(user_id)
