"""Plain-words labels for the panel: times in the user's zone, places, devices, verdicts.

Pure: no I/O; the clock is read only when ``now`` is ``None``.  Every label is in
the language ``lang`` names (``en``, ``de``, ``fr``, ``es``: :mod:`client_py.i18n`),
English by default; month and day names are built there rather than by ``strftime``,
so the output does not depend on the process locale (CPython and Pyodide agree).  An
unknown time zone falls back to UTC instead of failing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Mapping

from client_py.i18n import DEFAULT, Dates, language, text
from client_py.model import ENGAGEMENT_VERDICTS, EventData
from client_py.replies import confirmed_by_reply
from client_py.times import parse_time, resolve_now, zone

_DEVICES = frozenset({"desktop", "mobile", "tablet"})
_VERDICTS = frozenset({"human", "gmail", "outlook", "yahoo", "confirmed", "gmail_prefetch", "apple_mpp", "scanner",
                       "self", "duplicate"})
# Opens through these providers' image proxies carry the proxy's location, not the reader's.
_PROXY_PLACES = {"gmail": "Gmail", "gmail_prefetch": "Gmail", "outlook": "Outlook.com", "yahoo": "Yahoo Mail"}
PROXY_LABELS = frozenset(_PROXY_PLACES.values())
UNKNOWN_PLACE = "Unknown"


class TimeFormatter:
    """Formats many times for one zone and one ``now``: the zone and today are looked up once."""

    def __init__(self, tz_name: str | None, now: str | datetime | None = None, lang: str = DEFAULT) -> None:
        self.dates = Dates(language(lang))
        self.zone = zone(tz_name)
        self.today = resolve_now(now).astimezone(self.zone).date()
        self.yesterday = self.today - timedelta(days=1)

    def local(self, when: str | datetime) -> datetime:
        return parse_time(when).astimezone(self.zone)

    def short(self, when: str | datetime) -> str:
        """``Today, 9:05 AM`` / ``Yesterday, 6:40 PM`` / ``Mon 24 Nov, 3:10 PM`` (+ year)."""
        return self._short(self.local(when))

    def full(self, when: str | datetime) -> str:
        """``Thursday 27 November 2026, 05:44 CET``: for tooltips."""
        return self.dates.full(self.local(when))

    def short_and_full(self, when: str | datetime) -> tuple[str, str]:
        """Both forms from one parse, for the many event lines of a panel."""
        local = self.local(when)
        return self._short(local), self.dates.full(local)

    def _short(self, local: datetime) -> str:
        return self.dates.short(local, self.today)


def format_time(iso: str | datetime, tz_name: str | None, now: str | datetime | None = None,
                lang: str = DEFAULT) -> str:
    """A short time in the user's zone, relative to ``now``'s day: ``Today, 9:05 AM``."""
    return TimeFormatter(tz_name, now, lang).short(iso)


def format_time_full(iso: str | datetime, tz_name: str | None, lang: str = DEFAULT) -> str:
    """A complete time with weekday and zone abbreviation, for tooltips."""
    return Dates(language(lang)).full(parse_time(iso).astimezone(zone(tz_name)))


def relative_age(iso: str | datetime, now: str | datetime | None = None) -> str:
    """How long ago, in plain words: ``just now``, ``2 min ago``, ``3 hours ago``, ``5 days ago``."""
    seconds = (resolve_now(now) - parse_time(iso)).total_seconds()
    if seconds < 60:
        return "just now"  # also absorbs small clock skew into the future
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min ago"
    size, unit = next((size, unit) for size, unit in _AGE_UNITS if minutes >= size)
    n = minutes // size
    return f"{n} {unit}{'' if n == 1 else 's'} ago"


# Largest first; the last (an hour) always fits once the minutes case is handled.
_AGE_UNITS = ((60 * 24 * 365, "year"), (60 * 24 * 30, "month"), (60 * 24 * 7, "week"),
              (60 * 24, "day"), (60, "hour"))


def location_label(event: Mapping, lang: str = DEFAULT) -> str:
    """``Gmail``/``Outlook.com`` for proxied opens, else ``City, Region, Country``.

    Empty parts and repeats (a city-state whose region has the same name) are skipped;
    ``Unknown`` when nothing is known.
    """
    proxy = _PROXY_PLACES.get(event.get("verdict") or "")
    if proxy:
        return proxy
    parts: list[str] = []
    seen: set[str] = set()
    for key in ("city", "region", "country"):
        value = " ".join(str(event.get(key) or "").split())
        if value and value.casefold() not in seen:
            seen.add(value.casefold())
            parts.append(value)
    if parts:
        return ", ".join(parts)
    return UNKNOWN_PLACE if lang == DEFAULT else text(language(lang), "place.unknown")


def device_label(device: str | None, lang: str = DEFAULT) -> str:
    """``Desktop``, ``Mobile``, ``Tablet``, or ``Unknown device``."""
    return text(language(lang), f"device.{device if device in _DEVICES else 'unknown'}")


def verdict_label(verdict: str | None, lang: str = DEFAULT) -> str:
    """What the verdict means for an open, in a word or three."""
    return text(language(lang), f"verdict.{verdict if verdict in _VERDICTS else 'unknown'}")


def event_label(event: EventData, lang: str = DEFAULT, first_reply_at: str | None = None) -> str:
    """The headline of one event line: ``Opened``, ``Clicked``, ``Gmail prefetch``, …

    ``first_reply_at``: the thread's first reply; an Apple MPP download before it is
    ``Opened (confirmed by a reply)`` (client_py.replies.confirmed_by_reply)."""
    lang = language(lang)
    verdict = event.get("verdict") or ""
    if first_reply_at and confirmed_by_reply(event, first_reply_at):
        return text(lang, "verdict.replied")
    if event.get("kind") == "click":
        if verdict in ENGAGEMENT_VERDICTS:
            return text(lang, "event.clicked")
        return text(lang, "event.click_as", label=verdict_label(verdict, lang))
    return verdict_label(verdict, lang)
