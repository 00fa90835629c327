"""Refuses API input that no view should ever see, before any view runs.

Two kinds of input used to reach a view (or the database) and come back as a 500:

- JSON the parser chokes on in ways webargs does not catch: nesting deep enough to
  exhaust the recursion limit, or an integer of more than 4300 digits (CPython's limit
  on int/str conversion). Both, and nesting deeper than ``MAX_JSON_DEPTH``, are answered
  like any other unreadable body: 400 "Invalid JSON body.".
- Text no database can store: PostgreSQL's text columns refuse the NUL character, and
  a lone UTF-16 surrogate (JSON's ``"\\ud800"`` decodes to one) has no UTF-8 form, so
  neither SQLite nor PostgreSQL takes it. Such text in the body or the query string is a
  422 naming the fields; in the path it is a 404, since nothing is called that.

A view that declares a JSON body (``@blp.arguments(Schema)``, which the OpenAPI
document lists as a required request body) gets one: a request without a body is a
400, and one whose body is not JSON a 415, instead of running as if ``{}`` was sent.

Registered for every ``/api/`` request by ``server.error_handlers.register_error_handlers``, so
each blueprint (including ones added later) is covered without having to opt in.
"""

from __future__ import annotations

import json
import re

from flask import current_app, request
from webargs.core import is_json

from ..errors import ApiError, summarise

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# What the OpenAPI document says of every string (server/api/openapi_rules.py): no NUL.
# The unpaired surrogates are said in words (the document's description): a pattern
# naming them is one that Rust's and Go's regular expressions (jsonschema-rs, which
# schemathesis validates with, among them) refuse to compile, as their strings cannot
# hold one.
STORABLE_TEXT = "^[^\\x00]*$"
UNSTORABLE_MESSAGE = "Text with a NUL character or an unpaired surrogate cannot be stored."
INVALID_JSON = "Invalid JSON body."
_MAX_REPORTED = 10
MAX_JSON_DEPTH = 32  # the API's bodies nest three levels deep


def is_unstorable(text: str) -> bool:
    """Whether ``text`` holds a character neither database can store."""
    return _UNSTORABLE.search(text) is not None


def _shown(name: str) -> str:
    """A field name fit to quote back: unstorable characters as escapes."""
    return name.encode("unicode_escape").decode("ascii") if is_unstorable(name) else name


def _unstorable_paths(value: object) -> list[list[str]]:
    """Paths (keys and list indexes) of the strings in a JSON value that cannot be stored.

    Iterative, not recursive: the parser accepts nesting nearly as deep as the
    recursion limit, which a recursive walk on top of Flask's frames would exceed.
    Nesting deeper than any request body needs is refused as unreadable, because a
    body that the parser here just managed might not parse again in webargs, which
    runs a few frames deeper."""
    found: list[list[str]] = []
    stack: list[tuple[list[str], object]] = [([], value)]
    while stack and len(found) < _MAX_REPORTED:
        path, item = stack.pop()
        if len(path) > MAX_JSON_DEPTH:
            raise ApiError(400, INVALID_JSON, details={"json": [INVALID_JSON]})
        if isinstance(item, str):
            if is_unstorable(item):
                found.append(path)
        elif isinstance(item, dict):
            for key, child in item.items():
                if is_unstorable(key):
                    found.append(path + [_shown(key)])
                else:
                    stack.append((path + [key], child))
        elif isinstance(item, list):
            stack.extend((path + [str(i)], child) for i, child in enumerate(item))
    return sorted(found)


def _nested(location: str, paths: list[list[str]]) -> dict:
    """``{"json": {"recipients": {"0": {"name": [message]}}}}``, as webargs reports fields."""
    details: dict = {}
    for path in paths:
        node = details.setdefault(location, {})
        for part in path[:-1]:
            node = node.setdefault(part, {})
        if path:
            node[path[-1]] = [UNSTORABLE_MESSAGE]
        else:
            details[location] = [UNSTORABLE_MESSAGE]
    return details


def _json_body() -> object | None:
    """The parsed body, or None when there is none or webargs will refuse it itself."""
    if not is_json(request.mimetype):
        return None
    raw = request.get_data(cache=True)
    if not raw:
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None  # webargs answers these with its own 400 "Invalid JSON body."
    except (ValueError, RecursionError):
        raise ApiError(400, INVALID_JSON, details={"json": [INVALID_JSON]})


NEEDS_BODY = "This request needs a JSON body; send {} to give no field."
NEEDS_JSON = "Send the body as JSON (Content-Type: application/json)."


def declares_body(view) -> bool:
    """Whether a view takes a required JSON body, read from the declaration that also
    makes the OpenAPI document's ``requestBody`` (flask-smorest's ``@blp.arguments``)."""
    params = (getattr(view, "_apidoc", None) or {}).get("arguments", {}).get("parameters", [])
    return any(p.get("in") == "json" and p.get("required", True) for p in params)


def _refuse_missing_body() -> None:
    if request.method not in ("POST", "PUT", "PATCH"):  # a CORS preflight (OPTIONS) never has a body
        return
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    if view is None or not declares_body(view):
        return
    if not request.get_data(cache=True):
        raise ApiError(400, NEEDS_BODY, details={"json": [NEEDS_BODY]})
    if not is_json(request.mimetype):
        raise ApiError(415, NEEDS_JSON)


def refuse_hostile_input() -> None:
    """``before_request`` hook: raise an ``ApiError`` for input described above."""
    if not request.path.startswith("/api/"):
        return
    _refuse_missing_body()
    if is_unstorable(request.path):
        raise ApiError(404, "Nothing is called that.")
    query = [[_shown(key)] for key, value in request.args.items(multi=True)
             if is_unstorable(key) or is_unstorable(value)]
    if query:
        details = _nested("query", sorted(query)[:_MAX_REPORTED])
        raise ApiError(422, summarise(details), details=details)
    body = _json_body()
    paths = _unstorable_paths(body) if body is not None else []
    if paths:
        details = _nested("json", paths)
        raise ApiError(422, summarise(details), details=details)
