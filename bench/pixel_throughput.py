"""Pixel throughput: hits per second answered AND stored, against nginx serving a
static GIF, measured in the same run with the same wrk settings.

Runs, in this order (nginx first and last, so a change in the machine's load during
the run shows and the ratio uses their mean):

1. nginx (Debian's package, private config) serving a 43-byte GIF on every /p/ URL;
2. Engage as ``engage serve`` runs it (granian workers + the writer) on SQLite,
   wrk requesting the pixels of 5,000 tracked emails (random token, public
   X-Forwarded-For, real user agents), then the same with N live streams held open;
3. the plain baseline: Flask under gunicorn sync workers writing each hit to SQLite;
4. Engage's app under gunicorn gthread, then gevent workers (+ the writer);
5. granian with enough blocking threads for the streams, with and without them;
6. nginx again.

"answered/s" is what wrk saw. "stored/s" counts a hit once it is a row in
``events``: after each wrk run the script waits until the table holds at least as
many new rows as wrk completed requests, and divides by the time from wrk's start to
that moment. Both are printed; only the one that meets the target meets it.

    python bench/pixel_throughput.py [--seconds 8] [--connections 64] [--streams 50]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import datagen  # noqa: E402
import harness as h  # noqa: E402

TARGET = 0.25  # answered, of nginx
STORED_TARGET = 0.10  # stored, every hit decided from its email's history (issue 10; aim 0.25)
ISSUE_BASELINE = 0.054


class Counter(threading.Thread):
    """Samples the events table while wrk runs, to see the storage rate under load."""

    def __init__(self, count, every: float = 0.25):
        super().__init__(daemon=True)
        self.count, self.every = count, every
        self.samples: list[tuple[float, int]] = []
        self._halt = threading.Event()

    def run(self):
        while not self._halt.is_set():
            try:
                self.samples.append((time.monotonic(), self.count()))
            except Exception:
                pass
            self._halt.wait(self.every)

    def at(self, moment: float) -> int:
        before = [c for t, c in self.samples if t <= moment]
        return before[-1] if before else (self.samples[0][1] if self.samples else 0)

    def close(self):
        self._halt.set()
        self.join(timeout=5)


def wait_stored(count, target: int, limit: float) -> tuple[float, int]:
    """Poll until ``count() >= target`` or ``limit`` seconds; returns (the moment, the count)."""
    deadline = time.monotonic() + limit
    n = count()
    while n < target and time.monotonic() < deadline:
        time.sleep(0.1)
        n = count()
    return time.monotonic(), n


def run_wrk(url: str, args, script: Path, warm_script: Path | None = None, count=None,
            label: str = "", drain_limit: float = 0, pending=None) -> dict:
    """Warm up, then the measured run. With ``count`` (rows stored so far), wait at
    most ``drain_limit`` seconds until every hit wrk saw answered is stored."""
    if args.warmup:
        h.wrk(url, args.warmup, args.connections, args.wrk_threads, warm_script or script)
        deadline = time.monotonic() + 60
        while pending is not None and pending() and time.monotonic() < deadline:
            time.sleep(0.1)  # the warm-up's (unregistered) hits leave the spool first
    before = count() if count else 0
    sampler = Counter(count) if count else None
    if sampler:
        sampler.start()
    result = h.wrk(url, args.seconds, args.connections, args.wrk_threads, script)
    result.update(label=label, load=h.load())
    if count:
        done_at, n = wait_stored(count, before + result["requests"], drain_limit)
        sampler.close()
        stored = n - before
        result["stored"] = stored
        result["all_stored"] = stored >= result["requests"]
        result["drain_s"] = done_at - result["ended"]
        result["stored_during"] = sampler.at(result["ended"]) - before
        result["stored_rps"] = min(stored, result["requests"]) / (done_at - result["started"])
        result["stored_rps_under_load"] = result["stored_during"] / (result["ended"] - result["started"])
        # How fast the writer stored the backlog once wrk stopped (answering idle).
        backlog = min(stored, result["requests"]) - result["stored_during"]
        result["drain_rps"] = backlog / result["drain_s"] if result["drain_s"] > 0.05 and backlog > 0 else None
    print(_line(result), flush=True)
    return result


def _line(r: dict) -> str:
    if not r["requests"]:
        return f"  {r['label']:<44} STARVED: no pixel answered in {r['ended'] - r['started']:.0f} s  [{r['load']}]"
    text = (f"  {r['label']:<44} answered {r['rps']:>8.0f}/s  p50 {r['p50']:>7.2f} ms  p99 {r['p99']:>8.2f} ms"
            f"  errors {r['errors']}")
    if "stored" in r:
        text += (f"  | stored {r['stored']} of {r['requests']}{'' if r['all_stored'] else ' (deadline)'}: "
                 f"{r['stored_rps']:.0f}/s overall, {r['stored_rps_under_load']:.0f}/s while wrk ran, "
                 f"{'drained' if r['all_stored'] else 'waited'} {r['drain_s']:.1f} s after wrk"
                 + (f" at {r['drain_rps']:.0f}/s" if r.get("drain_rps") else ""))
    return text + f"  [{r['load']}]"


def baseline(args, script: Path, warm: Path) -> dict:
    work = h.workdir("baseline")
    db = work / "hits.db"
    port = h.free_port()
    env = {**os.environ, "BASELINE_DB": str(db)}
    proc = h.spawn([h.PY, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(args.workers),
                    "--worker-class", "sync", "--log-level", "warning", "--chdir", str(h.ROOT / "bench"),
                    "baseline_flask_gunicorn:app"], env=env, log=work / "log")
    try:
        h.wait_http(f"http://127.0.0.1:{port}/healthz", proc, log=work / "log")

        def count():
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
                return conn.execute("SELECT count(*) FROM hits").fetchone()[0]

        # It stores before answering: every answered hit is already a row.
        return run_wrk(f"http://127.0.0.1:{port}", args, script, warm, count,
                       "Flask + gunicorn sync + SQLite per hit", drain_limit=5)
    finally:
        h.stop(proc)


def engage_run(template: h.Engage, server: str, threads: int, streams: int, watcher: str, args,
               script: Path, warm: Path, drain_limit: float = 0, tag: str = "", writers: int = 0,
               env: dict | None = None) -> dict:
    """One run on a fresh copy of the installation (no backlog from an earlier run)."""
    label = f"Engage {server}" + ("" if server == "gunicorn-gevent" else f" threads={threads}")
    label += f" + {streams} streams" if streams else ""
    label += f" writers={writers}" if writers else ""
    label += "".join(f" {k}={v}" for k, v in (env or {}).items())
    label += tag
    name = "".join(c if c.isalnum() else "-" for c in label)[:80]
    site = template.clone(f"pixel-{name}", server=server, threads=threads,
                          extra_env={**({"ENGAGE_WRITERS": str(writers)} if writers else {}), **(env or {})}).start()
    clients = None
    try:
        if streams:
            clients = h.StreamClients(site.url, watcher, streams).start(wait_connected=10)
        writers = site.process_tree()["writer"]
        cpu = h.cpu_seconds(writers)
        r = run_wrk(site.url, args, script, warm, site.event_count if drain_limit else None, label,
                    drain_limit, site.spool_pending)
        r.update(server=server, threads=threads, streams=streams, streams_served=clients.connected if clients else 0)
        _writer_cpu(r, writers, cpu)
        if clients:
            print(f"    {clients.connected} of {streams} streams were being served during the run", flush=True)
        return r
    finally:
        if clients:
            clients.close()
        site.stop()


def _writer_cpu(r: dict, writers: list[int], before: float) -> float:
    """The writers' CPU a stored hit in this run (load-independent, unlike the wall
    rates: on a shared machine the writers wait for a core), and what the writers would
    store per second with every core of the machine to themselves."""
    now = h.cpu_seconds(writers)
    if r.get("stored"):
        r["writer_cpu_us"] = (now - before) / r["stored"] * 1e6
        r["writers"] = len(writers)
        print(f"    {len(writers)} writer(s): {r['writer_cpu_us']:.0f} us CPU a stored hit (all cores: "
              f"{(os.cpu_count() or 1) / r['writer_cpu_us'] * 1e6:.0f}/s at most)", flush=True)
    return now


def postgres_runs(rows: dict, args, script: Path, one: Path, warm: Path) -> list[dict]:
    """``engage serve`` on PostgreSQL: the same emails (same tokens) loaded into a new
    database; the campaign run, then a burst on one email, on the same installation."""
    out = []
    with h.database("postgres", f"bench_pixel_{os.getpid()}") as url:
        site = h.Engage(database_url=url, workers=args.workers, name="pixel-pg", threads=8)
        site.migrate()
        site.create_user("sender@ourco.example")
        site.create_user("watcher@ourco.example")
        uid = datagen.user_id(url, "sender@ourco.example")
        datagen.load(url, datagen.make_user_data(uid, args.messages, 0, datagen.utcnow(), datagen.next_ids(url)))
        site.start()
        try:
            writers = site.process_tree()["writer"]
            cpu = h.cpu_seconds(writers)
            out.append(run_wrk(site.url, args, script, warm, site.event_count, "Engage granian threads=8 PostgreSQL",
                               args.drain_limit, site.spool_pending))
            cpu = _writer_cpu(out[-1], writers, cpu)
            out.append(run_wrk(site.url, args, one, warm, site.event_count,
                               "Engage granian PostgreSQL, ONE email", args.drain_limit, site.spool_pending))
            _writer_cpu(out[-1], writers, cpu)
        finally:
            site.stop()
    for r in out:
        r.update(server="granian", threads=8, streams=0)
    return out


def profile_writer(template: h.Engage, paths: list[str], n: int, top: int = 14) -> list[str]:
    """Store n hits the way the writer does (server.hitpath.drain.ingest, batches of 500, the
    records the pixel endpoint spools), in this process under cProfile, on a copy of
    the installation: where a stored hit's time goes."""
    import cProfile
    import pstats
    import random

    from sqlalchemy import event

    site = template.clone("pixel-profile")
    os.environ.update(site.env())
    sys.path.insert(0, str(h.ROOT))
    from server import create_app
    from server.extensions import db
    from server.hitpath.drain import ingest
    from server.models import utcnow
    from server.hitpath.spool import new_hit_id

    app = create_app({"BACKGROUND_THREADS": False})
    rng = random.Random(3)
    records = [{"hit_id": new_hit_id(), "kind": "open", "token": rng.choice(paths)[3:-4], "method": "GET",
                "ip": f"{rng.choice((23, 81, 151, 185))}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                "ua": rng.choice(h.UAS), "headers": {}, "at": utcnow()} for _ in range(n)]
    statements: dict[str, list[float]] = {}
    with app.app_context():
        def count(conn, cursor, statement, *rest):
            key = " ".join(statement.split())[:90]
            statements.setdefault(key, []).append(1)

        event.listen(db.engine, "before_cursor_execute", count)
        prof = cProfile.Profile()
        started = time.perf_counter()
        prof.enable()
        for i in range(0, n, 500):
            ingest(records[i:i + 500])
        prof.disable()
        elapsed = time.perf_counter() - started
        event.remove(db.engine, "before_cursor_execute", count)
    root = str(h.ROOT)
    stats = pstats.Stats(prof).stats
    rows = sorted(((v[3], v[0], f"{Path(k[0]).relative_to(root)}:{k[1]} {k[2]}") for k, v in stats.items()
                   if k[0].startswith(root) and "/bench/" not in k[0] and "/.venv/" not in k[0]), reverse=True)
    lines = [f"  the writer's work for {n} hits in one process: {elapsed:.1f} s under cProfile = "
             f"{n / elapsed:.0f} hits/s ({h.load()})", "  cumulative s  calls  function (Engage's own code)"]
    lines += [f"    {cum:8.2f} {calls:>7}  {name}" for cum, calls, name in rows[:top]]
    lines.append("  SQL statements sent, by kind (count per 500-hit batch):")
    batches = max(1, n // 500)
    for key, hits in sorted(statements.items(), key=lambda kv: -len(kv[1]))[:8]:
        lines.append(f"    {len(hits) / batches:8.1f}  {key}")
    return lines


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=6)
    p.add_argument("--warmup", type=float, default=2)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--wrk-threads", type=int, default=2)
    p.add_argument("--workers", type=int, default=2, help="server processes for Engage, nginx and the baseline")
    p.add_argument("--messages", type=int, default=5000, help="tracked emails whose pixels wrk requests")
    p.add_argument("--streams", type=int, default=50)
    p.add_argument("--stream-threads", type=int, default=64,
                   help="granian blocking threads per worker for the run with streams")
    p.add_argument("--drain-limit", type=float, default=120, help="seconds to wait for every hit to be stored")
    p.add_argument("--no-alternatives", action="store_true", help="skip gunicorn gthread/gevent")
    p.add_argument("--no-streams", action="store_true", help="skip the runs with live streams")
    p.add_argument("--db", default="sqlite,postgres", help="databases for engage serve's runs")
    p.add_argument("--profile", type=int, default=10000, help="hits to store under cProfile at the end (0: skip)")
    p.add_argument("--burst", type=int, default=5000, help="hits on one email to store at the end (0: skip)")
    p.add_argument("--writers", default="", help="also run engage serve (SQLite, 5,000 emails) with these "
                   "ENGAGE_WRITERS, e.g. 1,3 (the main run uses the default: min(2, cores))")
    p.add_argument("--env", action="append", default=[], help="also run engage serve (SQLite, 5,000 emails) "
                   "with these settings, e.g. --env ENGAGE_WRITER_BATCH=500 (repeat for more runs; "
                   "space-separated NAME=VALUE pairs in one run)")
    p.add_argument("--writer-profile", default="", help="cProfile engage serve's writer(s) into PATH.<pid>")
    args = p.parse_args(argv)

    print(f"Pixel throughput: wrk -t{args.wrk_threads} -c{args.connections} -d{args.seconds:g}s "
          f"(after a {args.warmup:g}s warm-up on unregistered pixels), {args.workers} server processes each; "
          f"{h.load()}", flush=True)
    nginx = h.Nginx(workers=args.workers).start()
    template = h.Engage(workers=args.workers, name="pixel-template", extra_env=(
        {"ENGAGE_WRITER_PROFILE": args.writer_profile} if args.writer_profile else None))
    template.migrate()
    template.create_user("sender@ourco.example")
    watcher = template.create_user("watcher@ourco.example")
    work = h.workdir("wrk")
    # The emails whose pixels are opened: a campaign's worth, written in bulk like the
    # server registers them (bench/datagen.py), so each stored hit finds its email
    # among thousands, as in production, not among a handful.
    uid = datagen.user_id(template.database_url, "sender@ourco.example")
    rows = datagen.make_user_data(uid, args.messages, 0, datagen.utcnow(), datagen.next_ids(template.database_url))
    datagen.load(template.database_url, rows)
    paths = [f"/p/{m[4]}.gif" for m in rows["messages"]]
    try:
        script = h.pixel_script(paths, work)
        warm = h.pixel_script([f"/p/warmup{i:024d}.gif" for i in range(50)], h.workdir("wrk-warm"))
        st = args.stream_threads
        results = {"nginx1": run_wrk(nginx.url, args, script, warm, label="nginx static GIF (first)")}
        one = h.pixel_script(paths[:1], h.workdir("wrk-one"))
        results["main"] = engage_run(template, "granian", 8, 0, watcher, args, script, warm, args.drain_limit)
        results["one"] = [engage_run(template, "granian", 8, 0, watcher, args, one, warm, args.drain_limit,
                                     tag=", ONE email")]
        # The same with other numbers of writers (ENGAGE_WRITERS), for the same-run comparison.
        results["one"] += [engage_run(template, "granian", 8, 0, watcher, args, script, warm, args.drain_limit,
                                      writers=int(n)) for n in args.writers.split(",") if n.strip()]
        # The same with other settings (--env), for the same-run comparison.
        results["one"] += [engage_run(template, "granian", 8, 0, watcher, args, script, warm, args.drain_limit,
                                      env=dict(pair.split("=", 1) for pair in e.split())) for e in args.env]
        if "postgres" in args.db:
            results["pg"] = postgres_runs(rows, args, script, one, warm)
        results["baseline"] = baseline(args, script, warm)
        results["streams"] = [] if args.no_streams else [
            engage_run(template, "granian", 8, args.streams, watcher, args, script, warm),
            engage_run(template, "granian", st, 0, watcher, args, script, warm),
            engage_run(template, "granian", st, args.streams, watcher, args, script, warm)]
        results["alternatives"] = [] if args.no_alternatives else [
            engage_run(template, "gunicorn-gthread", 8, 0, watcher, args, script, warm),
            engage_run(template, "gunicorn-gevent", 0, 0, watcher, args, script, warm),
            engage_run(template, "gunicorn-gevent", 0, args.streams, watcher, args, script, warm)]
        results["nginx2"] = run_wrk(nginx.url, args, script, warm, label="nginx static GIF (last)")
    finally:
        nginx.stop()
    report(results, args)
    if args.profile:
        print("\nWhere the writer's time goes:")
        print("\n".join(profile_writer(template, paths, args.profile)), flush=True)
    if args.burst:
        print("\nDrain time after a burst on one email:")
        print(burst_on_one_email(template, paths[0], args.burst), flush=True)
    return 0


def burst_on_one_email(template: h.Engage, path: str, n: int) -> str:
    """A burst on ONE email (a flood from one reader, a gateway, a forwarded
    newsletter): n hits from 30 sources stored the way the writer does, batches of
    500. This was the case where history cost the most (each batch decided the email's
    whole history again); the writer now keeps the email's history and decides only
    what a batch changes (server/hitpath/verdicts.Running): how long it takes to drain."""
    import random

    site = template.clone("pixel-burst")
    os.environ.update(site.env())
    sys.path.insert(0, str(h.ROOT))
    from server import create_app
    from server.hitpath.drain import ingest
    from server.hitpath.spool import new_hit_id
    from server.models import utcnow

    app = create_app({"BACKGROUND_THREADS": False})
    rng = random.Random(5)
    sources = [(f"81.2.{rng.randrange(256)}.{rng.randrange(1, 255)}", rng.choice(h.UAS)) for _ in range(30)]
    start = utcnow()
    from datetime import timedelta

    records = []
    for i in range(n):
        ip, ua = sources[i % len(sources)]
        records.append({"hit_id": new_hit_id(), "kind": "open", "token": path[3:-4], "method": "GET", "ip": ip,
                        "ua": ua, "headers": {}, "at": start + timedelta(milliseconds=i)})
    with app.app_context():
        started = time.perf_counter()
        stored = sum(ingest(records[i:i + 500]) for i in range(0, n, 500))
        elapsed = time.perf_counter() - started
    return (f"  a burst of {n} hits on one email ({len(sources)} sources, {n // 1000} s of answer time): stored "
            f"{stored} in {elapsed:.1f} s = {n / elapsed:.0f} hits/s ({h.load()})")


def report(results: dict, args) -> None:
    ng = [results["nginx1"], results["nginx2"]]
    n_rps = sum(r["rps"] for r in ng) / 2
    n_p99 = sum(r["p99"] for r in ng) / 2
    g, base = results["main"], results["baseline"]
    drains = [g, *results.get("one", []), *results.get("pg", [])]
    rows = [*drains, base, *results["streams"], *results["alternatives"]]
    print(f"\nnginx: {ng[0]['rps']:.0f}/s then {ng[1]['rps']:.0f}/s (mean {n_rps:.0f}/s), p99 {n_p99:.2f} ms")
    head = f"{'server':<46}{'answered/s':>11}{'x nginx':>8}{'stored/s':>9}{'x nginx':>8}{'p99 ms':>9}{'x nginx':>8}"
    print(head + "\n" + "-" * len(head))
    for r in rows:
        stored = f"{r['stored_rps']:>9.0f}{r['stored_rps'] / n_rps:>8.3f}" if "stored_rps" in r else f"{'-':>9}{'':>8}"
        print(f"{r['label']:<46}{r['rps']:>11.0f}{r['rps'] / n_rps:>8.3f}{stored}{r['p99']:>9.2f}{r['p99'] / n_p99:>8.1f}")
    print(f"\nTarget >= {TARGET} of nginx answered, >= {STORED_TARGET} stored. engage serve: answered {g['rps'] / n_rps:.3f}; stored "
          f"{g['stored_rps'] / n_rps:.3f} ({g['stored']} of {g['requests']} answered hits stored, "
          f"{'drained' if g['all_stored'] else 'deadline'} {g['drain_s']:.1f} s after wrk ended, "
          f"{g['stored_rps_under_load']:.0f}/s stored while wrk ran). Baseline: {base['rps'] / n_rps:.3f} "
          f"(the issue measured {ISSUE_BASELINE}).")
    print("\nDrain (engage serve; every hit decided from its email's history): answered/s, stored/s, and the "
          "writer's rate on the backlog once wrk stopped")
    for r in drains:
        rate = f"{r['drain_rps']:.0f}/s" if r.get("drain_rps") else "-"
        print(f"  {r['label']:<44} answered {r['rps']:>7.0f}/s  stored {r['stored_rps']:>7.0f}/s "
              f"({r['stored_rps'] / n_rps:.3f} x nginx)  drained {r['drain_s']:5.1f} s after wrk at {rate}"
              f"{'' if r['all_stored'] else '  NOT ALL STORED'}"
              + (f"; {r['writers']} writer(s) {r['writer_cpu_us']:.0f} us CPU a hit" if r.get("writer_cpu_us") else ""))
    for r in [x for x in results["streams"] + results["alternatives"] if x["streams"]]:
        plain = next((x for x in [g, *results["streams"], *results["alternatives"]] if x["server"] == r["server"]
                      and x["threads"] == r["threads"] and not x["streams"]), g)
        print(f"Streams: {r['label']}: {r['rps'] / plain['rps'] if plain['rps'] else 0:.2f} of {plain['label']}'s "
              f"pixel rate ({r['streams_served']} of {r['streams']} streams being served)")
    s = "SUMMARY | "
    print(f"{s}pixel answered/s: engage serve vs nginx | {g['rps']:.0f} vs {n_rps:.0f} | {g['rps'] / n_rps:.3f} | >= {TARGET} | {g['load']}")
    print(f"{s}pixel stored/s: engage serve vs nginx | {g['stored_rps']:.0f} vs {n_rps:.0f} | {g['stored_rps'] / n_rps:.3f} | >= {STORED_TARGET} | {g['load']}")
    print(f"{s}pixel p99: engage serve vs nginx | {g['p99']:.1f} vs {n_p99:.1f} ms | {g['p99'] / n_p99:.1f}x | - | {g['load']}")
    print(f"{s}pixel: Flask/gunicorn sync/SQLite vs nginx | {base['rps']:.0f} vs {n_rps:.0f} | {base['rps'] / n_rps:.3f} | issue: {ISSUE_BASELINE} | {base['load']}")
    for r in drains[1:]:
        print(f"{s}pixel stored/s: {r['label']} vs nginx | {r['stored_rps']:.0f} vs {n_rps:.0f} | "
              f"{r['stored_rps'] / n_rps:.3f} | - | drained {r['drain_s']:.1f} s after wrk | {r['load']}")
    for r in [*results["streams"], *results["alternatives"]]:
        print(f"{s}pixel answered/s: {r['label']} vs nginx | {r['rps']:.0f} vs {n_rps:.0f} | {r['rps'] / n_rps:.3f} | - | {r['load']}")


if __name__ == "__main__":
    sys.exit(main())
