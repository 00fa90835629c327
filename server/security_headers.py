"""The security headers on every response the server gives, written once.

Flask's responses get them in an ``after_request`` hook (``create_app``); the pixel,
answered before Flask by server/hitpath/answer.py, adds the same list to its own. Headers a
view already set win (``setdefault``): the Outlook add-in's pages set their own
``Content-Security-Policy`` and may be framed (server/addin.py)."""

from __future__ import annotations

SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
    # A pixel and a redirect are fetched cross-origin, from any mail client, by design.
    ("Cross-Origin-Resource-Policy", "cross-origin"),
)


def add_security_headers(response):
    """``after_request`` hook: the headers above, unless the response set its own."""
    for name, value in SECURITY_HEADERS:
        response.headers.setdefault(name, value)
    return response
