"""office_addin/shared/engage_addin.py on CPython: the add-in's rules and its JSON entry point.

The same file runs in Pyodide inside the add-in pages (the browser tests cover that);
here it is values in, values out.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

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


def test_inspect_body_lists_distinct_links_and_no_pixel_yet():
    body = BODY.replace("-- Ann", '<a href="https://shop.example.org/pricing">again</a> <a href="mailto:a@b.c">m</a>')
    info = engage_addin.inspect_body(body, "https://t.example.com")
    assert info == {"kind": "html", "pixel": None, "links": ["https://shop.example.org/pricing"], "reason": None}


@pytest.mark.parametrize(("body", "kind", "words"), [
    ("Hi Bob,\nsee you", "plain_text", "plain text"),
    ("{\\rtf1\\ansi Hi}", "rich_text", "Rich Text Format"),
])
def test_inspect_body_explains_why_a_body_cannot_be_tracked(body, kind, words):
    info = engage_addin.inspect_body(body, "t.example.com")
    assert info["kind"] == kind
    assert words in info["reason"]
    assert len(info["reason"]) <= 150  # fits an Outlook notification message


def test_tracked_body_rewrites_links_and_puts_one_pixel_where_asked():
    links = [{"url": "https://shop.example.org/pricing", "tracked_url": "https://t.example.com/c/tok1"}]
    first = engage_addin.tracked_body(BODY, PIXEL, "first", links)
    assert find_snippet(first) == PIXEL
    assert first.index("engage-pixel") < first.index("Hi Bob")
    assert 'href="https://t.example.com/c/tok1"' in first
    last = engage_addin.tracked_body(first, PIXEL, "last", links)
    assert last.count('class="engage-pixel"') == 1
    assert last.index("engage-pixel") > last.index("-- Ann")
    assert engage_addin.inspect_body(last, "t.example.com")["pixel"] == PIXEL


@pytest.mark.parametrize(("recipients", "auto_on", "applies"), [
    ([{"name": "Bob", "address": "bob@client.example"}], True, True),
    ([{"name": "Cat", "address": "cat@acme.example"}], True, False),
    ([{"name": "Dan", "address": "dan@blocked.example"}], True, False),
    ([{"name": "Bob", "address": "bob@client.example"}], False, False),
    ([], True, False),
])
def test_auto_insert_decision(recipients, auto_on, applies):
    decision = engage_addin.auto_insert(recipients, {"internal_domains": ["acme.example"]},
                                        {"auto_insert": auto_on, "blocklist": ["blocked.example"]})
    assert decision["applies"] is applies
    assert decision["reason"]


def test_panel_html_renders_threads_from_the_api_page():
    page = {"threads": [{"thread_id": "t1", "subject": "<b>Quote</b>", "pinned": True, "events": [],
                         "latest_message_id": "m1", "client": "outlook", "summary": "Not opened yet"}],
            "unread": 2, "hidden_by_window": 0}
    html = engage_addin.panel_html(page, {"time_zone": "Europe/Paris"}, {"text": "quote"})
    assert 'data-unread="2"' in html
    assert "&lt;b&gt;Quote&lt;/b&gt;" in html


@pytest.mark.parametrize(("name", "args", "key"), [
    ("insert_position", [False, {"insert_at": "first"}], "ok"),
    ("no_such_function", [], "error"),
    ("tracked_body", ["plain words", PIXEL, "last", []], "error"),  # NotHtmlError reported, not raised
])
def test_call_answers_json(name, args, key):
    answer = json.loads(engage_addin.call(name, json.dumps(args)))
    assert list(answer) == [key]
    if key == "error":
        assert answer["error"]["message"]


def owa_img(cid: str) -> str:
    return f'<img src="https://attachments.office.net/owa/x/{cid}" originalsrc="cid:{cid}">'


@pytest.mark.parametrize(("case", "body", "platform", "risk"), [
    ("text and links", BODY, None, None),
    ("an inline image in the sender's part", BODY.replace("-- Ann", "-- Ann " + owa_img("logo.png")), None,
     "inline_images"),
    ("a pasted data: image", BODY.replace("-- Ann", '<img src="data:image/png;base64,iVBO">'), None, "inline_images"),
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
