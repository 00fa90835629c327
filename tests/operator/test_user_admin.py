"""Admins invite people, list and disable users, reset passwords, and see and revoke
each user's tokens: through the admin pages and through the JSON API."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from tests.fixtures.api import assert_api_error

from .conftest import csrf_of, submit


@pytest.fixture
def boss(make_account):
    return make_account(email="boss@acme.example", admin=True)


def _signed_in_pages(client, account):
    response = submit(client, "/admin/signin", {"email": account.email, "password": account.password})
    assert response.status_code == 303 and response.headers["Location"] == "/admin/users"
    return client


def _invite_via_api(client, boss, email="new@acme.example", **extra):
    response = client.post("/api/v1/admin/invitations", json={"email": email, **extra}, headers=boss.headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["url"].removeprefix("http://engage.test")


def test_an_invited_person_chooses_a_password_once_and_can_sign_in(client, boss):
    path = _invite_via_api(client, boss)
    page = client.get(path)
    assert page.status_code == 200 and "new@acme.example" in page.get_data(as_text=True)
    done = client.post(path, data={"csrf_token": csrf_of(page), "name": "Nina", "password": "new password 1",
                                   "confirm": "new password 1"})
    assert done.status_code == 200 and "manifest.xml" in done.get_data(as_text=True)
    signin = client.post("/api/v1/auth/signin", json={"email": "new@acme.example", "password": "new password 1"})
    assert signin.status_code == 200
    assert signin.get_json()["org"]["name"] == "Acme" and signin.get_json()["user"]["is_admin"] is False
    assert client.get(path).status_code == 404  # once


def test_invitations_refuse_bad_addresses_and_existing_users(client, boss, ann):
    for bad in ("a b@c d", "<script>@x.y", "nobody"):
        response = client.post("/api/v1/admin/invitations", json={"email": bad}, headers=boss.headers)
        assert_api_error(response, 422)
    taken = client.post("/api/v1/admin/invitations", json={"email": ann.email}, headers=boss.headers)
    assert_api_error(taken, 409)


def test_only_admins_manage_users(client, ann):
    assert_api_error(client.get("/api/v1/admin/users", headers=ann.headers), 403)
    assert_api_error(client.post("/api/v1/admin/invitations", json={"email": "x@acme.example"},
                                 headers=ann.headers), 403)
    page = client.get("/admin/users")
    assert page.status_code == 303 and page.headers["Location"].startswith("/admin/signin")
    refused = submit(client, "/admin/signin", {"email": ann.email, "password": ann.password})
    assert refused.status_code == 403


def test_an_admin_never_sees_another_orgs_users(client, boss, bob):
    listed = client.get("/api/v1/admin/users", headers=boss.headers).get_json()["users"]
    assert bob.email not in {u["email"] for u in listed}
    assert_api_error(client.get(f"/api/v1/admin/users/{bob.user_id}/tokens", headers=boss.headers), 404)
    assert_api_error(client.patch(f"/api/v1/admin/users/{bob.user_id}", json={"disabled": True},
                                  headers=boss.headers), 404)


def test_disabling_a_user_refuses_their_tokens_and_their_password(client, boss, ann):
    assert client.get("/api/v1/me", headers=ann.headers).status_code == 200
    response = client.patch(f"/api/v1/admin/users/{ann.user_id}", json={"disabled": True}, headers=boss.headers)
    assert response.status_code == 200 and response.get_json()["disabled"] is True
    assert_api_error(client.get("/api/v1/me", headers=ann.headers), 401)
    signin = client.post("/api/v1/auth/signin", json={"email": ann.email, "password": ann.password})
    assert_api_error(signin, 403)
    client.patch(f"/api/v1/admin/users/{ann.user_id}", json={"disabled": False}, headers=boss.headers)
    assert client.post("/api/v1/auth/signin", json={"email": ann.email, "password": ann.password}).status_code == 200


def test_an_admin_cannot_disable_themselves(client, boss):
    assert_api_error(client.patch(f"/api/v1/admin/users/{boss.user_id}", json={"disabled": True},
                                  headers=boss.headers), 409)


def test_tokens_are_listed_and_revoked_one_by_one(client, boss, ann):
    panel = client.post("/api/v1/auth/signin", json={"email": ann.email, "password": ann.password,
                                                     "label": "web panel"}).get_json()["token"]
    tokens = client.get(f"/api/v1/admin/users/{ann.user_id}/tokens", headers=boss.headers).get_json()["tokens"]
    assert len(tokens) == 2 and all(t["active"] for t in tokens)
    web = next(t for t in tokens if t["label"] == "web panel")
    assert client.delete(f"/api/v1/admin/users/{ann.user_id}/tokens/{web['id']}", headers=boss.headers).status_code == 204
    assert_api_error(client.get("/api/v1/me", headers={"Authorization": f"Bearer {panel}"}), 401)
    assert client.get("/api/v1/me", headers=ann.headers).status_code == 200  # the other one still works
    after = client.get(f"/api/v1/admin/users/{ann.user_id}/tokens", headers=boss.headers).get_json()["tokens"]
    assert {t["label"]: t["active"] for t in after} == {"web panel": False, "": True}


def test_a_password_reset_link_sets_a_new_password_and_signs_out_everywhere(client, boss, ann):
    response = client.post(f"/api/v1/admin/users/{ann.user_id}/password-reset", headers=boss.headers)
    assert response.status_code == 201
    path = response.get_json()["url"].removeprefix("http://engage.test")
    done = submit(client, path, {"password": "a brand new one", "confirm": "a brand new one"})
    assert done.status_code == 200 and "Password changed" in done.get_data(as_text=True)
    assert_api_error(client.get("/api/v1/me", headers=ann.headers), 401)
    assert client.post("/api/v1/auth/signin", json={"email": ann.email, "password": ann.password}).status_code == 401
    assert client.post("/api/v1/auth/signin", json={"email": ann.email, "password": "a brand new one"}).status_code == 200
    assert client.get(path).status_code == 404


def test_the_admin_pages_invite_disable_and_revoke(app, client, boss, ann):
    _signed_in_pages(client, boss)
    users = client.get("/admin/users")
    text = users.get_data(as_text=True)
    assert users.status_code == 200 and ann.email in text and boss.email in text
    invited = client.post("/admin/users", data={"csrf_token": csrf_of(users), "email": "Carl@Acme.example"})
    found = re.search(r'id="invite-url">http://engage.test(/invite/[^<]+)<', invited.get_data(as_text=True))
    assert invited.status_code == 200 and found
    assert "carl@acme.example" in client.get("/admin/users").get_data(as_text=True)  # pending invitations

    page = client.get(f"/admin/users/{ann.user_id}")
    token_ids = re.findall(rf'/admin/users/{ann.user_id}/tokens/(\d+)/revoke', page.get_data(as_text=True))
    assert len(token_ids) == 1
    revoked = client.post(f"/admin/users/{ann.user_id}/tokens/{token_ids[0]}/revoke",
                          data={"csrf_token": csrf_of(page)})
    assert revoked.status_code == 303
    assert_api_error(client.get("/api/v1/me", headers=ann.headers), 401)

    disabled = client.post(f"/admin/users/{ann.user_id}/disable", data={"csrf_token": csrf_of(page)})
    assert disabled.status_code == 303
    assert 'id="status">disabled<' in client.get(f"/admin/users/{ann.user_id}").get_data(as_text=True)


def test_admin_page_actions_need_their_csrf_token(app, client, boss, ann):
    from server.extensions import db
    from server.models import User

    _signed_in_pages(client, boss)
    assert client.post(f"/admin/users/{ann.user_id}/disable").status_code == 400
    assert client.post(f"/admin/users/{ann.user_id}/disable", data={"csrf_token": "forged"}).status_code == 400
    assert client.post("/admin/users", data={"email": "x@acme.example"}).status_code == 422
    with app.app_context():
        assert db.session.get(User, ann.user_id).disabled_at is None


def test_revoking_the_admin_pages_token_signs_the_admin_out(client, boss):
    _signed_in_pages(client, boss)
    page = client.get(f"/admin/users/{boss.user_id}")
    own = re.search(r'\(this session\).*?/tokens/(\d+)/revoke', page.get_data(as_text=True), re.S)
    client.post(f"/admin/users/{boss.user_id}/tokens/{own.group(1)}/revoke", data={"csrf_token": csrf_of(page)})
    assert client.get("/admin/users").status_code == 303


def test_signing_out_of_the_admin_pages_revokes_their_token(client, boss):
    _signed_in_pages(client, boss)
    page = client.get("/admin/users")
    assert client.post("/admin/signout", data={"csrf_token": csrf_of(page)}).status_code == 303
    assert client.get("/admin/users").status_code == 303
    tokens = client.get(f"/api/v1/admin/users/{boss.user_id}/tokens", headers=boss.headers).get_json()["tokens"]
    assert [t["active"] for t in tokens if t["label"] == "admin pages"] == [False]


def test_admin_signin_is_rate_limited(app, client, boss):
    page = client.get("/admin/signin")
    statuses = [client.post("/admin/signin", data={"csrf_token": csrf_of(page), "email": boss.email,
                                                   "password": "wrong password"}).status_code for _ in range(12)]
    assert statuses[:10] == [401] * 10 and statuses[-1] == 429


def test_admin_signin_only_redirects_inside_the_admin_pages(client, boss):
    page = client.get("/admin/signin")
    response = client.post("/admin/signin?next=//evil.example/admin/", data={
        "csrf_token": csrf_of(page), "email": boss.email, "password": boss.password})
    assert response.status_code == 303 and response.headers["Location"] == "/admin/users"
