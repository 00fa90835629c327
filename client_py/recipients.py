"""Recipient rules: parsing address lists, internal/external/blocklisted, auto-insertion.

Pure: no I/O.  Addresses come back lower-cased.  Domains are compared in their
ASCII (IDNA / punycode) form, so ``bücher.de`` and ``xn--bcher-kva.de`` are the same
domain, and case never matters.

Classification order, decided once here for every runtime:

1. A recipient in one of the organisation's domains (or a subdomain of one) is
   ``"internal"``, even when the blocklist names it: tracking never applies to
   colleagues, so the blocklist has nothing to add for them.
2. Otherwise a recipient whose full address, domain or parent domain is on the
   blocklist is ``"blocklisted"``.  Blocklist entries are ``someone@example.com``,
   ``example.com`` or ``@example.com``.
3. Everyone else is ``"external"``: only these make automatic tracking apply.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Iterable

from client_py.errors import InvalidAddressError
from client_py.model import Recipient

# Characters allowed in the local part: RFC 5322 atext, and any non-ASCII character
# (internationalised addresses, RFC 6531); dots only between runs of them.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\u0080-\U0010ffff]+"
_LOCAL_RE = re.compile(rf"{_ATEXT}(\.{_ATEXT})*")
# One domain label: letters/digits/hyphens (non-ASCII letters for IDNs), no edge hyphens.
_ALNUM = r"A-Za-z0-9\u0080-\U0010ffff"
_LABEL_RE = re.compile(rf"[{_ALNUM}]([{_ALNUM}\-]{{0,61}}[{_ALNUM}])?")
_ANGLE_RE = re.compile(r"^(?P<name>.*?)<(?P<address>[^<>]*)>\s*$", re.S)


def parse_recipients(value: str | Iterable[str | Recipient] | None) -> list[Recipient]:
    """Parse ``Name <a@b.c>``, ``"Last, First" <a@b.c>`` and bare addresses.

    ``value`` is one string holding a comma- or semicolon-separated list, or a list of
    such strings and/or ``{"name", "address"}`` dicts.  Separators inside quotes or
    angle brackets do not split.  ``Doe, John <john@x.com>`` without quotes (as Outlook
    shows it) is read as one person.  Empty entries are skipped; a repeated address is
    kept once (first wins).  Raises :class:`InvalidAddressError` naming the bad entry.
    """
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    result: list[Recipient] = []
    seen: set[str] = set()
    for item in items:
        if isinstance(item, dict):
            parsed = [_recipient(str(item.get("name") or ""), str(item.get("address") or ""))]
        elif isinstance(item, str):
            parsed = [_parse_one(part) for part in _join_bare_names(_split_list(item))]
        else:
            raise InvalidAddressError(
                f"Expected an address or a list of addresses, got {type(item).__name__}",
                value=repr(item),
            )
        for recipient in parsed:
            if recipient["address"] not in seen:
                seen.add(recipient["address"])
                result.append(recipient)
    return result


def _split_list(text: str) -> list[str]:
    """Split on commas/semicolons that are outside quotes, angle brackets and comments."""
    parts: list[str] = []
    current: list[str] = []
    in_quotes = escaped = False
    angle = paren = 0
    for ch in text:
        if escaped:
            escaped = False
        elif ch == "\\" and in_quotes:
            escaped = True
        elif ch == '"':
            in_quotes = not in_quotes
        elif not in_quotes:
            if ch == "<":
                angle += 1
            elif ch == ">":
                angle = max(0, angle - 1)
            elif ch == "(":
                paren += 1
            elif ch == ")":
                paren = max(0, paren - 1)
            elif ch in ",;" and not angle and not paren:
                parts.append("".join(current).strip())
                current = []
                continue
        current.append(ch)
    parts.append("".join(current).strip())
    return [part for part in parts if part]


def _join_bare_names(parts: list[str]) -> list[str]:
    """Re-join ``Doe`` + ``John <john@x.com>``: an unquoted "Last, First" display name."""
    joined: list[str] = []
    for part in parts:
        if joined and "@" not in joined[-1] and _ANGLE_RE.match(part) and not part.startswith("<"):
            joined[-1] = f"{joined[-1]}, {part}"
        else:
            joined.append(part)
    return joined


def _parse_one(part: str) -> Recipient:
    match = _ANGLE_RE.match(part)
    if match:
        return _recipient(_clean_name(match.group("name")), match.group("address"), original=part)
    # A bare address may carry an old-style "(Comment Name)".
    comment = re.match(r"^(?P<address>[^\s()]+)\s*\((?P<name>[^()]*)\)$", part)
    if comment:
        return _recipient(comment.group("name").strip(), comment.group("address"), original=part)
    return _recipient("", part, original=part)


def _clean_name(raw: str) -> str:
    name = raw.strip()
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = re.sub(r"\\(.)", r"\1", name[1:-1])
    elif len(name) >= 2 and name[0] == name[-1] == "'":
        name = name[1:-1]
    return " ".join(name.split())


def _recipient(name: str, address: str, original: str | None = None) -> Recipient:
    address = address.strip()
    if address.lower().startswith("mailto:"):
        address = address[len("mailto:"):]
    if not is_valid_address(address):
        shown = original if original is not None else address
        raise InvalidAddressError(f"Not an email address: {shown!r}", value=shown)
    return {"name": name.strip(), "address": address.lower()}


def is_valid_address(address: str) -> bool:
    """True for ``local@domain.tld``: dot-atom local part, a dotted domain of valid labels."""
    if any(ch.isspace() or not ch.isprintable() for ch in address):
        return False  # the non-ASCII ranges below would otherwise admit e.g. U+00A0
    local, at, domain = address.rpartition("@")
    if not at or not local or len(address) > 320 or not _LOCAL_RE.fullmatch(local):
        return False
    labels = domain.rstrip(".").split(".")
    return len(labels) >= 2 and all(_LABEL_RE.fullmatch(label) for label in labels)


@lru_cache(maxsize=4096)
def normalize_domain(domain: str) -> str:
    """Lower-case ASCII (punycode) form of a domain; ``@``/``*.`` prefixes and dots trimmed.

    Uses the stdlib IDNA 2003 codec; a name it rejects is compared in its lower-cased
    Unicode form instead, so a strange domain never raises here.
    """
    text = domain.strip().lower()
    for prefix in ("@", "*."):
        if text.startswith(prefix):
            text = text[len(prefix):]
    text = text.strip(".")
    if text.isascii():
        return text
    try:
        return text.encode("idna").decode("ascii")
    except (UnicodeError, ValueError):
        return text


def _domain_of(address: str) -> str:
    return normalize_domain(address.rpartition("@")[2])


def _normalize_address(address: str) -> str:
    local, _, domain = address.strip().lower().rpartition("@")
    return f"{local}@{normalize_domain(domain)}"


def _in_domains(domain: str, domains: Iterable[str]) -> bool:
    """``domain`` equals one of ``domains`` or is a subdomain of one (label boundary)."""
    return any(domain == d or domain.endswith("." + d) for d in domains if d)


def _rules(internal_domains: Iterable[str], blocklist: Iterable[str]):
    internal = {normalize_domain(d) for d in internal_domains or ()}
    blocked_addresses: set[str] = set()
    blocked_domains: set[str] = set()
    for entry in blocklist or ():
        entry = entry.strip()
        if not entry:
            continue
        if "@" in entry and not entry.startswith("@"):
            blocked_addresses.add(_normalize_address(entry))
        else:
            blocked_domains.add(normalize_domain(entry))
    return internal, blocked_addresses, blocked_domains


def _classify(address: str, internal, blocked_addresses, blocked_domains) -> str:
    domain = _domain_of(address)
    if _in_domains(domain, internal):
        return "internal"
    if _normalize_address(address) in blocked_addresses or _in_domains(domain, blocked_domains):
        return "blocklisted"
    return "external"


def classify_recipient(address: str, internal_domains: Iterable[str], blocklist: Iterable[str]) -> str:
    """``"internal"``, ``"blocklisted"`` or ``"external"`` (see the module docstring for order)."""
    return _classify(address, *_rules(internal_domains, blocklist))


@dataclass(frozen=True)
class Decision:
    """Whether the tracking image is inserted automatically, and why, in plain words.

    ``code`` names the reason for hosts that say it in the user's language: ``off``,
    ``no_recipients``, ``external``, ``blocklisted``, ``internal``.
    """

    applies: bool
    reason: str
    external: int = 0
    internal: int = 0
    blocklisted: int = 0
    code: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def auto_insert_decision(
    recipients: str | Iterable[str | Recipient] | None,
    internal_domains: Iterable[str],
    blocklist: Iterable[str],
    auto_insert_on: bool,
) -> Decision:
    """Decide automatic insertion: it applies when at least one recipient is external.

    ``recipients`` takes anything :func:`parse_recipients` does (and raises like it).
    """
    if not auto_insert_on:
        return Decision(False, "Automatic tracking is off", code="off")
    parsed = parse_recipients(recipients)
    if not parsed:
        return Decision(False, "No recipients yet", code="no_recipients")
    rules = _rules(internal_domains, blocklist)
    kinds = [_classify(r["address"], *rules) for r in parsed]
    counts = {kind: kinds.count(kind) for kind in ("external", "internal", "blocklisted")}
    if counts["external"]:
        n = counts["external"]
        noun = "recipient" if n == 1 else "recipients"
        return Decision(True, f"Tracking: {n} external {noun}", **counts, code="external")
    if counts["blocklisted"]:
        return Decision(False, "All external recipients are on your blocklist", **counts, code="blocklisted")
    return Decision(False, "All recipients are inside your company", **counts, code="internal")


def first_last_name(recipient: Recipient | str) -> tuple[str, str]:
    """``(first, last)`` from the display name; ``"Last, First"`` is understood.

    One word is a first name; otherwise the first word is the first name and the last
    word the last name.  No name gives ``("", "")``.
    """
    name = recipient if isinstance(recipient, str) else (recipient.get("name") or "")
    name = _clean_name(name)
    if "," in name:
        last, _, first = name.partition(",")
        return " ".join(first.split()), " ".join(last.split())
    words = name.split()
    if not words:
        return "", ""
    if len(words) == 1:
        return words[0], ""
    return words[0], words[-1]
