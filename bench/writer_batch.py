"""The writer alone, in this process: hits/s of ``server.hitpath.drain.ingest`` on fixed
batches of spool records, on SQLite and on PostgreSQL. No HTTP, no other process, so
the figure moves less with the machine's load than the end-to-end ones in
``pixel_throughput.py`` (and the machine's load is printed beside it anyway).

Cases (the same records every run, seeded):

- ``spread``: hits on many emails (a campaign: 1 to 3 hits per email), batches of 500,
  as the writer drains a busy spool;
- ``one email``: every hit on ONE email (a forwarded newsletter, a gateway, the kill -9
  test's burst), each from its own user agent, 1 ms apart, in batches of ``--batch``
  (a writer keeping up with a live burst drains small batches often; a writer taking
  over a dead process's spool drains batches of 500);
- ``one source``: every hit on one email from ONE address and agent (200 a second):
  one long run of duplicates;
- ``wide`` (``--wide N``): hits on many emails from addresses spread over the public
  space, as ``pixel_throughput.py`` sends them (nearly every hit a new /24 and place).

    python bench/writer_batch.py [--db sqlite,postgres] [--one-email 4000] [--batch 50]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import harness as h  # noqa: E402


def _app(kind: str, folder: Path, pg_url: str | None):
    from flask_migrate import upgrade

    from tests.fixtures.addresses import GEO_NETWORKS
    from tests.fixtures.app import make_app
    from tests.fixtures.geo import write_city_db

    geo = write_city_db(folder / "city.mmdb", GEO_NETWORKS)
    url = pg_url if kind == "postgres" else f"sqlite:///{folder / 'engage.db'}"
    app = make_app(url, folder, geo)
    with app.app_context():
        upgrade()
    return app


def _emails(app, n: int) -> list[str]:
    """n tracked emails of one user, through the real API; their pixel tokens."""
    from server.extensions import db
    from server.models import ApiToken, Org, User, hash_token, new_token

    with app.app_context():
        org = Org(name="Bench", internal_domains=["ourco.example"], office_ranges=[])
        user = User(org=org, email="sender@ourco.example", password_hash="x", settings={})
        token = new_token(32)
        db.session.add_all([org, user, ApiToken(user=user, token_hash=hash_token(token))])
        db.session.commit()
    client = app.test_client()
    out = []
    for i in range(n):
        r = client.post("/api/v1/messages", headers={"Authorization": f"Bearer {token}"}, json={
            "subject": f"Bench {i}", "recipients": [{"address": f"rae{i}@prospect.example"}],
            "thread_id": f"t{i}", "mode": "manual", "client": "gmail"})
        assert r.status_code == 201, r.get_json()
        out.append(r.get_json()["pixel_url"].rsplit("/", 1)[1][:-4])
    return out


def _records(tokens, n: int, case: str, seed: int = 7) -> list[dict]:
    from server.hitpath.spool import new_hit_id
    from server.models import utcnow

    rng = random.Random(seed)
    start = utcnow() - timedelta(hours=1)
    out = []
    for i in range(n):
        if case == "spread":
            token, ip = rng.choice(tokens), f"81.2.{rng.randrange(256)}.{rng.randrange(1, 255)}"
            agent = rng.choice(h.UAS)
        elif case == "wide":  # as pixel_throughput.py's wrk script sends: nearly every hit a new /24
            token, agent = rng.choice(tokens), rng.choice(h.UAS)
            ip = f"{rng.choice((23, 81, 151, 185))}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        elif case == "one email":
            token, ip, agent = tokens[0], f"81.2.69.{i % 250}", f"{h.UAS[i % len(h.UAS)]} burst/{i}"
        else:
            token, ip, agent = tokens[0], "81.2.69.142", h.UAS[0]
        out.append({"hit_id": new_hit_id(), "kind": "open", "token": token, "method": "GET", "ip": ip,
                    "ua": agent, "headers": {}, "at": start + timedelta(milliseconds=(5 if case == "one source" else 1) * i)})
    return out


PROFILE = None


WARM_EMAILS = 20


def measure(app, records: list[dict], batch: int, profile: bool = True) -> tuple[int, float, float]:
    from server.hitpath.drain import ingest

    with app.app_context():
        started, cpu = time.perf_counter(), time.process_time()
        if PROFILE is not None and profile:
            PROFILE.enable()
        stored = sum(ingest(records[i:i + batch]) for i in range(0, len(records), batch))
        if PROFILE is not None and profile:
            PROFILE.disable()
        return stored, time.perf_counter() - started, time.process_time() - cpu


def run(kind: str, args) -> list[str]:
    lines = []
    with tempfile.TemporaryDirectory(prefix=f"engage-writer-{kind}-") as tmp:
        with h.database(kind, f"bench_writer_{os.getpid()}") as pg_url:
            app = _app(kind, Path(tmp), pg_url)
            tokens = _emails(app, args.emails + (WARM_EMAILS if args.warm else 0))
            if args.warm:
                # Steady state, as a long-running writer is: the user-agent parser built,
                # the statements compiled, the geolocator open, on emails of their own.
                tokens, warm = tokens[:args.emails], tokens[args.emails:]
                measure(app, _records(warm, 1000, "wide", seed=11), 500, profile=False)
                from server.device import device_class

                for agent in h.UAS:
                    device_class(agent)
            if args.writer_gc:
                import gc

                gc.collect()
                gc.freeze()
            cases = [("spread", args.spread, 500), ("one email", args.one_email, args.batch),
                     ("one email", args.one_email, 500), ("one source", args.one_source, args.batch),
                     ("wide", args.wide, 500)]
            for i, (case, n, batch) in enumerate(cases):
                if not n:
                    continue
                # Each case on its own emails, so no case inherits another's history.
                own = tokens[i * (len(tokens) // len(cases)):(i + 1) * (len(tokens) // len(cases))]
                stored, elapsed, cpu = measure(app, _records(own, n, case), batch)
                # CPU seconds of this process too: under a shared machine's load the wall
                # clock also counts waiting for a core (PostgreSQL's own work is not in it).
                lines.append(f"  {kind:<9} {case:<10} {n:>6} hits, batches of {batch:>3}: stored {stored:>6} in "
                             f"{elapsed:6.2f} s = {n / elapsed:7.0f} hits/s, {cpu / n * 1e6:4.0f} us CPU a hit  "
                             f"[{h.load()}]")
                print(lines[-1], flush=True)
            from server.extensions import db

            with app.app_context():
                db.session.remove()
                db.engine.dispose()
    return lines


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", default="sqlite,postgres")
    p.add_argument("--emails", type=int, default=400, help="tracked emails (the spread case's share)")
    p.add_argument("--spread", type=int, default=3000)
    p.add_argument("--one-email", type=int, default=4000)
    p.add_argument("--one-source", type=int, default=2000)
    p.add_argument("--wide", type=int, default=0,
                   help="hits on the emails with addresses spread over the public space (as end to end), batches of 500")
    p.add_argument("--profile", help="cProfile (CPU time) the runs into this file")
    p.add_argument("--batch", type=int, default=50, help="batch size for the one-email cases")
    p.add_argument("--no-warm", dest="warm", action="store_false",
                   help="measure from cold (the first case then pays for the user-agent parser, ~2 s)")
    p.add_argument("--default-gc", dest="writer_gc", action="store_false",
                   help="Python's default collector thresholds, not the writer process's (server/cli.py)")
    args = p.parse_args(argv)
    if args.writer_gc:
        import gc

        from server.cli import WRITER_GC_THRESHOLD

        gc.set_threshold(*WRITER_GC_THRESHOLD)  # and what start-up made frozen (run)
    global PROFILE
    if args.profile:
        import cProfile

        PROFILE = cProfile.Profile(time.process_time)
    print(f"The writer alone (server.hitpath.drain.ingest in this process); {h.load()}", flush=True)
    lines = []
    for kind in args.db.split(","):
        lines += run(kind.strip(), args)
    if PROFILE is not None:
        PROFILE.dump_stats(args.profile)
    print("\n".join(f"SUMMARY | writer {line.strip()}" for line in lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
