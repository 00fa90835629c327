"""Guessing gets nothing: near-miss API tokens, sign-in guesses, pixel and click tokens.

Timing is not measured (it would be flaky); what makes the comparisons constant-time is
checked by construction instead: the token lookup goes through ``hmac.compare_digest``
on hashes, and an unknown account costs the same password hash work as a wrong password.
"""

from __future__ import annotations

import hashlib
import secrets

import pytest
import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from server.api import account as account_api
from server.api import auth as auth_api
from tests.fixtures.api import assert_api_error
from tests.server.helpers import CHROME_DESKTOP, LONDON, drain, hit_pixel, path_of, register

ME = "/api/v1/me"
SIGNIN = "/api/v1/auth/signin"
LIMIT = 3  # sign-in attempts a minute in these tests: each attempt costs a real password hash
BOTH_DATABASES = pytest.mark.parametrize("backend", ["sqlite", "postgres"])


@pytest.fixture
def backend():
    """SQLite unless a test asks for both: rate limits and page bodies do not depend on it."""
    return "sqlite"


@pytest.fixture
def few_attempts(app):
    app.config["SIGNIN_ATTEMPTS_PER_MINUTE"] = LIMIT


def one_char_changed(token: str, at: int) -> str:
    swap = "A" if token[at] != "A" else "B"
    return token[:at] + swap + token[at + 1:]


