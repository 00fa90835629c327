"""Command line: ``engage <command>`` (or ``flask --app server <command>``). The commands
are registered on every app by ``create_app``; the ``engage`` entry point is server/__main__.py.

    engage db upgrade                      apply migrations (also done by ``engage serve``)
    engage create-org "Acme" --domain acme.com --range 203.0.113.0/24
    engage create-user ann@acme.com --org Acme [--admin] [--password ...]
    engage token ann@acme.com              issue an API token (shown once)
    engage purge                           delete data past the retention period
    engage reclassify [--since DAYS]       decide stored hits' verdicts again (after the rules' data changed)
    engage serve                           migrate, then serve with granian (RSGI) and a writer
                                           (prints the first-run setup link while no user exists)
    engage setup-url                       a new first-run setup link
"""

from __future__ import annotations

import ipaddress
import logging
import os
import sys

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext
from werkzeug.security import generate_password_hash

from .extensions import db
from .models import ApiToken, Org, User, hash_token, new_token

log = logging.getLogger(__name__)


def _org(name: str) -> Org:
    org = db.session.execute(sa.select(Org).where(Org.name == name)).scalar_one_or_none()
    if org is None:
        raise click.ClickException(f"No org named {name!r}; create it with `engage create-org`.")
    return org


def _user(email: str) -> User:
    user = db.session.execute(
        sa.select(User).where(sa.func.lower(User.email) == email.strip().lower())
    ).scalar_one_or_none()
    if user is None:
        raise click.ClickException(f"No user {email!r}; create one with `engage create-user`.")
    return user


@click.command("create-org")
@click.argument("name")
@click.option("--domain", "domains", multiple=True, help="An internal email domain (repeatable).")
@click.option("--range", "ranges", multiple=True, help="An office address range, CIDR (repeatable).")
@with_appcontext
def create_org(name, domains, ranges):
    """Create an org (or update its domains and ranges)."""
    try:
        nets = [str(ipaddress.ip_network(r, strict=False)) for r in ranges]
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--range")
    org = db.session.execute(sa.select(Org).where(Org.name == name)).scalar_one_or_none()
    created = org is None
    if created:
        org = Org(name=name, internal_domains=[], office_ranges=[])
        db.session.add(org)
    if domains:
        org.internal_domains = sorted({d.strip().lstrip("@").lower() for d in domains})
    if ranges:
        org.office_ranges = nets
    db.session.commit()
    click.echo(f"{'Created' if created else 'Updated'} org {name!r}: domains {org.internal_domains}, ranges {org.office_ranges}")


@click.command("create-user")
@click.argument("email")
@click.option("--org", "org_name", required=True)
@click.option("--name", default="")
@click.option("--admin", is_flag=True, help="May change the org's settings.")
@click.option("--password", envvar="ENGAGE_PASSWORD", prompt=True, hide_input=True,
              confirmation_prompt=True, help="Or set ENGAGE_PASSWORD.")
@with_appcontext
def create_user(email, org_name, name, admin, password):
    """Create a user who signs in with EMAIL and a password."""
    if len(password) < 8:
        raise click.BadParameter("use at least 8 characters", param_hint="--password")
    org = _org(org_name)
    if db.session.execute(sa.select(User).where(sa.func.lower(User.email) == email.lower())).first():
        raise click.ClickException(f"{email} already exists.")
    db.session.add(User(org=org, email=email.strip().lower(), name=name, is_admin=admin,
                        password_hash=generate_password_hash(password), settings={}))
    db.session.commit()
    click.echo(f"Created user {email} in {org_name!r}{' (admin)' if admin else ''}")


@click.command("token")
@click.argument("email")
@click.option("--label", default="cli")
@with_appcontext
def issue_token(email, label):
    """Issue an API token for EMAIL. It is shown once and stored only as a hash."""
    user = _user(email)
    token = new_token(32)
    db.session.add(ApiToken(user_id=user.id, token_hash=hash_token(token), label=label))
    db.session.commit()
    click.echo(token)


def _print_setup_url() -> bool:
    from .admin.links import new_setup_link

    url = new_setup_link()
    if url is None:
        return False
    minutes = current_app.config["SETUP_LINK_MINUTES"]
    click.echo(f"\nNo user yet: Engage is waiting for its first admin. Open this link to set it up\n"
               f"(it works once, for {minutes:g} minutes; `engage setup-url` prints a new one):\n\n"
               f"    {url}\n", err=False)
    return True


@click.command("setup-url")
@with_appcontext
def setup_url_command():
    """Print a new one-time setup link (only while no user exists)."""
    if not _print_setup_url():
        raise click.ClickException("Engage already has users: admins invite people from /admin/users.")


@click.command("purge")
@click.option("--days", type=int, default=None, help="Default: RETENTION_DAYS (90).")
@with_appcontext
def purge_command(days):
    """Delete events and tracked emails older than the retention period."""
    from .retention import purge

    click.echo(str(purge(days or current_app.config["RETENTION_DAYS"])))


