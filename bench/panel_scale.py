"""Panel at scale: the first page of ``GET /api/v1/threads`` for a heavy user (50,000
emails, 500,000 events over 90 days) against a light user (500 and 5,000) in the
same database, over real HTTP to ``engage serve``, on SQLite and on PostgreSQL.

The data is written in bulk in the real schema (bench/datagen.py) after ``engage db
upgrade``. Requests alternate between the two users (so a change in the machine's
load hits both alike): the first page as the panel opens it, then with a search term
and with a company (domain) filter. The figure is heavy/light of the median; the
target is at most 2x.

Then, in-process through Flask's test client, every SQL statement of one heavy and
one light request is timed and the slowest are shown with their plan (EXPLAIN QUERY
PLAN on SQLite, EXPLAIN ANALYZE on PostgreSQL), so a miss says exactly what is slow.

    python bench/panel_scale.py [--db sqlite,postgres] [--repeat 15] [--heavy 50000:500000]
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

TARGET = 2.0
WHAT_IF: dict[str, float] = {}  # the last _what_if's ratios, for the summary
CASES = {"first page": "", "search 'pricing'": "?q=pricing", "domain globex.io": "?domain=globex.io"}


def time_requests(url: str, tokens: dict[str, str], repeat: int) -> dict[str, dict[str, list[float]]]:
    """Milliseconds per request, per case and user, the users alternating."""
    host, port = url.split("//")[1].split(":")
    conns = {u: http.client.HTTPConnection(host, int(port), timeout=120) for u in tokens}
    out = {case: {u: [] for u in tokens} for case in CASES}

    def get(user: str, query: str) -> float:
        started = time.perf_counter()
        conns[user].request("GET", "/api/v1/threads" + query, headers={"Authorization": f"Bearer {tokens[user]}"})
        resp = conns[user].getresponse()
        body = resp.read()
        elapsed = (time.perf_counter() - started) * 1000
        if resp.status != 200:
            raise RuntimeError(f"{user} {query}: {resp.status} {body[:300]!r}")
        return elapsed

    for case, query in CASES.items():
        for user in tokens:  # warm: the first request of a case pays for imports and caches
            get(user, query)
    for i in range(repeat):
        order = list(tokens) if i % 2 == 0 else list(reversed(tokens))
        for case, query in CASES.items():
            for user in order:
                out[case][user].append(get(user, query))
    for c in conns.values():
        c.close()
    return out


def profile(site: h.Engage, tokens: dict[str, str], top: int = 4) -> list[str]:
    """Each SQL statement of one first-page request per user, timed, slowest first,
    with the database's plan for the heavy user's slowest ones."""
    os.environ.update(site.env())
    sys.path.insert(0, str(h.ROOT))
    from sqlalchemy import event

    from server import create_app
    from server.extensions import db

    app = create_app({"BACKGROUND_THREADS": False})
    lines = []
    with app.app_context():
        engine = db.engine
        log: list[tuple[str, object, float]] = []

        def before(conn, cursor, statement, params, context, executemany):
            conn.info["bench_t"] = time.perf_counter()

        def after(conn, cursor, statement, params, context, executemany):
            log.append((statement, params, (time.perf_counter() - conn.info.pop("bench_t")) * 1000))

        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
        client = app.test_client()
        per_user = {}
        for user, token in tokens.items():
            for _ in range(3):  # the last of three, warm
                log.clear()
                started = time.perf_counter()
                resp = client.get("/api/v1/threads", headers={"Authorization": f"Bearer {token}"})
                total = (time.perf_counter() - started) * 1000
                assert resp.status_code == 200, resp.data[:300]
            per_user[user] = (total, list(log))
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
        lines += _python_profile(client, tokens["heavy"])
        lines += _what_if(client, tokens)
        for user, (total, stmts) in per_user.items():
            sql_ms = sum(s[2] for s in stmts)
            lines.append(f"  {user}: {total:.1f} ms in-process, {len(stmts)} statements, {sql_ms:.1f} ms in SQL, "
                         f"{total - sql_ms:.1f} ms in Python (auth, rows to objects, client_py.build_threads, JSON)")
        heavy, light = per_user["heavy"][1], per_user["light"][1]
        lines.append(f"  {'heavy ms':>9} {'light ms':>9}  statement")
        ranked = sorted(range(len(heavy)), key=lambda i: -heavy[i][2])
        for i in ranked[:top + 2]:
            stmt, _, ms = heavy[i]
            other = light[i][2] if i < len(light) and light[i][0] == stmt else float("nan")
            lines.append(f"  {ms:>9.2f} {other:>9.2f}  {' '.join(stmt.split())[:230]}")
        with engine.connect() as conn:
            for i in ranked[:top]:
                stmt, params, ms = heavy[i]
                if not stmt.lstrip().upper().startswith("SELECT"):
                    continue
                prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
                try:
                    plan = conn.exec_driver_sql(prefix + stmt, params).fetchall()
                except Exception as err:  # a plan is a diagnosis aid; never fail the run for it
                    plan = [(f"(no plan: {err})",)]
                lines.append(f"  plan of the {ms:.1f} ms statement ({engine.dialect.name}):")
                lines += ["    " + " | ".join(str(c) for c in row) for row in plan[:14]]
    return lines


def _python_profile(client, token: str, top: int = 12) -> list[str]:
    """The heavy request under cProfile: Engage's and client_py's own functions by
    cumulative time (SQLite fetches rows lazily, so its row cost shows here)."""
    import cProfile
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    client.get("/api/v1/threads", headers={"Authorization": f"Bearer {token}"})
    prof.disable()
    stats = pstats.Stats(prof).stats
    root = str(h.ROOT)
    mine = [(v[3], v[0], f"{Path(k[0]).relative_to(root)}:{k[1]} {k[2]}") for k, v in stats.items()
            if k[0].startswith(root) and "/bench/" not in k[0] and "/.venv/" not in k[0]
            and k[2] not in ("<genexpr>", "<listcomp>", "__call__")]
    lines = ["  heavy request under cProfile (cumulative ms, calls, function):"]
    for cum, calls, name in sorted(mine, reverse=True)[:top]:
        lines.append(f"    {cum * 1000:8.1f} {calls:>7}  {name}")
    return lines


def _sql_counts():
    """The two counters of the first page done in SQL, as a proposal for the lead
    (bench/ never changes server/): unread_count's conditions are client_py's
    ``_unread`` written as WHERE clauses, counted by the database instead of loading
    every candidate thread; both counts stop at ``CAP`` rows (a badge shows 99+)."""
    import sqlalchemy as sa

    from client_py.times import parse_optional
    from server.extensions import db
    from server.models import Thread
    from server.panel_query import pinned_expr, window_expr

    cap = 1000

    def capped(where) -> int:
        inner = sa.select(Thread.id).where(*where).limit(cap).subquery()
        return db.session.execute(sa.select(sa.func.count()).select_from(inner)).scalar_one()

    def unread_count(user_id, settings, now):
        attention = pinned_expr().is_(True)
        if settings.get("notify_on_open"):
            attention = sa.or_(attention, Thread.has_auto_external.is_(True))
        where = [Thread.user_id == user_id, Thread.last_engagement_at.is_not(None), window_expr(settings, now),
                 attention, sa.or_(Thread.viewed_at.is_(None), Thread.last_engagement_at > Thread.viewed_at)]
        reset = parse_optional(settings.get("counter_reset_at"))
        if reset is not None:
            where.append(Thread.last_engagement_at > reset)
        return capped(where)

    def hidden_by_window(user_id, settings, now):
        return capped([Thread.user_id == user_id, ~window_expr(settings, now)])

    return unread_count, hidden_by_window


def _what_if(client, tokens: dict[str, str], repeat: int = 7) -> list[str]:
    """In-process heavy/light of the first page as it is, then with ``_sql_counts``."""
    from server.api import threads as view

    def timed() -> dict[str, float]:
        out = {}
        for user, token in tokens.items():
            samples = []
            for _ in range(repeat):
                started = time.perf_counter()
                client.get("/api/v1/threads", headers={"Authorization": f"Bearer {token}"})
                samples.append((time.perf_counter() - started) * 1000)
            out[user] = h.median(samples)
        return out

    now_ = timed()
    original = view.unread_count, view.hidden_by_window
    view.unread_count, view.hidden_by_window = _sql_counts()
    try:
        proposed = timed()
    finally:
        view.unread_count, view.hidden_by_window = original
    WHAT_IF.update(as_is=now_["heavy"] / now_["light"], proposed=proposed["heavy"] / proposed["light"])
    return [f"  what if the counts were done in SQL (bench/panel_scale.py _sql_counts), in-process medians: "
            f"as is heavy {now_['heavy']:.1f} / light {now_['light']:.1f} ms = {now_['heavy'] / now_['light']:.2f}x; "
            f"proposed heavy {proposed['heavy']:.1f} / light {proposed['light']:.1f} ms = "
            f"{proposed['heavy'] / proposed['light']:.2f}x"]


def run_database(kind: str, args) -> dict:
    with h.database(kind, f"engage_bench_{os.getpid()}") as url:
        return _run_database(kind, url, args)


def _run_database(kind: str, url: str | None, args) -> dict:
    site = h.Engage(database_url=url, name=f"panel-{kind}")
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
        made = time.monotonic() - started
        datagen.load(site.database_url, rows)
        loaded = time.monotonic() - started - made
        print(f"[{kind}] generated {len(rows['messages'])} emails, {len(rows['events'])} events, "
              f"{len(rows['threads'])} threads in {made:.1f} s, loaded in {loaded:.1f} s; {h.load()}", flush=True)
        del rows
        site.start()
        timings = time_requests(site.url, tokens, args.repeat)
        site.stop()
        result = {"kind": kind, "load": h.load(), "cases": {}}
        for case, per_user in timings.items():
            hv, lt = per_user["heavy"], per_user["light"]
            result["cases"][case] = {
                "heavy_p50": h.median(hv), "heavy_p95": h.pct(hv, 95),
                "light_p50": h.median(lt), "light_p95": h.pct(lt, 95),
                "ratio": h.median(hv) / h.median(lt),
            }
        for case, r in result["cases"].items():
            print(f"[{kind}] {case:<20} heavy p50 {r['heavy_p50']:7.1f} ms p95 {r['heavy_p95']:7.1f} | "
                  f"light p50 {r['light_p50']:7.1f} ms p95 {r['light_p95']:7.1f} | heavy/light {r['ratio']:.2f}x "
                  f"({'meets' if r['ratio'] <= TARGET else 'MISSES'} <= {TARGET}x)", flush=True)
        if args.profile:
            print(f"[{kind}] where a first-page request spends its time:")
            print("\n".join(profile(site, tokens)), flush=True)
            result["what_if"] = dict(WHAT_IF)
        return result
    finally:
        site.stop()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", default="sqlite,postgres")
    p.add_argument("--repeat", type=int, default=15)
    p.add_argument("--heavy", default="50000:500000", help="emails:events of the heavy user")
    p.add_argument("--light", default="500:5000", help="emails:events of the light user")
    p.add_argument("--no-profile", dest="profile", action="store_false")
    args = p.parse_args(argv)
    args.heavy = tuple(map(int, args.heavy.split(":")))
    args.light = tuple(map(int, args.light.split(":")))
    print(f"Panel at scale: heavy {args.heavy[0]} emails/{args.heavy[1]} events, light {args.light[0]}/"
          f"{args.light[1]}, over 90 days; GET /api/v1/threads, {args.repeat} requests per user and case; "
          f"{h.load()}", flush=True)
    results = [run_database(kind, args) for kind in args.db.split(",")]
    for r in results:
        for case, c in r["cases"].items():
            print(f"SUMMARY | panel {case} heavy/light ({r['kind']}) | {c['heavy_p50']:.0f} vs {c['light_p50']:.0f} ms"
                  f" (p95 {c['heavy_p95']:.0f} vs {c['light_p95']:.0f}) | {c['ratio']:.2f}x | <= {TARGET}x | {r['load']}")
        if r.get("what_if"):
            w = r["what_if"]
            print(f"SUMMARY | panel first page heavy/light ({r['kind']}), in-process: as is -> counts in SQL (proposal) | "
                  f"{w['as_is']:.2f}x -> {w['proposed']:.2f}x | {w['proposed']:.2f}x | <= {TARGET}x | {r['load']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
