"""Script payloads in subjects, names, addresses, places, URLs and reasons render as text
in real Chromium.

The hosts put ``client_py.render.render_panel``'s HTML into a container with
``innerHTML``. Here that happens in a page with no Content-Security-Policy at all (the
worst case: in Gmail and Outlook a strict CSP would block some payloads even if they
got through), and the page is watched for any sign that markup from data came alive: a
script running, a dialog, an element with an event handler, a resource fetched.

A control proves the watch works: the same kind of payload, inserted unescaped into
another container, must be caught by it.
"""

from __future__ import annotations

import pytest

from tests.fixtures.chromium import browser_fixtures

from client_py.panel import build_panel
from client_py.render import render_panel

ORIGIN = "http://panel.test"
NOW = "2026-11-27T12:00:00Z"
SETTINGS = {"time_zone": "Europe/Paris"}

# Each one tries a different way out of the text or attribute it lands in.
IMG = '<img src=x onerror="window.__xss=(window.__xss||0)+1">'
SCRIPT = "<script>window.__xss=1</script>"
ATTR_BREAK = '"><svg onload="window.__xss=1">'
SQ_ATTR_BREAK = "'><iframe srcdoc=\"<script>parent.__xss=1</script>\"></iframe>"
ALERT = "</span></button><img src=y onerror=alert(1)>"
BASE = '<base href="http://evil.example/"><meta http-equiv="refresh" content="0;url=javascript:alert(1)">'
DETAILS = "<details open ontoggle=alert(1)>"
JS_URL = "javascript:window.__xss=1"
HTTP_URL_BREAK = 'https://prospect.example/"onmouseover="window.__xss=1"x="'
DATA_URL = "data:text/html,<script>alert(1)</script>"

PAYLOADS = [IMG, SCRIPT, ATTR_BREAK, SQ_ATTR_BREAK, ALERT, BASE, DETAILS]


def hostile_panel() -> dict:
    messages = [
        {
            "id": f'm1{ATTR_BREAK}', "thread_id": f"t1{IMG}", "subject": f"Q3 {IMG} {SCRIPT}",
            "recipients": [
                {"name": ATTR_BREAK, "address": "carla@prospect.example"},
                {"name": "", "address": f"'onmouseover='window.__xss=1'@prospect.example"},
                {"name": SQ_ATTR_BREAK, "address": "dan@prospect.example"},
            ],
            "mode": "manual", "client": f"gmail{ATTR_BREAK}", "sequence": DETAILS, "step": 1,
            "sent_at": "2026-11-26T09:00:00Z", "external": True,
        },
        {
            "id": "m2", "thread_id": "t2", "subject": ALERT,
            "recipients": [{"name": BASE, "address": "erin@prospect.example"}],
            "mode": "auto", "client": "outlook", "sequence": None, "step": None,
            "sent_at": "2026-11-26T10:00:00Z", "external": True,
        },
    ]

    def event(n, message_id, **fields):
        base = {"id": f"e{n}", "message_id": message_id, "kind": "open", "at": f"2026-11-27T0{n}:00:00Z",
                "verdict": "human", "reason": "", "country": "France", "region": "Île-de-France",
                "city": "Paris", "device": "desktop", "url": None, "implied": False}
        return {**base, **fields}

    events = [
        event(1, f'm1{ATTR_BREAK}', city=IMG, region=SCRIPT, country=ATTR_BREAK, device=ALERT),
        event(2, f'm1{ATTR_BREAK}', kind="click", url=JS_URL),
        event(3, f'm1{ATTR_BREAK}', kind="click", url=HTTP_URL_BREAK),
        event(4, f'm1{ATTR_BREAK}', kind="click", url=DATA_URL),
        event(5, "m2", verdict="scanner", reason=f"{IMG} {DETAILS}", city=SQ_ATTR_BREAK),
        event(6, "m2", kind="click", url=f"https://prospect.example/{SCRIPT}"),
    ]
    return build_panel(messages, events, [{"thread_id": f"t1{IMG}", "pinned": True}], SETTINGS, now=NOW)


