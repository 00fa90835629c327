"""offscreen/engage_bridge.py on CPython: the JSON door into client_py that the
extension's offscreen worker calls in Pyodide. Values in, values out."""

from __future__ import annotations

import json

import pytest

from client_py.links import rewrite_links
from client_py.snippet import build_snippet, insert_snippet

PIXEL = "https://t.example.com/p/AbCdEfGhIjKlMnOpQrSt.gif"


def call(bridge, name, **args):
    return json.loads(bridge.call(name, json.dumps(args)))


def test_call_returns_values_as_json(bridge):
    reply = call(bridge, "badge_text", unread=120)
    assert reply == {"ok": True, "value": "99+"}


@pytest.mark.parametrize(("name", "args", "code"), [
    ("no_such_function", {}, "unknown_function"),
    ("badge_text", {"wrong": 1}, "bad_call"),
    ("plan", {"body": "just words", "pixel_url": PIXEL, "where": "last", "tracked": {}}, "not_html"),
])
def test_call_reports_errors_as_data(bridge, name, args, code):
    reply = call(bridge, name, **args)
    assert reply["ok"] is False and reply["error"]["code"] == code


def test_the_shared_calls_are_client_pys(bridge):
    """auto_insert, inspect_body, tracked_body, panel_html: the same functions the
    Outlook add-in calls (tests/client_py/test_calls.py has their values)."""
    from client_py import calls

    for name, function in calls.FUNCTIONS.items():
        assert bridge.FUNCTIONS[name] is function


def test_call_takes_the_workers_keyword_arguments(bridge):
    reply = call(bridge, "auto_insert", recipients=["rae@prospect.example", "half-typed@"],
                 org={"internal_domains": ["acme.example"]}, settings={"auto_insert": True})
    assert reply["ok"] is True
    assert reply["value"]["rejected"] == ["half-typed@"] and reply["value"]["decision"]["applies"] is True


REPLY = ('<div dir="ltr">Hi <b>Rae</b>,<div><br></div><div>Our <a href="https://acme.example/p?a=1&amp;b=2">prices</a>.'
         '</div></div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Mon, Rae wrote:<br></div>'
         '<blockquote class="gmail_quote"><a href="https://acme.example/p?a=1&amp;b=2">quoted</a></blockquote></div>')


@pytest.mark.parametrize("where", ["first", "last"])
def test_plan_expects_exactly_client_pys_body(bridge, where):
    tracked = {"https://acme.example/p?a=1&b=2": "https://t.example.com/c/TrackedTokenAAAAAAAA"}
    plan = bridge.plan(REPLY, PIXEL, where, tracked)
    assert plan["expected"] == rewrite_links(insert_snippet(REPLY, PIXEL, where), tracked)
    # Only the sender's link is edited: <a> number 0; number 1 is in the quote.
    assert plan["links"] == [{"index": 0, "url": "https://acme.example/p?a=1&b=2",
                              "href": "https://t.example.com/c/TrackedTokenAAAAAAAA"}]
    # First line: before the first child; last line: before the quote (child 2).
    assert plan["insert"] == ([0] if where == "first" else [2])
    assert plan["remove"] == []


def test_plan_describes_the_snippet_as_elements(bridge):
    plan = bridge.plan("<div>Hi</div>", PIXEL, "last", {})
    (span,) = plan["snippet"]
    assert span["tag"] == "span" and [name for name, _ in span["attrs"]] == ["class", "data-engage-pixel", "style"]
    (img,) = span["children"]
    assert img["tag"] == "img" and dict(img["attrs"])["src"] == PIXEL and img["children"] == []


def test_plan_takes_an_old_snippet_out_first(bridge):
    old = "https://t.example.com/p/OldOldOldOldOldOldOld.gif"
    body = f'<div>Hi</div>{build_snippet(old)}<div>Bye</div>'
    plan = bridge.plan(body, PIXEL, "last", {})
    assert plan["remove"] == [[1]]
    assert plan["expected"] == insert_snippet(body, PIXEL, "last")
    assert old not in plan["expected"]


