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
    ("setAsync over 1,000,000 characters throws (documented: DataExceedsMaximumSize; office-js #6263)", HTML_ITEM,
     "try { item.body.setAsync('a'.repeat(1000001), {coercionType: 'html'}, () => {}); return 'no error'; }"
     " catch (e) { return /OutOfRange/.test(e.message) && __officeDouble.item().body.length < 100; }",
     True),
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
    ("setAsync stores the HTML normalised, as Outlook's editor does", HTML_ITEM,
     "await result((cb) => item.body.setAsync('<p class=x>Hi<b>there', {coercionType: 'html'}, cb));"
     " return __officeDouble.item().body;",
     '<p class="x">Hi<b>there</b></p>'),
    ("appendOnSendAsync content is added when the item is sent, not before", HTML_ITEM,
     "await result((cb) => item.body.appendOnSendAsync('<p>Tail</p>', {coercionType: 'html'}, cb));"
     " const before = __officeDouble.item().body; await __officeDouble.launch('OnMessageSend');"
     " return [before, __officeDouble.item().delivered.body];",
     ["<html><body><div>Hi</div></body></html>", "<html><body><div>Hi</div><p>Tail</p></body></html>"]),
    ("prependOnSendAsync content goes first; null clears what was queued", HTML_ITEM,
     "await result((cb) => item.body.prependOnSendAsync('<p>Top</p>', {coercionType: 'html'}, cb));"
     " await result((cb) => item.body.appendOnSendAsync('<p>Tail</p>', {coercionType: 'html'}, cb));"
     " await result((cb) => item.body.appendOnSendAsync(null, cb));"
     " await __officeDouble.launch('OnMessageSend'); return __officeDouble.item().delivered.body;",
     "<html><body><p>Top</p><div>Hi</div></body></html>"),
    ("appendOnSendAsync inside the send handler is too late for that send (append-on-send docs)", HTML_ITEM,
     "window.sendHandler = (event) => item.body.appendOnSendAsync('<p>Late</p>', {coercionType: 'html'},"
     " (r) => event.completed({allowEvent: true}));"
     " const r = await __officeDouble.launch('OnMessageSend');"
     " return [r.options, __officeDouble.item().delivered.body];",
     [{"allowEvent": True}, "<html><body><div>Hi</div></body></html>"]),
    ("a callback may never be called (office-js #4868, #5845), then the next one is", HTML_ITEM,
     "__officeDouble.hang('body.getAsync', 1);"
     " const first = await Promise.race([result((cb) => item.body.getAsync('html', cb)),"
     " new Promise((r) => setTimeout(() => r('no answer'), 300))]);"
     " const second = await result((cb) => item.body.getAsync('html', cb));"
     " return [first, second.status];",
     ["no answer", "succeeded"]),
    ("Mailbox 1.9 and 1.13 are within 1.14 (versions compare as numbers, not decimals)", HTML_ITEM,
     "const r = Office.context.requirements;"
     " return [r.isSetSupported('Mailbox', '1.9'), r.isSetSupported('Mailbox', '1.13'), r.isSetSupported('Mailbox', '1.15')];",
     [True, True, False]),
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
    page.add_script_tag(content="window.__officeDoubleConfig = {launchEvents: {OnMessageSend: 'sendHandler'}};")
    page.add_script_tag(content=DOUBLE.read_text())
    page.add_script_tag(content="window.result = (start) => new Promise((resolve) => start(resolve));"
                                " Office.actions.associate('sendHandler', (event) => window.sendHandler(event));"
                                " window.sendHandler = (event) => event.completed({allowEvent: true});")
    yield page
    context.close()


@pytest.mark.parametrize(("documented", "item", "script", "expected"), CASES, ids=[c[0] for c in CASES])
def test_double_follows_the_documentation(double_page, documented, item, script, expected):
    value = run(double_page, item, script)
    assert value == expected, documented


def run(page, item: dict, script: str):
    page.evaluate("() => { window.sendHandler = (event) => event.completed({allowEvent: true});"
                  " __officeDouble.setPlatform('OfficeOnline'); }")
    page.evaluate(f"() => __officeDouble.setItem({json.dumps(item)})")
    return page.evaluate(f"async () => {{ const item = Office.context.mailbox.item; {script} }}")


# A reply in Outlook on the web: the sender's text with their signature logo, then the
# quoted message with three inline images (OWA shows them from its attachment service
# and keeps the content id in originalsrc).
def owa_img(cid: str) -> str:
    return f'<img src="https://attachments.office.net/owa/x/{cid}" originalsrc="cid:{cid}" width="40">'


