"""Search and filter semantics of the Engagement panel, shared with the server.

Pure: no I/O.  Text search is case- and accent-insensitive.  The server stores
:func:`search_key` of each tracked email in a column and, for each term of
:func:`query_terms`, ANDs one ``search_key LIKE '%term%'`` (with ``%``, ``_`` and the
escape character escaped); the rule both sides implement is::

    matches_text(message, query) == all(term in search_key(message)
                                        for term in query_terms(query))

Terms never contain whitespace and the key separates its fields with single spaces, so
a term never matches across two fields.  For a one-word query this is exactly
``normalize_text(query) in search_key(message)``; an empty query matches everything.

Filters (all must hold): ``period`` on the email's ``sent_at`` (``"today"`` starts at
midnight in the user's zone, ``"7d"``/``"30d"``/``"90d"`` are rolling from ``now``),
``domain`` (a recipient's domain or a subdomain of it), ``sequence`` (exact name) and
``step`` (exact number).  A thread matches when any of its emails matches.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping

from client_py.errors import InvalidQueryError
from client_py.model import MessageData
from client_py.recipients import first_last_name, normalize_domain
from client_py.times import UTC, parse_optional, resolve_now, zone

#: The period filter's values, in the order a menu shows them.
PERIODS: tuple[str, ...] = ("today", "7d", "30d", "90d", "all")
_ROLLING_DAYS = {"7d": 7, "30d": 30, "90d": 90}


def normalize_text(text: str | None) -> str:
    """Casefold, drop accents (NFKD minus combining marks), collapse whitespace.

    Idempotent: ``normalize_text(normalize_text(s)) == normalize_text(s)``.
    """
    if not text:
        return ""
    # NFKD first so compatibility forms and accents split off; again after casefold
    # because casefolding can yield characters that decompose further.
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.split())


def query_terms(query: str | None) -> list[str]:
    """The whitespace-separated, normalized words of a query; each must match."""
    return normalize_text(query).split()


def search_key(message: MessageData) -> str:
    """The normalized text a search matches: subject, and each recipient's address,
    display name, first and last name, joined by single spaces (duplicates dropped)."""
    parts: list[str] = [message.get("subject") or ""]
    for recipient in message.get("recipients") or ():
        first, last = first_last_name(recipient)
        parts += [recipient.get("address") or "", recipient.get("name") or "", first, last]
    seen: dict[str, None] = {}
    for part in parts:
        normalized = normalize_text(part)
        if normalized:
            seen.setdefault(normalized, None)
    return " ".join(seen)


def matches_text(message: MessageData, query: str | None) -> bool:
    """Every term of the query is a substring of the email's search key."""
    terms = query_terms(query)
    if not terms:
        return True
    key = search_key(message)
    return all(term in key for term in terms)


def period_start(period: str, now: str | datetime | None, tz_name: str | None) -> datetime | None:
    """The earliest ``sent_at`` a period admits (aware UTC), or ``None`` for ``"all"``."""
    if period not in PERIODS:
        raise InvalidQueryError(
            f"Unknown period {period!r}; expected one of {', '.join(PERIODS)}", field="period", value=period
        )
    if period == "all":
        return None
    current = resolve_now(now)
    if period == "today":
        tz = zone(tz_name)
        midnight = datetime.combine(current.astimezone(tz).date(), datetime.min.time(), tzinfo=tz)
        return midnight.astimezone(UTC)
    return current - timedelta(days=_ROLLING_DAYS[period])


def recipient_domains(message: MessageData) -> list[str]:
    """The distinct recipient domains of an email, lower-case, in recipient order."""
    domains: dict[str, None] = {}
    for recipient in message.get("recipients") or ():
        domain = (recipient.get("address") or "").rpartition("@")[2].lower()
        if domain:
            domains.setdefault(domain, None)
    return list(domains)


