"""What every benchmark here shares: processes that are always cleaned up, an Engage
server started the way ``engage serve`` starts it (or under another WSGI server for
the comparison), nginx with a private config, wrk with its summary parsed, SSE
clients, and the machine's load printed next to each figure.

The Engage server is the tests' (tests/live_server.py): one way to configure, migrate,
populate and start it, whoever measures it.

Everything listens on 127.0.0.1 only. Every child process gets its own session, so
stopping it stops its children too (granian's workers, ``engage serve``'s writer);
they are stopped on normal exit, on an exception, on Ctrl-C and on SIGTERM."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import selectors
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fixtures import agents  # noqa: E402
from tests.fixtures.addresses import PASSWORD  # noqa: E402
from tests.live_server import TEST_SETTINGS, TRUST_LOCAL_PROXY, LiveServer, free_port, wait_answering  # noqa: E402

PY = sys.executable
PIXEL_GIF_BYTES = 43
NO_CACHE = "no-cache, no-store, must-revalidate, max-age=0"
PG_ADMIN = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

# -- processes ------------------------------------------------------------------------
_children: list[subprocess.Popen] = []


def spawn(cmd: list[str], env: dict | None = None, log: Path | None = None, cwd: Path = ROOT) -> subprocess.Popen:
    out = open(log, "ab") if log else subprocess.DEVNULL
    # A process group of its own (killpg stops the tree) in this benchmark's session, not
    # a session of its own: with the kernel's autogroup scheduling (on by default where
    # processes are not in a cgroup of their own, as here) each session is one scheduling
    # entity, and a server in its own session then shared the two cores with wrk's
    # session group against group, not thread against thread. granian's threads, waiting
    # for the GIL, spent twice the CPU a request that way: a bare granian GIF app answered
    # 0.35-0.45 of nginx in its own session and 0.64-1.0 in this one (bench/README.md,
    # tenth session). A server on its own machine competes with no load generator.
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, process_group=0)
    if log:
        out.close()  # the child keeps its own descriptor
    _children.append(proc)
    return proc


def stop(proc: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
    if proc is None:
        return
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=timeout)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    if proc in _children:
        _children.remove(proc)


_dirs: list[Path] = []


def stop_all() -> None:
    """Every process this run started, then its temp folders (in that order)."""
    for proc in list(_children):
        stop(proc, timeout=10)
    while _dirs:
        shutil.rmtree(_dirs.pop(), ignore_errors=True)


def _on_signal(signum, frame):
    stop_all()
    raise SystemExit(128 + signum)


atexit.register(stop_all)
for _sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):  # SIGINT too: a background job starts with it ignored
    signal.signal(_sig, _on_signal)


def workdir(prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=f"engage-bench-{prefix}-"))
    _dirs.append(path)
    return path


def load() -> str:
    """The 1-minute load average and the core count, to print beside a figure."""
    one, five, _ = os.getloadavg()
    return f"load {one:.2f}/{five:.2f} on {os.cpu_count()} cores"


def wait_http(url: str, proc: subprocess.Popen | None = None, timeout: float = 90, log: Path | None = None) -> None:
    wait_answering(url, proc, timeout=timeout, log=log)


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def median(values: list[float]) -> float:
    return statistics.median(values)


@contextlib.contextmanager
def database(kind: str, name: str):
    """The database of one run: None for SQLite (Engage makes its own file), else the
    URL of a new PostgreSQL database ``name``, dropped afterwards."""
    if kind != "postgres":
        yield None
        return
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# -- Engage -----------------------------------------------------------------------------
SERVERS = {
    # name: how the web processes run; every one gets the dedicated writer process,
    # exactly as `engage serve` arranges it (workers spool, the writer stores).
    "granian": "engage serve: granian WSGI workers (+ writer)",
    "gunicorn-gthread": "gunicorn gthread workers (+ writer)",
    "gunicorn-gevent": "gunicorn gevent workers (+ writer)",
}


class Engage(LiveServer):
    """One Engage installation in a temp folder, served on a free port: the tests'
    LiveServer started by ``engage serve`` (``server="granian"``) or, for the
    comparison, as gunicorn workers beside ``engage writer``. Its processes are
    stopped with the benchmark, however it ends."""

    def __init__(self, database_url: str | None = None, server: str = "granian", workers: int = 2,
                 threads: int = 32, name: str = "engage", extra_env: dict | None = None):
        folder = workdir(name)
        super().__init__(
            instance=folder, database_url=database_url or f"sqlite:///{folder / 'engage.db'}",
            workers=workers, threads=threads, mode="serve", log_path=folder / "server.log", own_session=False,
            # wrk and the SSE clients send X-Forwarded-For with public addresses, so
            # the writer does real geolocation lookups in the memory-mapped database.
            extra_env={**TRUST_LOCAL_PROXY, **(extra_env or {})},
            # engage serve's own stream cap (from --threads), not the tests' small one.
            settings={k: v for k, v in TEST_SETTINGS.items() if k != "ENGAGE_STREAMS_PER_PROCESS"})
        self.dir = folder
        self.server = server
        self.bench_env = extra_env or {}
        self.procs: list[subprocess.Popen] = []

    def clone(self, name: str, **changes) -> "Engage":
        """A copy of this (stopped, SQLite) installation: same users, tokens, emails;
        a fresh spool, so one run's backlog never reaches the next."""
        other = Engage(server=changes.get("server", self.server), workers=changes.get("workers", self.workers),
                       threads=changes.get("threads", self.threads), name=name,
                       extra_env={**self.bench_env, **changes.get("extra_env", {})})
        shutil.copytree(self.dir, other.dir, dirs_exist_ok=True, ignore=shutil.ignore_patterns("spool", "*.log"))
        other.database_url = f"sqlite:///{other.dir / Path(self.sqlite_path).name}"
        return other

    def spool_pending(self) -> int:
        """Bytes answered but not yet stored (spool files past their drained offset;
        with several writers, the least advanced one's)."""
        from server.hitpath.spool import pending_bytes

        return pending_bytes(self.dir / "spool")

    @property
    def sqlite_path(self) -> str | None:
        return self.database_url[len("sqlite:///"):] if self.database_url.startswith("sqlite:///") else None

    def cli(self, *args: str, env: dict | None = None) -> str:
        return super().cli(*args, env=env, timeout=300)

    def create_user(self, email: str, org: str = "Bench") -> str:
        """Org (once) and user through the real command line; returns an API token."""
        return super().create_user(email=email, org=org, domains=("ourco.example",), password=PASSWORD)

    def start(self) -> "Engage":
        if self.server == "granian":
            super().start(timeout=90)
            _children.append(self.proc)
            self.procs = [self.proc]
            return self
        env = self.env()
        web_env = {**env, "ENGAGE_BACKGROUND_THREADS": "0", "ENGAGE_WARM_LINKS": "1"}
        kind = self.server.split("-", 1)[1]
        extra = (["--threads", str(self.threads)] if kind == "gthread"
                 else ["--worker-connections", "1000"])
        self.migrate()
        self.procs = [
            spawn([PY, "-m", "server.cli", "writer"], env=env, log=self.log_path),
            spawn([PY, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
                   "--worker-class", kind, *extra, "--timeout", "120", "--graceful-timeout", "5",
                   "--log-level", "warning", "server.wsgi:app"], env=web_env, log=self.log_path),
        ]
        wait_http(self.url + "/healthz", self.procs[-1], log=self.log_path)
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        for proc in reversed(self.procs):
            stop(proc, sig)
        self.procs = []
        self.proc = None

    def register(self, token: str, n: int, prefix: str = "t") -> list[dict]:
        """Register n tracked emails over the real API; returns their API answers."""
        out = []
        for i in range(n):
            status, body, _ = self.request("POST", "/api/v1/messages", {
                "subject": f"Bench {prefix}{i}", "recipients": [{"name": "Rae Doe", "address": f"rae{i}@prospect.example"}],
                "thread_id": f"{prefix}{i}", "mode": "manual", "client": "gmail"}, token=token, timeout=30)
            if status != 201:
                raise RuntimeError(f"registering an email: {status} {body}")
            out.append(body)
        return out

    def event_count(self) -> int:
        if self.sqlite_path:
            with sqlite3.connect(f"file:{self.sqlite_path}?mode=ro", uri=True, timeout=30) as conn:
                return conn.execute("SELECT count(*) FROM events").fetchone()[0]
        import psycopg

        with psycopg.connect(self.database_url) as conn:
            return conn.execute("SELECT count(*) FROM events").fetchone()[0]

    def process_tree(self) -> dict[str, list[int]]:
        """PIDs by role: web workers (children of the granian/gunicorn master), the
        writer, and the supervisors (``engage serve`` itself, the master)."""
        roles: dict[str, list[int]] = {"workers": [], "writer": [], "supervisors": []}
        for root in self.procs:
            pids = [root.pid, *descendants(root.pid)]
            masters = {p for p in pids if re.search(r"-m (granian|gunicorn|server\.granian_run)\b", cmdline(p))}
            for pid in pids:
                if "server.cli writer" in cmdline(pid):
                    roles["writer"].append(pid)
                elif parent(pid) in masters:
                    roles["workers"].append(pid)
                else:
                    roles["supervisors"].append(pid)
        return roles


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU these processes have used (0 for one that is gone)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, ValueError, IndexError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            kids = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            kids = []
        for k in map(int, kids):
            out.append(k)
            todo.append(k)
    return out


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