# For this module only: the hostile tests after it run without a live Playwright.
playwright_instance, browser = browser_fixtures("module")


SHELL = "<!doctype html><meta charset=utf-8><title>panel</title><div id=root></div><div id=control></div>"

WATCH = """
() => {
  const root = document.getElementById("root");
  const all = [...root.querySelectorAll("*")];
  return {
    xss: window.__xss === undefined ? null : String(window.__xss),
    handlers: all.flatMap(el => [...el.attributes].filter(a => a.name.toLowerCase().startsWith("on"))
                                   .map(a => `${el.tagName}[${a.name}]`)),
    active: [...root.querySelectorAll("script,iframe,img,svg,object,embed,base,meta,style,link,form,details")]
                .map(el => el.tagName),
    hrefs: [...root.querySelectorAll("[href]")].map(el => el.getAttribute("href")),
    base: document.baseURI,
  };
}
"""


@pytest.mark.browser
def test_payloads_in_panel_data_render_as_text_in_real_chromium(browser):
    html = render_panel(hostile_panel(), SETTINGS, now=NOW)
    context = browser.new_context()
    requests, dialogs = [], []
    context.route("**/*", lambda route: route.fulfill(status=200, body=SHELL, content_type="text/html")
                  if route.request.url == f"{ORIGIN}/" else route.fulfill(status=404, body=""))
    page = context.new_page()
    page.on("request", lambda request: requests.append(request.url))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    try:
        page.goto(f"{ORIGIN}/")
        page.evaluate("html => { document.getElementById('root').innerHTML = html; }", html)
        # The control: an unescaped payload must be caught, and once its error handler
        # has run, any payload that got through in the panel would have run as well.
        page.evaluate("""() => { document.getElementById('control').innerHTML =
            '<img src=control.png onerror="window.__control=1">'; }""")
        page.wait_for_function("window.__control === 1", timeout=10_000)
        page.wait_for_load_state("networkidle")
        page.evaluate("document.getElementById('control').remove()")

        seen = page.evaluate(WATCH)
        assert seen["xss"] is None
        assert dialogs == []
        assert seen["handlers"] == []
        assert seen["active"] == []
        assert seen["base"] == f"{ORIGIN}/"
        assert all(h == "#" or h.startswith(("http://", "https://")) for h in seen["hrefs"]), seen["hrefs"]
        assert HTTP_URL_BREAK.replace('"', "%22") in seen["hrefs"] or HTTP_URL_BREAK in seen["hrefs"]
        assert requests == [f"{ORIGIN}/", f"{ORIGIN}/control.png"]

        # The payloads are there, as text a person can read: expand every thread as the
        # host does on click, then read what is rendered.
        page.evaluate("document.querySelectorAll('ol.engage-events').forEach(ol => { ol.hidden = false; })")
        text = page.inner_text("#root")
        for payload in [IMG, SCRIPT, ALERT, JS_URL, DATA_URL, HTTP_URL_BREAK]:
            assert payload in text, payload
        names = page.locator(".engage-recipients").all_inner_texts()
        assert any(ATTR_BREAK in line and SQ_ATTR_BREAK in line for line in names)
        assert BASE in " ".join(names)
        assert page.locator(".engage-subject").first.inner_text() == f"Q3 {IMG} {SCRIPT}"
        places = page.locator(".engage-place").all_inner_texts()
        assert any(IMG in p and SCRIPT in p and ATTR_BREAK in p for p in places), places
        assert any(SQ_ATTR_BREAK in p for p in places), places
        assert any(IMG in w and DETAILS in w for w in page.locator(".engage-why").all_inner_texts())
        title = page.locator(".engage-recipients").first.get_attribute("title")
        assert "'onmouseover='window.__xss=1'@prospect.example" in title
    finally:
        context.close()
