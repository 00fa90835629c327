"""The API's input rules as regular expressions, so that one declaration both checks a
value and appears in ``/api/openapi.json``.

A rule written as Python code (``str.isprintable``, ``ipaddress``, ``urlsplit``) cannot be
quoted in the document, which then promised more than the API took: a generated client
or a fuzzer sending what the document allows got a 422. Here each rule is a pattern:

- ``Pattern(body)`` validates with ``re.fullmatch(body)`` and is documented as
  ``^(?:body)$`` (a JSON Schema pattern is searched, not matched; ``fullmatch`` avoids
  Python's ``$`` admitting a trailing newline).
- Every other string the API reads or writes is documented with ``STORABLE_TEXT`` (no
  NUL, no unpaired surrogate: server/api/input_guard.py refuses those for every request).

Patterns are written so that Python's ``re`` and ECMA-262 regular expressions with the
``u`` flag read them alike: no ``\\s``/``\\w`` (their sets differ), characters beyond
ASCII as themselves rather than ``\\U`` escapes.
"""

from __future__ import annotations

import re
from functools import lru_cache

from marshmallow import ValidationError, fields, validate

from .input_guard import STORABLE_TEXT


class Pattern(validate.Regexp):
    """A string matching ``body`` whole. apispec documents any validator with a
    compiled ``regex`` as the field's ``pattern``."""

    def __init__(self, body: str, error: str):
        super().__init__(f"^(?:{body})$", error=error)
        self.whole = re.compile(body)

    def __call__(self, value: str) -> str:
        if not isinstance(value, str) or self.whole.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


def storable_text(converter, field, ret, **kwargs) -> dict:
    """apispec attribute function: the storable-text rule on every string without a
    pattern or a list of choices of its own."""
    if isinstance(field, fields.String) and "pattern" not in ret and "enum" not in ret:
        return {"pattern": STORABLE_TEXT}
    return {}


def describe_rules(app) -> str:
    """The document's description: the rules that hold for every operation."""
    return (
        "Rules for every operation, besides each field's own:\n\n"
        "- No string holds a NUL character (each string's `pattern` says so) or an unpaired "
        "UTF-16 surrogate (a `\\ud800`-`\\udfff` escape that is not half of a pair): neither "
        "database can store them. Such text is a 422 in a body or query, a 404 in a path.\n"
        "- An operation with a request body needs one, as JSON: without a body it is a 400, "
        "with another content type a 415.\n"
        f"- A body above {app.config['MAX_CONTENT_LENGTH']} bytes is a 413.\n"
        "- A 503 says the server cannot answer now (its database is down, or this process is "
        "opening many live streams at once, as after a restart): it carries `Retry-After` in "
        "seconds; try again then.\n"
        "- Errors, whatever their status, have the shape of `Error`.")


def at_most(n: int) -> str:
    """A pattern for the decimal integers 1..n, without leading zeros."""
    s = str(n)
    alts = [f"[1-9][0-9]{{0,{len(s) - 2}}}"] if len(s) > 1 else []
    for i, d in enumerate(s):
        lo, hi = (1 if i == 0 else 0), int(d) - 1
        rest = len(s) - i - 1
        if hi >= lo:
            alts.append(s[:i] + (f"[{lo}-{hi}]" if hi > lo else str(lo)) + (f"[0-9]{{{rest}}}" if rest else ""))
    alts.append(s)
    return "(?:" + "|".join(alts) + ")"


PATH_TEXT = r"^[^/\x00]+$"
MAX_ID = 2**63 - 1  # a row id fits a signed 64-bit integer (PostgreSQL BIGINT, SQLite INTEGER)

# A page cursor: microseconds since 1970 and the last row's id (server/panel_query.py).
# Any such pair is a position in the list: nothing to forge, every query is the owner's.
CURSOR = rf"[0-9]{{1,17}}_{at_most(MAX_ID)}"

# -- addresses and domains ---------------------------------------------------------------
# Written with negated classes ("anything but these ASCII characters"): the same sets as
# client_py's "[A-Za-z0-9...\u0080-\U0010ffff]", which fuzzers (schemathesis, Hypothesis)
# expand character by character and then take minutes over.


def _char(cp: int) -> str:
    return f"\\x{cp:02x}" if cp < 0x80 else chr(cp)


def _ranges(codepoints) -> str:
    """A class body for these (sorted) code points: runs written as ranges."""
    runs: list[list[int]] = []
    for cp in codepoints:
        if runs and runs[-1][1] == cp - 1:
            runs[-1][1] = cp
        else:
            runs.append([cp, cp])
    return "".join(_char(a) if a == b else f"{_char(a)}-{_char(b)}" for a, b in runs)