def memory_of(pid: int) -> dict[str, int]:
    """kB from /proc/<pid>/smaps_rollup: Rss, Pss (shared pages divided among their
    users: the fair share of the memory-mapped GeoIP file) and Pss_File."""
    out = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, _, rest = line.partition(":")
        if key in ("Rss", "Pss", "Pss_File", "Pss_Anon", "Shared_Clean", "Private_Dirty"):
            out[key] = int(rest.split()[0])
    return out


# -- nginx ----------------------------------------------------------------------------
class Nginx:
    """Debian's nginx with a private config: a static 43-byte GIF for every /p/ URL,
    with the same no-cache headers Engage sends, no access log (the ceiling)."""

    def __init__(self, workers: int = 2):
        self.dir = workdir("nginx")
        self.dir.chmod(0o755)
        self.port = free_port()
        self.workers = workers
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Nginx":
        from server.hitpath.answer import PIXEL_GIF

        (self.dir / "pixel.gif").write_bytes(PIXEL_GIF)
        user = "user root;\n" if os.geteuid() == 0 else ""
        tmp = self.dir
        (self.dir / "nginx.conf").write_text(f"""{user}worker_processes {self.workers};
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fcgi;
  uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
  types {{ image/gif gif; }}
  keepalive_requests 1000000;
  server {{
    listen 127.0.0.1:{self.port};
    root {tmp};
    etag off;
    location /p/ {{
      rewrite ^ /pixel.gif break;
      add_header Cache-Control "{NO_CACHE}" always;
      add_header Pragma "no-cache" always;
      add_header Expires "0" always;
      add_header X-Content-Type-Options "nosniff" always;
    }}
  }}
}}
""")
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.proc = spawn([nginx, "-c", str(self.dir / "nginx.conf"), "-p", str(self.dir)],
                          log=self.dir / "stdout.log")
        wait_http(self.url + "/p/aaaaaaaaaaaaaaaaaaaa.gif", self.proc, log=self.dir / "error.log")
        return self

    def stop(self) -> None:
        stop(self.proc, sig=signal.SIGQUIT)


