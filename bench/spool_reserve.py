"""The spool's reserve on a full disk: how many hits it holds, so how long it lasts at
1,000 hits/s, measured on a real full disk (a tmpfs, so it needs root or passwordless
sudo; without one it says so and prints the estimate only).

1. Baseline (free disk): the real ``Spool.append`` of realistic hit records (the very
   ``hit_record`` the pixel builds: real user agents, IPv4 and IPv6 addresses, 32-
   character tokens, prefetch headers on some) into a spool on a tmpfs with room to
   spare: appends/s and the mean bytes of a record on disk.
2. The bad day: a tmpfs with room for the reserve twice over; the drainer's
   ``Reserve.ensure`` makes the reserve, a filler file takes every other free page,
   and hits are appended until the spool refuses one. The count is how many hits the
   reserve held; divided by 1,000 it is how long the reserve lasts at 1,000 hits/s.
   The ratio against the estimate (reserve bytes / mean record bytes) shows what
   pages and file rotation cost.

    python bench/spool_reserve.py [--reserve-mb 64]
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from server.hitpath.answer import hit_record  # noqa: E402
from server.hitpath.spool import Reserve, Spool  # noqa: E402
from tests.fixtures import agents  # noqa: E402

AGENTS = [v for k, v in vars(agents).items() if k.isupper() and isinstance(v, str)]


def records(n: int, seed: int = 17) -> list[dict]:
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        ip = (f"81.2.{rnd.randrange(256)}.{rnd.randrange(256)}" if rnd.random() < 0.8
              else f"2001:db8:{rnd.randrange(65536):x}::{rnd.randrange(65536):x}")
        environ = {"REQUEST_METHOD": "GET", "REMOTE_ADDR": ip, "HTTP_USER_AGENT": rnd.choice(AGENTS)}
        if rnd.random() < 0.1:
            environ["HTTP_SEC_PURPOSE"] = "prefetch"
        out.append(hit_record(environ, "open" if rnd.random() < 0.8 else "click",
                              "".join(rnd.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789_-") for _ in range(32)),
                              []))
    return out


@contextmanager
def tmpfs(size_bytes: int):
    folder = Path(tempfile.mkdtemp(prefix="engage-reserve-"))
    sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
    done = subprocess.run([*sudo, "mount", "-t", "tmpfs", "-o", f"size={size_bytes // 1024}k", "tmpfs", str(folder)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        folder.rmdir()
        yield None
        return
    try:
        yield folder
    finally:
        subprocess.run([*sudo, "umount", "-l", str(folder)], capture_output=True)
        folder.rmdir()


def fill(folder: Path) -> None:
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            try:
                if os.write(fd, b"\0" * 65536) == 0:
                    return
            except OSError as err:
                if err.errno != errno.ENOSPC:
                    raise
                return
    finally:
        os.close(fd)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reserve-mb", type=float, default=64.0, help="ENGAGE_SPOOL_RESERVE_MB (default 64)")
    parser.add_argument("--rate", type=float, default=1000.0, help="hits a second to quote the reserve at")
    args = parser.parse_args()
    reserve = int(args.reserve_mb * 1024 * 1024)
    sample = records(20000)
    print(f"load {os.getloadavg()[0]:.2f}; reserve {args.reserve_mb:g} MB; records like the pixel's, "
          f"{len(sample)} distinct")

    with tmpfs(reserve * 2 + (64 << 20)) as disk:
        if disk is None:
            size = sum(len(json.dumps(r, separators=(",", ":"), ensure_ascii=False).encode()) + 1
                       for r in sample) / len(sample)
            print(f"no tmpfs (needs root or passwordless sudo): estimate only, {reserve / size:,.0f} hits, "
                  f"{reserve / size / args.rate:.0f} s at {args.rate:,.0f} hits/s")
            return
        spool = Spool(disk / "baseline", reserve_bytes=0)
        spool.retire_seconds = 3600
        started = time.perf_counter()
        n = 0
        for rec in sample * 3:
            assert spool.append(rec)
            n += 1
        free_rate = n / (time.perf_counter() - started)
        spool.close()
        on_disk = sum(p.stat().st_size for p in (disk / "baseline").glob("hits-*"))
        mean = on_disk / n
        for p in (disk / "baseline").glob("*"):
            p.unlink()

    with tmpfs(reserve * 2 + (1 << 20)) as disk:
        spool = Spool(disk / "spool", reserve_bytes=reserve)
        assert Reserve(disk / "spool", reserve).ensure(), "the drainer's reserve could not be made"
        spool.retire_seconds = 3600
        fill(disk)
        kept = 0
        started = time.perf_counter()
        while spool.append(sample[kept % len(sample)]):
            kept += 1
        full_rate = kept / (time.perf_counter() - started)
        spool.close()

    estimate = reserve / mean
    lasts = kept / args.rate
    print(f"{'':44}{'measured':>14}{'baseline':>14}{'ratio':>8}")
    print(f"{'appends/s, free disk (baseline) vs in reserve':44}{full_rate:>14,.0f}{free_rate:>14,.0f}"
          f"{full_rate / free_rate:>7.2f}x")
    print(f"{'hits the reserve held vs reserve/record':44}{kept:>14,}{estimate:>14,.0f}{kept / estimate:>7.2f}x")
    print(f"{'mean record on disk (bytes)':44}{mean:>14.0f}")
    print(f"\nThe {args.reserve_mb:g} MB reserve holds {kept:,} hits: it lasts {lasts:.0f} s "
          f"({lasts / 60:.1f} min) at {args.rate:,.0f} hits/s once the disk is full.")
    print(f"SUMMARY | spool reserve ({args.reserve_mb:g} MB) on a full disk at {args.rate:,.0f} hits/s | "
          f"{lasts:.0f} s ({kept:,} hits) | {kept / estimate:.2f}x of the estimate | - | "
          f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
