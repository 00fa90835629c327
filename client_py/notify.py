"""Desktop notifications worth getting: when to show one and what it says.

Pure: no I/O; the clock is read only when ``now`` is ``None``. The extension's worker
asks these before calling ``chrome.notifications``:

* Only counted verdicts notify (``ENGAGEMENT_VERDICTS``) and replies; machine opens
  never do.
* Opens within ``GROUP_SECONDS`` of the notification on screen join it: one
  notification says "3 opens in the last minute" instead of three popping up.
* ``notify_mode`` ``digest``: no notification per open; one a day, at ``digest_hour``
  in the user's zone, sums up the last day.
* Quiet hours (``quiet_start``-``quiet_end``, ``HH:MM`` in the user's zone, across
  midnight when start > end): nothing pops up; reminders due meanwhile are shown when
  they end, the digest waits for them too.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Iterable, Mapping

from client_py.feed import feed_line
from client_py.i18n import join_and, language, plural, text
from client_py.model import ENGAGEMENT_VERDICTS, merged_settings
from client_py.present import TimeFormatter, device_label
from client_py.times import parse_optional, resolve_now, zone

GROUP_SECONDS = 60
NOTIFY_MODES = ("each", "digest")


def clock(value: object) -> time | None:
    """``HH:MM`` as a time, or None (empty, malformed)."""
    try:
        hours, minutes = str(value or "").split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        return None


def in_quiet_hours(settings: Mapping | None, now: str | datetime | None = None) -> bool:
    """Whether ``now`` falls in the user's quiet hours, in their time zone."""
    merged = merged_settings(settings)
    start, end = clock(merged.get("quiet_start")), clock(merged.get("quiet_end"))
    if start is None or end is None or start == end:
        return False
    local = resolve_now(now).astimezone(zone(merged.get("time_zone"))).time().replace(second=0, microsecond=0)
    return start <= local < end if start < end else (local >= start or local < end)


def notify_decision(event: Mapping, settings: Mapping | None, now: str | datetime | None = None) -> dict:
    """``{"show": bool, "why": ...}`` for one live event (a stream event or a reply)."""
    merged = merged_settings(settings)
    if event.get("kind") != "reply" and event.get("verdict") not in ENGAGEMENT_VERDICTS:
        return {"show": False, "why": "not_counted"}
    if merged.get("notify_mode") == "digest":
        return {"show": False, "why": "digest"}
    if in_quiet_hours(merged, now):
        return {"show": False, "why": "quiet"}
    return {"show": True, "why": None}


def joins_group(last_shown_at: str | datetime | None, now: str | datetime | None = None) -> bool:
    """Whether an event now joins the notification shown at ``last_shown_at``."""
    shown = parse_optional(last_shown_at)
    return shown is not None and resolve_now(now) - shown <= timedelta(seconds=GROUP_SECONDS)


def _where(event: Mapping, lang: str) -> str:
    parts = []
    if event.get("device") and event.get("device") != "unknown":
        parts.append(device_label(event["device"], lang).lower())
    if event.get("location"):
        parts.append(str(event["location"]))
    return " · ".join(parts)


def engagement_notification(events: list[Mapping], lang: str = "en") -> dict:
    """One notification for the events of one minute (oldest first): a single open,
    click or reply says what and where; several say how many and on which emails."""
    lang = language(lang)
    if len(events) == 1:
        event = events[0]
        subject = event.get("subject") or text(lang, "thread.no_subject")
        key = {"click": "notify.clicked", "reply": "notify.replied"}.get(event.get("kind"), "notify.opened")
        message = feed_line(event, lang) if event.get("kind") == "reply" else _where(event, lang)
        if event.get("kind") == "click" and event.get("url"):
            message = "\n".join(p for p in (str(event["url"]), message) if p)
        return {"title": text(lang, key, subject=subject), "message": message or text(lang, "age.just_now")}
    counts: dict[str, int] = {}
    for event in events:
        subject = event.get("subject") or text(lang, "thread.no_subject")
        counts[subject] = counts.get(subject, 0) + 1
    words = [f"{s} ({n})" if n > 1 else s for s, n in counts.items()]
    key = "notify.grouped" if all(e.get("kind") == "open" for e in events) else "notify.grouped_any"
    return {"title": plural(lang, key, len(events)), "message": join_and(lang, words)}


def digest_due(settings: Mapping | None, last_digest_at: str | datetime | None,
               now: str | datetime | None = None) -> bool:
    """Whether the daily digest is to be shown now: digest mode, past today's
    ``digest_hour`` in the user's zone, not shown since then, and not in quiet hours."""
    merged = merged_settings(settings)
    if merged.get("notify_mode") != "digest" or in_quiet_hours(merged, now):
        return False
    local = resolve_now(now).astimezone(zone(merged.get("time_zone")))
    hour = merged.get("digest_hour")
    hour = hour if isinstance(hour, int) and 0 <= hour <= 23 else 9
    slot = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    last = parse_optional(last_digest_at)
    if last is None:  # the first one: at today's hour, not at once for yesterday's
        return local >= slot
    if local < slot:
        slot -= timedelta(days=1)
    return last < slot


def digest_notification(items: Iterable[Mapping], lang: str = "en") -> dict:
    """The daily digest from the feed's items of the last day (machine opens left out)."""
    lang = language(lang)
    opens = clicks = replies = 0
    threads: set = set()
    for item in items:
        kind = item.get("kind")
        if kind == "reply":
            replies += 1
        elif item.get("verdict") in ENGAGEMENT_VERDICTS:
            clicks += kind == "click"
            opens += kind != "click"
        else:
            continue
        threads.add(item.get("thread_id"))
    title = text(lang, "notify.digest_title")
    if not threads:
        return {"title": title, "message": text(lang, "notify.digest_none")}
    parts = [plural(lang, key, n) for key, n in (("notify.digest_opens", opens), ("notify.digest_clicks", clicks),
                                                 ("notify.digest_replies", replies)) if n]
    return {"title": title, "message": f"{join_and(lang, parts)} {plural(lang, 'notify.digest_emails', len(threads))}"}


def reminder_notification(reminder: Mapping, settings: Mapping | None = None,
                          now: str | datetime | None = None) -> dict:
    """"Follow up: Intro" / "Nobody opened “Intro” since Mon 24 Nov, 3:10 PM"."""
    lang = language((settings or {}).get("locale"))
    fmt = TimeFormatter(merged_settings(settings).get("time_zone"), now, lang)
    subject = reminder.get("subject") or text(lang, "thread.no_subject")
    key = "reminders.due_reply" if reminder.get("condition") == "reply" else "reminders.due_open"
    since = fmt.short(reminder["since"]) if reminder.get("since") else ""
    return {"title": text(lang, "notify.reminder", subject=subject), "message": text(lang, key, subject=subject,
                                                                                     since=since)}