# -- wrk ------------------------------------------------------------------------------
UAS = [agents.CHROME_WINDOWS, agents.IPHONE_MAIL, agents.SAFARI_MAC, agents.FIREFOX_WINDOWS]


def pixel_script(paths: list[str], directory: Path, delay_ms: int = 0) -> Path:
    """A wrk Lua script: each request a random registered pixel, a random public
    X-Forwarded-For address and one of a few real user agents; with ``delay_ms``,
    each connection pauses that long between requests (a bounded rate)."""
    lua = directory / f"pixel-{delay_ms}.lua"
    pause = f"delay = function() return {delay_ms} end\n" if delay_ms else ""
    quoted = ",".join(json.dumps(p) for p in paths)
    uas = ",".join(json.dumps(u) for u in UAS)
    lua.write_text(f"""
local paths = {{{quoted}}}
local uas = {{{uas}}}
local first = {{23, 31, 45, 62, 77, 81, 92, 104, 151, 176, 185, 193, 203, 212}}
math.randomseed(os.time())
request = function()
  local ip = first[math.random(#first)] .. "." .. math.random(0, 255) .. "." .. math.random(0, 255) .. "." .. math.random(1, 254)
  return wrk.format("GET", paths[math.random(#paths)], {{["User-Agent"] = uas[math.random(#uas)], ["X-Forwarded-For"] = ip}})
end
{pause}""")
    return lua


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan")


