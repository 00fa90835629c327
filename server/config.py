"""Configuration: defaults here, overridden by environment variables, then by the
mapping passed to ``create_app`` (tests)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

#: Alembic's folder, shipped inside the package (pyproject package-data).
MIGRATIONS_DIR = str(Path(__file__).with_name("migrations"))

ENV_KEYS = {
    # name: (environment variable, parser)
    "SQLALCHEMY_DATABASE_URI": ("DATABASE_URL", str),
    "PUBLIC_URL": ("ENGAGE_PUBLIC_URL", str),
    "GEOIP_DATABASE": ("GEOIP_DATABASE", str),
    "SECRET_KEY": ("ENGAGE_SECRET_KEY", str),
    "TRUSTED_PROXIES": ("ENGAGE_TRUSTED_PROXIES", lambda v: [p.strip() for p in v.split(",") if p.strip()]),
    "CORS_ORIGINS": ("ENGAGE_CORS_ORIGINS", lambda v: [p.strip() for p in v.split(",") if p.strip()]),
    "EXTENSION_IDS": ("ENGAGE_EXTENSION_IDS", lambda v: [p.strip() for p in v.split(",") if p.strip()]),
    "RETENTION_DAYS": ("ENGAGE_RETENTION_DAYS", int),
    "HISTORY_MEMORY_HITS": ("ENGAGE_HISTORY_MEMORY_HITS", int),
    "WRITERS": ("ENGAGE_WRITERS", int),
    "WRITER_NICE": ("ENGAGE_WRITER_NICE", int),
    "WRITER_BATCH": ("ENGAGE_WRITER_BATCH", int),
    "WRITER_SHARD": ("ENGAGE_WRITER_SHARD", lambda v: tuple(int(x) for x in v.split("/", 1))),
    "RULES_DIR": ("ENGAGE_RULES_DIR", str),
    "SPOOL_DIR": ("ENGAGE_SPOOL_DIR", str),
    "SPOOL_RETIRE_SECONDS": ("ENGAGE_SPOOL_RETIRE_SECONDS", float),
    "SPOOL_RESERVE_MB": ("ENGAGE_SPOOL_RESERVE_MB", float),
    "DRAIN_LAG_DEGRADED_SECONDS": ("ENGAGE_DRAIN_LAG_DEGRADED_SECONDS", float),
    "METRICS_ALLOW": ("ENGAGE_METRICS_ALLOW", lambda v: [p.strip() for p in v.split(",") if p.strip()]),
    "BACKGROUND_THREADS": ("ENGAGE_BACKGROUND_THREADS", lambda v: v.strip().lower() not in ("0", "false", "no", "off")),
    "RETENTION_INTERVAL_SECONDS": ("ENGAGE_RETENTION_INTERVAL", float),
    "REMINDER_INTERVAL_SECONDS": ("ENGAGE_REMINDER_INTERVAL", float),
    "STREAMS_PER_PROCESS": ("ENGAGE_STREAMS_PER_PROCESS", int),
    "STREAMS_PER_USER": ("ENGAGE_STREAMS_PER_USER", int),
    "STREAM_HEARTBEAT_SECONDS": ("ENGAGE_STREAM_HEARTBEAT", float),
    "STREAM_TOKEN_CHECK_SECONDS": ("ENGAGE_STREAM_TOKEN_CHECK", float),
    "STREAM_MAX_SECONDS": ("ENGAGE_STREAM_MAX_SECONDS", float),
    "STREAM_BUFFER_BYTES": ("ENGAGE_STREAM_BUFFER_BYTES", int),
    "STREAMS_PER_LOOP": ("ENGAGE_STREAMS_PER_LOOP", int),
    "STREAM_OPENS_IN_FLIGHT": ("ENGAGE_STREAM_OPENS_IN_FLIGHT", int),
    "STREAM_OPEN_WAIT_SECONDS": ("ENGAGE_STREAM_OPEN_WAIT", float),
    "EXPECT_WRITER": ("ENGAGE_EXPECT_WRITER", lambda v: v.strip().lower() in ("1", "true", "yes", "on")),
    "WARM_LINKS": ("ENGAGE_WARM_LINKS", lambda v: v.strip().lower() in ("1", "true", "yes", "on")),
    "TOKEN_IDLE_DAYS": ("ENGAGE_TOKEN_IDLE_DAYS", float),
    "SETUP_LINK_MINUTES": ("ENGAGE_SETUP_LINK_MINUTES", float),
}


def normalize_database_url(url: str) -> str:
    """Accept the URLs people paste (postgres://, postgresql://) and use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def default_config(instance_path: str) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(Path(instance_path) / "engage.db"),
        # hide_parameters: a failed statement is logged without its values (hit ids,
        # hashes, addresses' networks), and a 1,000-row batch is not 1,000 values long.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
        "PUBLIC_URL": "http://127.0.0.1:5000",
        "GEOIP_DATABASE": None,  # None: the bundled DB-IP City Lite database
        "SECRET_KEY": None,  # None: generated once and kept in the instance folder
        "TRUSTED_PROXIES": [],  # CIDRs whose X-Forwarded-For is believed
        # chrome-extension:// origins are allowed by pattern; add the add-in host here.
        "CORS_ORIGINS": [],
        # Pin the Gmail extension's ids (chrome://extensions shows them); empty: any id.
        "EXTENSION_IDS": [],
        "RETENTION_DAYS": 90,
        "RETENTION_INTERVAL_SECONDS": 3600,
        # How often the scheduler looks for due follow-up reminders (server/reminders.py).
        "REMINDER_INTERVAL_SECONDS": 20.0,
        "RULES_DIR": None,
        "SPOOL_DIR": None,
        # A spool file (its lines hold client addresses) is let go this old, then
        # drained, truncated and deleted: no address stays on disk past a minute.
        "SPOOL_RETIRE_SECONDS": 20.0,
        # Preallocated on the spool's disk and given back when that disk fills: about
        # 4 minutes of hits at 1,000 a second (README, "Bad days"; bench/spool_reserve.py).
        "SPOOL_RESERVE_MB": 64,
        # /healthz says "degraded" once the oldest hit not yet stored is this old.
        "DRAIN_LAG_DEGRADED_SECONDS": 60.0,
        # Who may read /metrics, besides loopback (CIDRs).
        "METRICS_ALLOW": [],
        # The largest body the API takes: a POST /api/v1/messages with every field at its
        # limit (300 links of 4,000 characters, 500 recipients) is about 1.6 MB of JSON,
        # so that one too many links is a 422 naming the limit, not a 413. Larger: 413.
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        "API_TITLE": "Engage API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api",
        "OPENAPI_JSON_PATH": "openapi.json",
        "SELF_ADDRESS_DAYS": 7,  # how long an address the sender used counts as "the sender"
        "SELF_VIEW_SECONDS": 120,  # how long a "I am viewing this" report covers proxy loads
        # Hits of the emails the writer settled last kept in its memory (about 1.2 KB a
        # hit), so a burst on one email is not read and decided again per batch.
        "HISTORY_MEMORY_HITS": 60_000,
        # Writer processes `engage serve` starts (each stores the hits of its share of
        # the emails, by pixel token); None: min(2, the machine's cores). bench/README.md.
        "WRITERS": None,
        "WRITER_SHARD": (0, 1),  # this writer's (index, count): set by `engage serve`
        # The writers' niceness (nice(1): 0-19, higher yields more): when the cores are
        # busy, answering recipients comes first and the writers store what the spool
        # kept once they are free (bench/README.md, fourth session: with two writers at
        # the default 0, the pixel answered 0.136 of nginx instead of 0.24).
        "WRITER_NICE": 10,
        # Spooled hits a writer stores in one transaction when that many are waiting
        # (fewer are stored as they come). What a batch costs is mostly per email it
        # touches (its context, thread totals, insights row), so a backlog spread over
        # many emails drains faster in big batches: 500 -> 20,000 took the writers' CPU a
        # stored hit from 702-705 to 401 us on 5,000 emails, same run (bench/README.md,
        # eighth session). The cost: 30-45 MB more of a writer's memory while it catches up.
        "WRITER_BATCH": 20_000,
        "SIGNIN_ATTEMPTS_PER_MINUTE": 10,
        # An API token unused for this long stops working (each use pushes it back).
        "TOKEN_IDLE_DAYS": 30,
        # One-time links: the first-run setup URL, invitations, password resets.
        "SETUP_LINK_MINUTES": 60,
        "INVITE_LINK_DAYS": 7,
        "RESET_LINK_HOURS": 24,
        "STREAM_HEARTBEAT_SECONDS": 15.0,
        # Each open stream holds one of a worker's blocking threads; keep some free for
        # the pixel and the API (engage serve gives each worker 32 threads).
        "STREAMS_PER_PROCESS": 24,
        # One user's tabs and devices, per process (engage serve's event loop or a WSGI
        # worker): a user (or a stolen token) cannot take every stream.
        "STREAMS_PER_USER": 8,
        # On the event loop (server/stream_hub.py): a stream costs a small object and
        # granian's connection. Where the server's send waits for the socket, past
        # STREAM_BUFFER_BYTES unsent (a client that does not read) it is dropped with a
        # retry hint (granian 2.x queues unsent bytes itself; docs/deploy.md); tokens
        # are re-checked every few seconds; a stream is closed (the client reconnects)
        # after STREAM_MAX_SECONDS so a half-open connection cannot linger;
        # STREAMS_PER_LOOP bounds memory.
        "STREAM_TOKEN_CHECK_SECONDS": 5.0,
        "STREAM_MAX_SECONDS": 3600.0,
        "STREAM_BUFFER_BYTES": 64 * 1024,
        "STREAMS_PER_LOOP": 20000,
        # Streams being opened at once per worker (each waits, costing a coroutine, for
        # its query on one of the hub's 4 open threads); beyond it an open waits its
        # turn for up to STREAM_OPEN_WAIT_SECONDS, then 503 + Retry-After sized to the
        # worker's opening pace, so the rest of a reconnect storm queues in the
        # clients and the pixel keeps its loop. 0: refuse at once past the cap. 30 s:
        # well inside the 60 s a proxy waits for response headers by default (nginx's
        # proxy_read_timeout, a load balancer's idle timeout), or the client would get
        # the proxy's 504 instead of a Retry-After.
        "STREAM_OPENS_IN_FLIGHT": 64,
        "STREAM_OPEN_WAIT_SECONDS": 30.0,
        # Spool drainer, retention and CRM delivery threads: on in server processes
        # (server/wsgi.py) and the writer, off for command-line tools and tests.
        "BACKGROUND_THREADS": False,
    }


def from_environment() -> dict:
    out = {}
    for key, (env, parse) in ENV_KEYS.items():
        if env in os.environ and os.environ[env] != "":
            out[key] = parse(os.environ[env])
    return out


def ensure_secret_key(instance_path: str) -> str:
    """A per-installation key for HMACs of addresses; created on first start, never in the repo."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key


def create_private_sqlite_file(url: str) -> None:
    """Create a SQLite database file readable by this user only (0600) before SQLite
    creates it with the umask's mode (0644: world-readable). SQLite gives its -wal and
    -shm files the database file's mode."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:
        return
    path = parsed.database
    if not parsed.get_backend_name() == "sqlite" or not path or path == ":memory:" or path.startswith("file:"):
        return
    file = Path(path)
    if file.exists():
        return
    file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.close(os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
