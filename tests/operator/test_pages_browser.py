"""An operator's first hour in real Chromium against `engage serve`: the setup link it
prints, the install page, an invitation, the invitee's sign-up, the user's tokens
(revoked with a click), a password reset. A screenshot of each page goes to
test-artifacts/; the pages must run without a single console error (a CSP violation
is one)."""

from __future__ import annotations

import re

import pytest

from tests.fixtures.chromium import browser_fixtures
from tests.live_server import ROOT, LiveServer

pytestmark = pytest.mark.browser
ARTIFACTS = ROOT / "test-artifacts"
playwright_instance, browser = browser_fixtures("module")  # no other test runs beside Playwright


@pytest.fixture
def server(tmp_path, geo_db):
    live = LiveServer(instance=tmp_path, database_url=f"sqlite:///{tmp_path / 'engage.db'}", geo_db=geo_db,
                      workers=1, mode="serve")
    live.start()
    yield live
    live.stop()


def _page(browser, errors: list):
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return page


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"operator-{name}.png"), full_page=True)


def test_first_hour_setup_invite_tokens_and_reset_in_chromium(server, browser):
    chromium = browser
    log = server.log_path.read_text()
    assert "waiting for its first admin" in log
    setup_url = re.search(r"(http://127\.0\.0\.1:\d+/setup/\S+)", log).group(1)
    errors: list[str] = []

    admin = _page(chromium, errors)
    admin.goto(setup_url)
    assert admin.get_by_role("heading", name="Set up Engage").is_visible()
    admin.get_by_label("Organisation name").fill("Acme & Sons")
    admin.get_by_label("Internal email domains").fill("acme.example")
    admin.get_by_label("Office address ranges").fill("203.0.113.0/24")
    admin.get_by_label("Your name").fill("Ann Admin")
    admin.get_by_label("Your email address").fill("ann@acme.example")
    admin.get_by_label("Password", exact=True).fill("correct horse battery")
    admin.get_by_label("Password again").fill("correct horse battery")
    _shot(admin, "1-setup")
    admin.get_by_role("button", name="Create the organisation").click()

    admin.wait_for_url("**/admin/install")
    assert admin.get_by_role("heading", name="Install Engage for Acme & Sons").is_visible()
    assert admin.locator("#manifest-url").inner_text() == f"{server.url}/addin/manifest.xml"
    assert admin.locator("#server-url").inner_text() == server.url
    _shot(admin, "2-install")
    # The link is used up: a second visit is refused.
    other = _page(chromium, errors)
    response = other.goto(setup_url)
    assert response.status == 404
    assert sorted(errors) == sorted([f"404 {setup_url}",
                                     "Failed to load resource: the server responded with a status of 404 (Not Found)"])
    errors.clear()

    admin.get_by_role("link", name="Users").click()
    admin.get_by_label("Email address").fill("bea@acme.example")
    admin.get_by_role("button", name="Create an invitation link").click()
    invite_url = admin.locator("#invite-url").inner_text()
    assert invite_url.startswith(f"{server.url}/invite/")
    _shot(admin, "3-users-invite")

    invitee = _page(chromium, errors)
    invitee.goto(invite_url)
    assert invitee.get_by_text("bea@acme.example").first.is_visible()
    invitee.get_by_label("Your name").fill("Bea")
    invitee.get_by_label("Password", exact=True).fill("bea's own password")
    invitee.get_by_label("Password again").fill("bea's own password")
    _shot(invitee, "4-invitation")
    invitee.get_by_role("button", name="Create my account").click()
    assert invitee.get_by_role("heading", name="Welcome to Engage").is_visible()
    assert invitee.locator("#manifest-url").inner_text() == f"{server.url}/addin/manifest.xml"
    _shot(invitee, "5-welcome")

    # Bea signs in to the web panel (a token labelled as the panel labels it).
    status, body, _ = server.request("POST", "/api/v1/auth/signin", {
        "email": "bea@acme.example", "password": "bea's own password", "label": "web panel"})
    assert status == 200
    bea_token = body["token"]
    assert server.request("GET", "/api/v1/me", token=bea_token)[0] == 200

    admin.get_by_role("link", name="Users").click()
    admin.get_by_role("link", name="bea@acme.example").click()
    row = admin.locator("#tokens tr", has_text="web panel")
    assert "active until" in row.inner_text()
    _shot(admin, "6-user-tokens")
    row.get_by_role("button", name="Revoke").click()
    admin.wait_for_load_state()
    assert "revoked" in admin.locator("#tokens tr", has_text="web panel").inner_text()
    assert server.request("GET", "/api/v1/me", token=bea_token)[0] == 401

    admin.get_by_role("button", name="Create a password reset link").click()
    reset_url = admin.locator("#reset-url").inner_text()
    _shot(admin, "7-reset-link")
    invitee.goto(reset_url)
    invitee.get_by_label("Password", exact=True).fill("bea's newer password")
    invitee.get_by_label("Password again").fill("bea's newer password")
    _shot(invitee, "8-reset")
    invitee.get_by_role("button", name="Change the password").click()
    assert invitee.get_by_role("heading", name="Password changed").is_visible()
    assert server.request("POST", "/api/v1/auth/signin", {
        "email": "bea@acme.example", "password": "bea's newer password"})[0] == 200

    admin.get_by_role("button", name="Disable (and sign out everywhere)").click()
    assert admin.locator("#status").inner_text() == "disabled"
    _shot(admin, "9-user-disabled")
    assert errors == []
