"""CPU time one granian worker spends per pixel answered, under two environments at
once (A/B, alternating 3 s wrk runs, so both see the same load): what an allocator
setting for the streams' sake costs the pixel. Two kinds of client: keep-alive (wrk's
default) and a new connection per pixel (``Connection: close``, as many mail clients).

    .venv/bin/python bench/pixel_cpu_ab.py _RJEM_MALLOC_CONF=dirty_decay_ms:0
    ROUNDS=6 .venv/bin/python bench/pixel_cpu_ab.py _RJEM_MALLOC_CONF=dirty_decay_ms:1000

A is `engage serve`'s worker as it ships (one worker), B the same with NAME=VALUE added.
CPU time is the worker's utime + stime (/proc/<pid>/stat), less sensitive to other
processes on the machine than a rate. Listens on 127.0.0.1 only."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import ROOT, descendants, load, spawn, stop, wait_http  # noqa: E402
from bench.stream_memory import engage_setup, raise_nofile  # noqa: E402
from tests.live_server import free_port  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def main() -> None:
    from server.cli import GRANIAN_MALLOC_CONF, web_command

    if len(sys.argv) != 2 or "=" not in sys.argv[1]:
        sys.exit(__doc__)
    name, _, value = sys.argv[1].partition("=")
    variants = {"A (as ships)": {}, f"B {name}={value}": {name: value}}
    raise_nofile()
    with tempfile.TemporaryDirectory(prefix="engage-bench-pixel-cpu-") as folder:
        base, _ = engage_setup(Path(folder), 1)
        servers = {}
        try:
            for label, extra in variants.items():
                port = free_port()
                env = {GRANIAN_MALLOC_CONF[0]: GRANIAN_MALLOC_CONF[1], **base, "ENGAGE_WSGI_THREADS": "32",
                       "ENGAGE_BACKGROUND_THREADS": "0", **extra}
                log = Path(folder, f"{len(servers)}.log")
                proc = spawn(web_command("127.0.0.1", port, 1, 32), env=env, log=log, cwd=ROOT)
                servers[label] = (port, proc)
                wait_http(f"http://127.0.0.1:{port}/healthz", proc, log=log)
            workers = {label: (descendants(proc.pid) or [proc.pid])[0] for label, (_, proc) in servers.items()}
            totals = {(label, mode): [0, 0.0] for label in servers for mode in ("keep-alive", "close")}
            print(load(), flush=True)
            for _ in range(int(os.environ.get("ROUNDS", "4"))):
                for mode in ("keep-alive", "close"):
                    for label, (port, _) in servers.items():
                        before = cpu_seconds(workers[label])
                        extra = ["-H", "Connection: close"] if mode == "close" else []
                        out = subprocess.run(["wrk", "-t2", "-c32", "-d3s", *extra,
                                              f"http://127.0.0.1:{port}/p/aaaaaaaaaaaaaaaaaaaa.gif"],
                                             capture_output=True, text=True, timeout=60).stdout
                        m = re.search(r"(\d+) requests in", out)
                        totals[(label, mode)][0] += int(m.group(1)) if m else 0
                        totals[(label, mode)][1] += cpu_seconds(workers[label]) - before
            for (label, mode), (pixels, secs) in totals.items():
                print(f"{label:50s} {mode:10s}: {pixels:6d} pixels, {secs:5.2f} s CPU, "
                      f"{secs / max(1, pixels) * 1e6:6.1f} us/pixel", flush=True)
            print(load(), flush=True)
        finally:
            for _, proc in servers.values():
                stop(proc)


if __name__ == "__main__":
    main()
