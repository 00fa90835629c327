"""Fixtures of the extension's tests: the built extension, a real Engage server
(granian, SQLite, trusting 127.0.0.1 as its proxy so that the tests can play
recipients and Google's image proxy with X-Forwarded-For), the Gmail double, and
Chromium with the extension loaded, one per test module, signed in as a user of its
own (so counters and threads never mix between modules)."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import pytest

from tests.fixtures.addresses import PASSWORD
from tests.fixtures.chromium import browser_fixtures
from tests.live_server import TRUST_LOCAL_PROXY, LiveServer

from . import harness

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="package")
def extension_dir() -> Path:
    sys.path.insert(0, str(ROOT / "tools"))
    import build_extension

    try:
        folder, _zip = build_extension.build()
    except build_extension.BuildError as error:
        pytest.fail(f"cannot build the extension: {error}")
    return folder


@pytest.fixture(scope="package")
def live(tmp_path_factory, geo_db):
    instance = tmp_path_factory.mktemp("engage")
    server = LiveServer(instance=instance, database_url=f"sqlite:///{instance / 'engage.db'}", geo_db=geo_db,
                        extra_env={**TRUST_LOCAL_PROXY, "ENGAGE_REMINDER_INTERVAL": "1"})  # reminders fire quickly
    server.migrate()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="package")
def fake_gmail():
    fake = harness.FakeGmail()
    yield fake
    fake.close()


playwright_instance, browser = browser_fixtures()  # Playwright and Chromium for this package


class ExtensionSession:
    """One Chromium with the extension, signed in as one user of the live server."""

    def __init__(self, context, server, email, token, fake):
        self.context = context
        self.server = server
        self.email = email
        self.token = token
        self.fake = fake
        self.gmail = None

    def api(self, method, path, body=None):
        status, data, _headers = self.server.request(method, path, body, token=self.token)
        assert status < 400, (status, data)
        return data

    def threads(self, **params):
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return self.api("GET", f"/api/v1/threads?limit=100&{query}")["threads"]

    def thread(self, thread_id):
        return next((t for t in self.threads() if t["thread_id"] == thread_id), None)


@contextlib.contextmanager
def signed_in_session(playwright, extension_dir: Path, profile: Path, server, email: str, token: str, fake,
                      locale: str | None = None):
    """Chromium with the extension, signed in to ``server`` as ``email`` through the
    options page once the engine is ready, with a Gmail tab open; closed afterwards.
    ``locale``: the browser's display language (harness.launch)."""
    context = harness.launch(playwright, extension_dir, profile, fake, locale=locale)
    session = ExtensionSession(context, server, email, token, fake)
    try:
        harness.wait_python_ready(context, harness.options_page(context))
        harness.sign_in(context, server.url, email, PASSWORD)
        session.gmail = harness.open_gmail(context)
        yield session
    finally:
        context.close()


def make_user(server, module_name: str) -> tuple[str, str]:
    slug = module_name.rsplit(".", 1)[-1].replace("test_", "").replace("_", "-")
    email = f"ann-{slug}@acme.example"
    token = server.create_user(email=email, org=f"Acme {slug}", domains=("acme.example",), password=PASSWORD)
    return email, token


@pytest.fixture(scope="module")
def ext(request, live, fake_gmail, extension_dir, playwright_instance, tmp_path_factory):
    """The module's browser, signed in through the options page; a Gmail tab open."""
    email, token = make_user(live, request.module.__name__)
    with signed_in_session(playwright_instance, extension_dir, tmp_path_factory.mktemp("profile"), live, email,
                           token, fake_gmail) as session:
        yield session


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="package")
def plain_browser(browser):
    """Chromium without the extension (the package's ``browser``), for the content
    script's modules on their own."""
    return browser


@pytest.fixture(scope="package")
def bridge():
    """offscreen/engage_bridge.py imported on CPython (no bytecode left in extension/)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("engage_bridge", ROOT / "extension" / "offscreen" / "engage_bridge.py")
    module = importlib.util.module_from_spec(spec)
    dont_write = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = dont_write
    return module


def content_script(name: str) -> str:
    return (ROOT / "extension" / "content" / name).read_text(encoding="utf-8")
