"""client_py.calls: the calls both clients make, values in and values out, and the one
envelope they answer in. Standard library and pytest only: these run in Pyodide too."""

from __future__ import annotations

import json

import pytest

from client_py import calls
from client_py.links import rewrite_links
from client_py.snippet import find_snippet, insert_snippet

PIXEL = "https://t.example.com/p/AbCdEfGhIjKlMnOpQrSt.gif"
ORG = {"internal_domains": ["acme.example"]}
BODY = ('<html><body><div>Hi Bob,</div><div>Prices: <a href="https://shop.example.org/pricing">here</a>'
        '</div><div>-- Ann</div></body></html>')
REPLY = ('<div dir="ltr">Hi <b>Rae</b>,<div><br></div><div>Our <a href="https://acme.example/p?a=1&amp;b=2">prices</a>.'
         '</div></div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Mon, Rae wrote:<br></div>'
         '<blockquote class="gmail_quote"><a href="https://acme.example/p?a=1&amp;b=2">quoted</a></blockquote></div>')


# -- auto_insert ---------------------------------------------------------------------

def test_auto_insert_keeps_the_good_chips_when_one_is_not_an_address():
    result = calls.auto_insert(
        [{"name": "Rae", "address": "RAE@Prospect.example"}, "Bob <bob@acme.example>",
         {"name": "", "address": "half-typed@"}, "rae@prospect.example"],
        ORG, {"auto_insert": True, "blocklist": []})
    assert result["recipients"] == [{"name": "Rae", "address": "rae@prospect.example"},
                                    {"name": "Bob", "address": "bob@acme.example"}]
    assert result["rejected"] == ["half-typed@"]
    assert result["decision"]["applies"] is True
    assert result["decision"]["reason"] == "Tracking: 1 external recipient"


@pytest.mark.parametrize(("recipients", "settings", "applies", "reason"), [
    (["bob@acme.example"], {}, False, "All recipients are inside your company"),
    (["pat@partner.example"], {"blocklist": ["partner.example"]}, False,
     "All external recipients are on your blocklist"),
    (["rae@prospect.example"], {"auto_insert": False}, False, "Automatic tracking is off"),
    ([], {}, False, "No recipients yet"),
    (["rae@prospect.example"], None, True, "Tracking: 1 external recipient"),  # the default is on
    ([{"name": "Bob", "address": "bob@client.example"}, "cat@client.example"], {}, True,
     "Tracking: 2 external recipients"),
])
def test_auto_insert_says_why_or_why_not(recipients, settings, applies, reason):
    decision = calls.auto_insert(recipients, ORG, settings)["decision"]
    assert (decision["applies"], decision["reason"]) == (applies, reason)


def test_auto_insert_without_an_org_counts_everyone_as_external():
    assert calls.auto_insert(["bob@acme.example"], None, {})["decision"]["applies"] is True


# -- inspect_body --------------------------------------------------------------------

def test_inspect_body_lists_each_trackable_link_once_and_skips_tracked_and_quoted_ones():
    body = ('<div>See <a href="https://acme.example/a">a</a>, <a href="https://acme.example/a">again</a>, '
            '<a href="https://t.example.com/c/Zk3q9aaaaaaaaaaaaaaa">tracked</a>, '
            '<a href="mailto:x@y.example">mail</a></div>'
            '<div class="gmail_quote"><a href="https://quoted.example/">quoted</a></div>')
    assert calls.inspect_body(body, "https://t.example.com") == {
        "kind": "html", "pixel": None, "links": ["https://acme.example/a"], "reason": None}


@pytest.mark.parametrize(("body", "kind", "words"), [
    ("Hi Bob,\nsee you", "plain_text", "plain text"),
    ("{\\rtf1\\ansi Hi}", "rich_text", "Rich Text Format"),
])
def test_inspect_body_explains_why_a_body_cannot_be_tracked(body, kind, words):
    info = calls.inspect_body(body, "t.example.com")
    assert (info["kind"], info["pixel"], info["links"]) == (kind, None, [])
    assert words in info["reason"]
    assert len(info["reason"]) <= 150  # fits an Outlook notification message


def test_inspect_body_finds_the_pixel_of_an_email_tracked_already():
    assert calls.inspect_body(insert_snippet(BODY, PIXEL, "last"), "t.example.com")["pixel"] == PIXEL


# -- tracked_body --------------------------------------------------------------------

