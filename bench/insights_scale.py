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

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as h  # noqa: E402

TARGET_RATIO = 2.0
TARGET_MS = 200.0
CASES = {"insights today": "/api/v1/insights?period=today&tz=Europe/Paris",
         "insights 7 days": "/api/v1/insights?period=7d&tz=Europe/Paris",
         "insights 30 days": "/api/v1/insights?period=30d&tz=Europe/Paris",
         "insights 90 days": "/api/v1/insights?period=90d&tz=Europe/Paris"}


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
            tokens, n = h.heavy_light_users(site, args.heavy, args.light)
            print(f"[{kind}] {n['messages']} emails, {n['events']} events generated and loaded in "
                  f"{n['made'] + n['loaded']:.1f} s; {h.load()}", flush=True)
            print(f"[{kind}] insights sums rebuilt from the events in {rebuild(site):.1f} s", flush=True)
            site.start()
            timings = h.time_heavy_light(site.url, tokens, CASES, args.repeat)
            site.stop()
            result = {"kind": kind, "load": h.load(), "cases": h.heavy_light_cases(timings)}
            for case, r in result["cases"].items():
                ok = r["ratio"] <= TARGET_RATIO and r["heavy_p50"] < TARGET_MS
                print(h.heavy_light_line(kind, case, r, ok, f"<= {TARGET_RATIO}x and < {TARGET_MS:.0f} ms", 17), flush=True)
            if args.profile:
                print("\n".join(statements(site, tokens["heavy"], CASES["insights 30 days"])), flush=True)
            return result
        finally:
            site.stop()


def main(argv=None) -> int:
    args = h.heavy_light_args(__doc__, 9, argv)
    print(f"Insights at scale: heavy {args.heavy[0]} emails/{args.heavy[1]} events, light {args.light[0]}/"
          f"{args.light[1]}, over 90 days; {args.repeat} requests per user and case; {h.load()}", flush=True)
    results = [run_database(kind, args) for kind in args.db.split(",")]
    for r in results:
        for case, c in r["cases"].items():
            print(h.heavy_light_summary("", case, r["kind"], c, f"<= {TARGET_RATIO}x, heavy < {TARGET_MS:.0f} ms",
                                        r["load"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
