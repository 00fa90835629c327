"""Reading and writing the rulebook's timestamps, and finding a person's time zone.

Pure: no I/O and no clock reads except :func:`resolve_now` when it is given ``None``.
Times cross the API as ISO 8601 strings in UTC ending in ``Z``; ``+00:00`` and other
offsets are accepted too.  A string without an offset is taken to be UTC, because
that is what the server stores.
"""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from functools import lru_cache

UTC = timezone.utc


def parse_time(value: str | datetime) -> datetime:
    """Return an aware UTC datetime for an ISO 8601 string (``Z`` or offset) or datetime."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        text = value.strip()
        if text[-1:] in ("Z", "z"):
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"Not an ISO 8601 time: {value!r}") from None
    else:
        raise TypeError(f"Expected an ISO 8601 string or a datetime, got {type(value).__name__}")
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def parse_optional(value: str | datetime | None) -> datetime | None:
    """Like :func:`parse_time`, but ``None`` and ``""`` stay ``None``."""
    if value is None or value == "":
        return None
    return parse_time(value)


def format_iso(dt: datetime) -> str:
    """The API's form of a time: UTC, ``Z`` suffix, microseconds only when present."""
    return dt.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def resolve_now(now: str | datetime | None) -> datetime:
    """The caller's ``now`` as an aware UTC datetime; the system clock only for ``None``."""
    if now is None:
        return datetime.now(UTC)
    return parse_time(now)


@lru_cache(maxsize=64)
def zone(tz_name: str | None) -> tzinfo:
    """The IANA zone ``tz_name``; UTC when it is unknown, empty or zoneinfo has no data.

    An unknown zone must never break the panel, so every failure falls back to UTC.
    """
    if not tz_name or tz_name.upper() in ("UTC", "Z", "ETC/UTC"):
        return UTC
    try:
        from zoneinfo import ZoneInfo  # imported here: some embedded builds lack tzdata

        return ZoneInfo(tz_name)
    except Exception:  # ZoneInfoNotFoundError (a KeyError), ValueError, missing module
        return UTC