def test_tracked_body_rewrites_links_and_puts_one_pixel_where_asked():
    links = [{"url": "https://shop.example.org/pricing", "tracked_url": "https://t.example.com/c/tok1"}]
    first = calls.tracked_body(BODY, PIXEL, "first", links)
    assert find_snippet(first) == PIXEL
    assert first.index("engage-pixel") < first.index("Hi Bob")
    assert 'href="https://t.example.com/c/tok1"' in first
    last = calls.tracked_body(first, PIXEL, "last", links)
    assert last.count('class="engage-pixel"') == 1
    assert last.index("engage-pixel") > last.index("-- Ann")


@pytest.mark.parametrize("where", ["first", "last"])
def test_tracked_body_is_the_same_body_in_either_order_and_from_either_link_format(where):
    """Both clients get one body: the server's link list or a mapping, links rewritten
    then the pixel placed, which is also what placing the pixel first would give."""
    mapping = {"https://acme.example/p?a=1&b=2": "https://t.example.com/c/TrackedTokenAAAAAAAA"}
    listed = [{"url": url, "tracked_url": tracked} for url, tracked in mapping.items()]
    body = calls.tracked_body(REPLY, PIXEL, where, listed)
    assert body == calls.tracked_body(REPLY, PIXEL, where, mapping)
    assert body == insert_snippet(rewrite_links(REPLY, mapping), PIXEL, where)
    assert body == rewrite_links(insert_snippet(REPLY, PIXEL, where), mapping)
    # Only the sender's link: the quoted copy keeps its address.
    assert body.count("TrackedTokenAAAAAAAA") == 1


def test_tracked_body_ignores_links_without_a_tracking_address():
    links = [{"url": "https://shop.example.org/pricing", "tracked_url": None}]
    assert "https://shop.example.org/pricing" in calls.tracked_body(BODY, PIXEL, "last", links)


# -- panel_html ----------------------------------------------------------------------

def test_panel_html_escapes_what_the_server_sends():
    thread = {"thread_id": "t1", "subject": "<img src=x onerror=alert(1)>", "pinned": True,
              "summary": "Not opened yet", "messages": [], "events": [], "latest_message_id": "m1",
              "client": "gmail", "last_activity_at": "2026-01-02T10:00:00Z", "recipients": []}
    result = calls.panel_html({"threads": [thread], "unread": 2, "hidden_by_window": 0},
                              {"time_zone": "UTC"}, {"text": "img"}, "2026-01-02T12:00:00Z")
    assert "&lt;img src=x onerror=alert(1)&gt;" in result["html"]
    assert "<img" not in result["html"]
    assert 'data-unread="2"' in result["html"] and result["unread"] == 2


# -- the envelope --------------------------------------------------------------------

def answer(name, args):
    return json.loads(calls.call(calls.FUNCTIONS, name, json.dumps(args)))


def test_call_takes_positional_or_keyword_arguments_and_answers_the_value():
    positional = answer("inspect_body", [BODY, "t.example.com"])
    keywords = answer("inspect_body", {"body": BODY, "tracking_host": "t.example.com"})
    assert positional == keywords == {"ok": True, "value": calls.inspect_body(BODY, "t.example.com")}


@pytest.mark.parametrize(("name", "args", "code"), [
    ("no_such_function", [], "unknown_function"),
    ("inspect_body", {"wrong": 1}, "bad_call"),
    ("inspect_body", [BODY], "bad_call"),
    ("tracked_body", ["just words", PIXEL, "last", []], "not_html"),  # client_py's own error
    ("auto_insert", [["x@y.example"], "not an org", {}], "bad_call"),
])
def test_call_reports_errors_as_data_with_one_shape(name, args, code):
    reply = answer(name, args)
    assert set(reply) == {"ok", "error"} and reply["ok"] is False
    assert reply["error"]["code"] == code and reply["error"]["message"]


def test_call_reports_a_bug_as_internal_without_raising():
    def broken():
        raise RuntimeError("oops")

    reply = json.loads(calls.call({"broken": broken}, "broken", "[]"))
    assert reply == {"ok": False, "error": {"code": "internal", "message": "broken: RuntimeError: oops"}}


def test_call_rejects_arguments_that_are_not_json():
    reply = json.loads(calls.call(calls.FUNCTIONS, "inspect_body", "[not json"))
    assert reply["error"]["code"] == "bad_call"
