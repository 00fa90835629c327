"""What the extension's browser tests (and bench/extension_latency.py) drive: the
Gmail-like page and its tiny HTTP server, Chromium with the built extension, and the
extension's own pages.

The Gmail double is served by :class:`FakeGmail` (a local ``http.server``) with Gmail's
Trusted Types CSP header, and the browser sees it at ``https://mail.google.com/``:
every request there is routed (Playwright) to the local server, so the extension's real
content-script match pattern applies. Images in shown messages point at
``https://ci3.googleusercontent.com/meips/...#<original>`` like Gmail's; that host is
routed to :meth:`FakeGmail.proxy_fetch`, which fetches the original as Google's image
proxy would (its user agent, from a Google address, passed as X-Forwarded-For to a
server that trusts 127.0.0.1 as its proxy).

Playwright's sync API runs route handlers only while the test is inside a Playwright
call: wait with ``page.wait_for_timeout`` / ``wait_for_function``, never ``time.sleep``.
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from client_py.snippet import remove_snippet
from tests.fixtures.addresses import GOOGLE_PROXY_IP
from tests.fixtures.agents import GMAIL_PROXY
from tests.fixtures.chromium import launch_chromium
from tests.live_server import recipient_fetch  # noqa: F401  (the tests call it as harness.recipient_fetch)

HERE = Path(__file__).resolve().parent
FAKE_DIR = HERE / "fake_gmail"
GMAIL = "https://mail.google.com/mail/u/0/"
PROXY_HOST = "https://ci3.googleusercontent.com/"
# Gmail's CSP as far as the extension is concerned: Trusted Types enforced, only the
# page's own policy allowed.
GMAIL_CSP = ("require-trusted-types-for 'script'; trusted-types gmail-fake; script-src 'self'; "
             "object-src 'none'; base-uri 'self'; report-uri /_fake/csp-report")


class FakeGmail:
    """The Gmail double's HTTP server: the page (with Gmail's CSP), what it sent, and a
    plain "viewer" page showing a sent email with its images loaded directly."""

    def __init__(self) -> None:
        self.sent: list[dict] = []
        self.csp_reports: list[dict] = []
        self.proxy_fetches: list[dict] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _reply(self, status, body: bytes, content_type: str, headers: dict | None = None):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                path = urlsplit(self.path).path
                if path == "/_fake/gmail.js":
                    return self._reply(200, (FAKE_DIR / "gmail.js").read_bytes(), "text/javascript")
                if path == "/_fake/gmail.css":
                    return self._reply(200, (FAKE_DIR / "gmail.css").read_bytes(), "text/css")
                if path == "/_fake/viewer":
                    index = int(parse_qs(urlsplit(self.path).query)["n"][0])
                    html = fake.sent[index]["html"]
                    page = f"<!doctype html><meta charset=utf-8><title>Sent email</title><body>{html}</body>"
                    return self._reply(200, page.encode(), "text/html; charset=utf-8")
                if path == "/favicon.ico":
                    return self._reply(404, b"", "text/plain")
                page = (FAKE_DIR / "gmail.html").read_bytes()
                return self._reply(200, page, "text/html; charset=utf-8", {"Content-Security-Policy": GMAIL_CSP})

            def do_POST(self):
                path = urlsplit(self.path).path
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length)
                try:
                    payload = json.loads(data or b"{}")
                except ValueError:
                    payload = {"raw": data.decode("utf-8", "replace")}
                with fake._lock:
                    (fake.sent if path == "/_fake/sent" else fake.csp_reports).append(payload)
                self._reply(204, b"", "text/plain")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def wait_sent(self, count: int, timeout: float = 5.0, page=None) -> list[dict]:
        """Wait until ``count`` emails were sent in total; returns them all."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.sent) >= count:
                    return list(self.sent)
            if page is not None:
                page.wait_for_timeout(20)
            else:
                time.sleep(0.02)
        raise AssertionError(f"expected {count} sent emails, got {len(self.sent)}")

    # -- routing in the browser ----------------------------------------------------------
    def route_gmail(self, route) -> None:
        parts = urlsplit(route.request.url)
        target = f"{self.url}{parts.path}{'?' + parts.query if parts.query else ''}"
        route.fulfill(response=route.fetch(url=target))

    def proxy_fetch(self, route) -> None:
        """Google's image proxy: fetch the original with the proxy's agent and address."""
        match = re.match(r"^/meips/([A-Za-z0-9_-]+)=", urlsplit(route.request.url).path)
        if not match:
            route.fulfill(status=404, body=b"")
            return
        token = match.group(1)
        original = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        request = urllib.request.Request(original, headers={
            "User-Agent": GMAIL_PROXY, "X-Forwarded-For": GOOGLE_PROXY_IP})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                body, status, kind = response.read(), response.status, response.headers.get_content_type()
        except urllib.error.URLError as error:
            body, status, kind = b"", getattr(error, "code", 502), "text/plain"
        with self._lock:
            self.proxy_fetches.append({"url": original, "status": status, "at": time.time()})
        route.fulfill(status=status, body=body, content_type=kind)


