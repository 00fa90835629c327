"""Insights at scale: ``GET /api/v1/insights`` (each period the view offers) for the panel benchmark's heavy user
(50,000 emails, 500,000 events over 90 days, bench/datagen.py) against its light user
(500 and 5,000) in the same database, over real HTTP to ``engage serve``, on SQLite
and on PostgreSQL. Targets: heavy/light of the medians at most 2x, and the heavy
user's median under 200 ms.

Requests alternate between the two users (a change in the machine's load hits both
alike). Then every SQL statement of one heavy request is timed in-process, slowest
first, so a miss says which query is slow.

    python bench/insights_scale.py [--db sqlite,postgres] [--repeat 9] [--heavy 50000:500000]
"""

from __future__ import annotations

import argparse
import http.client
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import datagen  # noqa: E402
import harness as h  # noqa: E402

TARGET_RATIO = 2.0
TARGET_MS = 200.0
CASES = {"insights today": "/api/v1/insights?period=today&tz=Europe/Paris",
         "insights 7 days": "/api/v1/insights?period=7d&tz=Europe/Paris",
         "insights 30 days": "/api/v1/insights?period=30d&tz=Europe/Paris",
         "insights 90 days": "/api/v1/insights?period=90d&tz=Europe/Paris"}


def time_requests(url: str, tokens: dict[str, str], repeat: int) -> dict[str, dict[str, list[float]]]:
    host, port = url.split("//")[1].split(":")
    conns = {u: http.client.HTTPConnection(host, int(port), timeout=120) for u in tokens}
    out = {case: {u: [] for u in tokens} for case in CASES}

    def get(user: str, path: str) -> float:
        started = time.perf_counter()
        conns[user].request("GET", path, headers={"Authorization": f"Bearer {tokens[user]}"})
        resp = conns[user].getresponse()
        body = resp.read()
        elapsed = (time.perf_counter() - started) * 1000
        if resp.status != 200:
            raise RuntimeError(f"{user} {path}: {resp.status} {body[:300]!r}")
        return elapsed

    for path in CASES.values():
        for user in tokens:
            get(user, path)  # warm
    for i in range(repeat):
        order = list(tokens) if i % 2 == 0 else list(reversed(tokens))
        for case, path in CASES.items():
            for user in order:
                out[case][user].append(get(user, path))
    for c in conns.values():
        c.close()
    return out


def statements(site: h.Engage, token: str, path: str, top: int = 6) -> list[str]:
    """Each SQL statement of one warm heavy request, timed, slowest first."""
    os.environ.update(site.env())
    sys.path.insert(0, str(h.ROOT))
    from sqlalchemy import event

    from server import create_app
    from server.extensions import db

    app = create_app({"BACKGROUND_THREADS": False})
    with app.app_context():
        log: list[tuple[str, float]] = []

        def before(conn, cursor, statement, params, context, executemany):
            conn.info["bench_t"] = time.perf_counter()

        def after(conn, cursor, statement, params, context, executemany):
            log.append((statement, (time.perf_counter() - conn.info.pop("bench_t")) * 1000))

        event.listen(db.engine, "before_cursor_execute", before)
        event.listen(db.engine, "after_cursor_execute", after)
        client = app.test_client()
        for _ in range(2):
            log.clear()
            started = time.perf_counter()
            resp = client.get(path, headers={"Authorization": f"Bearer {token}"})
            total = (time.perf_counter() - started) * 1000
            assert resp.status_code == 200, resp.data[:300]
        event.remove(db.engine, "before_cursor_execute", before)
        event.remove(db.engine, "after_cursor_execute", after)
    sql = sum(ms for _s, ms in log)
    lines = [f"  heavy {path}: {total:.1f} ms in-process, {len(log)} statements, {sql:.1f} ms in SQL"]
    for stmt, ms in sorted(log, key=lambda s: -s[1])[:top]:
        lines.append(f"  {ms:8.2f} ms  {' '.join(stmt.split())[:200]}")
    return lines