@dataclass(frozen=True)
class PanelQuery:
    """A validated panel search: free text plus filters; empty fields filter nothing."""

    text: str = ""
    period: str = "all"
    domain: str | None = None
    sequence: str | None = None
    step: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise InvalidQueryError("The search text must be text", field="text", value=repr(self.text))
        if self.period not in PERIODS:
            raise InvalidQueryError(
                f"Unknown period {self.period!r}; expected one of {', '.join(PERIODS)}",
                field="period",
                value=repr(self.period),
            )
        for name in ("domain", "sequence"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise InvalidQueryError(f"The {name} filter must be text", field=name, value=repr(value))
        if self.step is not None and (
            isinstance(self.step, bool) or not isinstance(self.step, int) or self.step < 0
        ):
            raise InvalidQueryError(
                f"The step must be a whole number of 0 or more, not {self.step!r}", field="step", value=repr(self.step)
            )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> "PanelQuery":
        """Build from JSON or URL parameters: ``""`` means unset, a digit string is a step.

        Keys other than the five fields are ignored, so a request's other parameters
        (paging, say) can be passed along.
        """
        data = data or {}

        def optional(name: str) -> Any:
            value = data.get(name)
            return None if value is None or (isinstance(value, str) and not value.strip()) else value

        step = optional("step")
        if isinstance(step, str):
            text = step.strip()
            if not text.isdigit() or not text.isascii():
                raise InvalidQueryError(f"The step must be a whole number, not {step!r}", field="step", value=step)
            step = int(text)
        domain, sequence = optional("domain"), optional("sequence")
        return cls(
            text=data.get("text") or "",
            period=optional("period") or "all",
            domain=domain.strip() if isinstance(domain, str) else domain,
            sequence=sequence.strip() if isinstance(sequence, str) else sequence,
            step=step,
        )

    def to_dict(self) -> dict:
        return {"text": self.text, "period": self.period, "domain": self.domain,
                "sequence": self.sequence, "step": self.step}

    @property
    def is_empty(self) -> bool:
        """True when the query filters nothing."""
        return (not query_terms(self.text) and self.period == "all" and self.domain is None
                and self.sequence is None and self.step is None)


def as_query(query: PanelQuery | Mapping[str, Any] | None) -> PanelQuery:
    """Accept a :class:`PanelQuery`, its dict form or ``None`` (no filtering)."""
    if isinstance(query, PanelQuery):
        return query
    return PanelQuery.from_dict(query)


class CompiledQuery:
    """A query prepared once (terms, start time, domain) and applied to many emails."""

    def __init__(self, query: PanelQuery, now: str | datetime | None, tz_name: str | None) -> None:
        self.terms = query_terms(query.text)
        self.start = period_start(query.period, now, tz_name)
        self.domain = normalize_domain(query.domain) if query.domain else None
        self.sequence = query.sequence
        self.step = query.step
        self.filters_nothing = not (self.terms or self.start or self.domain or self.sequence
                                    or self.step is not None)

    def matches(self, message: MessageData, sent_at: datetime | None = None) -> bool:
        """``sent_at``: the email's parsed ``sent_at`` when the caller already has it."""
        if self.start is not None:
            sent = sent_at if sent_at is not None else parse_optional(message.get("sent_at"))
            if sent is None or sent < self.start:
                return False
        if self.sequence is not None and message.get("sequence") != self.sequence:
            return False
        if self.step is not None and message.get("step") != self.step:
            return False
        if self.domain is not None:
            wanted = self.domain
            if not any(
                d == wanted or d.endswith("." + wanted)
                for d in map(normalize_domain, recipient_domains(message))
            ):
                return False
        if self.terms:
            key = search_key(message)
            return all(term in key for term in self.terms)
        return True


def message_matches(
    message: MessageData,
    query: PanelQuery | Mapping[str, Any] | None,
    now: str | datetime | None,
    tz_name: str | None,
) -> bool:
    """Whether one tracked email passes the search text and every filter."""
    return CompiledQuery(as_query(query), now, tz_name).matches(message)
