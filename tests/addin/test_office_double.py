"""The Office.js double itself behaves as Microsoft documents Office.js for Outlook.

Each case runs in a blank Chromium page with tests/addin/office_double.js loaded and
checks one documented behaviour (docs: learn.microsoft.com/javascript/api/outlook,
Office.Body, Office.NotificationMessages, Office.NotificationMessageDetails,
"Insert data in the body when composing an appointment or message in Outlook").
"""

from __future__ import annotations

import json

import pytest

from .conftest import DOUBLE

pytestmark = pytest.mark.browser

HTML_ITEM = {"body": "<html><body><div>Hi</div></body></html>", "to": [{"displayName": "Bob", "emailAddress": "bob@x.example"}]}
TEXT_ITEM = {"format": "text", "body": "Hi Bob"}

# (what is documented, the item, an async JS function of `item` (Office.context.mailbox.item)
#  and `result` (wraps a callback API in a promise of its AsyncResult), expected value)
CASES = [
    ("callbacks run later, never inside the call", HTML_ITEM,
     "let inside = true; const r = result((cb) => item.body.getTypeAsync(cb)); inside = false;"
     " const x = await r; return [inside, x.status, x.value];",
     [False, "succeeded", "html"]),
    ("asyncContext comes back in the result", HTML_ITEM,
     "const x = await result((cb) => item.body.getAsync('html', {asyncContext: {n: 7}}, cb)); return x.asyncContext;",
     {"n": 7}),
    ("getAsync(Html) returns the HTML body", HTML_ITEM,
     "return (await result((cb) => item.body.getAsync(Office.CoercionType.Html, cb))).value;",
     "<html><body><div>Hi</div></body></html>"),
    ("getAsync(Text) of an HTML body is its text", HTML_ITEM,
     "return (await result((cb) => item.body.getAsync(Office.CoercionType.Text, cb))).value;", "Hi"),
    ("setAsync with coercionType Html replaces the body with the HTML", HTML_ITEM,
     "const x = await result((cb) => item.body.setAsync('<p><b>New</b></p>', {coercionType: 'html'}, cb));"
     " return [x.status, __officeDouble.item().body];",
     ["succeeded", "<p><b>New</b></p>"]),
    ("setAsync without coercionType treats the data as text: tags show as text", HTML_ITEM,
     "await result((cb) => item.body.setAsync('<b>New</b>', cb)); return __officeDouble.item().body;",
     "&lt;b&gt;New&lt;/b&gt;"),
    ("setAsync with coercionType Html on a plain-text body fails with InvalidFormatError", TEXT_ITEM,
     "const x = await result((cb) => item.body.setAsync('<b>x</b>', {coercionType: Office.CoercionType.Html}, cb));"
     " return [x.status, x.error.name, __officeDouble.item().body];",
     ["failed", "InvalidFormatError", "Hi Bob"]),
    ("setAsync over 1,000,000 characters fails with DataExceedsMaximumSize", HTML_ITEM,
     "const x = await result((cb) => item.body.setAsync('a'.repeat(1000001), {coercionType: 'html'}, cb));"
     " return [x.status, x.error.name];",
     ["failed", "DataExceedsMaximumSize"]),
    ("prependAsync(Html) puts the content at the beginning of the body", HTML_ITEM,
     "await result((cb) => item.body.prependAsync('<p>Top</p>', {coercionType: 'html'}, cb));"
     " return __officeDouble.item().body;",
     "<html><body><p>Top</p><div>Hi</div></body></html>"),
    ("getTypeAsync of a plain-text message is text", TEXT_ITEM,
     "return (await result((cb) => item.body.getTypeAsync(cb))).value;", "text"),
    ("recipients come as EmailAddressDetails", HTML_ITEM,
     "const x = await result((cb) => item.to.getAsync(cb)); return x.value.map((d) => [d.displayName, d.emailAddress]);",
     [["Bob", "bob@x.example"]]),
    ("getItemIdAsync fails with ItemNotSaved until saveAsync gives an id", HTML_ITEM,
     "const a = await result((cb) => item.getItemIdAsync(cb)); const s = await result((cb) => item.saveAsync(cb));"
     " const b = await result((cb) => item.getItemIdAsync(cb)); return [a.error.name, b.value === s.value && !!s.value];",
     ["ItemNotSaved", True]),
    ("replaceAsync adds a notification whose key is new", HTML_ITEM,
     "await result((cb) => item.notificationMessages.replaceAsync('k', {type: 'errorMessage', message: 'No'}, cb));"
     " return __officeDouble.item().notifications.map((n) => [n.key, n.type, n.message]);",
     [["k", "errorMessage", "No"]]),
    ("removeAsync of an unknown key fails", HTML_ITEM,
     "return (await result((cb) => item.notificationMessages.removeAsync('none', cb))).status;", "failed"),
    ("a sixth notification fails with NumberOfNotificationMessagesExceeded", HTML_ITEM,
     "for (const k of ['a','b','c','d','e']) await result((cb) => item.notificationMessages.addAsync(k, {type: 'progressIndicator', message: k}, cb));"
     " const x = await result((cb) => item.notificationMessages.addAsync('f', {type: 'progressIndicator', message: 'f'}, cb));"
     " return [x.status, x.error.name];",
     ["failed", "NumberOfNotificationMessagesExceeded"]),
    ("a message over 150 characters is an exception (ArgumentOutOfRange)", HTML_ITEM,
     "try { item.notificationMessages.replaceAsync('k', {type: 'errorMessage', message: 'x'.repeat(151)}, () => {}); return 'no error'; }"
     " catch (e) { return /OutOfRange/.test(e.message); }",
     True),
    ("icon and persistent are only for informationalMessage", HTML_ITEM,
     "try { item.notificationMessages.replaceAsync('k', {type: 'errorMessage', message: 'x', persistent: true}, () => {}); return 'no error'; }"
     " catch (e) { return 'thrown'; }",
     "thrown"),
    ("a function command's event records completed(options), once", HTML_ITEM,
     "Office.actions.associate('f', (event) => { event.completed({allowEvent: true}); event.completed(); });"
     " const r = await __officeDouble.invoke('f'); return [r.calls, r.options];",
     [2, {"allowEvent": True}]),
]


@pytest.fixture(scope="module")
def double_page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_content("<!doctype html><html><body></body></html>")
    page.add_script_tag(content="window.__officeDoubleConfig = {};")
    page.add_script_tag(content=DOUBLE.read_text())
    page.add_script_tag(content="window.result = (start) => new Promise((resolve) => start(resolve));")
    yield page
    context.close()


@pytest.mark.parametrize(("documented", "item", "script", "expected"), CASES, ids=[c[0] for c in CASES])
def test_double_follows_the_documentation(double_page, documented, item, script, expected):
    double_page.evaluate(f"() => __officeDouble.setItem({json.dumps(item)})")
    value = double_page.evaluate(f"async () => {{ const item = Office.context.mailbox.item; {script} }}")
    assert value == expected, documented


def test_onready_resolves_with_outlook_as_host(double_page):
    assert double_page.evaluate("async () => (await Office.onReady()).host") == "Outlook"
