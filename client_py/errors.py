"""Domain errors of the rulebook, each with structured fields.

Callers (the server, the extension, the add-in) show ``str(error)`` to people
and branch on ``error.code``; nothing here does I/O.
"""

from __future__ import annotations


class EngageError(Exception):
    """Base of every error the rulebook raises on purpose."""

    code = "engage_error"

    def __init__(self, message: str, **fields: object) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message, **self.fields}


class NotHtmlError(EngageError):
    """The body is plain text or rich text: a tracking image needs HTML."""

    code = "not_html"


class InvalidAddressError(EngageError):
    """A recipient string is not an email address."""

    code = "invalid_address"


class InvalidQueryError(EngageError):
    """A panel search or filter value makes no sense (unknown period, bad step)."""

    code = "invalid_query"
