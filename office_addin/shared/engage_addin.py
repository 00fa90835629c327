"""The Outlook add-in's calls into client_py, with JSON in and JSON out.

Pure: no I/O, standard library and client_py only. The add-in's pages load this file
into Pyodide next to the client_py wheel (office_addin/engine.mjs) and call
:func:`call` with a function name and a JSON array of arguments, so that only strings
cross the JavaScript/Python boundary (no proxies to leak or destroy). CPython runs the
same functions in tests/addin/test_engage_addin.py.

The one rule decided here rather than in client_py, because only the add-in has a task
pane to look at: where the tracking image goes (:func:`insert_position`).
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from client_py.links import rewrite_links, trackable_urls
from client_py.panel import merged_settings, panel_from_api
from client_py.recipients import auto_insert_decision
from client_py.render import render_panel
from client_py.snippet import body_kind, find_snippet, insert_snippet, not_html_reason

# Bodies that client_py.snippet.body_kind classifies as each kind, to get its own words
# for "why this body cannot be tracked" (Outlook tells us the kind, not a sample body).


def insert_position(taskpane_open: bool, settings: Mapping | None) -> str:
    """``"first"`` while the Engage task pane is open, else the user's ``insert_at``.

    With the pane open the sender is looking at Engage, so the image goes where the
    sender's eye is (the top of what they wrote); otherwise it follows their setting,
    whose default is the last line.
    """
    if taskpane_open:
        return "first"
    where = merged_settings(settings).get("insert_at")
    return where if where in ("first", "last") else "last"


def inspect_body(body: str, tracking_host: str) -> dict:
    """What the add-in needs to know before registering an email.

    ``kind`` (html / plain_text / rich_text), ``pixel``: the pixel URL already in the
    sender's part (then the email is tracked already), ``links``: the distinct trackable
    link addresses in document order, ``reason``: why it cannot be tracked, or None.
    """
    kind = body_kind(body)
    if kind != "html":
        return {"kind": kind, "pixel": None, "links": [], "reason": not_html_message(kind)}
    return {"kind": kind, "pixel": find_snippet(body), "links": trackable_urls(body, tracking_host), "reason": None}


def not_html_message(kind: str) -> str:
    """client_py's words for why a ``plain_text`` or ``rich_text`` body cannot be tracked."""
    return not_html_reason(kind) or ""


def tracked_body(body: str, pixel_url: str, where: str, links: list[Mapping]) -> str:
    """``body`` with its registered links rewritten and the pixel at ``where``.

    ``links`` is the server's ``[{url, tracked_url}]``. Links registered but no longer
    in the body are ignored; an existing snippet is replaced (never two).
    """
    mapping = {link["url"]: link["tracked_url"] for link in links if link.get("tracked_url")}
    return insert_snippet(rewrite_links(body, mapping), pixel_url, where)


def auto_insert(recipients: list[Mapping], org: Mapping | None, settings: Mapping | None) -> dict:
    """client_py's automatic-insertion decision for these recipients, as a dict."""
    merged = merged_settings(settings)
    decision = auto_insert_decision(
        recipients,
        (org or {}).get("internal_domains") or [],
        merged.get("blocklist") or [],
        bool(merged.get("auto_insert")),
    )
    return decision.to_dict()


def panel_html(page: Mapping, settings: Mapping | None, query: Mapping | None = None,
               now: str | None = None) -> str:
    """The Engagement panel's HTML from a ``GET /api/v1/threads`` answer (escaped by client_py)."""
    panel = panel_from_api(page.get("threads") or [], page.get("unread") or 0, settings,
                           query, page.get("hidden_by_window") or 0)
    return render_panel(panel, settings, now)


_FUNCTIONS = {
    "insert_position": insert_position,
    "inspect_body": inspect_body,
    "not_html_message": not_html_message,
    "tracked_body": tracked_body,
    "auto_insert": auto_insert,
    "panel_html": panel_html,
}


def call(name: str, args_json: str) -> str:
    """Run one of the functions above on JSON arguments; answer ``{"ok": value}`` or
    ``{"error": {"type", "message"}}`` as JSON (a Python error never escapes as a JS one)."""
    function = _FUNCTIONS.get(name)
    if function is None:
        return json.dumps({"error": {"type": "UnknownFunction", "message": f"no add-in function {name!r}"}})
    try:
        args: Any = json.loads(args_json)
        return json.dumps({"ok": function(*args)})
    except Exception as error:  # noqa: BLE001 - reported to the page, which decides
        return json.dumps({"error": {"type": type(error).__name__, "message": str(error)}})