@click.command("writer")
@with_appcontext
def writer_command():
    """Store spooled hits, purge old data, deliver CRM updates (`engage serve` runs one)."""
    import gc
    import signal
    import threading

    from .startup import start_background_jobs

    app = current_app._get_current_object()
    nice = int(app.config.get("WRITER_NICE") or 0)
    if nice > 0:
        try:
            os.nice(nice)  # the recipients' images first when the cores are busy (config.py)
        except OSError as err:
            log.warning("could not lower the writer's priority (nice %d): %s", nice, err)
    if os.environ.get("ENGAGE_WRITER_RESTARTED") == "1":  # `engage serve` brought this one back
        from . import metrics

        metrics.WRITER_RESTARTS.inc()
    if not app.config["BACKGROUND_THREADS"]:  # else they already run in this app
        start_background_jobs(app)  # this process is where they run
    # Every stored hit needs its device class: the agent parser (~0.35 s of CPU) is
    # built now rather than in the first batch, so that batch does not wait for it.
    from .device import load_parser

    load_parser()
    # The writer allocates a few hundred objects a hit and keeps many (history.Memory):
    # Python's default collector (every 700 allocations) scanned them again and again,
    # a fifth of the writer's CPU a hit (bench/README.md, fourth session). Collect
    # young objects every 50,000 allocations instead; what start-up made is not scanned.
    gc.collect()
    gc.freeze()
    gc.set_threshold(*WRITER_GC_THRESHOLD)
    done = threading.Event()
    signal.signal(signal.SIGTERM, once(done.set))
    signal.signal(signal.SIGINT, once(done.set))
    click.echo("Engage writer: draining the hit spool into the database")
    done.wait()
    app.extensions["engage"].drainer.close()


def once(action):
    """A stop-signal handler that runs ``action`` the first time only. A stop often
    delivers two signals (systemd's control-group kill, Ctrl-C, `engage serve`
    forwarding its own): ``Event.set`` run again from a second signal, on the same
    thread, while the first still held the event's lock, waited for ever
    (server/granian_run.py)."""
    told = []

    def handler(*_):
        if not told:
            told.append(True)
            action()

    return handler


WRITER_GC_THRESHOLD = (50_000, 50, 100)
WRITER_BACKOFF = (1.0, 60.0)  # seconds before restarting a dead writer: first, at most
WRITER_HEALTHY_SECONDS = 60.0  # a writer that ran this long starts the backoff afresh


def raise_open_file_limit() -> int:
    """Every open live stream is a socket: lift this process's (and so its children's)
    soft limit on open files to the hard limit. Returns the limit now in force."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 1 << 20, hard))
        except (ValueError, OSError):
            pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def web_command(host: str, port: int, workers: int, threads: int) -> list[str]:
    """granian serving server.rsgi:app: the live streams on each worker's event loop,
    the pixel inline, the rest of the Flask app on ``threads`` threads per worker."""
    return [sys.executable, "-m", "server.granian_run", "--interface", "rsgi", "--host", host, "--port", str(port),
            "--workers", str(workers), "--no-ws",
            # Every open stream is a request in flight: granian's default (backlog /
            # workers) would refuse new connections past a few hundred streams.
            "--backpressure", "32768", "--backlog", "4096",
            # hyper's per-connection buffer: 8 KB (request headers up to 8 KB, as nginx's
            # default) instead of its default, 8 KB less memory per open stream.
            "--http1-buffer-size", "8192",
            # A worker that does not stop within 10 s of SIGTERM is killed: the hits it
            # answered are in the spool already, and a stop must not hang on one.
            "--workers-kill-timeout", "10",
            *event_loop_option(), "server.rsgi:app"]


def event_loop_option() -> list[str]:
    """uvloop for the workers' event loop, where it is installed (a dependency except on
    Windows) and the operator has not chosen one with granian's GRANIAN_LOOP.

    Each pixel crosses threads twice in granian's RSGI worker (granian's thread hands the
    request to the loop with ``call_soon_threadsafe``; the loop answers), and on a busy
    machine each crossing waits for the GIL and the scheduler. asyncio's pure-Python loop
    turns around a request in far more of the GIL's time than uvloop does: engage serve's
    web workers answered 1.5-1.9x the pixels on uvloop, same run (bench/README.md, issue
    12, fifth session). Named, not ``auto``: granian's ``auto`` prefers rloop, which its
    own authors call a work in progress."""
    if os.environ.get("GRANIAN_LOOP"):
        return []
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return ["--loop", "asyncio"]
    return ["--loop", "uvloop"]


# granian's Rust side (hyper's connections, buffers) allocates from the jemalloc granian
# bundles, configured by this variable (tikv-jemallocator's prefixed MALLOC_CONF). By
# default jemalloc keeps freed pages for 10 s and, without a background thread, only
# counts that time while the worker allocates: after a storm of stream opens (the
# refused ones retried) an idle worker kept ~7 KB a held stream of freed pages. 1 s
# gives ~3.5 KB of it back at no measured cost to the pixel; 0 gives all of it back but
# cost ~15% more CPU per pixel on new connections (bench/README.md, issue 12's fifth
# session). An operator's own value is kept.
GRANIAN_MALLOC_CONF = ("_RJEM_MALLOC_CONF", "dirty_decay_ms:1000")


def web_environment(base: dict, threads: int) -> dict:
    """The environment of `engage serve`'s web workers."""
    name, default = GRANIAN_MALLOC_CONF
    return {name: default, **base, "ENGAGE_WSGI_THREADS": str(threads), "ENGAGE_EXPECT_WRITER": "1",
            "ENGAGE_BACKGROUND_THREADS": "0", "ENGAGE_WARM_LINKS": "1", "ENGAGE_WRITER_SHARD": "0/1"}


