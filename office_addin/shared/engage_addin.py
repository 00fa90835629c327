"""The Outlook add-in's calls into client_py, with JSON in and JSON out.

Pure: no I/O, standard library and client_py only. The add-in's pages load this file
into Pyodide next to the client_py wheel (office_addin/shared/engine.mjs) and call
:func:`call` with a function name and a JSON array of arguments; the answer is
client_py's one envelope (``client_py.calls``: ``{"ok": true, "value": ...}`` or
``{"ok": false, "error": {"code", "message"}}``). CPython runs the same functions in
tests/addin/test_engage_addin.py.

The calls the Gmail extension makes too (``auto_insert``, ``inspect_body``,
``tracked_body``, ``panel_html``) are ``client_py.calls``'s. What is Outlook's own:
where the tracking image goes (:func:`insert_position`, because only the add-in has a
task pane to look at), and client_py's words for a body Outlook reports as not HTML
(:func:`not_html_message`: Outlook tells the kind, not a sample body).
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from client_py import calls
from client_py.model import merged_settings
from client_py.snippet import not_html_reason


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


def not_html_message(kind: str) -> str:
    """client_py's words for why a ``plain_text`` or ``rich_text`` body cannot be tracked."""
    return not_html_reason(kind) or ""


FUNCTIONS: dict[str, Callable[..., Any]] = {
    **calls.FUNCTIONS,
    "insert_position": insert_position,
    "not_html_message": not_html_message,
}


def call(name: str, args_json: str) -> str:
    """Run ``FUNCTIONS[name]`` on a JSON array of arguments; errors come back as data."""
    return calls.call(FUNCTIONS, name, args_json)
