"""Sign-in, the signed-in user, their settings and their org's settings."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, request
from flask_smorest import Blueprint
from werkzeug.security import check_password_hash

from client_py.model import merged_settings

from .. import services
from ..hitpath.addresses import client_address
from ..errors import ApiError
from ..extensions import db
from ..hitpath.sender import note_sender_address
from ..models import ApiToken, User, hash_token, new_token, utcnow
from .auth import check_signin_rate, current_admin, current_user, record_signin_failure, token_from_request
from .base import secured
from .schemas import MeOut, OrgOut, OrgPatch, SettingsSchema, SigninIn, SigninOut

blp = Blueprint("account", __name__, url_prefix="/api/v1", description="Sign-in and settings")
# A real hash to compare against when the account does not exist, so a wrong
# address takes as long as a wrong password.
_DUMMY_HASH = "scrypt:32768:8:1$0123456789abcdef$" + "0" * 128


def org_dict(user: User) -> dict:
    org = user.org
    return {"name": org.name, "internal_domains": org.internal_domains or [], "office_ranges": org.office_ranges or []}


def me_dict(user: User) -> dict:
    return {
        "user": {"email": user.email, "name": user.name, "is_admin": user.is_admin},
        "org": org_dict(user),
        "settings": merged_settings(user.settings),
        "public_url": current_app.config["PUBLIC_URL"],
    }


@blp.route("/auth/signin", methods=["POST"])
@blp.arguments(SigninIn)
@blp.response(200, SigninOut)
def signin(body):
    """Trade an email and password for an API token (for the extension and the add-in)."""
    ip = client_address(request.remote_addr, request.headers.get("X-Forwarded-For"), services.get().trusted_proxies)
    user = db.session.execute(
        sa.select(User).where(sa.func.lower(User.email) == body["email"].strip().lower())
    ).scalar_one_or_none()
    check_signin_rate(body["email"], ip, user)
    ok = check_password_hash(user.password_hash if user and user.password_hash else _DUMMY_HASH, body["password"])
    if user is None or not ok:
        record_signin_failure(body["email"], ip)
        raise ApiError(401, "Wrong email or password.", code="bad_credentials")
    if user.disabled_at is not None:
        raise ApiError(403, "This account is disabled. Ask an admin of your organisation.", code="disabled")
    token = new_token(32)
    db.session.add(ApiToken(user_id=user.id, token_hash=hash_token(token), label=body["label"] or "sign-in"))
    db.session.commit()
    note_sender_address(user.id, ip)  # a known device from now on (server/api/auth.py:known_device)
    return {"token": token, **me_dict(user)}


@blp.route("/auth/signout", methods=["POST"])
@secured
@blp.response(204)
def signout():
    """Revoke the token this request was made with (the extension's or add-in's sign-out)."""
    token = token_from_request()
    db.session.execute(
        sa.update(ApiToken).where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    db.session.commit()
    return None


@blp.route("/me", methods=["GET"])
@secured
@blp.response(200, MeOut)
def me():
    """The signed-in user, their org and settings."""
    return me_dict(current_user())


@blp.route("/settings", methods=["GET"])
@secured
@blp.response(200, SettingsSchema)
def get_settings():
    """The user's settings, with defaults filled in."""
    return merged_settings(current_user().settings)


@blp.route("/settings", methods=["PATCH"])
@secured
@blp.arguments(SettingsSchema)
@blp.response(200, SettingsSchema)
def patch_settings(body):
    """Change some settings; fields not sent are kept."""
    user = current_user()
    if "blocklist" in body:
        body["blocklist"] = sorted({b.strip().lower() for b in body["blocklist"] if b.strip()})
    user.settings = {**(user.settings or {}), **body}
    db.session.commit()
    return merged_settings(user.settings)


@blp.route("/org", methods=["GET"])
@secured
@blp.response(200, OrgOut)
def get_org():
    """The user's org: internal domains and office address ranges."""
    return org_dict(current_user())


@blp.route("/org", methods=["PATCH"])
@secured
@blp.arguments(OrgPatch)
@blp.response(200, OrgOut)
def patch_org(body):
    """Change the org's internal domains or office ranges (org admins only)."""
    user = current_admin("Only an admin of your org can change its settings.")
    if "internal_domains" in body:
        user.org.internal_domains = sorted({d.strip().lstrip("@").lower() for d in body["internal_domains"]})
    if "office_ranges" in body:
        import ipaddress

        user.org.office_ranges = [str(ipaddress.ip_network(r, strict=False)) for r in body["office_ranges"]]
    db.session.commit()
    return org_dict(user)