def wrk(url: str, seconds: float, connections: int = 64, threads: int = 2, script: Path | None = None,
        timeout: str = "5s") -> dict:
    """One wrk run; its summary as numbers (latencies in ms)."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", f"--timeout={timeout}", "--latency"]
    if script:
        cmd += ["-s", str(script)]
    started = time.monotonic()
    out = subprocess.run([*cmd, url], capture_output=True, text=True, timeout=seconds + 60).stdout
    result = {"started": started, "ended": time.monotonic(), "raw": out}
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    result["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    result["rps"] = float(m.group(1)) if m else 0.0
    for q in ("50", "90", "99"):
        m = re.search(rf"^\s+{q}%\s+(\S+)", out, re.M)
        result[f"p{q}"] = _ms(m.group(1)) if m else float("nan")
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result["errors"] = sum(map(int, m.groups())) if m else 0
    result["timeouts"] = int(m.group(4)) if m else 0
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non2xx"] = int(m.group(1)) if m else 0
    return result


# -- live streams -----------------------------------------------------------------------
class StreamClients:
    """n SSE connections to /api/v1/stream held open on one thread. Counts which ones
    the server is actually serving (it sent the ': connected' preamble) and records
    each ``engagement`` event's arrival time by message id."""

    def __init__(self, base_url: str, token: str, n: int):
        self.host, self.port = base_url.split("//")[1].split(":")
        self.token, self.n = token, n
        self.connected = 0
        self.arrivals: list[tuple[str, float, int]] = []  # (message_id, monotonic time, client index)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self, wait_connected: float = 0) -> "StreamClients":
        self._thread.start()
        deadline = time.monotonic() + wait_connected
        while self.connected < self.n and time.monotonic() < deadline:
            time.sleep(0.05)
        return self

    def _run(self) -> None:
        sel = selectors.DefaultSelector()
        bufs: dict[socket.socket, tuple[int, bytearray, list]] = {}
        for i in range(self.n):
            s = socket.create_connection((self.host, int(self.port)), timeout=10)
            s.sendall((f"GET /api/v1/stream HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                       f"Authorization: Bearer {self.token}\r\nAccept: text/event-stream\r\n"
                       f"X-Forwarded-For: 198.51.100.{i % 250 + 1}\r\n\r\n").encode())
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ)
            bufs[s] = (i, bytearray(), [False])
        try:
            while not self._stop.is_set():
                for key, _ in sel.select(timeout=0.2):
                    s = key.fileobj
                    i, buf, seen = bufs[s]
                    try:
                        chunk = s.recv(65536)
                    except BlockingIOError:
                        continue
                    now = time.monotonic()
                    if not chunk:
                        sel.unregister(s)
                        continue
                    buf += chunk
                    if not seen[0] and b": connected" in buf:
                        seen[0] = True
                        self.connected += 1
                    cut = buf.rfind(b"\n\n")
                    if cut >= 0:  # only whole events, each counted once
                        for m in re.finditer(rb'"message_id": "([^"]+)"', bytes(buf[:cut])):
                            self.arrivals.append((m.group(1).decode(), now, i))
                        del buf[:cut + 2]
        finally:
            for s in bufs:
                s.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


# -- heavy vs light (panel_scale.py, insights_scale.py) -----------------------------------
def heavy_light_args(doc: str, repeat: int, argv=None):
    """The options of a heavy-vs-light benchmark: --db, --repeat, --heavy and --light
    (emails:events, parsed to tuples), --no-profile."""
    import argparse

    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--db", default="sqlite,postgres")
    p.add_argument("--repeat", type=int, default=repeat)
    p.add_argument("--heavy", default="50000:500000", help="emails:events of the heavy user")
    p.add_argument("--light", default="500:5000", help="emails:events of the light user")
    p.add_argument("--no-profile", dest="profile", action="store_false")
    args = p.parse_args(argv)
    args.heavy = tuple(map(int, args.heavy.split(":")))
    args.light = tuple(map(int, args.light.split(":")))
    return args


