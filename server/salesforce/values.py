"""Which field values an update writes. Pure: no I/O.

Policy (see docs/salesforce.md):
- First Open is set once: written only while the record's field is empty. A value
  already there (ours from an earlier delivery, or anyone else's) is kept.
- Last Open only moves forward: written when the record's value is empty or
  earlier than the latest counting open.
- Salesforce keeps Date/Time fields to the second, so values are cut to whole
  seconds before comparing and sending; otherwise a stored 10:00:00 would look
  older than our 10:00:00.4 and be written again forever.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional

SF_FORMAT = "%Y-%m-%dT%H:%M:%S.000+0000"


def to_second(value: datetime) -> datetime:
    return value.astimezone(timezone.utc).replace(microsecond=0)


def format_sf(value: datetime) -> str:
    """The form Salesforce itself answers with: 2026-11-27T10:00:00.000+0000."""
    return to_second(value).strftime(SF_FORMAT)


def parse_sf(value: Optional[str]) -> Optional[datetime]:
    """Parse a Salesforce Date/Time value (``...000+0000`` or ``...Z``); None stays None."""
    if value in (None, ""):
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+0000"
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return to_second(datetime.strptime(text, fmt))
        except ValueError:
            continue
    raise ValueError(f"not a Salesforce date/time: {value!r}")


def plan_update(first: datetime, last: datetime, remote_first: Optional[datetime],
                remote_last: Optional[datetime], first_field: str, last_field: str) -> dict[str, str]:
    """The PATCH body that brings the record up to date; {} when it already is."""
    first, last = to_second(first), to_second(last)
    patch: dict[str, str] = {}
    if remote_first is None:
        patch[first_field] = format_sf(first)
    if remote_last is None or remote_last < last:
        patch[last_field] = format_sf(last)
    return patch