REPLY = ('<html><body><div>Thanks Bob, see below.</div><div id="Signature">-- Ann ' + owa_img("logo.png")
         + '</div><div id="appendonsend"></div><hr><div id="divRplyFwdMsg"><b>From:</b> Bob</div>'
         + '<div>Our plan: ' + owa_img("plan1.png") + owa_img("plan2.png") + owa_img("plan3.png")
         + '</div></body></html>')
REPLY_ITEM = {"body": REPLY, "to": [{"displayName": "Bob", "emailAddress": "bob@x.example"}]}
GET_SET_IN_SEND = ("window.sendHandler = (event) => item.body.getAsync('html', (r) =>"
                   " item.body.setAsync(r.value, {coercionType: 'html'}, () => event.completed({allowEvent: true})));"
                   " await __officeDouble.launch('OnMessageSend'); return __officeDouble.item().delivered;")
MANY = ("<html><body><div>Photos of the site:</div>"
        + "".join(f"<div>Photo {n} {owa_img(f'site{n}.jpg')}</div>" for n in range(1, 13))
        + '<div id="Signature">-- Ann, Acme</div></body></html>')


def test_6808_setasync_in_a_send_handler_blanks_the_quoted_inline_images(double_page):
    delivered = run(double_page, REPLY_ITEM, GET_SET_IN_SEND)
    assert delivered["body"].count("data:image/gif;base64") == 3
    assert "cid:plan1.png" not in delivered["body"] and "cid:logo.png" in delivered["body"]
    assert [a["contentId"] for a in delivered["attachments"]] == ["logo.png"]


def test_the_same_reply_sent_untouched_keeps_its_images(double_page):
    delivered = run(double_page, REPLY_ITEM, "await __officeDouble.launch('OnMessageSend');"
                                             " return __officeDouble.item().delivered;")
    assert delivered["body"] == REPLY
    assert len(delivered["attachments"]) == 4


def test_6944_setasync_of_a_body_with_many_inline_images_drops_its_tail(double_page):
    body = run(double_page, {"body": MANY},
               "await result((cb) => item.body.setAsync(__officeDouble.item().body, {coercionType: 'html'}, cb));"
               " return (await result((cb) => item.body.getAsync('html', cb))).value;")
    assert "Photo 1 " in body and "Photo 12" not in body and "-- Ann, Acme" not in body


def test_4392_getasync_after_setasync_on_a_reply_returns_the_quote_twice(double_page):
    read, stored = run(double_page, REPLY_ITEM,
                       "await result((cb) => item.body.setAsync(__officeDouble.item().body, {coercionType: 'html'}, cb));"
                       " return [(await result((cb) => item.body.getAsync('html', cb))).value,"
                       " __officeDouble.item().body];")
    assert read.count("divRplyFwdMsg") == 2 and stored.count("divRplyFwdMsg") == 1


def test_5430_setasync_on_mac_breaks_inline_images_for_the_recipient(double_page):
    delivered = run(double_page, {"body": "<html><body><div>Hi " + owa_img("site1.jpg") + "</div></body></html>"},
                    "__officeDouble.setPlatform('Mac');"
                    " await result((cb) => item.body.setAsync(__officeDouble.item().body, {coercionType: 'html'}, cb));"
                    " await __officeDouble.launch('OnMessageSend'); return __officeDouble.item().delivered;")
    assert "cid:site1.jpg" in delivered["body"]
    assert delivered["attachments"] == []


def test_onready_resolves_with_outlook_as_host(double_page):
    assert double_page.evaluate("async () => (await Office.onReady()).host") == "Outlook"


def test_3598_an_image_appended_on_send_on_a_mac_drops_the_file_attachments(double_page):
    files = {**HTML_ITEM, "attachments": [{"name": "plan.pdf", "isInline": False}]}
    append = ("await result((cb) => item.body.appendOnSendAsync('<img src=\"https://e.example/p/x.gif\">',"
              " {coercionType: 'html'}, cb)); await __officeDouble.launch('OnMessageSend');"
              " return __officeDouble.item().delivered.attachments.length;")
    assert run(double_page, files, append) == 1
    assert run(double_page, files, "__officeDouble.setPlatform('Mac'); " + append) == 0


def test_2383_saveasync_on_mac_breaks_inline_images_for_the_recipient(double_page):
    delivered = run(double_page, {"body": "<html><body><div>Hi " + owa_img("site1.jpg") + "</div></body></html>"},
                    "__officeDouble.setPlatform('Mac'); await result((cb) => item.saveAsync(cb));"
                    " await __officeDouble.launch('OnMessageSend'); return __officeDouble.item().delivered;")
    assert delivered["attachments"] == []
