"""Server-rendered pages of an operator's first hour and of user administration.

    /setup/<secret>      first run: the org and its first admin (link printed by `engage serve`)
    /admin/install       how to install the extension and the add-in for this server
    /admin/signin        admins sign in (a token labelled "admin pages", in the session cookie)
    /admin/users         users of the org, invitations, invite someone
    /admin/users/<id>    one user: tokens (revoke), disable/enable, password reset link
    /invite/<secret>     an invited person chooses a password
    /reset/<secret>      a user chooses a new password

Jinja2 escapes every value; every form carries a CSRF token (Flask-WTF); the session
cookie is HttpOnly and SameSite=Strict; pages have a strict Content-Security-Policy
(no scripts at all) and are never cached."""

from __future__ import annotations

from functools import wraps
from pathlib import Path

from flask import (Blueprint, Response, abort, current_app, g, redirect, render_template, request, send_file,
                   session, url_for)

from ..api.auth import check_signin_rate, record_signin_failure, user_for_token
from ..hitpath.addresses import client_address
from ..errors import ApiError
from ..extensions import db
from ..models import ApiToken, User, hash_token, utcnow
from . import accounts, links
from .forms import (AcceptInviteForm, ActionForm, InviteForm, ResetPasswordForm, SetupForm, SigninForm,
                    parse_domains, parse_ranges)

bp = Blueprint("admin", __name__, template_folder="templates")
ROOT = Path(__file__).resolve().parents[2]
CSS = Path(__file__).with_name("admin.css")
SESSION_LABEL = "admin pages"
PAGE_CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'")


@bp.after_request
def page_headers(response: Response) -> Response:
    if response.mimetype == "text/html":
        response.headers["Content-Security-Policy"] = PAGE_CSP
        response.headers["Cache-Control"] = "no-store"
    return response


def _page(template: str, status: int = 200, **context):
    admin = g.get("admin")
    return render_template(f"admin/{template}", public_url=current_app.config["PUBLIC_URL"], admin=admin,
                           nav_form=ActionForm() if admin else None, **context), status


def _dead_link(kind: str):
    return _page("message.html", 404, title="This link does not work",
                 text=f"This {kind} link was already used, has expired or was mistyped. "
                      "Ask an admin of your organisation for a new one.")


def _insecure():
    return _page("message.html", 403, title="Open this link over HTTPS",
                 text="One-time links are accepted over plain HTTP only on this machine's loopback "
                      "address. Put the server behind HTTPS (ENGAGE_PUBLIC_URL=https://…) and open the link again.")


def _client_ip() -> str:
    from ..services import get

    return client_address(request.remote_addr, request.headers.get("X-Forwarded-For"), get().trusted_proxies)


# -- the admin's web session ------------------------------------------------------------

def _start_session(user: User) -> None:
    token = accounts.issue_token(user, SESSION_LABEL)
    db.session.commit()
    session.clear()
    session["token"] = token


def _session_admin() -> User | None:
    token = session.get("token")
    user = user_for_token(token) if isinstance(token, str) and token else None
    return user if user is not None and user.is_admin else None


def admin_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        g.admin = _session_admin()
        if g.admin is None:
            session.pop("token", None)
            return redirect(url_for("admin.signin", next=request.path), 303)
        return view(*args, **kwargs)

    return wrapper


@bp.get("/admin/admin.css")
def stylesheet():
    response = send_file(CSS, mimetype="text/css")
    response.cache_control.no_cache = True
    return response


# -- first run ---------------------------------------------------------------------------

@bp.route("/setup/<secret>", methods=["GET", "POST"])
def setup(secret: str):
    if not links.secure_enough():
        return _insecure()
    link = links.find("setup", secret)
    if link is None:
        return _dead_link("setup")
    form = SetupForm()
    if form.validate_on_submit():
        try:
            user = accounts.complete_setup(
                link, org_name=form.org_name.data, domains=parse_domains(form.internal_domains.data),
                ranges=parse_ranges(form.office_ranges.data), name=form.name.data or "",
                email=form.email.data, password=form.password.data)
        except accounts.LinkUsed:
            return _dead_link("setup")
        _start_session(user)
        return redirect(url_for("admin.install"), 303)
    return _page("setup.html", 422 if form.errors else 200, form=form)


@bp.get("/admin/install")
@admin_required
def install():
    return _page("install.html", extension_zip=_extension_zip().is_file())


def _extension_zip() -> Path:
    return Path(current_app.config.get("EXTENSION_ZIP") or ROOT / "build" / "engage-extension.zip")


@bp.get("/downloads/engage-extension.zip")
def extension_zip():
    path = _extension_zip()
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype="application/zip", as_attachment=True,
                         download_name="engage-extension.zip")
    response.cache_control.no_cache = True
    return response


# -- sign-in -----------------------------------------------------------------------------

