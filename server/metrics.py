"""The counters and gauges Engage keeps for ``GET /metrics`` (server/monitoring.py
serves them), with the official ``prometheus_client``.

A leaf: it imports nothing of the server, so the hit path can count. Under ``engage
serve`` every process (granian's workers and the writer) writes its values to files
in ``PROMETHEUS_MULTIPROC_DIR`` (set by ``engage serve`` before they start: the library
picks its mode when it is imported) and the worker answering ``/metrics`` adds them
up. Without that variable (tests, one process) the values are this process's own.

What is measured at scrape time rather than counted (the spool's backlog, the writer's
lock, the Salesforce outbox) is read from the spool's files and the database by
server/monitoring.py, so it is true whichever process answers."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, disable_created_metrics

disable_created_metrics()  # no *_created series: nobody graphs when a counter was made

KINDS = ("open", "click")

HITS_ANSWERED = Counter("engage_hits_answered", "Hits answered (image or redirect served)", ["kind"])
HITS_STORED = Counter("engage_hits_stored", "Answered hits stored in the database", ["kind"])
HITS_LOST = Counter("engage_hits_lost", "Answered hits neither the spool nor the database could take", ["kind"])
DATABASE_ERRORS = Counter("engage_database_errors", "Failed database operations", ["where"])
WRITER_RESTARTS = Counter("engage_writer_restarts", "Times engage serve restarted a writer that died")
# livesum: only live processes count (server/monitoring.py forgets the files of dead ones).
LIVE_STREAMS = Gauge("engage_live_streams", "Live streams open", multiprocess_mode="livesum")

ANSWERED = {kind: HITS_ANSWERED.labels(kind) for kind in KINDS}  # bound once: the pixel path is hot
STORED = {kind: HITS_STORED.labels(kind) for kind in KINDS}
LOST = {kind: HITS_LOST.labels(kind) for kind in KINDS}
