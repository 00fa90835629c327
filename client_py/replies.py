"""Replies: a new message in a tracked thread from one of its recipients.

Pure: no I/O. The Gmail extension sees a message arrive in a conversation it tracked
and reports it; the server stores it once per mail-client message id. Both sides
decide "is this a reply" with :func:`is_reply`, so they agree.

A reply is the strongest sign a person read the email: it also settles an Apple Mail
Privacy Protection download that came before it (:func:`confirmed_by_reply`)."""

from __future__ import annotations

from typing import Iterable, Mapping

from client_py.times import parse_optional, parse_time


def normalized_address(address: object) -> str:
    return str(address or "").strip().lower()


def is_reply(sender: object, recipients: Iterable[Mapping], own_address: object = "") -> bool:
    """True when ``sender`` is one of the thread's ``recipients`` and not the user.

    Only a recipient's own address counts: a colleague of theirs writing in from the
    same domain may be anyone, and the user's own follow-ups are not replies."""
    address = normalized_address(sender)
    if not address or "@" not in address or address == normalized_address(own_address):
        return False
    return any(normalized_address(r.get("address")) == address for r in recipients)


def confirmed_by_reply(event: Mapping, first_reply_at: object) -> bool:
    """An Apple MPP download (not counted alone) followed by a reply from the thread:
    somebody did open it. ``first_reply_at`` is the thread's first reply (ISO) or None."""
    if event.get("verdict") != "apple_mpp" or event.get("kind") == "click":
        return False
    replied = parse_optional(first_reply_at) if not hasattr(first_reply_at, "tzinfo") else first_reply_at
    at = event.get("at")
    return replied is not None and bool(at) and parse_time(at) <= replied
