"""What went wrong, in one line an operator can act on, and an outage logged as an
outage: its first failure, a reminder now and then while it lasts, and its end —
not a traceback per retry.

A leaf (standard library only): the hit path, the stream, retention and CRM delivery
all use it. SQLAlchemy's errors are recognised by shape (``.orig``, the driver's
error) so this module needs no import of it; their SQL and parameters never reach
the line (only the driver's first line does; the engine hides parameters anyway,
``hide_parameters`` in server/config.py)."""

from __future__ import annotations

import errno
import logging
import time

FULL_DISK = (errno.ENOSPC, errno.EDQUOT)
NO_PERMISSION = (errno.EACCES, errno.EPERM, errno.EROFS)


def os_cause(err: OSError) -> str:
    """An OSError as an operator reads it: what is wrong, and with which file."""
    where = f" ({err.filename})" if getattr(err, "filename", None) else ""
    if err.errno in FULL_DISK:
        return f"disk full: {err.strerror}{where}"
    if err.errno in NO_PERMISSION:
        return f"permission denied: {err.strerror}{where}"
    return f"{err.strerror or err}{where}"


def describe(err: BaseException) -> tuple[str, str]:
    """(kind, one line): kind is "disk", "permission", "database" or "bug"."""
    if isinstance(err, OSError) and not type(err).__module__.startswith(("psycopg", "sqlite3")):
        return ("permission" if err.errno in NO_PERMISSION else "disk"), os_cause(err)
    orig = getattr(err, "orig", None)  # SQLAlchemy's DBAPIError wraps the driver's error
    if orig is not None or type(err).__module__.startswith(("sqlalchemy", "psycopg", "sqlite3")):
        text = str(orig if orig is not None else err).strip().splitlines()
        first = (text[0] if text else type(err).__name__)[:300]
        if "disk is full" in first or "No space left" in first:
            return "disk", f"the database's disk is full ({first})"
        if "no such table" in first or ("relation" in first and "does not exist" in first):
            return "database", f"the database is not set up: run `engage db upgrade` ({first})"
        if "permission denied" in first.lower() or "readonly database" in first:
            return "permission", f"the database refused ({first})"
        return "database", f"database unavailable ({type(orig or err).__name__}: {first})"
    return "bug", f"{type(err).__name__}: {err}"


class OutageLog:
    """Logs a run of failures of one job: the first (with a traceback only when the
    cause is not a known one: a bug), then at most once every ``every`` seconds while
    it lasts, then one line when the job works again."""

    def __init__(self, logger: logging.Logger, what: str, every: float = 60.0, back: str | None = None):
        self.log = logger
        self.what = what
        self.back = back or f"{what.split(':')[0]}: working again"
        self.every = every
        self.began: float | None = None
        self.tries = 0
        self._logged = 0.0

    def failed(self, err: BaseException, retry_in: float | None = None, extra: str = "") -> str:
        kind, cause = describe(err)
        now = time.monotonic()
        retry = f"; retrying in {retry_in:.1f} s" if retry_in is not None else ""
        if self.began is None:
            self.began, self.tries, self._logged = now, 1, now
            self.log.error("%s: %s%s%s", self.what, cause, retry, extra, exc_info=err if kind == "bug" else None)
            return kind
        self.tries += 1
        if now - self._logged >= self.every:
            self._logged = now
            self.log.error("%s: %s%s%s (failing for %.0f s, %d tries)", self.what, cause, retry, extra,
                           now - self.began, self.tries)
        return kind

    def reset(self) -> None:
        """The job works again and the caller said so itself."""
        self.began, self.tries = None, 0

    def recovered(self, extra: str = "") -> None:
        if self.began is not None:
            self.log.warning("%s after %.0f s (%d failed tries)%s", self.back,
                             time.monotonic() - self.began, self.tries, extra)
            self.began, self.tries = None, 0
