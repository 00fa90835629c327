"""What an operator watches: ``GET /metrics`` (Prometheus text format) and the
backlog part of ``/healthz`` (server/web.py).

``/metrics`` adds up the counters every process keeps (server/metrics.py; under
``engage serve`` through ``prometheus_client``'s multiprocess files) and measures at
scrape time what no counter can tell: the spool's backlog (bytes answered but not
stored, the age of the oldest such hit: the drain lag), whether a writer holds the
spool's lock, the reserve on the spool's disk and the Salesforce outbox's depth.

Only loopback and the networks in ``METRICS_ALLOW`` may read it; a request that came
through a proxy is judged by the client address the trusted proxies vouch for, and
refused when the proxy is not one of them (a local reverse proxy would otherwise make
every visitor look like loopback)."""

from __future__ import annotations

import glob
import ipaddress
import logging
import os
import re
from datetime import datetime, timezone

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, request

from . import metrics, services
from .errors import html_page
from .extensions import db
from .hitpath.addresses import client_address, parse_address
from .hitpath.spool import backlog, writer_alive

log = logging.getLogger(__name__)
bp = Blueprint("monitoring", __name__)

LOOPBACK = [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")]
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def allowed(environ, trusted, extra: list[str]) -> bool:
    peer = parse_address(environ.get("REMOTE_ADDR"))
    if peer is None:
        return False
    forwarded = environ.get("HTTP_X_FORWARDED_FOR") or environ.get("HTTP_FORWARDED")
    if forwarded:
        if not any(peer in net for net in trusted):
            return False  # an unknown proxy in front: its visitors would all look like it
        peer = parse_address(client_address(environ.get("REMOTE_ADDR"), environ.get("HTTP_X_FORWARDED_FOR"),
                                            trusted))
        if peer is None:
            return False
    nets = LOOPBACK + [ipaddress.ip_network(n, strict=False) for n in extra]
    return any(peer.version == net.version and peer in net for net in nets)


def spool_state(app) -> dict:
    """The backlog as files tell it: bytes waiting, drain lag, whether a writer runs."""
    svc = app.extensions["engage"]
    waiting, oldest = backlog(svc.spool.dir)
    lag = max(0.0, (datetime.now(timezone.utc) - oldest).total_seconds()) if oldest is not None else 0.0
    return {"spool_bytes_waiting": waiting, "drain_lag_seconds": round(lag, 1),
            "writer": "up" if writer_alive(svc.spool.dir) else "down",
            "reserve_bytes": svc.spool.reserve.size if svc.spool.reserve.present() else 0}


def expects_writer(app) -> bool:
    """This process drains the spool itself, or `engage serve` runs a writer for it; a
    command-line tool or a test app without background threads expects none."""
    return bool(app.config.get("BACKGROUND_THREADS") or app.config.get("EXPECT_WRITER"))


def backlog_problems(app) -> tuple[list[str], dict]:
    """(reasons /healthz is degraded, the figures)."""
    state = spool_state(app)
    reasons = []
    if expects_writer(app) and state["writer"] == "down":
        reasons.append("the writer is down: hits are answered and kept in the spool, not stored")
    threshold = float(app.config["DRAIN_LAG_DEGRADED_SECONDS"])
    if state["drain_lag_seconds"] > threshold:
        reasons.append(f"the writer is {state['drain_lag_seconds']:.0f} s behind (more than {threshold:g} s)")
    if app.extensions["engage"].spool.reserve.released():
        reasons.append("the spool's disk filled up: its reserve is in use until disk space is freed")
    return reasons, state


class ScrapeTime:
    """The values measured when /metrics is read."""

    def __init__(self, app):
        self.app = app

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        state = spool_state(self.app)
        yield GaugeMetricFamily("engage_spool_bytes_waiting", "Bytes of answered hits not stored yet",
                                value=state["spool_bytes_waiting"])
        yield GaugeMetricFamily("engage_drain_lag_seconds", "Age of the oldest answered hit not stored yet",
                                value=state["drain_lag_seconds"])
        yield GaugeMetricFamily("engage_writer_up", "1 while a writer holds the spool's lock",
                                value=1 if state["writer"] == "up" else 0)
        yield GaugeMetricFamily("engage_spool_reserve_bytes", "The reserve kept on the spool's disk (0: in use)",
                                value=state["reserve_bytes"])
        outbox = GaugeMetricFamily("engage_salesforce_outbox", "Salesforce updates not delivered, by status",
                                   labels=["status"])
        counts = _outbox_counts()
        if counts is not None:
            for status in ("pending", "failed"):
                outbox.add_metric([status], counts.get(status, 0))
            yield outbox


def _outbox_counts() -> dict | None:
    from .salesforce.models import SalesforceOutbox

    try:
        rows = db.session.execute(sa.select(SalesforceOutbox.status, sa.func.count())
                                  .where(SalesforceOutbox.status.in_(("pending", "failed")))
                                  .group_by(SalesforceOutbox.status)).all()
        db.session.rollback()
        return {status: n for status, n in rows}
    except Exception:
        db.session.rollback()
        metrics.DATABASE_ERRORS.labels("request").inc()
        return None


def _forget_dead_processes(path: str) -> None:
    """Live gauges of processes that are gone (a restarted granian worker) must not count."""
    from prometheus_client import multiprocess

    for f in glob.glob(os.path.join(path, "gauge_live*_*.db")):
        match = re.search(r"_(\d+)\.db$", f)
        if not match:
            continue
        pid = int(match.group(1))
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            multiprocess.mark_process_dead(pid, path)
        except PermissionError:
            pass


@bp.get("/metrics")
def metrics_view():
    from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess

    app = current_app._get_current_object()
    if not allowed(request.environ, services.get().trusted_proxies, app.config["METRICS_ALLOW"]):
        body, status, headers = html_page(403, "Forbidden", "Metrics are served to loopback and "
                                          "ENGAGE_METRICS_ALLOW only.")
        return Response(body, status=status, headers=headers)
    metrics.flush_tallies()  # this process's answered hits, to the hit (the others': within a second)
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        _forget_dead_processes(path)
        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted, path=path)
    else:
        counted = REGISTRY
    measured = CollectorRegistry(auto_describe=False)
    measured.register(ScrapeTime(app))
    return Response(generate_latest(counted) + generate_latest(measured), headers={"Content-Type": CONTENT_TYPE,
                                                                                      "Cache-Control": "no-store"})
