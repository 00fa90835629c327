"""An operator's first hour and user administration: the first-run setup link, the
install instructions for this server, invitations, users and their tokens.

``pages`` has the server-rendered pages, ``accounts`` what they (and the JSON API in
``server/api/admin.py``) do, ``links`` the one-time links."""

from __future__ import annotations


def init_app(app) -> None:
    from .pages import bp

    public = app.config["PUBLIC_URL"]
    # The session cookie carries an admin's web sign-in (and the CSRF secret): script
    # cannot read it, other sites cannot send it, plain HTTP never carries it when the
    # server is public over HTTPS.
    app.config["SESSION_COOKIE_NAME"] = "engage_session"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Strict"
    app.config["SESSION_COOKIE_SECURE"] = public.startswith("https://")
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 3600)
    app.register_blueprint(bp)
