"""Bulk test data in Engage's real schema, written straight into the database.

Threads, emails, links and events for one user, shaped like what the server itself
writes: ``search_key`` and ``domains`` computed by ``client_py.search`` exactly as
``server/api/messages.py`` does, each thread's aggregates (``last_sent_at``,
``last_triggered_at``, ``last_engagement_at``, ``last_activity_at``, ``has_manual``,
``has_auto_external``) as ``server/api/messages.py`` and ``server/hitpath/record.py`` keep
them, events in id order by time. SQLite gets ``executemany``, PostgreSQL ``COPY``
(psycopg 3); the database must be migrated first (``engage db upgrade``)."""

from __future__ import annotations

import json
import random
import sqlite3
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from client_py.model import ENGAGEMENT_VERDICTS  # noqa: E402
from client_py.search import recipient_domains, search_key  # noqa: E402
from tests.fixtures.agents import CHROME_WINDOWS as UA  # noqa: E402

TOPICS = ("pricing", "renewal", "demo", "proposal", "follow-up", "intro", "contract", "onboarding",
          "quote", "meeting", "Q3 plan", "Café meeting", "invoice")
FIRST = ("Ana", "Bruno", "Chloé", "Dmitri", "Emma", "Farid", "Grace", "Hiro", "Inès", "Jon")
LAST = ("Martin", "Smith", "Müller", "García", "Rossi", "Nguyen", "Kowalski", "Dubois")
DOMAINS = ("acme.com", "globex.io", "initech.co.uk", "umbrella.fr", "example.org", "mail.hooli.com")
PLACES = (("France", "Île-de-France", "Paris"), ("United States", "California", "San Francisco"),
          ("Germany", "Berlin", "Berlin"), ("United Kingdom", "England", "London"), (None, None, None))
VERDICTS = ("human", "gmail", "outlook", "gmail_prefetch", "apple_mpp", "scanner", "self", "duplicate")
VERDICT_WEIGHTS = (50, 15, 5, 10, 10, 5, 3, 2)

COLUMNS = {
    "threads": ("id", "user_id", "client_thread_id", "client", "subject", "pinned", "viewed_at", "has_manual",
                "has_auto_external", "last_sent_at", "last_triggered_at", "last_engagement_at", "last_activity_at"),
    "messages": ("id", "public_id", "user_id", "thread_id", "pixel_token", "subject", "recipients", "mode", "client",
                 "kind", "sequence", "step", "sent_at", "external", "search_key", "domains", "client_message_id"),
    "links": ("id", "message_id", "token", "url", "position"),
    "events": ("id", "user_id", "message_id", "link_id", "kind", "method", "at", "verdict", "reason", "country",
               "region", "city", "device", "user_agent", "ip_hash", "source_hash", "implied", "hit_id"),
}


def _token(rng: random.Random, n: int = 32) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return "".join(rng.choices(alphabet, k=n))