NEAR_MISSES = {
    "first-char-changed": lambda t, other: one_char_changed(t, 0),
    "middle-char-changed": lambda t, other: one_char_changed(t, len(t) // 2),
    "last-char-changed": lambda t, other: one_char_changed(t, len(t) - 1),
    "one-char-short": lambda t, other: t[:-1],
    "one-char-long": lambda t, other: t + "A",
    "random-same-length": lambda t, other: secrets.token_urlsafe(32)[:len(t)],
    "own-hash-as-token": lambda t, other: hashlib.sha256(t.encode()).hexdigest(),
    "other-users-hash-as-token": lambda t, other: hashlib.sha256(other.encode()).hexdigest(),
    "upper-cased": lambda t, other: t.upper() if t.upper() != t else t.lower(),
    "huge": lambda t, other: t * 2000,
    "with-nul": lambda t, other: t[:10] + "\x00" + t[10:],
    "percent-encoded": lambda t, other: "".join(f"%{b:02X}" for b in t.encode()),
    "sql-ish": lambda t, other: "' OR '1'='1",
}


@BOTH_DATABASES
@pytest.mark.parametrize("name", sorted(NEAR_MISSES))
def test_a_near_miss_token_gets_the_same_401_as_any_wrong_token(client, ann, name, request):
    other = request.getfixturevalue("bob").token if name.startswith("other-") else ""
    guess = NEAR_MISSES[name](ann.token, other)
    assert guess != ann.token
    wrong = client.get(ME, headers={"Authorization": "Bearer " + guess})
    baseline = client.get(ME, headers={"Authorization": "Bearer " + "x" * 43})
    err = assert_api_error(wrong, 401)
    assert err["code"] == "unauthorized"
    assert wrong.get_json() == baseline.get_json()  # nothing tells a close guess from a wild one
    assert ann.email not in wrong.get_data(as_text=True)


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer ", "Bearer    ", "Token abc", "Basic YTpi", "bearer"])
def test_a_missing_token_is_a_401_asking_to_sign_in(client, ann, header):
    err = assert_api_error(client.get(ME, headers={"Authorization": header} if header else {}), 401)
    assert "Sign in" in err["message"]


@BOTH_DATABASES
def test_a_revoked_token_is_refused(app, client, ann):
    from server.extensions import db
    from server.models import ApiToken, hash_token, utcnow

    with app.app_context():
        row = db.session.execute(sa.select(ApiToken).where(ApiToken.token_hash == hash_token(ann.token))).scalar_one()
        row.revoked_at = utcnow()
        db.session.commit()
    assert_api_error(client.get(ME, headers=ann.headers), 401)


def test_tokens_are_stored_only_as_hashes(app, client, ann):
    from server.extensions import db
    from server.models import ApiToken

    fresh = client.post(SIGNIN, json={"email": ann.email, "password": ann.password}).get_json()["token"]
    with app.app_context():
        stored = db.session.execute(sa.select(ApiToken.token_hash)).scalars().all()
    assert len(fresh) >= 43  # 256 random bits
    assert ann.token not in stored and fresh not in stored
    assert hashlib.sha256(fresh.encode()).hexdigest() in stored


def test_the_token_check_compares_in_constant_time(client, ann, monkeypatch):
    calls = []
    real = auth_api.hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(auth_api.hmac, "compare_digest", spy)
    assert client.get(ME, headers=ann.headers).status_code == 200
    digest = hashlib.sha256(ann.token.encode()).hexdigest()
    assert calls == [(digest, digest)]  # hashes of equal length, never the raw token


def test_an_unknown_account_costs_the_same_password_hash_as_a_wrong_password(client, ann, monkeypatch):
    checked = []
    real = account_api.check_password_hash

    def spy(stored, password):
        checked.append(stored.split("$", 1)[0])
        return real(stored, password)

    monkeypatch.setattr(account_api, "check_password_hash", spy)
    unknown = client.post(SIGNIN, json={"email": "nobody@acme.example", "password": "guess"})
    wrong = client.post(SIGNIN, json={"email": ann.email, "password": "guess"})
    assert unknown.get_json() == wrong.get_json()
    assert_api_error(unknown, 401)
    # Same algorithm and work factors as the hash of a real password.
    method = generate_password_hash("x").split("$", 1)[0]
    assert checked == [method, method]


# --- sign-in rate limits ---------------------------------------------------------------

def signin(client, email, password="guess", ip="198.51.100.7", headers=None):
    return client.post(SIGNIN, json={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": ip}, headers=headers or {})


def assert_limited(resp):
    err = assert_api_error(resp, 429)
    retry_after = int(resp.headers["Retry-After"])
    assert 0 < retry_after <= 61
    assert err["details"]["retry_after"] == retry_after
    assert f"{retry_after} seconds" in err["message"]


def test_one_account_is_limited_whichever_addresses_the_guesses_come_from(client, ann, few_attempts):
    for n in range(LIMIT):
        assert_api_error(signin(client, ann.email, ip=f"203.0.113.{n}"), 401)
    assert_limited(signin(client, ann.email, ip="203.0.113.200"))
    # Even the right password: a guesser must not learn they have found it.
    assert_limited(signin(client, ann.email, ann.password, ip="203.0.113.201"))


@pytest.mark.parametrize("variant", ["ANN@ACME.EXAMPLE", " ann@acme.example", "ann@acme.example\t", "Ann@Acme.Example "])
def test_spelling_the_address_differently_buys_no_new_attempts(client, ann, few_attempts, variant):
    for n in range(LIMIT):
        signin(client, ann.email, ip=f"203.0.113.{n}")
    assert_limited(signin(client, variant, ip="203.0.113.99"))


def test_one_address_is_limited_whichever_accounts_it_tries(client, ann, bob, few_attempts):
    for n in range(LIMIT):
        assert_api_error(signin(client, f"user{n}@acme.example"), 401)
    assert_limited(signin(client, bob.email, "correct horse"))
    # Another address and another account are not affected.
    assert signin(client, bob.email, "correct horse", ip="192.0.2.55").status_code == 200


def test_one_ipv6_subscriber_is_one_address(client, ann, few_attempts):
    for n in range(LIMIT):
        signin(client, f"user{n}@acme.example", ip=f"2001:db8:5:7::{n + 1:x}")
    assert_limited(signin(client, "other@acme.example", ip="2001:db8:5:7:ffff:1:2:3"))
    assert signin(client, "other@acme.example", ip="2001:db8:5:8::1").status_code == 401


def test_a_forged_forwarded_for_header_does_not_reset_the_address_limit(client, ann, few_attempts):
    for n in range(LIMIT):
        signin(client, f"user{n}@acme.example", headers={"X-Forwarded-For": f"192.0.2.{n}"})
    assert_limited(signin(client, "x@acme.example", headers={"X-Forwarded-For": "192.0.2.250"}))


def test_the_limiter_forgets_failures_once_their_window_has_passed(app, client, ann, few_attempts):
    from datetime import timedelta

    from server.extensions import db
    from server.models import SigninFailure, utcnow

    for n in range(LIMIT):
        signin(client, f"user{n}@acme.example")
    assert_limited(signin(client, "x@acme.example"))
    with app.app_context():  # a minute later
        db.session.execute(sa.update(SigninFailure).values(at=utcnow() - timedelta(seconds=61)))
        db.session.commit()
    assert_api_error(signin(client, "late@acme.example"), 401)
    with app.app_context():  # old failures are deleted, not kept forever
        assert db.session.execute(sa.select(sa.func.count()).select_from(SigninFailure)).scalar_one() == 2


def test_failures_are_stored_as_keyed_hashes_only(app, client, ann, few_attempts):
    from server.extensions import db
    from server.models import SigninFailure

    signin(client, ann.email, ip="203.0.113.9")
    with app.app_context():
        keys = db.session.execute(sa.select(SigninFailure.key)).scalars().all()
    assert len(keys) == 2 and not any("203.0.113" in k or "ann" in k for k in keys)


def test_guesses_from_elsewhere_never_lock_the_user_out_of_a_known_device(client, ann, few_attempts):
    """Ten wrong passwords from ten addresses locked the real user out."""
    home = "198.51.100.44"
    assert client.get(ME, headers=ann.headers, environ_base={"REMOTE_ADDR": home}).status_code == 200
    for n in range(LIMIT * 3):
        signin(client, ann.email, ip=f"203.0.113.{n}")
    assert_limited(signin(client, ann.email, ann.password, ip="203.0.113.250"))  # an unknown device
    assert signin(client, ann.email, ann.password, ip=home).status_code == 200   # their own
    # The known device's own wrong passwords still count against its address.
    for _ in range(LIMIT):
        assert_api_error(signin(client, ann.email, ip=home), 401)
    assert_limited(signin(client, ann.email, ann.password, ip=home))


def test_a_successful_sign_in_makes_the_device_known(client, ann, few_attempts):
    assert signin(client, ann.email, ann.password, ip="198.51.100.60").status_code == 200
    for n in range(LIMIT):
        signin(client, ann.email, ip=f"203.0.113.{n}")
    assert signin(client, ann.email, ann.password, ip="198.51.100.60").status_code == 200


@BOTH_DATABASES
def test_the_limit_is_shared_by_every_server_process(app, client, ann, few_attempts, tmp_path, geo_db):
    """Two apps on one database stand for two granian workers (or two machines)."""
    from server.extensions import db
    from tests.fixtures.app import make_app

    other = make_app(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "other", geo_db,
                     SECRET_KEY=app.config["SECRET_KEY"], SIGNIN_ATTEMPTS_PER_MINUTE=LIMIT)
    try:
        for n in range(LIMIT):
            signin(client, ann.email, ip=f"203.0.113.{n}")
        assert_limited(signin(other.test_client(), ann.email, ip="203.0.113.77"))
    finally:
        other.extensions["engage"].spool.close()
        with other.app_context():
            db.engine.dispose()


# --- pixel and click tokens -------------------------------------------------------------

def count_events(app) -> int:
    from server.extensions import db
    from server.models import Event

    drain(app)  # hits go through the spool; store what it holds first
    with app.app_context():
        return db.session.execute(sa.select(sa.func.count()).select_from(Event)).scalar_one()


def test_a_near_miss_pixel_token_looks_exactly_like_a_real_one_and_records_nothing(app, client, ann):
    msg = register(client, ann)
    real_path = path_of(msg["pixel_url"])
    token = real_path.split("/")[-1][:-len(".gif")]
    guesses = [one_char_changed(token, 0), one_char_changed(token, len(token) // 2),
               secrets.token_urlsafe(24)]
    answers = [client.get(f"/p/{g}.gif", headers={"User-Agent": CHROME_DESKTOP}) for g in guesses]
    assert count_events(app) == 0
    real = hit_pixel(client, msg, ip=LONDON)
    assert count_events(app) == 1
    for resp in answers:
        assert (resp.status_code, resp.data, resp.mimetype) == (real.status_code, real.data, real.mimetype)
        assert sorted(resp.headers.keys()) == sorted(real.headers.keys())
        assert "Set-Cookie" not in resp.headers


def test_a_near_miss_click_token_is_a_404_page_and_records_nothing(app, client, ann):
    msg = register(client, ann)
    token = path_of(msg["links"][0]["tracked_url"]).split("/")[-1]
    assert len(token) >= 22  # at least 128 random bits
    for guess in (one_char_changed(token, 0), one_char_changed(token, len(token) - 1), token[:-1],
                  secrets.token_urlsafe(24)):
        resp = client.get(f"/c/{guess}", headers={"User-Agent": CHROME_DESKTOP})
        assert resp.status_code == 404 and resp.mimetype == "text/html"
        assert "Location" not in resp.headers and b"Link not found" in resp.data
    assert count_events(app) == 0
