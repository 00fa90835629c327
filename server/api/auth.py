"""Bearer-token authentication and the sign-in limit (shared through the database)."""

from __future__ import annotations

import hmac
import ipaddress
from datetime import timedelta
from functools import wraps

import sqlalchemy as sa
from flask import current_app, g, request

from .. import services
from ..hitpath.addresses import client_address
from ..errors import ApiError
from ..extensions import db
from ..hitpath.sender import note_sender_address
from ..models import ApiToken, SenderAddress, SigninFailure, User, hash_token, utcnow

BEARER = "bearer"


def token_from_request() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == BEARER and value.strip():
        return value.strip()
    return None


def user_for_token(token: str) -> User | None:
    digest = hash_token(token)
    row = db.session.execute(
        sa.select(ApiToken).where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None))
    ).scalar_one_or_none()
    # The index lookup found a row by hash; compare again in constant time so the
    # answer's timing never depends on how much of a guess was right.
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    now = utcnow()
    # Tokens expire when unused for TOKEN_IDLE_DAYS; every use pushes that back.
    idle = timedelta(days=current_app.config["TOKEN_IDLE_DAYS"])
    if (row.last_used_at or row.created_at) + idle <= now or row.user.disabled_at is not None:
        return None
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 300:
        row.last_used_at = now
        db.session.commit()
    return row.user


def token_id_for(token: str) -> int | None:
    """The id of a valid token's row (for what is bound to that token: stream tickets,
    open streams), or None."""
    if user_for_token(token) is None:
        return None
    return db.session.execute(
        sa.select(ApiToken.id).where(ApiToken.token_hash == hash_token(token))
    ).scalar_one_or_none()


def valid_token_ids(ids) -> set[int]:
    """Which of these token ids still sign their user in (not revoked, user present):
    the live stream checks its tokens with this while it stays open."""
    ids = list(ids)
    out: set[int] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        out.update(db.session.execute(
            sa.select(ApiToken.id).where(ApiToken.id.in_(chunk), ApiToken.revoked_at.is_(None))
        ).scalars())
    return out


def auth_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        token = token_from_request()
        user = user_for_token(token) if token else None
        if user is None:
            raise ApiError(
                401,
                "Sign in first: send 'Authorization: Bearer <token>'." if not token
                else "This token is not valid (revoked or mistyped). Sign in again.",
            )
        g.user = user
        ip = client_address(request.remote_addr, request.headers.get("X-Forwarded-For"), services.get().trusted_proxies)
        note_sender_address(user.id, ip)
        return view(*args, **kwargs)

    return wrapper


def current_user() -> User:
    return g.user


def current_admin(refusal: str) -> User:
    """The signed-in user if they are an admin of their org; else a 403 (the API's
    error shape) saying ``refusal``. The one "admins only" check of the API."""
    user = current_user()
    if not user.is_admin:
        raise ApiError(403, refusal)
    return user


def address_key(ip: str) -> str:
    """Whom the per-address limit counts: an IPv4 address, or an IPv6 /64.

    One IPv6 subscriber gets a whole /64 and can use a new address for every attempt."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if addr.version == 6:
        if addr.ipv4_mapped is not None:
            return str(addr.ipv4_mapped)
        return str(ipaddress.ip_network(f"{addr}/64", strict=False))
    return str(addr)


SIGNIN_WINDOW = timedelta(seconds=60)


def _signin_keys(email: str, ip: str) -> tuple[str, str]:
    """(address key, account key) as stored: keyed hashes, never the raw values. The
    account is normalised as the sign-in lookup normalises the address, so
    " Ann@Acme.example" buys no fresh allowance for the same account."""
    svc = services.get()
    return (svc.keyed_hash("signin-ip", address_key(ip))[:64],
            svc.keyed_hash("signin-email", email.strip().lower())[:64])


def known_device(user: User | None, ip: str) -> bool:
    """The user signed in or used the API from this address recently (server/hitpath/sender.py
    keeps those addresses, as keyed hashes, for SELF_ADDRESS_DAYS)."""
    if user is None:
        return False
    cutoff = utcnow() - timedelta(days=current_app.config["SELF_ADDRESS_DAYS"])
    ip_hash = services.get().keyed_hash("ip", ip)
    return db.session.execute(sa.select(SenderAddress.user_id).where(
        SenderAddress.user_id == user.id, SenderAddress.ip_hash == ip_hash, SenderAddress.last_seen >= cutoff)
    ).first() is not None


def check_signin_rate(email: str, ip: str, user: User | None = None) -> None:
    """At most SIGNIN_ATTEMPTS_PER_MINUTE wrong passwords a minute per address and per
    account, counted in the database, so every server process shares them.

    The account's count does not apply to a device it is known on: wrong guesses from
    elsewhere never lock the real user out of their own browser or mail client. The
    address's own count always applies."""
    limit = current_app.config["SIGNIN_ATTEMPTS_PER_MINUTE"]
    ip_key, email_key = _signin_keys(email, ip)
    keys = [ip_key] if known_device(user, ip) else [ip_key, email_key]
    now = utcnow()
    since = now - SIGNIN_WINDOW
    rows = db.session.execute(
        sa.select(SigninFailure.key, sa.func.count(), sa.func.min(SigninFailure.at))
        .where(SigninFailure.key.in_(keys), SigninFailure.at > since).group_by(SigninFailure.key)).all()
    wait = 0.0
    for _, count, oldest in rows:
        if count >= limit:
            wait = max(wait, (oldest + SIGNIN_WINDOW - now).total_seconds())
    if wait > 0:
        raise ApiError(
            429,
            f"Too many sign-in attempts. Try again in {int(wait) + 1} seconds.",
            details={"retry_after": int(wait) + 1},
        )


def record_signin_failure(email: str, ip: str) -> None:
    now = utcnow()
    db.session.execute(sa.delete(SigninFailure).where(SigninFailure.at <= now - SIGNIN_WINDOW))
    db.session.add_all([SigninFailure(key=key, at=now) for key in _signin_keys(email, ip)])
    db.session.commit()