def metrics_dir(instance_path: str) -> str:
    """A fresh folder for the processes' metric files (prometheus_client's multiprocess
    mode): counters start from zero with each `engage serve`."""
    import glob

    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.path.join(instance_path, "metrics")
    os.makedirs(path, mode=0o700, exist_ok=True)
    for old in glob.glob(os.path.join(path, "*.db")):
        os.remove(old)
    return path


def writer_count(cfg) -> int:
    """ENGAGE_WRITERS, else min(2, cores): a second writer uses the core that answering
    leaves idle (bench/README.md, issue 10's fourth session)."""
    return max(1, int(cfg.get("WRITERS") or min(2, os.cpu_count() or 1)))


@click.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--workers", default=2, type=int)
@click.option("--threads", default=32, type=int,
              help="Threads per worker for the API and pages (live streams and the pixel need none).")
@with_appcontext
def serve(host, port, workers, threads):
    """Apply migrations, then serve with granian and the writer processes.

    The workers only answer requests (pixels go to the spool) and hold the live
    streams; the writers store hits (ENGAGE_WRITERS of them, default min(2, cores),
    each the hits of its share of the emails), the first runs retention and CRM
    delivery. A writer that
    dies is restarted, after 1 s, then twice as long each time it dies again soon (at
    most a minute); granian exiting stops everything, so a process manager (systemd, a
    container runtime) sees it."""
    import signal
    import subprocess
    import threading
    import time

    from flask_migrate import upgrade

    upgrade()
    files = raise_open_file_limit()
    click.echo(f"Engage is listening on http://{host}:{port} (public URL {current_app.config['PUBLIC_URL']}; "
               f"open-file limit {files})")
    _print_setup_url()
    base = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": metrics_dir(current_app.instance_path)}

    count = writer_count(current_app.config)

    def start_writer(index: int, restarted: bool = False) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "server.cli", "writer"],
                                env={**base, "ENGAGE_WRITER_RESTARTED": "1" if restarted else "0",
                                     "ENGAGE_WRITER_SHARD": f"{index}/{count}"})

    writers = [start_writer(i) for i in range(count)]
    web = subprocess.Popen(web_command(host, port, workers, threads), env=web_environment(base, threads))
    stopping = threading.Event()

    def stop(*_):
        stopping.set()
        for child in (web, *writers):
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGTERM, once(stop))
    signal.signal(signal.SIGINT, once(stop))
    # A writer only stores what the workers spooled: when one dies, pixels and links are
    # still answered and spooled, so it is restarted (with backoff if it keeps dying)
    # instead of taking the web workers down with it; its share waits in the spool.
    now = time.monotonic()
    state = [{"backoff": WRITER_BACKOFF[0], "started": now, "restart_at": None} for _ in writers]
    while web.poll() is None and not stopping.is_set():
        now = time.monotonic()
        for i, st in enumerate(state):
            if st["restart_at"] is None and writers[i].poll() is not None:
                if now - st["started"] > WRITER_HEALTHY_SECONDS:
                    st["backoff"] = WRITER_BACKOFF[0]
                click.echo(f"ENGAGE WRITER EXITED (code {writers[i].returncode}): restarting it in "
                           f"{st['backoff']:g} s; hits are answered and kept in the spool meanwhile", err=True)
                st["restart_at"], st["backoff"] = now + st["backoff"], min(st["backoff"] * 2, WRITER_BACKOFF[1])
            if st["restart_at"] is not None and now >= st["restart_at"]:
                writers[i], st["started"], st["restart_at"] = start_writer(i, restarted=True), now, None
                click.echo(f"Engage writer restarted (pid {writers[i].pid})", err=True)
        stopping.wait(0.2)
    stop()
    for child in (web, *writers):
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
    raise SystemExit(web.returncode or 0)


from .salesforce.cli import salesforce_group  # noqa: E402  (engage salesforce configure|status|retry|deliver)
from .hitpath.reclassify import reclassify_command  # noqa: E402  (engage reclassify [--since DAYS])

COMMANDS = [create_org, create_user, issue_token, purge_command, serve, writer_command, setup_url_command,
            salesforce_group, reclassify_command]


def init_app(app) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)


if __name__ == "__main__":  # python -m server.cli <command>: the same as `engage <command>`
    from .__main__ import main

    main()
