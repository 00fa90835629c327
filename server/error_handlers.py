"""Every error handler of the app, registered in one place: which response an
exception becomes. Paths under ``/api/`` get the one JSON error shape of
server/errors.py; every other path (the pixel, tracked links, plain pages) gets a
short HTML page, never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, current_app, request
from werkzeug.exceptions import HTTPException

from client_py.errors import EngageError

from .api.input_guard import refuse_hostile_input
from . import metrics
from .causes import OutageLog, describe
from .errors import ApiError, error_payload, html_page, summarise

log = logging.getLogger(__name__)

SERVER_ERROR = "Something went wrong on the server; it has been logged."


def wants_json() -> bool:
    return request.path.startswith("/api/")


def http_error(error: HTTPException):
    """The response for an HTTP exception: ours (``ApiError``), webargs' 422, Werkzeug's."""
    status = error.code or 500
    if not wants_json():
        if status == 404:
            return html_page(404, "Page not found", "There is no page at this address.")
        return html_page(status, error.name, error.description or error.name)
    headers = {}
    details = None
    code = None
    data = getattr(error, "data", None) or {}
    if isinstance(error, ApiError):
        message, code, details = error.description, error.error_code, error.details
        if details and "retry_after" in details:
            headers["Retry-After"] = str(details["retry_after"])
    elif "messages" in data or "errors" in data:
        details = data.get("errors") or data.get("messages")
        message = summarise(details)
        if "json" in details and isinstance(details["json"], list):
            status = 400  # unparseable JSON is a bad request, not a field problem
    elif status == 413:
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        message = f"The request body is too large (limit {limit} bytes)."
    elif status == 500:
        message = SERVER_ERROR
    else:
        message = error.description or error.name
    headers.update(data.get("headers") or {})
    if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    return error_payload(status, message, code, details), status, headers


def domain_error(err: EngageError):
    """A rule of client_py refused a value (it raises these, without Flask)."""
    if wants_json():
        details = {k: v for k, v in err.fields.items()} or None
        return error_payload(400, err.message, err.code, details), 400
    return html_page(400, "Bad request", err.message)


STORAGE_DOWN = OutageLog(log, "request: the database failed")


def unexpected_error(err: Exception):
    if isinstance(err, HTTPException):
        return http_error(err)
    kind, cause = describe(err)
    if kind != "bug" and getattr(err, "orig", None) is not None:
        # The database is away or its disk is full: a 503 to retry, one log line a minute.
        metrics.DATABASE_ERRORS.labels("request").inc()
        STORAGE_DOWN.failed(err, None, f" ({request.method} {request.path})")
        message = ("The server cannot store this right now (its disk is full)." if kind == "disk"
                   else "The server's database is unavailable right now.") + " Try again in a moment."
        if wants_json():
            return error_payload(503, message), 503, {"Retry-After": "5"}
        body, status, headers = html_page(503, "Try again in a moment", message)
        return body, status, {**headers, "Retry-After": "5"}
    log.exception("unhandled error on %s %s", request.method, request.path)
    if wants_json():
        return error_payload(500, SERVER_ERROR), 500
    return html_page(500, "Server error", "Something went wrong; it has been logged.")


def register_error_handlers(app: Flask) -> None:
    # Input that would otherwise reach a view or the database and come back as a 500
    # (see server/api/input_guard.py) is refused up front, in the same error shape.
    app.before_request(refuse_hostile_input)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(EngageError, domain_error)
    app.register_error_handler(Exception, unexpected_error)
