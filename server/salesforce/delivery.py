"""The delivery worker: takes due outbox rows one at a time and brings the linked
Salesforce record's First Open / Last Open up to date.

One delivery: read what is needed from the database and end the transaction;
find the record if the email is not linked yet (SOQL); read the record's two
fields (GET); PATCH only what must change (see ``values.plan_update``); record
the outcome. Reading before writing is what makes a delivery safe to repeat: a
process that died after Salesforce applied its PATCH but before it marked the
row delivered leaves the row to be taken again, and the next attempt finds the
values already there and sends nothing. Values come from the stored events at
delivery time, so an open re-filed as the sender's own view in the meantime is
not written."""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

import sqlalchemy as sa
from flask import Flask

from client_py.model import ENGAGEMENT_VERDICTS

from ..causes import OutageLog
from ..extensions import db
from ..models import Event, Message, utcnow
from . import outbox
from .client import Credentials, SalesforceApi, TimeoutSession, credentials_of
from .failures import Failure
from .linking import Found, NotLinkedYet, find_record
from .models import SalesforceConfig, SalesforceLink, SalesforceOutbox
from .values import parse_sf, plan_update, to_second

log = logging.getLogger(__name__)

DEFAULTS = {
    "SALESFORCE_POLL_SECONDS": 2.0,
    "SALESFORCE_TIMEOUT_SECONDS": 20.0,
    "SALESFORCE_CA_BUNDLE": None,  # a CA file for Salesforce's certificate; None: the system's
    "SALESFORCE_BACKOFF_BASE_SECONDS": outbox.BACKOFF_BASE_SECONDS,
    "SALESFORCE_BACKOFF_CAP_SECONDS": outbox.BACKOFF_CAP_SECONDS,
    "SALESFORCE_LINK_RETRY_CAP_SECONDS": 3600.0,  # asking "is it logged yet?" at most hourly
    "SALESFORCE_LINK_GIVE_UP_DAYS": 7,
    "SALESFORCE_TASK_WINDOW_HOURS": 24,
}


def setting(app: Flask, name: str):
    return app.config.get(name, DEFAULTS[name])


@dataclass
class Job:
    row_id: int
    version: int
    attempts: int  # including this one
    org_id: int
    sent_at: datetime
    subject: str
    client_message_id: str | None
    external_addresses: list[str]
    link: Found | None
    first: datetime | None
    last: datetime | None
    delivered_first: datetime | None
    delivered_last: datetime | None
    config_stamp: datetime
    creds: Credentials
    sobject: str
    first_field: str
    last_field: str
    message_id: int
    target: Found | None = None  # the record this attempt is aimed at, once known


