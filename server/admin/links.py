"""One-time links: the first-run setup, invitations and password resets.

A link's secret is shown once (printed, or put on the admin's screen) and stored only
as a hash. Opening a link shows a form and changes nothing (mail scanners and link
previews open links too); submitting the form uses the link up, atomically, so two
submissions cannot both succeed."""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, request

from ..extensions import db
from ..models import OneTimeLink, User, hash_token, new_token, utcnow

PATHS = {"setup": "/setup/", "invite": "/invite/", "reset": "/reset/"}


def lifetime(purpose: str) -> timedelta:
    config = current_app.config
    return {
        "setup": timedelta(minutes=config["SETUP_LINK_MINUTES"]),
        "invite": timedelta(days=config["INVITE_LINK_DAYS"]),
        "reset": timedelta(hours=config["RESET_LINK_HOURS"]),
    }[purpose]


def link_url(purpose: str, secret: str) -> str:
    return current_app.config["PUBLIC_URL"] + PATHS[purpose] + secret


def issue(purpose: str, **fields) -> tuple[OneTimeLink, str]:
    """A new link (committed by the caller); returns it and its secret."""
    secret = new_token(32)
    row = OneTimeLink(purpose=purpose, token_hash=hash_token(secret), expires_at=utcnow() + lifetime(purpose),
                      email=fields.pop("email", ""), is_admin=fields.pop("is_admin", False), **fields)
    db.session.add(row)
    return row, secret


def any_user() -> bool:
    return db.session.execute(sa.select(User.id).limit(1)).first() is not None


def new_setup_link() -> str | None:
    """The setup URL to print when nobody can sign in yet, or None once a user exists.

    Every new one replaces the ones printed before (only the latest printed link works)."""
    if any_user():
        return None
    db.session.execute(sa.delete(OneTimeLink).where(OneTimeLink.purpose == "setup"))
    _, secret = issue("setup")
    db.session.commit()
    return link_url("setup", secret)


def find(purpose: str, secret: str) -> OneTimeLink | None:
    """The link if it is still usable: right purpose, not used, not expired."""
    if not secret or len(secret) > 100:
        return None
    row = db.session.execute(
        sa.select(OneTimeLink).where(OneTimeLink.token_hash == hash_token(secret), OneTimeLink.purpose == purpose)
    ).scalar_one_or_none()
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    if purpose == "setup" and any_user():
        return None
    return row


def use_up(row: OneTimeLink) -> bool:
    """Mark the link used, in the caller's transaction; False if another request won."""
    result = db.session.execute(
        sa.update(OneTimeLink).where(OneTimeLink.id == row.id, OneTimeLink.used_at.is_(None))
        .values(used_at=utcnow())
    )
    return result.rowcount == 1


def _is_loopback_name(host: str | None) -> bool:
    if not host:
        return False
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def secure_enough() -> bool:
    """May a one-time secret travel over this request?

    Over HTTPS (as seen here, or as a trusted proxy says with X-Forwarded-Proto), yes.
    Over plain HTTP only when the server is on loopback: the browser is on this machine,
    it asked for a loopback name, and no proxy forwarded the request."""
    from ..services import get

    if request.scheme == "https":
        return True
    peer = request.remote_addr or ""
    try:
        peer_ip = ipaddress.ip_address(peer)
    except ValueError:
        return False
    if any(peer_ip in net for net in get().trusted_proxies):
        return request.headers.get("X-Forwarded-Proto", "").strip().lower() == "https"
    forwarded = request.headers.get("X-Forwarded-For") or request.headers.get("Forwarded")
    return (peer_ip.is_loopback and not forwarded and _is_loopback_name(urlsplit("//" + request.host).hostname))
