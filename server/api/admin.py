"""User administration for org admins: users, invitations, password resets, tokens.

The same operations as the admin pages (server/admin/pages.py), for scripts. An admin
only ever sees and changes the users of their own org."""

from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint
from marshmallow import fields, validate

from ..admin import accounts
from ..models import as_dict_time
from .auth import current_admin
from .base import secured
from .openapi_rules import Address
from .schemas import Bool

blp = Blueprint("admin_api", __name__, url_prefix="/api/v1/admin", description="User administration (org admins)")


class AdminUserOut(ma.Schema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    name = fields.String(required=True)
    is_admin = fields.Boolean(required=True)
    disabled = fields.Boolean(required=True)
    created_at = fields.String(required=True)
    active_tokens = fields.Integer(required=True)


class AdminUserListOut(ma.Schema):
    users = fields.List(fields.Nested(AdminUserOut), required=True)


class AdminUserPatch(ma.Schema):
    disabled = Bool(required=True)


class AdminTokenOut(ma.Schema):
    id = fields.Integer(required=True)
    label = fields.String(required=True)
    created_at = fields.String(required=True)
    last_used_at = fields.String(allow_none=True, required=True)
    expires_at = fields.String(required=True)
    revoked_at = fields.String(allow_none=True, required=True)
    active = fields.Boolean(required=True)


class AdminTokenListOut(ma.Schema):
    tokens = fields.List(fields.Nested(AdminTokenOut), required=True)


class AdminInviteIn(ma.Schema):
    email = fields.String(required=True, validate=[validate.Length(min=3, max=320), Address()])
    is_admin = Bool(load_default=False)


class AdminLinkOut(ma.Schema):
    email = fields.String(required=True)
    url = fields.String(required=True, metadata={"description": "Shown once: send it to the person."})
    expires_at = fields.String(required=True)


def _admin():
    return current_admin("Only an admin of your org can manage users.")


def _user_data(user, counts) -> dict:
    return {"id": user.id, "email": user.email, "name": user.name, "is_admin": user.is_admin,
            "disabled": user.disabled_at is not None, "created_at": as_dict_time(user.created_at),
            "active_tokens": counts.get(user.id, 0)}


def _token_data(token) -> dict:
    from ..models import utcnow

    expires = accounts.token_expiry(token)
    return {"id": token.id, "label": token.label, "created_at": as_dict_time(token.created_at),
            "last_used_at": as_dict_time(token.last_used_at), "expires_at": as_dict_time(expires),
            "revoked_at": as_dict_time(token.revoked_at),
            "active": token.revoked_at is None and expires > utcnow()}


@blp.route("/users", methods=["GET"])
@secured
@blp.response(200, AdminUserListOut)
def list_users():
    """The users of your org."""
    admin = _admin()
    counts = accounts.active_token_counts(admin)
    return {"users": [_user_data(u, counts) for u in accounts.org_users(admin)]}


@blp.route("/users/<int(max=9223372036854775807):user_id>", methods=["PATCH"])
@secured
@blp.arguments(AdminUserPatch)
@blp.response(200, AdminUserOut)
def patch_user(body, user_id: int):
    """Disable a user (their tokens are revoked, sign-in is refused) or enable them again."""
    admin = _admin()
    user = accounts.org_user(admin, user_id)
    accounts.set_disabled(admin, user, body["disabled"])
    return _user_data(user, accounts.active_token_counts(admin))


@blp.route("/users/<int(max=9223372036854775807):user_id>/password-reset", methods=["POST"])
@secured
@blp.response(201, AdminLinkOut)
def password_reset(user_id: int):
    """A one-time link with which the user chooses a new password (and is signed out everywhere)."""
    admin = _admin()
    user = accounts.org_user(admin, user_id)
    url = accounts.reset_link(admin, user)
    from ..admin.links import lifetime
    from ..models import utcnow

    return {"email": user.email, "url": url, "expires_at": as_dict_time(utcnow() + lifetime("reset"))}


@blp.route("/users/<int(max=9223372036854775807):user_id>/tokens", methods=["GET"])
@secured
@blp.response(200, AdminTokenListOut)
def list_tokens(user_id: int):
    """The user's tokens: one per sign-in (extension, add-in, web panel, CLI, admin pages)."""
    user = accounts.org_user(_admin(), user_id)
    return {"tokens": [_token_data(t) for t in accounts.tokens_of(user)]}


@blp.route("/users/<int(max=9223372036854775807):user_id>/tokens/<int(max=9223372036854775807):token_id>", methods=["DELETE"])
@secured
@blp.response(204)
def revoke_token(user_id: int, token_id: int):
    """Revoke one token: whatever signed in with it must sign in again."""
    user = accounts.org_user(_admin(), user_id)
    accounts.revoke_token(user, token_id)
    return None


@blp.route("/invitations", methods=["POST"])
@secured
@blp.arguments(AdminInviteIn)
@blp.response(201, AdminLinkOut)
def invite(body):
    """Invite someone into your org: a one-time link with which they choose a password."""
    row, url = accounts.invite(_admin(), body["email"].strip().lower(), body["is_admin"])
    return {"email": row.email, "url": url, "expires_at": as_dict_time(row.expires_at)}
