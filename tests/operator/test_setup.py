"""The first-run setup link: printed while nobody can sign in, it creates the org and
its first admin once, then shows how to install Engage for this server."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from .conftest import SETUP_FORM, csrf_of, submit


def test_setup_creates_the_org_and_the_first_admin_then_shows_the_install_steps(app, client, setup_url):
    from server.extensions import db
    from server.models import Org, User

    response = submit(client, setup_url, SETUP_FORM)
    assert response.status_code == 303 and response.headers["Location"] == "/admin/install"
    with app.app_context():
        org = db.session.execute(sa.select(Org)).scalar_one()
        user = db.session.execute(sa.select(User)).scalar_one()
        assert (org.name, org.internal_domains, org.office_ranges) == (
            "Acme", ["acme.example", "sub.acme.example"], ["203.0.113.0/24"])
        assert (user.email, user.name, user.is_admin, user.org_id) == ("ann@acme.example", "Ann Admin", True, org.id)
    page = client.get("/admin/install")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "http://engage.test/addin/manifest.xml" in text  # this server's URL, filled in
    assert 'id="server-url">http://engage.test<' in text
    # The admin is signed in with a token like any other, usable on the API too.
    signin = client.post("/api/v1/auth/signin", json={"email": "ann@acme.example", "password": "correct horse battery"})
    assert signin.status_code == 200 and signin.get_json()["user"]["is_admin"] is True


def test_the_setup_link_works_once(client, setup_url):
    first = client.get(setup_url)
    token = csrf_of(first)
    assert client.post(setup_url, data={"csrf_token": token, **SETUP_FORM}).status_code == 303
    again = client.post(setup_url, data={"csrf_token": token, **SETUP_FORM, "email": "eve@evil.example"})
    assert again.status_code == 404 and "already used" in again.get_data(as_text=True)
    assert client.get(setup_url).status_code == 404


def test_opening_the_setup_link_changes_nothing(app, client, setup_url):
    """Link previews and scanners open links: only submitting the form uses it up."""
    for _ in range(3):
        assert client.get(setup_url).status_code == 200


def test_an_expired_setup_link_is_refused(app, client, setup_url):
    from server.extensions import db
    from server.models import OneTimeLink, utcnow

    with app.app_context():
        db.session.execute(sa.update(OneTimeLink).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert client.get(setup_url).status_code == 404


def test_only_the_latest_printed_setup_link_works(app, client, setup_url):
    from server.admin.links import new_setup_link

    with app.app_context():
        newer = new_setup_link().removeprefix("http://engage.test")
    assert client.get(setup_url).status_code == 404
    assert client.get(newer).status_code == 200


def test_no_setup_link_once_a_user_exists(app, client, setup_url, make_account):
    from server.admin.links import new_setup_link

    make_account()
    with app.app_context():
        assert new_setup_link() is None
    assert client.get(setup_url).status_code == 404  # printed before the CLI made a user


def test_setup_over_plain_http_is_refused_off_loopback(client, setup_url):
    """A one-time secret (and a new admin's password) must not cross a network in clear."""
    remote = {"REMOTE_ADDR": "198.51.100.20"}
    response = client.get(setup_url, environ_base=remote)
    assert response.status_code == 403 and "HTTPS" in response.get_data(as_text=True)
    # A loopback peer that forwards for someone else (a local reverse proxy) is not loopback.
    proxied = client.get(setup_url, headers={"X-Forwarded-For": "198.51.100.20"})
    assert proxied.status_code == 403
    # A loopback peer asked for a public name: a proxy on this machine, not a local browser.
    assert client.get(setup_url, base_url="http://track.example.com").status_code == 403
    # Over HTTPS, from anywhere: fine.
    assert client.get(setup_url, base_url="https://engage.test", environ_base=remote).status_code == 200


def test_setup_form_without_its_csrf_token_is_refused(app, client, setup_url):
    from server.extensions import db
    from server.models import User

    response = client.post(setup_url, data=SETUP_FORM)
    assert response.status_code == 422
    with app.app_context():
        assert db.session.execute(sa.select(User)).first() is None


def test_setup_form_checks_what_it_is_given(app, client, setup_url):
    from server.extensions import db
    from server.models import User

    page = client.get(setup_url)
    cases = {
        "email": "a b@c d", "internal_domains": "not a domain!", "office_ranges": "10.0.0.0/99",
    }
    for field, value in cases.items():
        response = client.post(setup_url, data={"csrf_token": csrf_of(page), **SETUP_FORM, field: value})
        assert response.status_code == 422, field
    short = client.post(setup_url, data={"csrf_token": csrf_of(page), **SETUP_FORM, "password": "short",
                                         "confirm": "short"})
    assert short.status_code == 422 and "at least 8" in short.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(sa.select(User)).first() is None


def test_what_the_operator_types_is_shown_escaped(client, setup_url):
    response = submit(client, setup_url, {**SETUP_FORM, "org_name": "<script>alert(1)</script>"})
    assert response.status_code == 303
    text = client.get("/admin/install").get_data(as_text=True)
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_setup_pages_carry_the_security_headers(client, setup_url):
    response = client.get(setup_url)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    csp = response.headers["Content-Security-Policy"]
    assert "script-src" not in csp and "default-src 'none'" in csp and "form-action 'self'" in csp
    assert response.headers["Cache-Control"] == "no-store"


def test_engage_setup_url_prints_a_link_only_while_nobody_can_sign_in(app, make_account):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["setup-url"])
    assert result.exit_code == 0 and "http://engage.test/setup/" in result.output
    make_account()
    again = runner.invoke(args=["setup-url"])
    assert again.exit_code != 0 and "already has users" in again.output