# Characters no address or domain holds: controls, spaces, and the invisible ones
# (soft hyphen, zero-width and direction marks, word joiners, byte order mark). client_py's
# ``is_valid_address`` leaves out every character ``str.isprintable()`` refuses, unassigned
# ones included: a class of 700 ranges that would make this document 13 KB a field and
# fuzzers crawl. The API takes the few such addresses a client never sends.
INVISIBLE = r"\x00-\x20\x7f-\xa0\xad" + "\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff\ufff9-\uffff"


def _as_negated(char_class: str) -> str:
    """``[^...]`` for the visible characters of ``char_class``, which must admit every
    character beyond ASCII: the ASCII ones it leaves out, and ``INVISIBLE``."""
    compiled = re.compile(char_class)
    assert all(compiled.fullmatch(ch) for ch in ("\u0080", "\u00e9", "\uffff", "\U0010ffff"))
    left_out = [ord(ch) for ch in map(chr, range(0x80)) if ch.isprintable() and not compiled.fullmatch(ch)]
    return "[^" + INVISIBLE + _ranges(left_out) + "]"


@lru_cache(maxsize=1)
def _client_py_address() -> tuple[str, str]:
    """client_py's local part and domain label (recipients._LOCAL_RE, _LABEL_RE), with
    none of ``INVISIBLE`` (``is_valid_address`` asks for printable characters)."""
    from client_py import recipients

    atext = _as_negated(recipients._ATEXT.removesuffix("+"))
    edge = _as_negated(f"[{recipients._ALNUM}]")
    middle = _as_negated(f"[{recipients._ALNUM}\\-]")
    return rf"{atext}+(?:\.{atext}+)*", rf"{edge}(?:{middle}{{0,61}}{edge})?"


class Address(Pattern):
    """An email address as client_py's ``is_valid_address`` reads one (dot-atom local
    part, dotted domain of valid labels), without ``INVISIBLE`` characters."""

    def __init__(self):
        local, label = _client_py_address()
        super().__init__(rf"{local}@{label}(?:\.{label})+\.*", error="{input!r} is not an email address.")


def domain_rule(with_address: bool = False) -> Pattern:
    """A domain like example.com (``@example.com`` and ``*.example.com`` too); with
    ``with_address``, an address as well (a blocklist entry)."""
    local, label = _client_py_address()
    prefix = rf"(?:{local}@|@|\*\.)?" if with_address else r"(?:@|\*\.)?"
    return Pattern(rf"{prefix}{label}(?:\.{label})+",
                   error=("{input!r} is neither an address nor a domain." if with_address
                          else "{input!r} is not a domain like example.com."))


# -- links -------------------------------------------------------------------------------
_NOT_IN_LINK = r"\x00-\x1f\x7f"  # control characters
HTTP_URL = rf"[Hh][Tt][Tt][Pp][Ss]?://[^/?#\[\]@{_NOT_IN_LINK}]+(?:[/?#][^{_NOT_IN_LINK}]*)?"


class HttpUrl(Pattern):
    """An absolute http(s) link with a host, no control characters (a CR/LF would be
    refused in the redirect's Location header at every click), no IPv6 literal host.
    ``urlsplit`` must read it too (it refuses a few hosts whose NFKC form holds ``#``
    or ``/``, such as ``a＃b``)."""

    def __init__(self):
        super().__init__(HTTP_URL, error="Only absolute http:// or https:// links without control characters "
                                         "can be tracked.")

    def __call__(self, value: str) -> str:
        from urllib.parse import urlsplit

        super().__call__(value)
        try:
            urlsplit(value)
        except ValueError:
            raise ValidationError(self._format_error(value))
        return value


# -- address ranges ----------------------------------------------------------------------
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_IPV4 = rf"{_OCTET}(?:\.{_OCTET}){{3}}"
_H16 = r"[0-9A-Fa-f]{1,4}"
_LS32 = rf"(?:{_H16}:{_H16}|{_IPV4})"
_IPV6 = "(?:" + "|".join([
    rf"(?:{_H16}:){{6}}{_LS32}",
    rf"::(?:{_H16}:){{5}}{_LS32}",
    rf"(?:{_H16})?::(?:{_H16}:){{4}}{_LS32}",
    rf"(?:(?:{_H16}:){{0,1}}{_H16})?::(?:{_H16}:){{3}}{_LS32}",
    rf"(?:(?:{_H16}:){{0,2}}{_H16})?::(?:{_H16}:){{2}}{_LS32}",
    rf"(?:(?:{_H16}:){{0,3}}{_H16})?::{_H16}:{_LS32}",
    rf"(?:(?:{_H16}:){{0,4}}{_H16})?::{_LS32}",
    rf"(?:(?:{_H16}:){{0,5}}{_H16})?::{_H16}",
    rf"(?:(?:{_H16}:){{0,6}}{_H16})?::",
]) + ")"
CIDR = rf"{_IPV4}(?:/(?:3[0-2]|[12]?[0-9]))?|{_IPV6}(?:/(?:12[0-8]|1[01][0-9]|[1-9]?[0-9]))?"