@pytest.mark.parametrize(("body", "offset", "position"), [
    ("<div>a</div><div>b</div>", 0, [0]),
    ("<div>a</div><div>b</div>", 12, [1]),
    ("<div>a</div><div>b</div>", 24, [2]),
    ("<div><p>x</p>tail</div>", 5, [0, 0]),
    ("<div><p>x</p>tail</div>", 13, [0, 1]),
    ("<div><p>x</p>tail</div>", 17, [0, 2]),
    ("text<br>more", 4, [1]),  # between a text and an element
    ("<div>a</div><!-- c --><br><div>b</div>", 22, [2]),
])
def test_dom_position_counts_children_as_the_serialisation_shows_them(bridge, body, offset, position):
    from client_py.htmlscan import tokenize

    assert bridge.dom_position(body, tokenize(body), offset) == position


@pytest.mark.parametrize(("body", "offset"), [
    ("<div>abc</div>", 6),  # inside a text
    ("<div>abc</div>", 2),  # inside a tag
    ("<div><p>x</div>", 14),  # not a browser serialisation: </div> closes an open <p>
])
def test_dom_position_refuses_places_that_are_not_between_children(bridge, body, offset):
    from client_py.htmlscan import tokenize

    assert bridge.dom_position(body, tokenize(body), offset) is None


def test_verify_finds_the_pixel_and_the_tracked_links(bridge):
    tracked = {"https://acme.example/p?a=1&b=2": "https://t.example.com/c/TrackedTokenAAAAAAAA"}
    body = rewrite_links(insert_snippet(REPLY, PIXEL, "last"), tracked)
    assert bridge.verify(body, PIXEL, list(tracked.values()))["ok"] is True
    assert bridge.verify(REPLY, PIXEL, list(tracked.values())) == {
        "ok": False, "pixel": None, "missing_links": ["https://t.example.com/c/TrackedTokenAAAAAAAA"]}


def test_inspect_compose_is_the_two_shared_calls_in_one_answer(bridge):
    from client_py import calls

    body = '<div>See <a href="https://acme.example/a">a</a></div>'
    org, settings = {"internal_domains": ["acme.example"]}, {"auto_insert": True}
    recipients = ["rae@prospect.example", "half-typed@"]
    assert bridge.inspect_compose(body, "https://t.example.com", recipients, org, settings) == {
        "body": calls.inspect_body(body, "https://t.example.com"), **calls.auto_insert(recipients, org, settings)}


@pytest.mark.parametrize("where", ["first", "last"])
def test_prepare_send_plans_before_the_server_answers(bridge, where):
    """One trip to Python at Send: the plan with a placeholder per tracked link; the
    worker's substitution of the server's addresses gives exactly ``plan``'s answer."""
    org, settings = {"internal_domains": ["acme.example"]}, {"auto_insert": True}
    answer = bridge.prepare_send(REPLY, "https://t.example.com", ["rae@prospect.example"], org, settings,
                                 "auto", PIXEL, where, "n0nce")
    assert answer["body"]["links"] == ["https://acme.example/p?a=1&b=2"]
    assert answer["placeholders"] == {"https://acme.example/p?a=1&b=2": "https://engage-link.invalid/n0nce/0/"}
    tracked = {"https://acme.example/p?a=1&b=2": "https://t.example.com/c/TrackedTokenAAAAAAAA"}
    placeholder = answer["placeholders"]["https://acme.example/p?a=1&b=2"]
    filled = answer["plan"]["expected"].replace(placeholder, tracked["https://acme.example/p?a=1&b=2"])
    direct = bridge.plan(REPLY, PIXEL, where, tracked)
    assert filled == direct["expected"]
    assert ([(e["index"], e["url"], e["href"]) for e in answer["plan"]["links"]]
            == [(e["index"], e["url"], placeholder) for e in direct["links"]])
    assert {k: v for k, v in answer["plan"].items() if k not in ("expected", "links")} == {
        k: v for k, v in direct.items() if k not in ("expected", "links")}


@pytest.mark.parametrize(("recipients", "mode", "body"), [
    (["bob@acme.example"], "auto", REPLY),  # a colleague: not tracked, no plan
    (["rae@prospect.example"], "skip", REPLY),
    (["rae@prospect.example"], "auto", "just words"),  # plain text
    (["rae@prospect.example"], "auto", REPLY + '<a href="https://engage-link.invalid/n0nce/">?</a>'),
])
def test_prepare_send_makes_no_plan_when_it_has_none_to_make(bridge, recipients, mode, body):
    answer = bridge.prepare_send(body, "https://t.example.com", recipients, {"internal_domains": ["acme.example"]},
                                 {"auto_insert": True}, mode, PIXEL, "last", "n0nce")
    assert answer["plan"] is None and answer["placeholders"] == {}
