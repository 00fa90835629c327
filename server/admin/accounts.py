"""What admins do to accounts, shared by the admin pages and the JSON API.

Every function works inside the caller's org (an admin never sees another org's
users) and commits."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from ..errors import ApiError
from ..extensions import db
from ..models import ApiToken, OneTimeLink, Org, User, hash_token, new_token, utcnow
from . import links


class LinkUsed(Exception):
    """The one-time link was used (or expired) while the form was being filled in."""


def token_expiry(token: ApiToken) -> datetime:
    from flask import current_app
    from datetime import timedelta

    return (token.last_used_at or token.created_at) + timedelta(days=current_app.config["TOKEN_IDLE_DAYS"])


def issue_token(user: User, label: str) -> str:
    token = new_token(32)
    db.session.add(ApiToken(user_id=user.id, token_hash=hash_token(token), label=label[:200]))
    return token


def _revoke_all(user: User) -> None:
    db.session.execute(sa.update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                       .values(revoked_at=utcnow()))


def _email_taken(email: str) -> bool:
    return db.session.execute(sa.select(User.id).where(sa.func.lower(User.email) == email.lower())).first() is not None


def complete_setup(link: OneTimeLink, *, org_name: str, domains: list[str], ranges: list[str],
                   name: str, email: str, password: str) -> User:
    if not links.use_up(link) or links.any_user():
        db.session.rollback()
        raise LinkUsed()
    org = Org(name=org_name.strip(), internal_domains=domains, office_ranges=ranges)
    user = User(org=org, email=email, name=name.strip(), is_admin=True,
                password_hash=generate_password_hash(password), settings={})
    db.session.add_all([org, user])
    db.session.commit()
    return user


def invite(admin: User, email: str, is_admin: bool) -> tuple[OneTimeLink, str]:
    if _email_taken(email):
        raise ApiError(409, f"{email} already has an account.", code="user_exists")
    # A new invitation for the same address replaces the old ones.
    db.session.execute(sa.delete(OneTimeLink).where(
        OneTimeLink.purpose == "invite", OneTimeLink.org_id == admin.org_id,
        OneTimeLink.email == email, OneTimeLink.used_at.is_(None)))
    row, secret = links.issue("invite", org_id=admin.org_id, created_by_id=admin.id, email=email, is_admin=is_admin)
    db.session.commit()
    return row, links.link_url("invite", secret)


def pending_invites(admin: User) -> list[OneTimeLink]:
    return list(db.session.execute(
        sa.select(OneTimeLink).where(OneTimeLink.purpose == "invite", OneTimeLink.org_id == admin.org_id,
                                     OneTimeLink.used_at.is_(None), OneTimeLink.expires_at > utcnow())
        .order_by(OneTimeLink.created_at.desc())).scalars())


def accept_invite(link: OneTimeLink, *, name: str, password: str) -> User:
    if not links.use_up(link):
        db.session.rollback()
        raise LinkUsed()
    if _email_taken(link.email):
        db.session.rollback()
        raise ApiError(409, f"{link.email} already has an account.", code="user_exists")
    user = User(org_id=link.org_id, email=link.email, name=name.strip(), is_admin=link.is_admin,
                password_hash=generate_password_hash(password), settings={})
    db.session.add(user)
    db.session.commit()
    return user


def reset_link(admin: User, user: User) -> str:
    db.session.execute(sa.delete(OneTimeLink).where(
        OneTimeLink.purpose == "reset", OneTimeLink.user_id == user.id, OneTimeLink.used_at.is_(None)))
    _, secret = links.issue("reset", org_id=user.org_id, user_id=user.id, created_by_id=admin.id, email=user.email)
    db.session.commit()
    return links.link_url("reset", secret)


def complete_reset(link: OneTimeLink, password: str) -> User:
    if not links.use_up(link) or link.user is None:
        db.session.rollback()
        raise LinkUsed()
    user = link.user
    user.password_hash = generate_password_hash(password)
    _revoke_all(user)  # a reset is for a forgotten or stolen password: sign out everywhere
    db.session.commit()
    return user


def org_users(admin: User) -> list[User]:
    return list(db.session.execute(
        sa.select(User).where(User.org_id == admin.org_id).order_by(sa.func.lower(User.email))).scalars())


def org_user(admin: User, user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.org_id != admin.org_id:
        raise ApiError(404, "No such user in your organisation.")
    return user


def active_token_counts(admin: User) -> dict[int, int]:
    rows = db.session.execute(
        sa.select(ApiToken.user_id, sa.func.count()).join(User, User.id == ApiToken.user_id)
        .where(User.org_id == admin.org_id, ApiToken.revoked_at.is_(None)).group_by(ApiToken.user_id))
    return {user_id: count for user_id, count in rows}


def tokens_of(user: User) -> list[ApiToken]:
    return list(db.session.execute(
        sa.select(ApiToken).where(ApiToken.user_id == user.id)
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc())).scalars())


def set_disabled(admin: User, user: User, disabled: bool) -> None:
    if user.id == admin.id and disabled:
        raise ApiError(409, "You cannot disable your own account.", code="own_account")
    if disabled:
        user.disabled_at = user.disabled_at or utcnow()
        _revoke_all(user)
    else:
        user.disabled_at = None
    db.session.commit()


def revoke_token(user: User, token_id: int) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise ApiError(404, "No such token for this user.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.commit()
    return token
