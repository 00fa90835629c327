"""Bearer-token authentication and the sign-in endpoint's rate limit."""

from __future__ import annotations

import hmac
import ipaddress
import threading
import time
from collections import defaultdict, deque
from functools import wraps

import sqlalchemy as sa
from flask import current_app, g, request

from .. import services
from ..hitpath.addresses import client_address
from ..errors import ApiError
from ..extensions import db
from ..hitpath.sender import note_sender_address
from ..models import ApiToken, User, hash_token, utcnow

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


class SigninLimiter:
    """At most N attempts a minute per address and per account, in this process.

    Tokens are unguessable; passwords are what a guesser would go for."""

    SWEEP_AT = 10_000  # keys held before stale ones are forgotten

    def __init__(self):
        self._hits: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()
        self._sweep_at = self.SWEEP_AT

    def __len__(self) -> int:
        return len(self._hits)

    def _sweep(self, cutoff: float) -> None:
        """Forget keys with no attempt since ``cutoff``: a guesser cycling through
        addresses or accounts must not grow this without bound."""
        for key in [k for k, q in self._hits.items() if not q or q[-1] <= cutoff]:
            del self._hits[key]
        self._sweep_at = max(self.SWEEP_AT, 2 * len(self._hits))  # amortised: not on every call

    def check(self, keys: list[str], limit: int, window: float = 60.0) -> float:
        """Record an attempt; return 0 when allowed, else seconds to wait."""
        now = time.monotonic()
        with self._lock:
            if len(self._hits) >= self._sweep_at:
                self._sweep(now - window)
            wait = 0.0
            for key in keys:
                q = self._hits[key]
                while q and q[0] <= now - window:
                    q.popleft()
                if len(q) >= limit:
                    wait = max(wait, window - (now - q[0]))
            if wait == 0.0:
                for key in keys:
                    self._hits[key].append(now)
            return wait


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


def check_signin_rate(email: str, ip: str) -> None:
    limit = current_app.config["SIGNIN_ATTEMPTS_PER_MINUTE"]
    limiter = current_app.extensions.setdefault("engage_signin_limiter", SigninLimiter())
    # The account key is normalised as the sign-in lookup normalises the address, so
    # " Ann@Acme.example" cannot buy a fresh allowance for the same account.
    wait = limiter.check([f"ip:{address_key(ip)}", f"email:{email.strip().lower()}"], limit)
    if wait:
        raise ApiError(
            429,
            f"Too many sign-in attempts. Try again in {int(wait) + 1} seconds.",
            details={"retry_after": int(wait) + 1},
        )
