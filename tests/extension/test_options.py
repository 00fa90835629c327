"""The options page: signing in (and the ways it fails), the user's settings read
from and saved to the server, the status of the engine and the stream, signing out."""

from __future__ import annotations

import pytest

from tests.live_server import free_port

from . import harness
from .conftest import PASSWORD, make_user

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def account(live):
    email, token = make_user(live, __name__)
    return {"email": email, "token": token}


@pytest.fixture(scope="module")
def context(live, fake_gmail, extension_dir, playwright_instance, tmp_path_factory):
    context = harness.launch(playwright_instance, extension_dir, tmp_path_factory.mktemp("profile"), fake_gmail)
    yield context
    context.close()


@pytest.fixture(scope="module")
def page(context):
    page = harness.options_page(context)
    harness.wait_python_ready(context, page)
    return page


def attempt(page, server, email, password):
    harness.submit_sign_in(page, server, email, password)
    page.wait_for_function("() => !document.getElementById('signin-button').disabled")


@pytest.mark.parametrize(("server", "password", "message"), [
    ("LIVE", "not the password", "Wrong email or password."),
    ("http://127.0.0.1:{port}", PASSWORD, "Cannot reach the Engage server at http://127.0.0.1:{port}."),
    ("not a server", PASSWORD, '"not a server" is not a web address.'),
])
def test_sign_in_failures_say_what_went_wrong(page, live, account, server, password, message):
    port = free_port()
    target = live.url if server == "LIVE" else server.format(port=port)
    attempt(page, target, account["email"], password)
    assert page.locator("#signin-status").inner_text() == message.format(port=port)
    assert page.locator("#signin-status").get_attribute("data-kind") == "error"
    assert page.locator("#account").is_hidden()


def test_sign_in_shows_the_account_its_settings_and_the_engine(page, context, live, account):
    attempt(page, f"{live.url}/", account["email"], PASSWORD)
    page.wait_for_selector("#account:not([hidden])")
    assert page.locator("#account-email").inner_text() == account["email"]
    assert page.locator("#account-server").inner_text() == live.url  # normalised, no trailing slash
    assert "acme.example" in page.locator("#account-domains").inner_text()
    assert page.locator("#password").input_value() == ""  # not kept on the page
    assert page.locator("#auto_insert").is_checked()
    assert not page.locator("#notify_on_open").is_checked()
    assert page.locator("input[name='insert_at'][value='last']").is_checked()
    assert page.locator("#health-python").inner_text().startswith("Ready (started in ")
    harness.wait_until(page, lambda: (page.reload(), page.locator("#health-stream").inner_text())[1] == "Connected",
                       10, 200, "the live stream")
    # The token is stored by the worker, and the pixel rule points at this server.
    stored = harness.sw_eval(context, "() => chrome.storage.local.get('session')")["session"]
    assert stored["serverUrl"] == live.url and len(stored["token"]) > 20
    rules = harness.sw_eval(context, "() => chrome.declarativeNetRequest.getDynamicRules()")
    assert [r["condition"]["urlFilter"] for r in rules] == [f"|{live.url}/p/"]


def test_settings_are_saved_on_the_server(page, live, account):
    page.set_checked("#auto_insert", False)
    page.set_checked("#notify_on_open", True)
    page.check("input[name='insert_at'][value='first']")
    page.fill("#blocklist", "Partner.example\n  someone@client.example  \n\n")
    page.fill("#time_zone", "Europe/Paris")
    page.click("#save")
    page.wait_for_selector("#settings-status[data-kind='ok']")
    status, settings, _ = live.request("GET", "/api/v1/settings", token=account["token"])
    assert status == 200
    assert {k: settings[k] for k in ("auto_insert", "notify_on_open", "insert_at", "blocklist", "time_zone")} == {
        "auto_insert": False, "notify_on_open": True, "insert_at": "first",
        "blocklist": ["partner.example", "someone@client.example"], "time_zone": "Europe/Paris"}
    page.reload()
    page.wait_for_selector("#settings:not([hidden])")
    assert page.locator("#blocklist").input_value() == "partner.example\nsomeone@client.example"


def test_a_setting_the_server_refuses_is_explained(page):
    page.fill("#time_zone", "Mars/Olympus_Mons")
    page.click("#save")
    page.wait_for_selector("#settings-status[data-kind='error']")
    assert "Mars/Olympus_Mons" in page.locator("#settings-status").inner_text()


def test_sign_out_forgets_the_token_and_the_pixel_rule(page, context):
    page.click("#signout")
    page.wait_for_selector("#signin:not([hidden])")
    assert harness.sw_eval(context, "() => chrome.storage.local.get('session')") == {}
    assert harness.sw_eval(context, "() => chrome.declarativeNetRequest.getDynamicRules()") == []
    assert harness.badge_text(context) == ""
