"""content/body_edit.js applies client_py's plan to a body with DOM calls only, and the
result serialises exactly to the body client_py computed: for every body in
tests/client_py/bodies (Gmail, Outlook, Apple Mail, Thunderbird, malformed ones), at
the first and the last line. The page enforces Trusted Types, so an innerHTML
assignment in body_edit.js would throw."""

from __future__ import annotations

from pathlib import Path

import pytest

from client_py.links import find_trackable_links

from .conftest import content_script

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
BODIES = sorted((ROOT / "tests" / "client_py" / "bodies").glob("*.html"))
PIXEL = "https://t.example.com/p/PixelTokenAAAAAAAAAA.gif"
PAGE = """<!doctype html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="require-trusted-types-for 'script'; trusted-types test-setup">
</head><body><div id="body" contenteditable="true"></div></body></html>"""


@pytest.fixture(scope="module")
def page(plain_browser):
    page = plain_browser.new_page()
    page.set_content(PAGE)
    page.evaluate("() => { window.setup = trustedTypes.createPolicy('test-setup', {createHTML: (s) => s}); }")
    page.evaluate(content_script("body_edit.js"))
    return page


def load(page, html: str) -> str:
    """Put ``html`` in the editable div (through the page's own policy); its serialisation."""
    return page.evaluate("(html) => { const d = document.getElementById('body');"
                         " d.innerHTML = setup.createHTML(html); return d.innerHTML; }", html)


def apply(page, plan) -> dict:
    return page.evaluate("""(plan) => {
        const d = document.getElementById('body');
        try { const r = EngageBodyEdit.apply(d, plan); return {exact: r.exact, html: d.innerHTML}; }
        catch (e) { return {error: e.message, html: d.innerHTML}; }
    }""", plan)


def tracked_map(body: str) -> dict:
    links = find_trackable_links(body)
    return {link["url"]: f"https://t.example.com/c/Tracked{i:013d}" for i, link in enumerate(links)}


@pytest.mark.parametrize("where", ["first", "last"])
@pytest.mark.parametrize("path", BODIES, ids=[p.stem for p in BODIES])
def test_dom_edits_give_exactly_client_pys_body(page, bridge, path, where):
    serialized = load(page, path.read_text(encoding="utf-8"))
    plan = bridge.plan(serialized, PIXEL, where, tracked_map(serialized))
    result = apply(page, plan)
    assert result.get("error") is None
    assert result["exact"] is True
    assert result["html"] == plan["expected"]


def test_undo_puts_the_body_back_byte_for_byte(page, bridge):
    serialized = load(page, (ROOT / "tests/client_py/bodies/gmail_reply_signature_quote.html").read_text())
    plan = bridge.plan(serialized, PIXEL, "last", tracked_map(serialized))
    page.evaluate("(plan) => { window.edit = EngageBodyEdit.apply(document.getElementById('body'), plan); }", plan)
    assert page.evaluate("() => document.getElementById('body').innerHTML") == plan["expected"]
    page.evaluate("() => window.edit.undo()")
    assert page.evaluate("() => document.getElementById('body').innerHTML") == serialized


def test_a_plan_for_another_body_is_refused_and_nothing_changes(page, bridge):
    plan = bridge.plan('<div><a href="https://a.example/">a</a></div>', PIXEL, "last",
                       {"https://a.example/": "https://t.example.com/c/TrackedAAAAAAAAAAAAA"})
    before = load(page, '<div><a href="https://b.example/">b</a></div>')
    result = apply(page, plan)
    assert result["error"] == "link 0 changed"
    assert result["html"] == before


def test_an_old_snippet_is_replaced_not_duplicated(page, bridge):
    old = "https://t.example.com/p/OldOldOldOldOldOldOld.gif"
    serialized = load(page, f'<div>Hi</div><span class="engage-pixel" data-engage-pixel="1"><img src="{old}" '
                            'width="1" height="1"></span><div>Bye</div>')
    plan = bridge.plan(serialized, PIXEL, "last", {})
    result = apply(page, plan)
    assert result["exact"] and old not in result["html"] and result["html"].count('class="engage-pixel"') == 1


@pytest.mark.parametrize("where", ["first", "last"])
def test_the_drafts_pixel_is_kept_and_only_links_change_at_send(page, bridge, where):
    """The pixel put into the draft at compose time (tracked={}: no link touched), then
    Send's plan with the same pixel: nothing removed or inserted, the links rewritten."""
    serialized = load(page, '<div dir="ltr">Hi, <a href="https://acme.example/x">x</a></div>'
                            '<div class="gmail_signature">Ann</div>')
    draft = bridge.plan(serialized, PIXEL, where, {})
    assert draft["links"] == [] and not draft["keep"]
    drafted = apply(page, draft)
    assert drafted["exact"] and "https://acme.example/x" in drafted["html"]

    send = bridge.plan(drafted["html"], PIXEL, where, tracked_map(drafted["html"]))

    assert send["keep"] and send["remove"] == [] and send["snippet"] == []
    changed = page.evaluate("""(plan) => {
        const r = EngageBodyEdit.apply(document.getElementById('body'), plan);
        return {exact: r.exact, changed: r.changed};
    }""", send)
    assert changed == {"exact": True, "changed": True}
    assert load(page, send["expected"]).count("data-engage-pixel") == 1
    # Another pixel address (a new token): replaced, not kept.
    assert not bridge.plan(drafted["html"], PIXEL.replace("Pixel", "Other"), where, {})["keep"]
