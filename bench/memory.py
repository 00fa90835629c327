"""Memory: resident memory of each Engage process as ``engage serve`` runs it (2
granian workers, the writer, and the two supervisors), idle and after load, with the
bundled DB-IP City database (104 MB) memory-mapped; against a bare Flask
hello-world under the same granian settings.

RSS counts every page a process touches, so the mapped GeoIP file would count once
per process; PSS (``/proc/<pid>/smaps_rollup``) divides shared pages among the
processes that map them, which is the fair per-process figure. The GeoIP mapping's
own RSS/PSS comes from ``/proc/<pid>/smaps``.

Load, in rounds: wrk on 500 registered pixels at a bounded rate, with public
X-Forwarded-For addresses (so the writer does real lookups in the mapped file), and
panel API requests for a second user with 500 emails and 5,000 events; each round
ends when every hit is stored. PSS after each round shows whether a process keeps
growing.

    python bench/memory.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import datagen  # noqa: E402
import harness as h  # noqa: E402


def geo_mapping(pid: int) -> dict[str, int]:
    """kB of the memory-mapped .mmdb file in this process: Rss and Pss."""
    out = {"Rss": 0, "Pss": 0}
    inside = False
    try:
        lines = Path(f"/proc/{pid}/smaps").read_text().splitlines()
    except OSError:
        return out
    for line in lines:
        first = line.split(" ", 1)[0]
        if "-" in first and not first.endswith(":"):
            inside = line.rstrip().endswith(".mmdb")
        elif inside and first in ("Rss:", "Pss:"):
            out[first[:-1]] += int(line.split()[1])
    return out


def snapshot(roles: dict[str, list[int]]) -> dict[str, dict]:
    out = {}
    for role, pids in roles.items():
        for i, pid in enumerate(sorted(pids)):
            try:
                out[f"{role[:-1] if role.endswith('s') else role} {i + 1}"] = {**h.memory_of(pid), "geo": geo_mapping(pid)}
            except OSError:
                pass
    return out


def hello_server(args) -> tuple[dict, dict]:
    work = h.workdir("hello")
    port = h.free_port()
    proc = h.spawn([h.PY, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
                    "--workers", str(args.workers), "--blocking-threads", "8", "--no-ws",
                    "--working-dir", str(h.ROOT / "bench"), "baseline_flask_gunicorn:hello"], log=work / "log")
    try:
        h.wait_http(f"http://127.0.0.1:{port}/healthz", proc, log=work / "log")
        time.sleep(1)
        workers = {"workers": [p for p in h.descendants(proc.pid) if h.parent(p) == proc.pid]}
        idle = snapshot(workers)
        h.wrk(f"http://127.0.0.1:{port}/", args.seconds, 64, 2)
        return idle, snapshot(workers)
    finally:
        h.stop(proc)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=5, help="per round of pixel load")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args(argv)
    print(f"Memory: engage serve ({args.workers} granian workers + writer), bundled GeoIP database; {h.load()}",
          flush=True)
    site = h.Engage(workers=args.workers, name="memory")
    site.migrate()
    token = site.create_user("sender@ourco.example")
    reader = site.create_user("reader@ourco.example")
    ids = datagen.next_ids(site.database_url)
    uid = datagen.user_id(site.database_url, "reader@ourco.example")
    datagen.load(site.database_url, datagen.make_user_data(uid, 500, 5000, datagen.utcnow(), ids))
    site.start()
    history = []
    try:
        paths = ["/p/" + m["pixel_url"].rsplit("/p/", 1)[1] for m in site.register(token, 500)]
        time.sleep(2)
        roles = site.process_tree()
        idle = snapshot(roles)
        # A bounded rate (16 connections, 10 ms apart: at most ~1,600/s) so the writer
        # keeps up and each round ends with everything stored.
        script = h.pixel_script(paths, site.dir, delay_ms=10)
        for r in range(args.rounds):
            h.wrk(site.url, args.seconds, 16, 1, script)
            for q in ("", "?q=pricing", "?domain=globex.io", "?period=7d"):  # the panel, a light user's
                for _ in range(5):
                    status, body, _ = site.request("GET", "/api/v1/threads" + q, token=reader, timeout=30)
                    assert status == 200, (status, body)
            deadline = time.monotonic() + 60
            while site.spool_pending() and time.monotonic() < deadline:
                time.sleep(0.2)
            loaded = snapshot(roles)
            history.append({k: v["Pss"] for k, v in loaded.items()})
            print(f"  after round {r + 1}: PSS MB " + ", ".join(f"{k} {v / 1024:.0f}" for k, v in history[-1].items()),
                  flush=True)
        stored = site.event_count()
    finally:
        site.stop()
    hello_idle, hello_loaded = hello_server(args)
    mb = lambda kb: f"{kb / 1024:7.1f}"  # noqa: E731
    head = (f"{'process':<22}{'idle RSS':>9}{'idle PSS':>9}{'load RSS':>9}{'load PSS':>9}"
            f"{'GeoIP RSS':>10}{'GeoIP PSS':>10}  (MB)")
    print(f"\nAfter {args.rounds} rounds: {stored} events stored (each hit geolocated in the mapped file); {h.load()}")
    print(head + "\n" + "-" * len(head))
    rows = [(f"engage {k}", idle.get(k), v) for k, v in loaded.items()]
    rows += [(f"hello-world {k}", hello_idle.get(k), v) for k, v in hello_loaded.items()]
    for name, before, after in rows:
        before = before or {"Rss": 0, "Pss": 0}
        print(f"{name:<22}{mb(before['Rss']):>9}{mb(before['Pss']):>9}{mb(after['Rss']):>9}{mb(after['Pss']):>9}"
              f"{mb(after['geo']['Rss']):>10}{mb(after['geo']['Pss']):>10}")
    workers = [v for k, v in loaded.items() if k.startswith("worker")]
    hellos = [v for k, v in hello_loaded.items() if k.startswith("worker")]
    writer = loaded.get("writer 1", {"Pss": 0, "Rss": 0, "geo": {"Rss": 0}})
    total = sum(v["Pss"] for v in loaded.values())
    w_pss = sum(v["Pss"] for v in workers) / max(1, len(workers))
    w_rss = sum(v["Rss"] for v in workers) / max(1, len(workers))
    hello_pss = sum(v["Pss"] for v in hellos) / max(1, len(hellos))
    growth = (history[-1].get("writer 1", 0) - history[0].get("writer 1", 0)) / 1024 if len(history) > 1 else 0
    print(f"\nEngage in all: {total / 1024:.0f} MB PSS over {len(loaded)} processes; the writer grew "
          f"{growth:+.0f} MB between round 1 and round {len(history)}.")
    s = "SUMMARY | "
    print(f"{s}memory per granian worker after load (PSS / RSS) vs hello-world worker PSS | "
          f"{w_pss / 1024:.0f} / {w_rss / 1024:.0f} MB vs {hello_pss / 1024:.0f} MB | {w_pss / hello_pss:.1f}x | - | {h.load()}")
    print(f"{s}memory of the writer after load (PSS / RSS; GeoIP mapping RSS) | {writer['Pss'] / 1024:.0f} / "
          f"{writer['Rss'] / 1024:.0f} MB; GeoIP {writer['geo']['Rss'] / 1024:.0f} MB | - | - | {h.load()}")
    print(f"{s}memory of engage serve in all (PSS, {len(loaded)} processes) | {total / 1024:.0f} MB | - | - | {h.load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
