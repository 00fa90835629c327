"""The calls both clients make into the rulebook, with JSON in and JSON out.

The Gmail extension (``extension/offscreen/engage_bridge.py``) and the Outlook add-in
(``office_addin/shared/engage_addin.py``) load client_py into Pyodide and call it with
a function name and JSON arguments, so that only strings cross the JavaScript/Python
boundary (no proxies to leak or destroy). What both need lives here, under one name
each and with one answer format (:func:`call`); each bridge adds only what is its
host's own (Gmail's DOM plan, Outlook's insert position).

Pure: standard library and client_py only (it runs in Pyodide, and its tests run
there too).

The envelope, one for both clients and for every function::

    {"ok": true, "value": ...}
    {"ok": false, "error": {"code": "...", "message": "...", ...}}

``code`` is a client_py error's code (``not_html``, ``invalid_address``, ...), or
``unknown_function``, ``bad_call`` (wrong arguments), ``internal`` (a bug: the message
names the Python exception). JavaScript turns the error into its one ``EngageError``
(``client_js/engage_error.js``) with the same code.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Mapping

from client_py import followup_calls
from client_py.errors import EngageError, InvalidAddressError
from client_py.insights import render_insights
from client_py.links import rewrite_links, trackable_urls
from client_py.model import merged_settings
from client_py.panel import panel_from_api
from client_py.recipients import auto_insert_decision, parse_recipients
from client_py.render import render_panel
from client_py.snippet import body_kind, find_snippet, insert_snippet, not_html_reason

UNKNOWN_FUNCTION = "unknown_function"
BAD_CALL = "bad_call"
INTERNAL = "internal"


def valid_recipients(items: list | None) -> tuple[list[dict], list[str]]:
    """(valid recipients, rejected entries): one bad chip must not hide the others.

    Duplicates (same address) are kept once, the first time they appear.
    """
    valid: list[dict] = []
    rejected: list[str] = []
    seen: set[str] = set()
    for item in items or ():
        try:
            parsed = parse_recipients([item])
        except InvalidAddressError:
            rejected.append(item if isinstance(item, str) else str((item or {}).get("address") or ""))
            continue
        for recipient in parsed:
            if recipient["address"] not in seen:
                seen.add(recipient["address"])
                valid.append(recipient)
    return valid, rejected


def auto_insert(recipients: list | None, org: Mapping | None, settings: Mapping | None) -> dict:
    """Whether automatic tracking applies to these recipients, in client_py's words.

    ``org`` and ``settings`` are ``GET /me``'s (its ``internal_domains``; the user's
    ``blocklist`` and ``auto_insert``, over the defaults). Answers ``{"decision",
    "recipients", "rejected"}``: the decision (``Decision.to_dict()``), the recipients
    it was taken on, and the entries that are not addresses.
    """
    merged = merged_settings(settings)
    valid, rejected = valid_recipients(recipients)
    decision = auto_insert_decision(
        valid,
        (org or {}).get("internal_domains") or [],
        merged.get("blocklist") or [],
        bool(merged.get("auto_insert")),
    )
    return {"decision": decision.to_dict(), "recipients": valid, "rejected": rejected}


def inspect_body(body: str, tracking_host: str) -> dict:
    """What a client needs to know about a body before registering its email.

    ``kind`` (html / plain_text / rich_text); ``pixel``: the pixel URL already in the
    sender's part (the email is tracked already), or None; ``links``: the distinct
    trackable link addresses in document order; ``reason``: why it cannot be tracked,
    or None.
    """
    kind = body_kind(body)
    if kind != "html":
        return {"kind": kind, "pixel": None, "links": [], "reason": not_html_reason(kind) or ""}
    return {"kind": kind, "pixel": find_snippet(body), "links": trackable_urls(body, tracking_host), "reason": None}


def link_mapping(links: list[Mapping] | Mapping | None) -> dict[str, str]:
    """``{address: tracking address}`` from the server's ``[{url, tracked_url}]`` (or
    such a mapping already)."""
    if isinstance(links, Mapping):
        return {str(url): str(tracked) for url, tracked in links.items()}
    return {link["url"]: link["tracked_url"] for link in links or () if link.get("tracked_url")}


def tracked_body(body: str, pixel_url: str, where: str, links: list[Mapping] | Mapping | None) -> str:
    """``body`` as it is sent: its registered links rewritten, then the pixel at ``where``.

    The one order for both clients. ``links`` is the server's ``[{url, tracked_url}]``
    (or the mapping); links registered but no longer in the body are ignored; an
    existing snippet is replaced (never two). Raises NotHtmlError for a non-HTML body.
    """
    return insert_snippet(rewrite_links(body, link_mapping(links)), pixel_url, where)


def panel_html(page: Mapping, settings: Mapping | None, query: Mapping | None = None,
               now: str | None = None) -> dict:
    """The Engagement panel from a ``GET /api/v1/threads`` answer (or the threads a
    client shows: ``{threads, unread, hidden_by_window}``): ``{"html", "unread"}``, the
    HTML escaped by client_py."""
    panel = panel_from_api(page.get("threads") or [], page.get("unread") or 0, settings,
                           query, page.get("hidden_by_window") or 0)
    return {"html": render_panel(panel, settings, now), "unread": panel["unread"]}


def insights_html(data: Mapping, settings: Mapping | None = None) -> dict:
    """The Insights view from a ``GET /api/v1/insights`` answer: ``{"html"}``, escaped
    by client_py (client_py/insights.py)."""
    return {"html": render_insights(data or {}, settings)}


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "auto_insert": auto_insert,
    "insights_html": insights_html,
    "inspect_body": inspect_body,
    "tracked_body": tracked_body,
    "panel_html": panel_html,
    **followup_calls.FUNCTIONS,  # reminders, the activity feed, notifications
}


def ok(value: Any) -> str:
    return json.dumps({"ok": True, "value": value})


def failed(code: str, message: str, **fields: Any) -> str:
    return json.dumps({"ok": False, "error": {"code": code, "message": message, **fields}})


def call(functions: Mapping[str, Callable[..., Any]], name: str, args_json: str | None) -> str:
    """Run ``functions[name]`` on JSON arguments and answer in the envelope above.

    ``args_json`` is a JSON array (positional arguments) or object (keyword
    arguments). A Python error never escapes as a JavaScript one.
    """
    function = functions.get(name)
    if function is None:
        return failed(UNKNOWN_FUNCTION, f"no function {name!r}")
    try:
        args = json.loads(args_json or "{}")
        value = function(*args) if isinstance(args, list) else function(**args)
    except EngageError as error:
        return json.dumps({"ok": False, "error": error.to_dict()})
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        return failed(BAD_CALL, f"{name}: {error}")
    except Exception as error:  # noqa: BLE001 - reported to the page, which decides
        return failed(INTERNAL, f"{name}: {type(error).__name__}: {error}")
    return ok(value)
