"""One JSON error shape for the whole API, and plain HTML pages elsewhere.

Every API error looks like::

    {"error": {"status": 422, "code": "invalid_request",
               "message": "Some fields are wrong: subject.", "details": {...}}}
"""

from __future__ import annotations

import html
import logging

import marshmallow as ma
from flask import current_app, request
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from client_py.errors import EngageError

log = logging.getLogger(__name__)

CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}


class ErrorBodySchema(ma.Schema):
    status = ma.fields.Integer(required=True)
    code = ma.fields.String(required=True)
    message = ma.fields.String(required=True)
    details = ma.fields.Dict()


class ErrorSchema(ma.Schema):
    error = ma.fields.Nested(ErrorBodySchema, required=True)


class ApiError(HTTPException):
    """Raised by views: ``raise ApiError(404, "No such thread.")``."""

    def __init__(self, status: int, message: str, code: str | None = None, details: dict | None = None):
        super().__init__(description=message)
        self.code = status
        self.error_code = code or CODES.get(status, "error")
        self.details = details


def _summarise(errors: dict) -> str:
    """'Some fields are wrong: json.subject, json.mode.' from webargs' nested messages."""
    paths: list[str] = []

    def walk(prefix: str, value: object) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        else:
            paths.append(prefix)

    walk("", errors)
    shown = [p.split(".", 1)[1] if p.startswith(("json.", "query.")) else p for p in paths]
    if shown == ["json"] or shown == ["_schema"]:
        flat = errors.get("json") if isinstance(errors.get("json"), list) else None
        return " ".join(flat) if flat else "The request body is not valid."
    return "Some fields are wrong: " + ", ".join(sorted(set(shown))[:10]) + "."


def error_payload(status: int, message: str, code: str | None = None, details: dict | None = None) -> dict:
    body = {"status": status, "code": code or CODES.get(status, "error"), "message": message}
    if details:
        body["details"] = details
    return {"error": body}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def html_page(status: int, title: str, text: str) -> tuple[str, int, dict]:
    page = (
        "<!doctype html><html lang=en><meta charset=utf-8><title>{t}</title>"
        "<body style='font:16px system-ui,sans-serif;margin:3em auto;max-width:36em;color:#333'>"
        "<h1 style='font-size:1.4em'>{t}</h1><p>{x}</p></body></html>"
    ).format(t=html.escape(title), x=html.escape(text))
    return page, status, {"Content-Type": "text/html; charset=utf-8"}


class EngageApi(Api):
    """flask-smorest's Api with our error shape, documented in the OpenAPI spec too."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException):
        status = error.code or 500
        if not wants_json():
            if status == 404:
                return html_page(404, "Link not found", "This link is not valid or has expired.")
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
            message = _summarise(details)
            if "json" in details and isinstance(details["json"], list):
                status = 400  # unparseable JSON is a bad request, not a field problem
        elif status == 413:
            limit = current_app.config.get("MAX_CONTENT_LENGTH")
            message = f"The request body is too large (limit {limit} bytes)."
        elif status == 500:
            message = "Something went wrong on the server; it has been logged."
        else:
            message = error.description or error.name
        headers.update(data.get("headers") or {})
        if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            headers["Allow"] = ", ".join(error.valid_methods)
        return error_payload(status, message, code, details), status, headers


def register_error_handlers(app) -> None:
    from .api.input_guard import refuse_hostile_input

    # Input that would otherwise reach a view or the database and come back as a 500
    # (see server/api/input_guard.py) is refused up front, in the same error shape.
    app.before_request(refuse_hostile_input)

    @app.errorhandler(EngageError)
    def _domain_error(err: EngageError):
        if wants_json():
            details = {k: v for k, v in err.fields.items()} or None
            return error_payload(400, err.message, err.code, details), 400
        return html_page(400, "Bad request", err.message)

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        if isinstance(err, HTTPException):
            from .extensions import api

            return api.handle_http_exception(err)
        log.exception("unhandled error on %s %s", request.method, request.path)
        if wants_json():
            return error_payload(500, "Something went wrong on the server; it has been logged."), 500
        return html_page(500, "Server error", "Something went wrong; it has been logged.")