def launch(playwright, extension_dir: Path, profile_dir: Path, fake: FakeGmail, viewport=(1280, 900),
           locale: str | None = None):
    """Chromium with the extension loaded, Gmail and Google's image proxy routed.

    ``locale`` (``de-DE``) is the browser's display language, as a user's Chrome in
    German has it: the UI language (``--lang``, and ``LANGUAGE`` which Chromium reads on
    Linux) that chrome.i18n follows, and the pages' ``navigator.language``."""
    language = {}
    if locale:
        language = {"locale": locale, "env": {**os.environ, "LANGUAGE": locale.replace("-", "_")},
                    "args": (f"--lang={locale}",)}
    context = launch_chromium(playwright, extension=extension_dir, profile=profile_dir,
                              viewport={"width": viewport[0], "height": viewport[1]}, **language)
    context.route("https://mail.google.com/**", fake.route_gmail)
    context.route(f"{PROXY_HOST}**", fake.proxy_fetch)
    return context


def worker(context, timeout: float = 10.0):
    """The extension's service worker (the newest, if Chrome restarted it)."""
    workers = [w for w in context.service_workers if w.url.startswith("chrome-extension://")]
    if workers:
        return workers[-1]
    return context.wait_for_event("serviceworker", timeout=timeout * 1000)


def extension_id(context) -> str:
    return urlsplit(worker(context).url).netloc


def sw_eval(context, expression: str, arg=None):
    """Evaluate in the service worker, retrying once if Chrome replaced it meanwhile."""
    for attempt in range(2):
        try:
            return worker(context).evaluate(expression, arg)
        except Exception:
            if attempt:
                raise
            time.sleep(0.2)
    return None


def diagnostics(context) -> dict:
    return sw_eval(context, "() => chrome.storage.session.get(null)")


def badge_text(context) -> str:
    return sw_eval(context, "() => chrome.action.getBadgeText({})")


def wait_until(page, check, timeout: float = 10.0, interval_ms: int = 25, what: str = "condition"):
    """Poll ``check()`` (Python) while letting Playwright run route handlers."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        page.wait_for_timeout(interval_ms)


def wait_python_ready(context, page, timeout: float = 60.0) -> dict:
    def ready():
        python = (diagnostics(context) or {}).get("python")
        if python and python.get("state") == "failed":
            raise AssertionError(f"Pyodide failed in the extension: {python.get('error')}")
        return python if python and python.get("state") == "ready" else None
    return wait_until(page, ready, timeout, 100, "Pyodide in the offscreen document")


def options_page(context, wait_s: float = 3.0):
    """The options page: the one Chrome opened on install, else a new one."""
    url = f"chrome-extension://{extension_id(context)}/options/options.html"
    deadline = time.monotonic() + wait_s
    while True:
        for page in context.pages:
            if page.url.startswith(url):
                page.wait_for_load_state()
                return page
        if time.monotonic() > deadline:
            break
        try:  # lets Playwright see pages opened meanwhile (the sync API is event-driven)
            context.wait_for_event("page", timeout=100)
        except Exception:
            pass
    page = context.new_page()
    page.goto(url)
    return page


def submit_sign_in(page, server_url: str, email: str, password: str) -> None:
    """Fill in the options page's sign-in form and press its button, as a user would."""
    page.fill("#server", server_url)
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#signin-button")


def sign_in(context, server_url: str, email: str, password: str):
    """Sign in through the options page, as a user would; returns that page."""
    page = options_page(context)
    submit_sign_in(page, server_url, email, password)
    page.wait_for_selector("#account:not([hidden])", timeout=15000)
    return page


def save_settings(context, **changes) -> None:
    """Change settings through the options page, as a user would, and wait for "Saved"."""
    page = options_page(context)
    page.reload()
    page.wait_for_selector("#settings:not([hidden])")
    for key, value in changes.items():
        if key in ("auto_insert", "notify_on_open"):
            page.set_checked(f"#{key}", value)
        elif key == "insert_at":
            page.check(f"input[name='insert_at'][value='{value}']")
        elif key == "blocklist":
            page.fill("#blocklist", "\n".join(value))
        elif key == "time_zone":
            page.fill("#time_zone", value)
        elif key == "notify_mode":
            page.check(f"input[name='notify_mode'][value='{value}']")
        elif key == "digest_hour":
            page.select_option("#digest_hour", str(value))
        elif key in ("quiet_start", "quiet_end"):
            page.fill(f"#{key}", value or "")
        else:
            raise ValueError(f"no such setting on the options page: {key}")
    page.click("#save")
    page.wait_for_selector("#settings-status[data-kind='ok']", timeout=10000)


# The Gmail double's editor: "draft" models Gmail's (its own copy of the body, saved
# while the user types, sent at Send); "dom" is the kindest Gmail, reading innerHTML.
EDITOR_MODES = ("draft", "dom")


def open_gmail(context, hash_: str = "#inbox", editor: str = "draft", hl: str | None = None):
    page = context.new_page()
    query = f"?editor={editor}" + (f"&hl={hl}" if hl else "")
    page.goto(f"{GMAIL}{query}{hash_}")
    page.wait_for_function("document.documentElement.dataset.fakeGmailReady === 'true'")
    return page


