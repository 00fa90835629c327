"""What a Salesforce error means for an outbox row: retry later, or set aside.

Pure: values in, a ``Failure`` out, no I/O. Salesforce's REST errors are a list
``[{"message": ..., "errorCode": ..., "fields": [...]}]``; the OAuth token endpoint
answers ``{"error": ..., "error_description": ...}``; outages and proxies answer
with HTML or nothing at all. Retrying helps with the passing ones (outages,
timeouts, lock contention, API limits, expired sessions); it cannot help when the
field does not exist, the record was deleted, or the integration user may not
edit it, so those rows are set aside with the reason for an admin to read."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from typing import Any

import requests

#: Codes that retrying cannot fix: the row is set aside (status "failed").
SET_ASIDE = frozenset({
    "INVALID_FIELD",  # the configured field does not exist on the object
    "ENTITY_IS_DELETED",
    "INSUFFICIENT_ACCESS_OR_READONLY",
    "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY",
    "INVALID_FIELD_FOR_INSERT_UPDATE",
    "INVALID_TYPE",  # the configured object does not exist
    "INVALID_TYPE_ON_FIELD_IN_RECORD",
    "INVALID_ID_FIELD",
    "MALFORMED_ID",
    "NOT_FOUND",
    "FIELD_INTEGRITY_EXCEPTION",
    "FIELD_CUSTOM_VALIDATION_EXCEPTION",
    "FIELD_FILTER_VALIDATION_EXCEPTION",
    "JSON_PARSER_ERROR",
    "MALFORMED_QUERY",
    "AMBIGUOUS_MATCH",  # ours: several records match a tracked email
    "NOT_LINKED",  # ours: no record found within the linking window
})
#: Codes that pass: retried with backoff whatever their HTTP status.
RETRY = frozenset({
    "INVALID_SESSION_ID",  # re-authenticate and try again
    "REQUEST_LIMIT_EXCEEDED",  # the org's API allowance for the day; it refills
    "SERVER_UNAVAILABLE",
    "UNABLE_TO_LOCK_ROW",
    "ENTITY_IS_LOCKED",  # approval-process lock: may be released
    "TIMEOUT",
    "CONNECTION",
    "HTTP_5XX",
})
MAX_MESSAGE = 1000


@dataclass
class Failure(Exception):
    code: str
    message: str
    retryable: bool
    status: int | None = None

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    @property
    def session_expired(self) -> bool:
        return self.code == "INVALID_SESSION_ID"


TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def _text_summary(text: str) -> str:
    """An outage page's title, or the start of a plain-text body: never a wall of HTML."""
    found = TITLE.search(text)
    if found:
        return " ".join(found.group(1).split())[:200]
    if "<" in text and ">" in text:
        return ""
    return " ".join(text.split())[:200]


def _first_error(body: Any) -> tuple[str | None, str]:
    """(errorCode, message) from a REST error list, an OAuth error, or text."""
    if isinstance(body, (bytes, bytearray)):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return None, _text_summary(body)
    if isinstance(body, list) and body and isinstance(body[0], dict):
        return body[0].get("errorCode"), str(body[0].get("message", ""))
    if isinstance(body, dict):
        if "error" in body:
            return str(body["error"]), str(body.get("error_description") or "")
        if "errorCode" in body:
            return str(body["errorCode"]), str(body.get("message", ""))
    return None, str(body)[:200]


def from_response(status: int, body: Any) -> Failure:
    code, message = _first_error(body)
    if code in SET_ASIDE:
        retryable = False
    elif code in RETRY or status >= 500 or status in (408, 429):
        retryable = True
    else:
        retryable = False  # some other 4xx: the request itself is wrong
    if code is None:
        code = "HTTP_5XX" if status >= 500 else f"HTTP_{status}"
        message = f"HTTP {status}: {message}" if message else f"HTTP {status}"
    message = " ".join(message.split())
    return Failure(code, message[:MAX_MESSAGE], retryable, status)


def auth_failure(status: int, body: Any) -> Failure:
    """A refused token request. Wrong credentials are an org-wide problem that the
    admin fixes in the configuration, so rows wait (retryable) rather than fail."""
    failure = from_response(status, body)
    failure.code = f"AUTH_{failure.code.upper()}"[:80]
    failure.retryable = True
    return failure


def from_exception(exc: BaseException) -> Failure:
    if isinstance(exc, Failure):
        return exc
    # simple-salesforce is imported where it is used (server/salesforce/client.py), not
    # at every process's start: an error of its own means it is loaded already.
    sf_errors = sys.modules.get("simple_salesforce.exceptions")
    if sf_errors is not None and isinstance(exc, sf_errors.SalesforceAuthenticationFailed):
        return Failure(f"AUTH_{exc.code}"[:80], exc.auth_message[:MAX_MESSAGE], True, exc.status)
    if sf_errors is not None and isinstance(exc, sf_errors.SalesforceError):
        return from_response(exc.status, exc.content)
    if isinstance(exc, requests.Timeout):
        return Failure("TIMEOUT", "Salesforce did not answer in time", True)
    if isinstance(exc, requests.ConnectionError):
        return Failure("CONNECTION", "could not connect to Salesforce", True)
    if isinstance(exc, requests.RequestException):
        return Failure("CONNECTION", type(exc).__name__, True)
    raise exc
