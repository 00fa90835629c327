"""What one open live stream costs in memory, and which knob changes it: granian's own
per-connection cost (a bare RSGI app that only holds streams) against Engage's hub
(server/rsgi.py), under granian's options and the allocator's.

One granian worker; streams opened by an asyncio client in this process, in two
steps (N/2, then N). *KB per stream* is the slope between the two steps of the
worker's PSS (``/proc/<pid>/smaps_rollup``), so one-off costs of the first streams
(thread pools' arenas, imports, caches warmed by the first open) are not spread over
the streams. ``Anon`` is the same slope of anonymous memory (what a stream allocates;
PSS also counts file pages the worker happens to touch meanwhile).

    .venv/bin/python bench/stream_memory.py                  # every variant, N=4000
    .venv/bin/python bench/stream_memory.py --only engage --streams 2000

Each variant prints a line; nothing is judged. Listens on 127.0.0.1 only."""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import PY, ROOT, descendants, load, memory_of, spawn, stop, wait_http  # noqa: E402
from tests.live_server import free_port  # noqa: E402

JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"  # Debian's libjemalloc2: replaces glibc's malloc
# (Python's); granian's Rust code allocates from its own bundled jemalloc 5.3 whatever is
# preloaded, configured by this variable (tikv-jemallocator's prefixed MALLOC_CONF):
RJEM = "_RJEM_MALLOC_CONF"

BARE_APP = '''
import asyncio
import json
import os
from concurrent.futures import ThreadPoolExecutor

HEADERS = [("content-type", "text/event-stream"), ("cache-control", "no-cache")]
if os.environ.get("BARE_HEADERS") == "engage":  # server/stream_hub.py STREAM_HEADERS
    HEADERS = [
        ("Content-Type", "text/event-stream; charset=utf-8"), ("Cache-Control", "no-cache, no-store"),
        ("X-Accel-Buffering", "no"), ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"),
        ("X-Frame-Options", "DENY"), ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
        ("Cross-Origin-Resource-Policy", "cross-origin"),
    ]
HOP = os.environ.get("BARE_HOP", "")  # "pool": each open waits for a thread pool, as Engage's open does
POOL = ThreadPoolExecutor(max_workers=int(os.environ.get("BARE_POOL_THREADS", "4")))


def transient():
    # an open's short-lived allocations (Engage's: a query and its ORM objects), small and large
    rows = [{"id": i, "name": "x" * (i % 64), "tags": list(range(i % 8))} for i in range(300)]
    blob = json.dumps(rows).encode() + bytes(20000)
    return len(blob)


async def app(scope, proto):
    if scope.proto != "http":
        return
    if scope.path == "/healthz":
        proto.response_bytes(200, [("content-type", "text/plain")], b"ok")
        return
    if HOP == "pool":
        await asyncio.get_running_loop().run_in_executor(POOL, transient)
    elif HOP == "loop":
        transient()
    transport = proto.response_stream(200, HEADERS)
    await transport.send_bytes(b"retry: 2000\\n: connected\\n\\n")
    if os.environ.get("BARE_DETACH"):
        # granian's send_bytes queues without waiting, and the response lasts as long as
        # its transport: keep only that, and let the request's coroutine end
        HELD.append(transport)
        return
    await asyncio.get_running_loop().create_future()  # held until the server stops


HELD = []
'''

