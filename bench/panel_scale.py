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

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as h  # noqa: E402

TARGET = 2.0
WHAT_IF: dict[str, float] = {}  # the last _what_if's ratios, for the summary
CASES = {"first page": "", "search 'pricing'": "?q=pricing", "domain globex.io": "?domain=globex.io"}


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
        tokens, n = h.heavy_light_users(site, args.heavy, args.light)
        print(f"[{kind}] generated {n['messages']} emails, {n['events']} events, "
              f"{n['threads']} threads in {n['made']:.1f} s, loaded in {n['loaded']:.1f} s; {h.load()}", flush=True)
        site.start()
        timings = h.time_heavy_light(site.url, tokens, {c: "/api/v1/threads" + q for c, q in CASES.items()}, args.repeat)
        site.stop()
        result = {"kind": kind, "load": h.load(), "cases": h.heavy_light_cases(timings)}
        for case, r in result["cases"].items():
            print(h.heavy_light_line(kind, case, r, r["ratio"] <= TARGET, f"<= {TARGET}x"), flush=True)
        if args.profile:
            print(f"[{kind}] where a first-page request spends its time:")
            print("\n".join(profile(site, tokens)), flush=True)
            result["what_if"] = dict(WHAT_IF)
        return result
    finally:
        site.stop()


def main(argv=None) -> int:
    args = h.heavy_light_args(__doc__, 15, argv)
    print(f"Panel at scale: heavy {args.heavy[0]} emails/{args.heavy[1]} events, light {args.light[0]}/"
          f"{args.light[1]}, over 90 days; GET /api/v1/threads, {args.repeat} requests per user and case; "
          f"{h.load()}", flush=True)
    results = [run_database(kind, args) for kind in args.db.split(",")]
    for r in results:
        for case, c in r["cases"].items():
            print(h.heavy_light_summary("panel ", case, r["kind"], c, f"<= {TARGET}x", r["load"]))
        if r.get("what_if"):
            w = r["what_if"]
            print(f"SUMMARY | panel first page heavy/light ({r['kind']}), in-process: as is -> counts in SQL (proposal) | "
                  f"{w['as_is']:.2f}x -> {w['proposed']:.2f}x | {w['proposed']:.2f}x | <= {TARGET}x | {r['load']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
