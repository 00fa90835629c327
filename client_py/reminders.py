"""Follow-up reminders: "remind me in 1 / 3 / 7 days, or on a date, if nobody opens"
(or "... replies"). The rules both the server and the clients apply.

Pure: no I/O; the clock is read only when ``now`` is ``None``.

* A reminder watches its thread from ``since`` (when it was set) to ``due_at``.
* ``open``: any counted engagement (an open or a click whose verdict is in
  ``ENGAGEMENT_VERDICTS``) or a reply settles it; machine opens (Apple MPP, scanners,
  Gmail's prefetcher) do not. ``reply``: only a reply settles it.
* When ``due_at`` comes and nothing settled it, it is due: the user is told once, then
  snoozes it (due again later), marks it done, or cancels it.
* ``due_at`` must be at least a minute ahead and at most ``MAX_DAYS`` ahead; "on a
  date" means 9:00 on that day in the user's time zone.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from client_py.times import format_iso, parse_time, resolve_now, zone

CONDITIONS = ("open", "reply")
PRESET_DAYS = (1, 3, 7)
MAX_DAYS = 365
MIN_AHEAD = timedelta(minutes=1)
ON_A_DATE_AT = time(9, 0)


class ReminderError(ValueError):
    """A reminder that cannot be set: ``field`` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def due_time(now: str | datetime | None = None, *, in_days: int | None = None, on_date: str | None = None,
             due_at: str | datetime | None = None, time_zone: str | None = None) -> str:
    """The reminder's due time (ISO, UTC) from exactly one of ``in_days``, ``on_date``
    (``YYYY-MM-DD``, 9:00 there in ``time_zone``) or ``due_at``; ReminderError when it
    is missing, ambiguous, in the past or more than ``MAX_DAYS`` ahead."""
    current = resolve_now(now)
    given = [name for name, value in (("in_days", in_days), ("on_date", on_date), ("due_at", due_at))
             if value is not None]
    if len(given) != 1:
        raise ReminderError("due_at", "Say when: in_days, on_date or due_at (exactly one).")
    if in_days is not None:
        if isinstance(in_days, bool) or not isinstance(in_days, int) or in_days < 1:
            raise ReminderError("in_days", "in_days is a whole number of days, 1 or more.")
        if in_days > MAX_DAYS:
            raise ReminderError("in_days", f"A reminder can be at most {MAX_DAYS} days ahead.")
        due = current + timedelta(days=in_days)
    elif on_date is not None:
        try:
            day = date.fromisoformat(str(on_date))
        except ValueError:
            raise ReminderError("on_date", f"{on_date!r} is not a date like 2026-12-24.") from None
        due = datetime.combine(day, ON_A_DATE_AT, zone(time_zone)).astimezone(current.tzinfo)
    else:
        try:
            due = parse_time(due_at)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ReminderError("due_at", f"{due_at!r} is not an ISO 8601 time.") from None
    field = given[0]
    if due < current + MIN_AHEAD:
        raise ReminderError(field, "A reminder must be in the future.")
    if due > current + timedelta(days=MAX_DAYS):
        raise ReminderError(field, f"A reminder can be at most {MAX_DAYS} days ahead.")
    return format_iso(due)


def settled(condition: str, engaged_since: bool, replied_since: bool) -> bool:
    """Whether what happened since the reminder was set means it must not fire."""
    if condition == "reply":
        return replied_since
    return engaged_since or replied_since