def rebuild(site: h.Engage) -> float:
    """The insights' sums from the bulk-loaded events, as migrations 0010 and 0012 make them
    (datagen writes the tables straight, past the writer that keeps them)."""
    os.environ.update(site.env())
    sys.path.insert(0, str(h.ROOT))
    from server import create_app
    from server.extensions import db
    from server.insights_rollup import rebuild_all

    started = time.monotonic()
    app = create_app({"BACKGROUND_THREADS": False})
    with app.app_context():
        rebuild_all(db.session.connection())
        db.session.commit()
        import sqlalchemy as sa

        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        db.engine.dispose()
    return time.monotonic() - started


def run_database(kind: str, args) -> dict:
    with h.database(kind, f"engage_bench_ins_{os.getpid()}") as url:
        site = h.Engage(database_url=url, name=f"insights-{kind}")
        try:
            site.migrate()
            tokens = {"heavy": site.create_user("heavy@ourco.example"), "light": site.create_user("light@ourco.example")}
            started = time.monotonic()
            now = datagen.utcnow()
            ids = datagen.next_ids(site.database_url)
            rows: dict[str, list] = {t: [] for t in datagen.COLUMNS}
            for user, (m, e) in (("heavy", args.heavy), ("light", args.light)):
                uid = datagen.user_id(site.database_url, f"{user}@ourco.example")
                for table, part in datagen.make_user_data(uid, m, e, now, ids, seed=1 if user == "heavy" else 2).items():
                    rows[table] += part
            datagen.load(site.database_url, rows)
            print(f"[{kind}] {len(rows['messages'])} emails, {len(rows['events'])} events generated and loaded in "
                  f"{time.monotonic() - started:.1f} s; {h.load()}", flush=True)
            del rows
            print(f"[{kind}] insights sums rebuilt from the events in {rebuild(site):.1f} s", flush=True)
            site.start()
            timings = time_requests(site.url, tokens, args.repeat)
            site.stop()
            result = {"kind": kind, "load": h.load(), "cases": {}}
            for case, per_user in timings.items():
                hv, lt = per_user["heavy"], per_user["light"]
                r = result["cases"][case] = {"heavy_p50": h.median(hv), "heavy_p95": h.pct(hv, 95),
                                             "light_p50": h.median(lt), "light_p95": h.pct(lt, 95),
                                             "ratio": h.median(hv) / h.median(lt)}
                ok = r["ratio"] <= TARGET_RATIO and r["heavy_p50"] < TARGET_MS
                print(f"[{kind}] {case:<17} heavy p50 {r['heavy_p50']:7.1f} ms p95 {r['heavy_p95']:7.1f} | light p50 "
                      f"{r['light_p50']:7.1f} ms | heavy/light {r['ratio']:.2f}x "
                      f"({'meets' if ok else 'MISSES'} <= {TARGET_RATIO}x and < {TARGET_MS:.0f} ms)", flush=True)
            if args.profile:
                print("\n".join(statements(site, tokens["heavy"], CASES["insights 30 days"])), flush=True)
            return result
        finally:
            site.stop()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", default="sqlite,postgres")
    p.add_argument("--repeat", type=int, default=9)
    p.add_argument("--heavy", default="50000:500000", help="emails:events of the heavy user")
    p.add_argument("--light", default="500:5000", help="emails:events of the light user")
    p.add_argument("--no-profile", dest="profile", action="store_false")
    args = p.parse_args(argv)
    args.heavy = tuple(map(int, args.heavy.split(":")))
    args.light = tuple(map(int, args.light.split(":")))
    print(f"Insights at scale: heavy {args.heavy[0]} emails/{args.heavy[1]} events, light {args.light[0]}/"
          f"{args.light[1]}, over 90 days; {args.repeat} requests per user and case; {h.load()}", flush=True)
    results = [run_database(kind, args) for kind in args.db.split(",")]
    for r in results:
        for case, c in r["cases"].items():
            print(f"SUMMARY | {case} heavy/light ({r['kind']}) | {c['heavy_p50']:.0f} vs {c['light_p50']:.0f} ms "
                  f"(p95 {c['heavy_p95']:.0f} vs {c['light_p95']:.0f}) | {c['ratio']:.2f}x | <= {TARGET_RATIO}x, "
                  f"heavy < {TARGET_MS:.0f} ms | {r['load']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
