"""API tokens expire when left unused; every use pushes the expiry back."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from tests.fixtures.api import assert_api_error


def _age(app, account, **times) -> None:
    from server.extensions import db
    from server.models import ApiToken, hash_token, utcnow

    with app.app_context():
        db.session.execute(sa.update(ApiToken).where(ApiToken.token_hash == hash_token(account.token))
                           .values(**{k: utcnow() - v for k, v in times.items()}))
        db.session.commit()


def _last_used(app, account):
    from server.extensions import db
    from server.models import ApiToken, hash_token

    with app.app_context():
        return db.session.execute(sa.select(ApiToken.last_used_at)
                                  .where(ApiToken.token_hash == hash_token(account.token))).scalar_one()


def test_a_token_unused_for_the_idle_period_stops_working(app, client, ann):
    _age(app, ann, created_at=timedelta(days=40), last_used_at=timedelta(days=30, minutes=1))
    err = assert_api_error(client.get("/api/v1/me", headers=ann.headers), 401)
    assert "Sign in again" in err["message"]


def test_a_token_never_used_expires_from_its_creation(app, client, ann):
    _age(app, ann, created_at=timedelta(days=31))
    assert_api_error(client.get("/api/v1/me", headers=ann.headers), 401)


def test_using_a_token_renews_it(app, client, ann):
    from server.models import utcnow

    _age(app, ann, created_at=timedelta(days=90), last_used_at=timedelta(days=29))
    assert client.get("/api/v1/me", headers=ann.headers).status_code == 200
    assert utcnow() - _last_used(app, ann) < timedelta(minutes=1)
    # ... so thirty more days from now, not from its creation.
    _age(app, ann, created_at=timedelta(days=90), last_used_at=timedelta(days=29))
    assert client.get("/api/v1/me", headers=ann.headers).status_code == 200