def open_side_panel(context, size=(400, 860)):
    page = context.new_page()
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.goto(f"chrome-extension://{extension_id(context)}/sidepanel/sidepanel.html")
    return page


def compose_selector(compose_id: str) -> str:
    return f'[data-test-compose="{compose_id}"]'


PIXEL_RE = re.compile(r'<img src="(http://127\.0\.0\.1:\d+/p/[A-Za-z0-9_-]+\.gif)"')


def pixel_of(html: str) -> str | None:
    match = PIXEL_RE.search(html)
    return match.group(1) if match else None


# -- composing in the Gmail double ------------------------------------------------------
RAE = {"name": "Rae Prospect", "address": "rae@prospect.example"}
BOB = {"name": "Bob Builder", "address": "bob@acme.example"}  # a colleague (acme.example)
SEED_THREAD = "18c2f0a1b2c3d4e5"  # "Pricing for Q3" from Rae, in the Gmail double


class Compose:
    """One compose window of the Gmail double, driven like a user would."""

    def __init__(self, ext, compose_id: str):
        self.ext = ext
        self.page = ext.gmail
        self.id = compose_id
        self.sel = compose_selector(compose_id)

    @classmethod
    def new(cls, ext, to=(), subject="", body=None, text="Hello"):
        options = {"to": list(to), "subject": subject, "text": text}
        if body is not None:
            options["bodyHtml"] = body + ext.gmail.evaluate("() => fakeGmail.signature")
        return cls(ext, ext.gmail.evaluate("(o) => fakeGmail.compose(o)", options))

    @classmethod
    def reply(cls, ext, thread_id, kind="reply", text="Thanks, here it is."):
        return cls(ext, ext.gmail.evaluate(f"([t, x]) => fakeGmail.{kind}(t, x)", [thread_id, text]))

    def toggle(self):
        return self.page.locator(f"{self.sel} .engage-toggle")

    def wait_toggle(self, tracked: bool, state: str | None = None):
        """The toggle says what will happen; a tracked email's draft has its pixel by then
        (content/draft_pixel.js), taken by Gmail's editor."""
        extra = f"[data-engage-state='{state}']" if state else ""
        extra += "[data-engage-decided='true']"
        self.page.wait_for_selector(
            f"{self.sel} .engage-toggle[data-engage-tracked='{'true' if tracked else 'false'}']{extra}", timeout=10000)
        if tracked:
            self.wait_draft_pixel()

    def wait_draft_pixel(self, present: bool = True) -> str | None:
        """Wait until Gmail's editor has (or no longer has) the draft's pixel; its URL."""
        self.page.wait_for_function(
            """([id, present]) => {
                const saved = fakeGmail.saved(id);
                return saved === fakeGmail.body(id) && saved.includes('data-engage-pixel') === present;
            }""", arg=[self.id, present], timeout=10000)
        return pixel_of(self.saved()) if present else None

    def user_body(self) -> str:
        """The body as the user wrote it: without the draft's pixel."""
        return remove_snippet(self.body())

    def body(self) -> str:
        return self.page.evaluate("(id) => fakeGmail.body(id)", self.id)

    def saved(self) -> str:
        """The body as Gmail's editor has it (what it saves and, in "draft" mode, sends)."""
        return self.page.evaluate("(id) => fakeGmail.saved(id)", self.id)

    def drafts(self) -> list[str]:
        return self.page.evaluate("(id) => fakeGmail.drafts(id)", self.id)

    def type_recipient(self, field: str, address: str):
        box = self.page.locator(f"{self.sel} [name='{field}'] input.agP")
        box.fill(address)
        box.press("Enter")

    def send(self, how: str = "click") -> tuple[dict, dict]:
        """Send; return (what Gmail sent, the send path's outcome)."""
        before_sent = len(self.ext.fake.sent)
        before_outcomes = outcomes(self.ext)
        self.page.bring_to_front()
        if how == "click":
            self.page.click(f"{self.sel} div.T-I.aoO")
        elif how == "shortcut":
            self.page.click(f"{self.sel} div[g_editable='true']")
            self.page.keyboard.press("Control+Enter")
        sent = self.ext.fake.wait_sent(before_sent + 1, page=self.page)
        record = next(s for s in sent[before_sent:] if s["composeId"] == self.id)
        outcome = wait_until(self.page, lambda: new_outcomes(self.ext, before_outcomes),
                             what="the send outcome")[-1]
        return record, outcome


def outcomes(ext) -> list[dict]:
    return (diagnostics(ext.context) or {}).get("sendTimings", [])


def new_outcomes(ext, before: list[dict]) -> list[dict]:
    """The outcomes reported since ``before`` was read. The worker keeps only the last
    50, so a count would stop growing; each outcome's timings make it unique."""
    return [o for o in outcomes(ext) if o not in before]


def registered(ext, message_id: str) -> dict:
    return ext.api("GET", f"/api/v1/messages/{message_id}")