@bp.route("/admin/signin", methods=["GET", "POST"])
def signin():
    from werkzeug.security import check_password_hash

    from ..api.account import _DUMMY_HASH

    form = SigninForm()
    error = None
    status = 200
    if form.validate_on_submit():
        user = db.session.execute(
            db.select(User).where(db.func.lower(User.email) == form.email.data)).scalar_one_or_none()
        try:
            check_signin_rate(form.email.data, _client_ip(), user)
        except ApiError as err:
            return _page("signin.html", 429, form=form, error=err.description)
        ok = check_password_hash(user.password_hash if user and user.password_hash else _DUMMY_HASH,
                                 form.password.data)
        if user is None or not ok:
            record_signin_failure(form.email.data, _client_ip())
            error, status = "Wrong email or password.", 401
        elif user.disabled_at is not None or not user.is_admin:
            error, status = "These pages are for admins of an organisation, and this account is not one.", 403
        else:
            _start_session(user)
            target = request.args.get("next", "")
            if not target.startswith("/admin/") or target.startswith("//"):
                target = url_for("admin.users")
            return redirect(target, 303)
    elif form.errors:
        status = 422
    return _page("signin.html", status, form=form, error=error)


@bp.post("/admin/signout")
@admin_required
def signout():
    if ActionForm().validate_on_submit():
        db.session.execute(db.update(ApiToken).where(ApiToken.token_hash == hash_token(session["token"]))
                           .values(revoked_at=utcnow()))
        db.session.commit()
        session.clear()
    return redirect(url_for("admin.signin"), 303)


# -- users -------------------------------------------------------------------------------

@bp.route("/admin/users", methods=["GET", "POST"])
@admin_required
def users():
    form = InviteForm()
    invite_url = None
    status = 200
    if form.validate_on_submit():
        try:
            _, invite_url = accounts.invite(g.admin, form.email.data, bool(form.is_admin.data))
            form = InviteForm(formdata=None)
        except ApiError as err:
            form.email.errors = [*form.email.errors, err.description]
            status = 409
    elif form.errors:
        status = 422
    return _page("users.html", status, form=form, invite_url=invite_url, users=accounts.org_users(g.admin),
                 counts=accounts.active_token_counts(g.admin), invites=accounts.pending_invites(g.admin),
                 action=ActionForm())


@bp.get("/admin/users/<int(max=9223372036854775807):user_id>")
@admin_required
def user_page(user_id: int):
    return _user_page(accounts.org_user(g.admin, user_id))


def _user_page(user: User, status: int = 200, **extra):
    tokens = accounts.tokens_of(user)
    return _page("user.html", status, user=user, tokens=tokens, action=ActionForm(),
                 expiry={t.id: accounts.token_expiry(t) for t in tokens}, now=utcnow(),
                 current_hash=hash_token(session["token"]), **extra)


def _checked_action(user_id: int) -> User:
    if not ActionForm().validate_on_submit():
        abort(400, description="The form expired or did not come from this site: reload the page and try again.")
    return accounts.org_user(g.admin, user_id)


@bp.post("/admin/users/<int(max=9223372036854775807):user_id>/disable")
@admin_required
def disable(user_id: int):
    user = _checked_action(user_id)
    try:
        accounts.set_disabled(g.admin, user, True)
    except ApiError as err:
        return _user_page(user, 409, error=err.description)
    return redirect(url_for("admin.user_page", user_id=user.id), 303)


@bp.post("/admin/users/<int(max=9223372036854775807):user_id>/enable")
@admin_required
def enable(user_id: int):
    user = _checked_action(user_id)
    accounts.set_disabled(g.admin, user, False)
    return redirect(url_for("admin.user_page", user_id=user.id), 303)


@bp.post("/admin/users/<int(max=9223372036854775807):user_id>/reset")
@admin_required
def reset(user_id: int):
    user = _checked_action(user_id)
    return _user_page(user, reset_url=accounts.reset_link(g.admin, user))


@bp.post("/admin/users/<int(max=9223372036854775807):user_id>/tokens/<int(max=9223372036854775807):token_id>/revoke")
@admin_required
def revoke(user_id: int, token_id: int):
    user = _checked_action(user_id)
    accounts.revoke_token(user, token_id)
    return redirect(url_for("admin.user_page", user_id=user.id), 303)


# -- links for the people invited --------------------------------------------------------

@bp.route("/invite/<secret>", methods=["GET", "POST"])
def accept_invite(secret: str):
    if not links.secure_enough():
        return _insecure()
    link = links.find("invite", secret)
    if link is None:
        return _dead_link("invitation")
    form = AcceptInviteForm()
    if form.validate_on_submit():
        try:
            user = accounts.accept_invite(link, name=form.name.data or "", password=form.password.data)
        except accounts.LinkUsed:
            return _dead_link("invitation")
        except ApiError as err:
            return _page("message.html", err.code, title="Already signed up", text=err.description)
        return _page("welcome.html", user=user, extension_zip=_extension_zip().is_file())
    return _page("accept.html", 422 if form.errors else 200, form=form, link=link)


@bp.route("/reset/<secret>", methods=["GET", "POST"])
def reset_password(secret: str):
    if not links.secure_enough():
        return _insecure()
    link = links.find("reset", secret)
    if link is None:
        return _dead_link("password reset")
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            user = accounts.complete_reset(link, form.password.data)
        except accounts.LinkUsed:
            return _dead_link("password reset")
        return _page("message.html", title="Password changed",
                     text=f"The password of {user.email} is changed. Sign in again in Gmail, Outlook and the web panel.")
    return _page("reset.html", 422 if form.errors else 200, form=form, link=link)
