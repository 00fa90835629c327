"""The API's one JSON error shape and the plain HTML error page: the error type, the
codes, the payload, the summary of field errors and the page. A leaf: it imports
nothing of the app, so any module may raise ``ApiError`` without an import circle.

Every API error looks like::

    {"error": {"status": 422, "code": "invalid_request",
               "message": "Some fields are wrong: subject.", "details": {...}}}

Which response an exception becomes is decided in server/error_handlers.py."""

from __future__ import annotations

import html

import marshmallow as ma
from werkzeug.exceptions import HTTPException

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
    """The payload above, as the OpenAPI document describes every error response."""

    error = ma.fields.Nested(ErrorBodySchema, required=True)


class ApiError(HTTPException):
    """Raised by views: ``raise ApiError(404, "No such thread.")``."""

    def __init__(self, status: int, message: str, code: str | None = None, details: dict | None = None):
        super().__init__(description=message)
        self.code = status
        self.error_code = code or CODES.get(status, "error")
        self.details = details


def summarise(errors: dict) -> str:
    """'Some fields are wrong: subject, mode.' from webargs' nested messages, or, for one
    field with one reason, 'links: At most 300 links can be tracked in one email.'."""
    paths: list[str] = []
    messages: list[object] = []

    def walk(prefix: str, value: object) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(f"{prefix}.{k}" if prefix else str(k), v)
        else:
            paths.append(prefix)
            messages.append(value)

    walk("", errors)
    shown = [p.split(".", 1)[1] if p.startswith(("json.", "query.")) else p for p in paths]
    if shown == ["json"] or shown == ["_schema"]:
        flat = errors.get("json") if isinstance(errors.get("json"), list) else None
        return " ".join(flat) if flat else "The request body is not valid."
    if len(shown) == 1 and isinstance(messages[0], list) and len(messages[0]) == 1 and isinstance(messages[0][0], str):
        return f"{shown[0]}: {messages[0][0]}"  # one field, one reason: say it (e.g. the links limit)
    return "Some fields are wrong: " + ", ".join(sorted(set(shown))[:10]) + "."


def error_payload(status: int, message: str, code: str | None = None, details: dict | None = None) -> dict:
    body = {"status": status, "code": code or CODES.get(status, "error"), "message": message}
    if details:
        body["details"] = details
    return {"error": body}


def html_page(status: int, title: str, text: str) -> tuple[str, int, dict]:
    page = (
        "<!doctype html><html lang=en><meta charset=utf-8><title>{t}</title>"
        "<body style='font:16px system-ui,sans-serif;margin:3em auto;max-width:36em;color:#333'>"
        "<h1 style='font-size:1.4em'>{t}</h1><p>{x}</p></body></html>"
    ).format(t=html.escape(title), x=html.escape(text))
    return page, status, {"Content-Type": "text/html; charset=utf-8"}