def make_user_data(user_id: int, messages: int, events: int, now: datetime, ids: dict[str, int],
                   days: int = 90, seed: int = 1) -> dict[str, list[tuple]]:
    """Rows per table (tuples in ``COLUMNS`` order, naive UTC datetimes) for one user.
    ``ids`` holds the next free id per table and is advanced."""
    rng = random.Random(seed)
    naive_now = now.astimezone(timezone.utc).replace(tzinfo=None)
    span = days * 86_400
    threads: list[dict] = []
    msgs: list[list] = []
    links: list[tuple] = []
    link_of: dict[int, int] = {}
    while len(msgs) < messages:
        tid = ids["threads"]
        ids["threads"] += 1
        first = naive_now - timedelta(seconds=rng.randrange(span))
        thread = {"id": tid, "client": rng.choice(("gmail", "outlook")), "messages": [], "manual": False,
                  "auto_external": False, "subject": ""}
        threads.append(thread)
        for n in range(min(rng.choices((1, 2, 3), weights=(70, 20, 10))[0], messages - len(msgs))):
            sent = min(first + timedelta(hours=n * rng.randrange(1, 72)), naive_now)
            recipients = []
            for _ in range(rng.choices((1, 2, 3), weights=(75, 18, 7))[0]):
                f, l = rng.choice(FIRST), rng.choice(LAST)
                recipients.append({"name": f"{f} {l}", "address": f"{f.lower()}.{l.lower()}@{rng.choice(DOMAINS)}",
                                   "kind": "external"})
            subject = f"{rng.choice(TOPICS).capitalize()} for {rng.choice(LAST)} #{tid}"
            mode = "manual" if rng.random() < 0.3 else "auto"
            sequence = "Spring outreach" if rng.random() < 0.2 else None
            plain = {"subject": subject, "recipients": recipients}
            mid = ids["messages"]
            ids["messages"] += 1
            msgs.append([mid, _token(rng, 16), user_id, tid, _token(rng), subject, json.dumps(recipients), mode,
                         thread["client"], "email", sequence, rng.randrange(1, 5) if sequence else None, sent, True,
                         search_key(plain), "," + ",".join(recipient_domains(plain)) + ",", None])
            thread["messages"].append((mid, sent))
            thread["subject"] = subject
            thread["manual"] |= mode == "manual"
            thread["auto_external"] |= mode == "auto"
            if mid % 5 == 0:
                link_of[mid] = ids["links"]
                links.append((ids["links"], mid, _token(rng), f"https://{rng.choice(DOMAINS)}/offer?m={mid}", 0))
                ids["links"] += 1

    # Events: 30% land on 5% of the emails, as real mail skews; within 14 days of sending.
    sent_of = {m[0]: m[12] for m in msgs}
    thread_of = {m[0]: m[3] for m in msgs}
    mids = [m[0] for m in msgs]
    hot = mids[: max(1, len(mids) // 20)]
    raw = []
    for _ in range(events):
        mid = rng.choice(hot) if rng.random() < 0.3 else rng.choice(mids)
        at = min(sent_of[mid] + timedelta(seconds=rng.randrange(14 * 86_400)), naive_now)
        raw.append((at, mid))
    raw.sort()
    evts = []
    triggered: dict[int, datetime] = {}
    engaged: dict[int, datetime] = {}
    for at, mid in raw:
        link_id = link_of.get(mid) if rng.random() < 0.15 else None
        verdict = rng.choices(VERDICTS, weights=VERDICT_WEIGHTS)[0]
        country, region, city = rng.choice(PLACES)
        evts.append((ids["events"], user_id, mid, link_id, "click" if link_id else "open", "GET", at, verdict,
                     "", country, region, city, rng.choice(("desktop", "mobile", "tablet", "unknown")), UA,
                     f"{rng.getrandbits(160):040x}", f"{rng.getrandbits(160):040x}", False,
                     f"{rng.getrandbits(128):032x}"))
        ids["events"] += 1
        tid = thread_of[mid]
        triggered[tid] = at  # events are in time order: the last one wins
        if verdict in ENGAGEMENT_VERDICTS:
            engaged[tid] = at

    thread_rows = []
    for t in threads:
        last_sent = max(sent for _, sent in t["messages"])
        trig = triggered.get(t["id"])
        thread_rows.append((t["id"], user_id, f"thread-{user_id}-{t['id']}", t["client"], t["subject"], None,
                            None, t["manual"], t["auto_external"], last_sent, trig, engaged.get(t["id"]),
                            max(last_sent, trig) if trig else last_sent))
    return {"threads": thread_rows, "messages": [tuple(m) for m in msgs], "links": links, "events": evts}


def next_ids(url: str) -> dict[str, int]:
    out = {}
    for table in COLUMNS:
        out[table] = (_scalar(url, f"SELECT coalesce(max(id), 0) FROM {table}") or 0) + 1
    return out


def _scalar(url: str, sql: str):
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url[len("sqlite:///"):]) as conn:
            return conn.execute(sql).fetchone()[0]
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchone()[0]


def _sqlite_value(value):
    # SQLAlchemy's SQLite DateTime storage format: string comparison must sort like time.
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, bool):
        return int(value)
    return value


def load(url: str, rows: dict[str, list[tuple]]) -> None:
    """Insert the rows (parents first) in one transaction; then ANALYZE."""
    order = ("threads", "messages", "links", "events")
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url[len("sqlite:///"):])
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=OFF")  # bulk load only: the data can be made again
            for table in order:
                cols = COLUMNS[table]
                conn.executemany(f"INSERT INTO {table} ({','.join(cols)}) VALUES ({','.join('?' * len(cols))})",
                                 ([_sqlite_value(v) for v in row] for row in rows.get(table, ())))
            conn.commit()
            conn.execute("ANALYZE")
            conn.commit()
        finally:
            conn.close()
        return
    import psycopg

    with psycopg.connect(url) as conn:
        with conn.cursor() as cur:
            for table in order:
                with cur.copy(f"COPY {table} ({','.join(COLUMNS[table])}) FROM STDIN") as copy:
                    for row in rows.get(table, ()):
                        copy.write_row(row)
            for table in order:  # explicit ids: move each sequence past them
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT coalesce(max(id), 1) FROM {table}))")
        conn.commit()
        conn.autocommit = True
        conn.execute("ANALYZE")


def user_id(url: str, email: str) -> int:
    return _scalar(url, f"SELECT id FROM users WHERE email = '{email}'")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