def heavy_light_users(site: "Engage", heavy: tuple[int, int], light: tuple[int, int]) -> tuple[dict[str, str], dict]:
    """The two users (API tokens) and their generated data, written in bulk
    (bench/datagen.py); returns the tokens and {messages, events, threads: count,
    made/loaded: seconds}."""
    import datagen

    tokens = {"heavy": site.create_user("heavy@ourco.example"), "light": site.create_user("light@ourco.example")}
    started = time.monotonic()
    now = datagen.utcnow()
    ids = datagen.next_ids(site.database_url)
    rows: dict[str, list] = {t: [] for t in datagen.COLUMNS}
    for user, (m, e) in (("heavy", heavy), ("light", light)):
        uid = datagen.user_id(site.database_url, f"{user}@ourco.example")
        for table, part in datagen.make_user_data(uid, m, e, now, ids, seed=1 if user == "heavy" else 2).items():
            rows[table] += part
    made = time.monotonic() - started
    datagen.load(site.database_url, rows)
    info = {t: len(rows[t]) for t in ("messages", "events", "threads")}
    info.update(made=made, loaded=time.monotonic() - started - made)
    return tokens, info


def time_heavy_light(url: str, tokens: dict[str, str], paths: dict[str, str], repeat: int) -> dict[str, dict[str, list[float]]]:
    """Milliseconds of GET ``paths`` (case: path), per case and user, over HTTP keep-alive;
    the users alternate (a change in the machine's load hits both alike), after one
    warm request each."""
    import http.client

    host, port = url.split("//")[1].split(":")
    conns = {u: http.client.HTTPConnection(host, int(port), timeout=120) for u in tokens}
    out = {case: {u: [] for u in tokens} for case in paths}

    def get(user: str, path: str) -> float:
        started = time.perf_counter()
        conns[user].request("GET", path, headers={"Authorization": f"Bearer {tokens[user]}"})
        resp = conns[user].getresponse()
        body = resp.read()
        elapsed = (time.perf_counter() - started) * 1000
        if resp.status != 200:
            raise RuntimeError(f"{user} {path}: {resp.status} {body[:300]!r}")
        return elapsed

    for path in paths.values():
        for user in tokens:  # warm: the first request of a case pays for imports and caches
            get(user, path)
    for i in range(repeat):
        order = list(tokens) if i % 2 == 0 else list(reversed(tokens))
        for case, path in paths.items():
            for user in order:
                out[case][user].append(get(user, path))
    for c in conns.values():
        c.close()
    return out


def heavy_light_cases(timings: dict[str, dict[str, list[float]]]) -> dict[str, dict[str, float]]:
    """Per case: heavy and light p50/p95 and heavy/light of the medians."""
    return {case: {"heavy_p50": median(u["heavy"]), "heavy_p95": pct(u["heavy"], 95),
                   "light_p50": median(u["light"]), "light_p95": pct(u["light"], 95),
                   "ratio": median(u["heavy"]) / median(u["light"])} for case, u in timings.items()}


def heavy_light_line(kind: str, case: str, r: dict, ok: bool, target: str, width: int = 20) -> str:
    return (f"[{kind}] {case:<{width}} heavy p50 {r['heavy_p50']:7.1f} ms p95 {r['heavy_p95']:7.1f} | "
            f"light p50 {r['light_p50']:7.1f} ms p95 {r['light_p95']:7.1f} | heavy/light {r['ratio']:.2f}x "
            f"({'meets' if ok else 'MISSES'} {target})")


def heavy_light_summary(name: str, case: str, kind: str, c: dict, target: str, load_text: str) -> str:
    return (f"SUMMARY | {name}{case} heavy/light ({kind}) | {c['heavy_p50']:.0f} vs {c['light_p50']:.0f} ms "
            f"(p95 {c['heavy_p95']:.0f} vs {c['light_p95']:.0f}) | {c['ratio']:.2f}x | {target} | {load_text}")
