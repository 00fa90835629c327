"""Open to panel: the time from a pixel hit to its ``engagement`` event reaching a
subscriber of the live stream, p50 and p95, on SQLite and on PostgreSQL, with the
server as ``engage serve`` runs it (2 granian workers + the writer process).

N subscribers hold ``GET /api/v1/stream`` open (spread over the workers by the
kernel); M emails are registered; each is opened once, spaced out, with a public
X-Forwarded-For address and a browser's user agent. The clock starts just before the
pixel request is sent and stops when a subscriber has read the whole event, so the
figure is everything in between: the answer, the spool, the writer's batch, the
commit, the wake-up (in-process; NOTIFY on PostgreSQL; polling on SQLite) and the
stream's own query.

    python bench/open_to_panel.py [--db sqlite,postgres] [--subscribers 5] [--hits 30]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as h  # noqa: E402

def measure(kind: str, args) -> dict:
    with h.database(kind, f"engage_bench_otp_{os.getpid()}") as url:
        return _measure(kind, url, args)


def _measure(kind: str, url: str | None, args) -> dict:
    site = h.Engage(database_url=url, workers=args.workers, name=f"otp-{kind}")
    clients = None
    try:
        site.migrate()
        token = site.create_user("sender@ourco.example")
        site.start()
        messages = site.register(token, args.hits, prefix="otp")
        clients = h.StreamClients(site.url, token, args.subscribers).start(wait_connected=15)
        if clients.connected < args.subscribers:
            raise RuntimeError(f"only {clients.connected} of {args.subscribers} streams connected")
        time.sleep(1.0)  # let every worker's stream loop settle
        rng = random.Random(7)
        sent: dict[str, float] = {}
        for i, m in enumerate(messages):
            req = urllib.request.Request(m["pixel_url"], headers={
                "User-Agent": h.UAS[i % len(h.UAS)], "X-Forwarded-For": f"81.{i}.{rng.randrange(256)}.{rng.randrange(1, 255)}"})
            sent[m["id"]] = time.monotonic()
            urllib.request.urlopen(req, timeout=10).read()
            time.sleep(rng.uniform(args.gap * 0.6, args.gap * 1.4))
        deadline = time.monotonic() + 10
        expected = len(sent) * args.subscribers
        while time.monotonic() < deadline and len(_firsts(clients.arrivals, sent)) < expected:
            time.sleep(0.1)
        firsts = _firsts(clients.arrivals, sent)
        lat = [(t - sent[mid]) * 1000 for (mid, _), t in firsts.items()]
        result = {"kind": kind, "n": len(lat), "expected": expected, "load": h.load(),
                  "p50": h.median(lat) if lat else float("nan"), "p95": h.pct(lat, 95) if lat else float("nan"),
                  "max": max(lat) if lat else float("nan")}
        print(f"[{kind}] {args.subscribers} subscribers x {args.hits} opens: {result['n']} of {expected} deliveries; "
              f"hit->event p50 {result['p50']:.0f} ms, p95 {result['p95']:.0f} ms, max {result['max']:.0f} ms; "
              f"{result['load']}", flush=True)
        return result
    finally:
        if clients:
            clients.close()
        site.stop()


def _firsts(arrivals, sent) -> dict[tuple[str, int], float]:
    """The first arrival of each hit's event at each subscriber."""
    out: dict[tuple[str, int], float] = {}
    for mid, at, client in list(arrivals):
        if mid in sent and (mid, client) not in out:
            out[(mid, client)] = at
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", default="sqlite,postgres")
    p.add_argument("--subscribers", type=int, default=5)
    p.add_argument("--hits", type=int, default=30)
    p.add_argument("--gap", type=float, default=0.4, help="mean seconds between opens")
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args(argv)
    print(f"Open to panel: engage serve with {args.workers} workers; {h.load()}", flush=True)
    results = [measure(kind, args) for kind in args.db.split(",")]
    for r in results:
        print(f"SUMMARY | open->panel p50 / p95 ({r['kind']}, {r['n']}/{r['expected']} delivered) | "
              f"{r['p50']:.0f} / {r['p95']:.0f} ms | - | ~1 s (API doc) | {r['load']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
