"""Browser fixtures for the Outlook add-in: a real Engage server (granian, SQLite, a
small geolocation database), the add-in built by tools/build_addin.py, and Debian's
Chromium driven by Playwright, with tests/addin/office_double.js answering in place
of Microsoft's Office.js CDN script."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.fixtures.addresses import LONDON, PASSWORD, USER
from tests.fixtures.agents import CHROME_WINDOWS
from tests.fixtures.chromium import browser_fixtures
from tests.live_server import TRUST_LOCAL_PROXY, LiveServer, recipient_fetch

ROOT = Path(__file__).resolve().parents[2]
OFFICE_JS = "https://appsforoffice.microsoft.com/**"
DOUBLE = Path(__file__).with_name("office_double.js")
ARTIFACTS = ROOT / "test-artifacts"
NS = {"bt": "http://schemas.microsoft.com/office/officeappbasictypes/1.0",
      "o11": "http://schemas.microsoft.com/office/mailappversionoverrides/1.1"}


@pytest.fixture(scope="package")
def addin_build() -> Path:
    result = subprocess.run([sys.executable, "tools/build_addin.py"], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, f"tools/build_addin.py failed:\n{result.stdout}{result.stderr}"
    return Path(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="package")
def live(addin_build, geo_db, tmp_path_factory):
    for attempt in range(3):
        instance = tmp_path_factory.mktemp("addin-server")
        server = LiveServer(instance=instance, database_url=f"sqlite:///{instance / 'engage.db'}", geo_db=geo_db,
                            extra_env={**TRUST_LOCAL_PROXY, "ENGAGE_REMINDER_INTERVAL": "1"})
        server.migrate()
        server.token = server.create_user(email=USER, org="Acme", domains=("acme.example",), password=PASSWORD)
        server.start()
        # The port was free when chosen, but granian binds with SO_REUSEPORT: a server of
        # another test run that picked the same port would silently share it. Ours is the
        # only one answering if it knows our token on every connection.
        if server.proc.poll() is None and all(
                server.request("GET", "/api/v1/me", token=server.token)[0] == 200 for _ in range(8)):
            break
        server.stop()
    else:
        pytest.fail("could not start an Engage server on a free port")
    yield server
    server.stop()


@pytest.fixture(scope="package")
def manifest(live) -> ET.Element:
    status, body, _ = live.request("GET", "/addin/manifest.xml")
    assert status == 200
    return ET.fromstring(body)


@pytest.fixture(scope="package")
def launch_events(manifest) -> dict:
    """LaunchEvent Type -> FunctionName, as the served manifest says."""
    return {e.get("Type"): e.get("FunctionName") for e in manifest.iter(f"{{{NS['o11']}}}LaunchEvent")}


playwright_instance, browser = browser_fixtures()  # Chromium for this package


def outlook_context(browser, live, launch_events, *, token: str | None, item: dict | None = None,
                    office: bool = True, outlook: dict | None = None, **context_options):
    """A browser context where Office.js is the double (or unreachable, office=False)
    and, with ``token``, the user is signed in. ``outlook`` configures the double
    (displayLanguage, platform, mailboxVersion, userProfile, hang)."""
    context = browser.new_context(viewport={"width": 360, "height": 720}, timezone_id="Europe/London",
                                  **context_options)
    if office:
        double = DOUBLE.read_text()
        context.route(OFFICE_JS, lambda route: route.fulfill(status=200, body=double,
                                                             content_type="text/javascript"))
        config = {"item": item or {}, "launchEvents": launch_events, **(outlook or {})}
        context.add_init_script(f"window.__officeDoubleConfig = {json.dumps(config)};")
    else:
        context.route(OFFICE_JS, lambda route: route.abort("internetdisconnected"))
    if token:
        context.add_init_script(
            f"if (location.origin === {json.dumps(live.url)}) localStorage.setItem('engage.token', {json.dumps(token)});")
    return context


def open_commands(context, live, path: str = "/addin/commands/commands.html"):
    """The commands page once it has associated its handlers with Office (the double);
    its engine may still be starting."""
    page = context.new_page()
    page.goto(live.url + path)
    page.wait_for_function("() => window.__officeDouble && __officeDouble.associations().length > 0")
    return page


def open_runtime(context, live):
    """commands.html with its engine booted."""
    page = context.new_page()
    page.goto(f"{live.url}/addin/commands/commands.html")
    page.wait_for_function("() => window.EngageApi && EngageApi.engineState() !== 'starting'", timeout=60000)
    assert page.evaluate("() => EngageApi.engineState()") == "ready"
    return page


@pytest.fixture(scope="module")
def context(browser, live, launch_events):
    """A signed-in Outlook page context per test module (modules may define their own)."""
    context = outlook_context(browser, live, launch_events, token=live.token)
    yield context
    context.close()


@pytest.fixture(scope="module")
def runtime(context, live):
    """The add-in's UI-less runtime page in that context."""
    return open_runtime(context, live)


def hit_pixel(live, url: str, user_agent: str = CHROME_WINDOWS, ip: str = LONDON) -> int:
    """The recipient's mail app loading the tracking image (or following a tracked
    link: its redirect is not followed), through a trusted proxy. Returns the status."""
    return recipient_fetch(url, ip=ip, user_agent=user_agent)[0]
