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
from client_py.snippet import find_snippet

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("engage_addin", ROOT / "office_addin" / "shared" / "engage_addin.py")
engage_addin = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(engage_addin)

PIXEL = "https://t.example.com/p/abc123.gif"
BODY = ('<html><body><div>Hi Bob,</div><div>Prices: <a href="https://shop.example.org/pricing">here</a>'
        '</div><div>-- Ann</div></body></html>')


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


def owa_img(cid: str) -> str:
    return f'<img src="https://attachments.office.net/owa/x/{cid}" originalsrc="cid:{cid}">'


@pytest.mark.parametrize(("case", "body", "platform", "risk"), [
    ("text and links", BODY, None, None),
    ("an inline image in the sender's part", BODY.replace("-- Ann", "-- Ann " + owa_img("logo.png")), None,
     "inline_images"),
    ("a pasted data: image", BODY.replace("-- Ann", '<img src="data:image/png;base64,iVBO">'), None, "inline_images"),
    ("an inline image getAsync gave without src (office-js #5036)", BODY.replace("-- Ann", '<img width="40">'),
     None, "inline_images"),
    ("a picture pasted but not uploaded yet", BODY.replace("-- Ann", '<img src="blob:https://outlook.office.com/1">'),
     None, "inline_images"),
    ("an inline image on a Mac", BODY.replace("-- Ann", owa_img("logo.png")), "Mac", "mac"),
    ("an image from the web is not inline", BODY.replace("-- Ann", '<img src="https://cdn.example/logo.png">'),
     None, None),
    ("over 500,000 characters", BODY.replace("Hi Bob,", "x" * 500_001), None, "too_large"),
    ("five SharePoint file links", BODY.replace("-- Ann", "".join(
        f'<a href="https://acme.sharepoint.com/f/{n}">file {n}</a>' for n in range(5))), None, "cloud_links"),
    ("four SharePoint file links", BODY.replace("-- Ann", "".join(
        f'<a href="https://acme-my.sharepoint.com/f/{n}">file {n}</a>' for n in range(4))), None, None),
])
def test_rewrite_risk(case, body, platform, risk):
    assert engage_addin.rewrite_risk(body, platform) == risk, case


REPLY = ('<div>Thanks, see <a href="https://shop.example.org/p">prices</a>.</div><div id="appendonsend"></div>'
         '<hr><div id="divRplyFwdMsg">From: Bob</div><div>Can you send prices?</div>')


@pytest.mark.parametrize(("case", "actual", "kept"), [
    ("the same", REPLY, True),
    ("re-serialised: quotes, entities, white space", REPLY.replace('"', "'").replace("Thanks,", "Thanks,\n ")
     .replace("prices</a>", "pri&#99;es</a>"), True),
    ("the quote twice on reading back (office-js #4392)", REPLY + REPLY[REPLY.index('<div id="appendonsend">'):], True),
    ("the end dropped (office-js #6944)", REPLY[:REPLY.index("<div>Can you")], False),
    ("a link lost", REPLY.replace('<a href="https://shop.example.org/p">prices</a>', "prices"), False),
    ("an image lost", REPLY, False),
])
def test_preserved(case, actual, kept):
    expected = REPLY if case != "an image lost" else REPLY.replace("Thanks", 'Thanks <img src="cid:a.png">')
    assert engage_addin.preserved(expected, actual) is kept, case


def test_snippet_and_links_only_rewrite():
    assert find_snippet(engage_addin.snippet(PIXEL)) == PIXEL
    body = engage_addin.rewritten_body(BODY, [{"url": "https://shop.example.org/pricing",
                                              "tracked_url": "https://t.example.com/c/x1"}])
    assert body == BODY.replace("https://shop.example.org/pricing", "https://t.example.com/c/x1")
