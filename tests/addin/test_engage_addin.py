"""office_addin/shared/engage_addin.py on CPython: the add-in's rules and its JSON entry point.

The same file runs in Pyodide inside the add-in pages (the browser tests cover that);
here it is values in, values out.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from client_py import calls

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("engage_addin", ROOT / "office_addin" / "shared" / "engage_addin.py")
engage_addin = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(engage_addin)

PIXEL = "https://t.example.com/p/abc123.gif"

@pytest.mark.parametrize(("pane_open", "settings", "expected"), [
    (True, {"insert_at": "last"}, "first"),
    (True, {"insert_at": "first"}, "first"),
    (False, {"insert_at": "last"}, "last"),
    (False, {"insert_at": "first"}, "first"),
    (False, {}, "last"),  # the default setting
    (False, None, "last"),
])
def test_insert_position(pane_open, settings, expected):
    assert engage_addin.insert_position(pane_open, settings) == expected


@pytest.mark.parametrize(("kind", "words"), [("plain_text", "plain text"), ("rich_text", "Rich Text Format")])
def test_not_html_message_is_client_pys_words_for_the_kind_outlook_reports(kind, words):
    message = engage_addin.not_html_message(kind)
    assert words in message and len(message) <= 150  # fits an Outlook notification message
    assert engage_addin.not_html_message("html") == ""


def test_the_shared_calls_are_client_pys():
    """auto_insert, inspect_body, tracked_body, panel_html: the same functions the Gmail
    extension calls (tests/client_py/test_calls.py has their values)."""
    for name, function in calls.FUNCTIONS.items():
        assert engage_addin.FUNCTIONS[name] is function


def test_auto_insert_answers_the_decision_outlook_recipients_get():
    recipients = [{"name": "Bob", "address": "bob@client.example"}, {"name": "Cat", "address": "cat@acme.example"}]
    result = engage_addin.FUNCTIONS["auto_insert"](recipients, {"internal_domains": ["acme.example"]},
                                                   {"auto_insert": True, "blocklist": ["blocked.example"]})
    assert result["decision"]["applies"] is True and result["decision"]["external"] == 1


@pytest.mark.parametrize(("name", "args", "expected"), [
    ("insert_position", [False, {"insert_at": "first"}], {"ok": True, "value": "first"}),
    ("no_such_function", [], {"ok": False, "error": {"code": "unknown_function", "message": "no function 'no_such_function'"}}),
])
def test_call_answers_client_pys_envelope(name, args, expected):
    assert json.loads(engage_addin.call(name, json.dumps(args))) == expected


def test_call_reports_a_body_that_is_not_html_as_data():
    answer = json.loads(engage_addin.call("tracked_body", json.dumps(["plain words", PIXEL, "last", []])))
    assert answer["ok"] is False and answer["error"]["code"] == "not_html" and answer["error"]["message"]