# (name, app, granian options, environment)
BASE_OPTS = ["--backpressure", "32768", "--backlog", "4096", "--no-ws"]
VARIANTS = [
    ("bare, granian defaults", "bare", [], {}),
    ("bare, --http1-buffer-size 8192", "bare", ["--http1-buffer-size", "8192"], {}),
    ("bare, 8192 + --runtime-mode st", "bare", ["--http1-buffer-size", "8192", "--runtime-mode", "st"], {}),
    ("bare, 8192 + --loop uvloop", "bare", ["--http1-buffer-size", "8192", "--loop", "uvloop"], {}),
    ("bare, 8192 + --task-impl rust", "bare", ["--http1-buffer-size", "8192", "--task-impl", "rust"], {}),
    ("bare, 8192 + MALLOC_ARENA_MAX=1", "bare", ["--http1-buffer-size", "8192"], {"MALLOC_ARENA_MAX": "1"}),
    ("bare, 8192 + jemalloc", "bare", ["--http1-buffer-size", "8192"], {"LD_PRELOAD": JEMALLOC}),
    ("bare, 8192 + Engage's response headers", "bare", ["--http1-buffer-size", "8192"], {"BARE_HEADERS": "engage"}),
    ("bare, 8192 + the coroutine ends, its transport kept", "bare", ["--http1-buffer-size", "8192"],
     {"BARE_DETACH": "1"}),
    ("bare, 8192 + uvloop, the coroutine ends, its transport kept", "bare",
     ["--http1-buffer-size", "8192", "--loop", "uvloop"], {"BARE_DETACH": "1"}),
    ("bare, 8192 + a 4-thread pool hop per open", "bare", ["--http1-buffer-size", "8192"], {"BARE_HOP": "pool"}),
    ("bare, 8192 + the same work on the loop", "bare", ["--http1-buffer-size", "8192"], {"BARE_HOP": "loop"}),
    ("bare, 8192 + headers + pool hop", "bare", ["--http1-buffer-size", "8192"],
     {"BARE_HEADERS": "engage", "BARE_HOP": "pool"}),
    ("engage, as engage serve (granian's jemalloc dirty_decay_ms:1000)", "engage", [], {}),
    ("engage + --loop uvloop", "engage", ["--loop", "uvloop"], {}),
    ("engage + --runtime-mode st", "engage", ["--runtime-mode", "st"], {}),
    ("engage + MALLOC_ARENA_MAX=1", "engage", [], {"MALLOC_ARENA_MAX": "1"}),
    ("engage + MALLOC_ARENA_MAX=2 MALLOC_TRIM_THRESHOLD_=131072", "engage", [],
     {"MALLOC_ARENA_MAX": "2", "MALLOC_TRIM_THRESHOLD_": "131072"}),
    ("engage + jemalloc", "engage", [], {"LD_PRELOAD": JEMALLOC}),
    # The opens' refusals (503 past ENGAGE_STREAM_OPENS_IN_FLIGHT, retried 1 s later by
    # this client) against none, and what granian's allocator keeps of them:
    ("engage, no cap on opens in flight (nothing refused)", "engage", [], {"ENGAGE_STREAM_OPENS_IN_FLIGHT": "100000"}),
    # Sixth session: past the cap an open now waits its turn (ENGAGE_STREAM_OPEN_WAIT,
    # 30 s) instead of being refused at once, as it was before:
    ("engage, refused at once past the cap (ENGAGE_STREAM_OPEN_WAIT=0, as before)", "engage", [],
     {"ENGAGE_STREAM_OPEN_WAIT": "0"}),
    ("engage, waits up to 60 s past the cap", "engage", [], {"ENGAGE_STREAM_OPEN_WAIT": "60"}),
    ("engage + granian's jemalloc dirty_decay_ms:0", "engage", [], {RJEM: "dirty_decay_ms:0,muzzy_decay_ms:0"}),
    ("engage + granian's jemalloc dirty_decay_ms:10", "engage", [], {RJEM: "dirty_decay_ms:10"}),
    ("engage + jemalloc's default decay, 10 s (before this session)", "engage", [], {RJEM: "dirty_decay_ms:10000"}),
]


def raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def hold(port: int, n: int, headers: list[str], writers: list, connected: list) -> None:
    async def one(header: str) -> None:
        while True:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                return
            writer.write(f"GET /api/v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n{header}\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            if head.startswith(b"HTTP/1.1 503"):  # the cap on opens in flight: again shortly
                connected[1] += 1
                writer.close()
                await asyncio.sleep(1)
                continue
            if not head.startswith(b"HTTP/1.1 200"):
                writer.close()
                return
            writers.append(writer)
            buf = b""
            while b": connected" not in buf:
                chunk = await reader.read(4096)
                if not chunk:
                    return
                buf += chunk
            connected[0] += 1
            return

    await asyncio.gather(*(one(h) for h in headers[:n]))


def engage_setup(folder: Path, users: int) -> tuple[dict, list[str]]:
    """A migrated SQLite installation with ``users`` users and a token each."""
    url = f"sqlite:///{folder / 'engage.db'}"
    env = {**os.environ, "DATABASE_URL": url, "ENGAGE_INSTANCE_PATH": str(folder), "PYTHONPATH": str(ROOT),
           "ENGAGE_STREAMS_PER_USER": "100", "ENGAGE_SECRET_KEY": "stream-memory-bench"}
    import subprocess

    subprocess.run([PY, "-m", "server.cli", "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    os.environ.update({"DATABASE_URL": url, "ENGAGE_INSTANCE_PATH": str(folder)})
    from bench.streams import make_users

    class Where:
        database_url, dir = url, folder

    return env, make_users(Where, users)


def measure(name: str, app: str, opts: list[str], extra: dict, n: int, engage_env: dict | None,
            tokens: list[str]) -> None:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="engage-bench-memory-") as tmp:
        if app == "bare":
            Path(tmp, "bare_streams.py").write_text(BARE_APP)
            env = {**os.environ, "PYTHONPATH": tmp}
            target, cwd = "bare_streams:app", Path(tmp)
            headers = ["Accept: text/event-stream\r\n"] * n
        else:
            from server.cli import GRANIAN_MALLOC_CONF, web_command

            env = {**engage_env, "ENGAGE_WSGI_THREADS": "32", "ENGAGE_BACKGROUND_THREADS": "0"}
            env.setdefault(*GRANIAN_MALLOC_CONF)  # as engage serve sets it
            cmd = web_command("127.0.0.1", port, 1, 32)
            target, cwd = None, ROOT
            headers = [f"Authorization: Bearer {tokens[i % len(tokens)]}\r\n" for i in range(n)]
        env.update(extra)
        if target:
            cmd = [PY, "-m", "granian", "--interface", "rsgi", "--host", "127.0.0.1", "--port", str(port),
                   "--workers", "1", *BASE_OPTS, *opts, target]
        else:
            cmd = cmd[:-1] + opts + cmd[-1:]
        log = Path(tmp, "server.log")
        proc = spawn(cmd, env=env, log=log, cwd=cwd)
        try:
            wait_http(f"http://127.0.0.1:{port}/healthz", proc, log=log)
            [worker] = [p for p in descendants(proc.pid)] or [proc.pid]
            loop = asyncio.new_event_loop()
            writers: list = []
            connected = [0, 0]  # held, refused
            time.sleep(1)
            before = memory_of(worker)
            points = []
            for step in (n // 2, n):
                loop.run_until_complete(hold(port, step - connected[0], headers[connected[0]:], writers, connected))
                time.sleep(3)
                points.append((connected[0], memory_of(worker)))
            (n1, m1), (n2, m2) = points
            slope = (m2["Pss"] - m1["Pss"]) / max(1, n2 - n1)
            anon = (m2.get("Pss_Anon", 0) - m1.get("Pss_Anon", 0)) / max(1, n2 - n1)
            overall = (m2["Pss"] - before["Pss"]) / max(1, n2)
            print(f"{name:58s} | {n2:5d} held | {slope:5.1f} KB/stream (slope), anon {anon:5.1f} | "
                  f"{overall:5.1f} KB (all over before) | {connected[1]} opens refused | {load()}", flush=True)
            for w in writers:
                w.transport.abort()
            loop.run_until_complete(asyncio.sleep(0.2))
            loop.close()
        finally:
            stop(proc)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--streams", type=int, default=4000)
    ap.add_argument("--only", help="variants whose name contains this")
    args = ap.parse_args()
    raise_nofile()
    chosen = [v for v in VARIANTS if not args.only or args.only in v[0]]
    engage_env, tokens = None, []
    with tempfile.TemporaryDirectory(prefix="engage-bench-memory-db-") as folder:
        if any(v[1] == "engage" for v in chosen):
            engage_env, tokens = engage_setup(Path(folder), max(1, args.streams // 50))
        for variant in chosen:
            measure(*variant, n=args.streams, engage_env=engage_env, tokens=tokens)


if __name__ == "__main__":
    main()