class Deliverer:
    def __init__(self, app: Flask, clock: Callable[[], datetime] = utcnow, rng: random.Random | None = None,
                 owner: str | None = None):
        self.app = app
        self.clock = clock
        self.rng = rng or random.Random()
        self.host = socket.gethostname()[:20]
        self.owner = owner or f"{self.host}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._apis: dict[int, tuple[datetime, SalesforceApi]] = {}
        self._released = False

    # -- the loop ---------------------------------------------------------------
    def run_due(self, limit: int = 200) -> Counter:
        """Deliver rows that are due now, one at a time; returns outcome counts."""
        outcomes: Counter = Counter()
        if not self._released:  # once per worker: rows a killed process on this host held
            if outbox.release_dead_leases(db.session, self.host, process_alive):
                log.info("salesforce: took over updates held by a stopped process")
            self._released = True
        for _ in range(limit):
            row_id = outbox.claim_one(db.session, self.owner, self.clock())
            if row_id is None:
                break
            outcomes[self.deliver(row_id)] += 1
        return outcomes

    def deliver(self, row_id: int) -> str:
        row = db.session.get(SalesforceOutbox, row_id, populate_existing=True)
        if row is None:
            db.session.commit()
            return "gone"
        attempts = row.attempts + 1
        job = None
        try:
            job = self._load(row, attempts)
            db.session.commit()  # no transaction stays open while Salesforce answers
            return self._push(job)
        except NotLinkedYet as waiting:
            db.session.rollback()
            return self._wait_for_record(row_id, attempts, waiting, job)
        except Failure as failure:
            db.session.rollback()
            return self._after_failure(row_id, attempts, failure, job)
        except Exception as err:  # a bug must not stop the queue; the row waits and says why
            db.session.rollback()
            log.exception("salesforce: delivering outbox row %s failed unexpectedly", row_id)
            return self._after_failure(row_id, attempts, Failure("INTERNAL_ERROR", type(err).__name__, True), job)

    # -- one delivery -------------------------------------------------------------
    def _load(self, row: SalesforceOutbox, attempts: int) -> Job:
        cfg = db.session.get(SalesforceConfig, row.org_id)
        if cfg is None or not cfg.enabled:
            raise Failure("SALESFORCE_OFF", "Salesforce sync is turned off for this org", True)
        message = db.session.get(Message, row.message_id)
        link = db.session.get(SalesforceLink, row.message_id)
        first, last = db.session.execute(
            sa.select(sa.func.min(Event.at), sa.func.max(Event.at)).where(
                Event.message_id == row.message_id, Event.kind == "open",
                Event.verdict.in_(ENGAGEMENT_VERDICTS),
            )
        ).one()
        return Job(
            row_id=row.id, version=row.version, attempts=attempts, org_id=row.org_id,
            sent_at=message.sent_at, subject=message.subject or "",
            client_message_id=message.client_message_id,
            external_addresses=[r["address"] for r in message.recipients or [] if r.get("kind") == "external"],
            link=Found(link.sobject, link.record_id, link.source) if link else None,
            first=first, last=last, delivered_first=row.delivered_first_open,
            delivered_last=row.delivered_last_open, config_stamp=cfg.updated_at,
            creds=credentials_of(cfg, self.app.config["SECRET_KEY"]), sobject=cfg.sobject,
            first_field=cfg.first_open_field, last_field=cfg.last_open_field, message_id=row.message_id,
        )

    def _api(self, job: Job) -> SalesforceApi:
        cached = self._apis.get(job.org_id)
        if cached is None or cached[0] != job.config_stamp:
            http = TimeoutSession(float(setting(self.app, "SALESFORCE_TIMEOUT_SECONDS")),
                                  setting(self.app, "SALESFORCE_CA_BUNDLE") or True)
            cached = (job.config_stamp, SalesforceApi(job.creds, http))
            self._apis[job.org_id] = cached
        return cached[1]

    def _push(self, job: Job) -> str:
        api = self._api(job)
        found = job.link
        if found is None:
            found = find_record(
                api, job.sobject, client_message_id=job.client_message_id, subject=job.subject,
                external_addresses=job.external_addresses, sent_at=job.sent_at,
                task_window=timedelta(hours=float(setting(self.app, "SALESFORCE_TASK_WINDOW_HOURS"))),
            )
            self._save_link(job.message_id, found)
        job.target = found
        first_sent, last_sent = job.delivered_first, job.delivered_last
        if job.first is not None:
            fields = [job.first_field, job.last_field]
            record = api.read(found.sobject, found.record_id, fields)
            remote_first, remote_last = (_remote_time(record, job.first_field),
                                         _remote_time(record, job.last_field))
            patch = plan_update(job.first, job.last, remote_first, remote_last, *fields)
            if patch:
                api.update(found.sobject, found.record_id, patch)
            first_sent = remote_first or to_second(job.first)
            last_sent = max(x for x in (remote_last, to_second(job.last)) if x is not None)
        now = self.clock()
        outbox.finish_delivered(db.session, job.row_id, self.owner, job.version, now, sobject=found.sobject,
                                record_id=found.record_id, first=first_sent, last=last_sent)
        return "delivered"

    def _save_link(self, message_id: int, found: Found) -> None:
        if db.session.get(SalesforceLink, message_id) is None:
            db.session.add(SalesforceLink(message_id=message_id, sobject=found.sobject,
                                          record_id=found.record_id, source=found.source, linked_at=self.clock()))
        db.session.commit()

    # -- outcomes -------------------------------------------------------------------
    def _after_failure(self, row_id: int, attempts: int, failure: Failure, job: Job | None) -> str:
        now = self.clock()
        target = job.target if job is not None else None
        if not failure.retryable:
            log.warning("salesforce: outbox row %s set aside: %s", row_id, failure.code)
            outbox.finish_failed(db.session, row_id, self.owner, attempts, failure, now, target)
            return "failed"
        delay = outbox.backoff_seconds(attempts, self.rng, float(setting(self.app, "SALESFORCE_BACKOFF_BASE_SECONDS")),
                                       float(setting(self.app, "SALESFORCE_BACKOFF_CAP_SECONDS")))
        outbox.finish_retry(db.session, row_id, self.owner, attempts, failure, now + timedelta(seconds=delay), now,
                            target)
        return "retry"

    def _wait_for_record(self, row_id: int, attempts: int, waiting: NotLinkedYet, job: Job | None) -> str:
        now = self.clock()
        days = int(setting(self.app, "SALESFORCE_LINK_GIVE_UP_DAYS"))
        deadline = job.sent_at + timedelta(days=days)
        if now >= deadline:
            gave_up = Failure("NOT_LINKED", f"no {job.sobject} record was found within {days} days of sending; "
                                            "attach one by its id and retry", False)
            outbox.finish_failed(db.session, row_id, self.owner, attempts, gave_up, now)
            return "failed"
        if waiting.query:
            delay = outbox.backoff_seconds(attempts, self.rng, float(setting(self.app, "SALESFORCE_BACKOFF_BASE_SECONDS")),
                                           float(setting(self.app, "SALESFORCE_LINK_RETRY_CAP_SECONDS")))
            next_at = min(deadline, now + timedelta(seconds=delay))
        else:
            next_at = deadline  # nothing to ask Salesforce; attaching a record or Message-ID requeues it
        outbox.finish_retry(db.session, row_id, self.owner, attempts, waiting, next_at, now)
        return "waiting"


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def _remote_time(record: dict, name: str) -> datetime | None:
    try:
        return parse_sf(record.get(name))
    except (TypeError, ValueError):
        raise Failure("FIELD_NOT_DATETIME", f"{name} holds {str(record.get(name))[:40]!r}; "
                                            "it must be a Date/Time field", False) from None


def start_delivery_thread(app: Flask) -> threading.Thread:
    def loop() -> None:
        stop = app.extensions.setdefault("engage_stop", threading.Event())
        deliverer = Deliverer(app)
        outage = OutageLog(log, "salesforce: delivery pass failed")
        while not stop.wait(float(setting(app, "SALESFORCE_POLL_SECONDS"))):
            try:
                with app.app_context():
                    deliverer.run_due()
                outage.recovered()
            except Exception as err:
                outage.failed(err, float(setting(app, "SALESFORCE_POLL_SECONDS")))

    t = threading.Thread(target=loop, name="engage-salesforce", daemon=True)
    t.start()
    return t
