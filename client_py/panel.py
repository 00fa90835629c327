"""The Engagement panel's model: threads, what counts, the unread counter, the window.

Pure: no I/O; the clock is read only when ``now`` is ``None``.

* A thread is every tracked email with the same ``thread_id`` and every event on
  them.  Emails and events are listed newest first; threads are sorted by their last
  activity (last email sent or last event of any verdict), newest first.
* Engagement is an event whose verdict is in ``ENGAGEMENT_VERDICTS``; everything else
  is listed with the reason it does not count.  An open belongs to the email, never
  to a person: with several recipients nobody can tell who opened it.
* The unread counter counts threads, not opens.  A thread counts when it is pinned,
  or when ``notify_on_open`` is on and it has an automatically tracked email to
  external recipients, and its last engagement is newer than both the thread's
  ``viewed_at`` and the settings' ``counter_reset_at``.  Viewing a thread clears it, a
  reset clears all, more opens in a counted thread add nothing.
* Display window: a thread is hidden when its tracking code has not been triggered for
  more than ``display_window_days`` days and no tracked email was sent in it since
  (its last activity: the later of its last event and its last email sent; a
  follow-up sent today in an old thread shows it again).  Exactly that many days is
  still shown.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Iterable, Mapping

from client_py.i18n import DEFAULT, join_and, language, number, plural, text
from client_py.model import (DEFAULT_SETTINGS, ENGAGEMENT_VERDICTS, EventData, MessageData, ThreadState,
                             merged_settings)
from client_py.present import PROXY_LABELS, UNKNOWN_PLACE, location_label
from client_py.search import CompiledQuery, PanelQuery, as_query
from client_py.times import UTC, format_iso, parse_optional, parse_time, resolve_now

_WHY_NOT_COUNTED = {
    "gmail_prefetch": "Gmail's prefetcher fetched the image ahead of time, not a person reading it",
    "apple_mpp": "Apple Mail Privacy Protection loads images for every email, read or not",
    "scanner": "A security scanner or link checker, not a person",
    "self": "You (or someone in your company) opened it",
    "duplicate": "Same address and device again within seconds: a repeat",
}
_DEVICE_ORDER = ("desktop", "mobile", "tablet")
_OLDEST = datetime.min.replace(tzinfo=UTC)


def counts_as_engagement(event: Mapping) -> bool:
    """True when a person (or their provider's proxy, for them) opened or clicked."""
    return event.get("verdict") in ENGAGEMENT_VERDICTS


def why_not_counted(event: Mapping, lang: str = DEFAULT) -> str | None:
    """Plain words on why an event is not engagement; ``None`` when it counts."""
    verdict = event.get("verdict")
    if verdict in ENGAGEMENT_VERDICTS:
        return None
    lang = language(lang)
    if lang != DEFAULT:
        why = text(lang, f"why.{verdict if verdict in _WHY_NOT_COUNTED else 'unknown'}")
    else:
        why = _WHY_NOT_COUNTED.get(verdict or "", "Not recognised as a person reading the email")
    reason = " ".join(str(event.get("reason") or "").split())
    if verdict == "scanner" and reason:
        why = f"A security scanner or link checker: {reason}"  # the reason says what gave it away
    return why


def window_days(settings: Mapping | None) -> int:
    """``display_window_days`` when it is a whole number of 1 or more, else the default 14."""
    days = (settings or {}).get("display_window_days")
    if isinstance(days, int) and not isinstance(days, bool) and days >= 1:
        return days
    return DEFAULT_SETTINGS["display_window_days"]


def _unread(pinned: bool, auto_external: bool, last_engagement: datetime | None,
            viewed_at: datetime | None, settings: Mapping, reset_at: datetime | None) -> bool:
    if last_engagement is None:
        return False
    if not (pinned or (settings.get("notify_on_open") and auto_external)):
        return False
    return all(last_engagement > seen for seen in (viewed_at, reset_at) if seen is not None)


def is_unread(thread: Mapping, settings: Mapping | None) -> bool:
    """Whether this thread adds one to the unread counter (see the module docstring)."""
    settings = merged_settings(settings)
    return _unread(
        bool(thread.get("pinned")),
        bool(thread.get("auto_external", thread.get("auto") and thread.get("external"))),
        parse_optional(thread.get("last_engagement_at")),
        parse_optional(thread.get("viewed_at")),
        settings,
        parse_optional(settings.get("counter_reset_at")),
    )


def unread_count(threads: Iterable[Mapping], settings: Mapping | None) -> int:
    """How many threads are unread: the number on the counter and the badge."""
    settings = merged_settings(settings)
    return sum(1 for thread in threads if is_unread(thread, settings))


def _within(reference: datetime | None, now: datetime, days: int) -> bool:
    return reference is None or now - reference <= timedelta(days=days)


def in_display_window(thread: Mapping, settings: Mapping | None, now: str | datetime | None = None) -> bool:
    """False when the thread's last activity (its last event or its last email sent,
    whichever is later) is more than ``display_window_days`` days before ``now``."""
    times = [t for t in (parse_optional(thread.get("last_triggered_at")),
                         parse_optional(thread.get("last_sent_at"))) if t is not None]
    reference = max(times) if times else None
    return _within(reference, resolve_now(now), window_days(settings))


def _times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def thread_summary(opens: int, clicks: int, recipients_count: int, devices: list[str],
                   places: list[str], not_counted: int = 0, lang: str = DEFAULT) -> str:
    """One plain-words line, e.g. ``Opened 3 times by one or more of 4 recipients, on
    desktop and mobile, in 2 places`` (in ``lang``: ``en``, ``de``, ``fr``, ``es``)."""
    lang = language(lang)
    if lang != DEFAULT:
        return _localized_summary(lang, opens, clicks, recipients_count, devices, places, not_counted)
    if not opens and not clicks:
        if not_counted:
            return f"Not opened yet ({not_counted} {'event' if not_counted == 1 else 'events'} not counted)"
        return "Not opened yet"
    actions = []
    if opens:
        actions.append(f"Opened {_times(opens)}")
    if clicks:
        actions.append(f"{'clicked' if opens else 'Clicked'} {_times(clicks)}")
    line = " and ".join(actions)
    if recipients_count > 1:
        who = "one of" if opens + clicks == 1 else "one or more of"
        line += f" by {who} {recipients_count} recipients"
    if devices:
        line += f", on {_and(devices)}"
    if len(places) == 1:
        line += f", in {places[0]}"
    elif places:
        line += f", in {len(places)} places"
    return line


def _localized_summary(lang: str, opens: int, clicks: int, recipients_count: int, devices: list[str],
                       places: list[str], not_counted: int) -> str:
    if not opens and not clicks:
        line = text(lang, "summary.not_opened")
        return f"{line} ({plural(lang, 'summary.not_counted', not_counted)})" if not_counted else line

    def times(n: int) -> str:
        if n in (1, 2):
            return text(lang, "times.once" if n == 1 else "times.twice")
        return text(lang, "times.n", n=number(n, lang))

    actions = []
    if opens:
        actions.append(text(lang, "summary.opened", times=times(opens)))
    if clicks:
        actions.append(text(lang, "summary.clicked" if opens else "summary.clicked_first", times=times(clicks)))
    line = text(lang, "summary.and").join(actions)
    if recipients_count > 1:
        key = "summary.by_one_of" if opens + clicks == 1 else "summary.by_some_of"
        line += text(lang, key, n=number(recipients_count, lang))
    if devices:
        known = ("desktop", "mobile", "tablet")
        words = [text(lang, f"summary.device.{d if d in known else 'unknown'}") for d in devices]
        line += text(lang, "summary.on", devices=join_and(lang, words))
    if len(places) == 1:
        line += text(lang, "summary.in", place=places[0])
    elif places:
        line += text(lang, "summary.places", n=number(len(places), lang))
    return line[:1].upper() + line[1:]  # "einmal geöffnet" starts a sentence


def localized_summary(thread: Mapping, lang: str) -> str:
    """A thread's summary in ``lang``, from the counts a thread dict carries (the
    server's own ``summary`` is English); the given summary when counts are missing."""
    lang = language(lang)
    if lang == DEFAULT or "opens" not in thread:
        return str(thread.get("summary") or "")
    return thread_summary(int(thread.get("opens") or 0), int(thread.get("clicks") or 0),
                          int(thread.get("recipients_count") or len(thread.get("recipients") or ())),
                          list(thread.get("devices") or ()), list(thread.get("places") or ()),
                          int(thread.get("not_counted") or 0), lang)


def _states_by_thread(states: Iterable[ThreadState] | Mapping[str, ThreadState] | None) -> Mapping:
    if not states:
        return {}
    if isinstance(states, Mapping):
        return states
    return {state.get("thread_id"): state for state in states}


def _thread(thread_id: str, dated_messages: list, dated_events: list, state: Mapping,
            settings: Mapping, reset_at: datetime | None, now: datetime, days: int,
            totals: Mapping | None = None) -> dict:
    dated_messages.sort(key=lambda pair: pair[0] or _OLDEST, reverse=True)
    dated_events.sort(key=lambda pair: pair[0], reverse=True)
    messages = [message for _, message in dated_messages]
    latest = messages[0]

    last_engagement = None
    opens = clicks = 0
    device_seen: set[str] = set()
    places: dict[str, None] = {}
    for at, event in dated_events:
        if event.get("verdict") not in ENGAGEMENT_VERDICTS:
            continue
        if last_engagement is None:
            last_engagement = at
        if event.get("kind") == "click":
            clicks += 1
        else:
            opens += 1
        device_seen.add(event.get("device") or "unknown")
        place = location_label(event)
        if place not in PROXY_LABELS and place != UNKNOWN_PLACE:
            places.setdefault(place, None)

    events_total = len(dated_events)
    last_triggered = dated_events[0][0] if dated_events else None
    if totals is not None:  # the events given are the latest few; these cover them all
        opens, clicks = int(totals.get("opens") or 0), int(totals.get("clicks") or 0)
        device_seen = set(totals.get("devices") or ())
        places = dict.fromkeys(p for p in totals.get("places") or () if p not in PROXY_LABELS and p != UNKNOWN_PLACE)
        last_engagement = parse_optional(totals.get("last_engagement_at"))
        last_triggered = parse_optional(totals.get("last_triggered_at")) or last_triggered
        events_total = max(int(totals.get("events_total") or 0), events_total)

    recipients: dict[str, Mapping] = {}
    for message in messages:
        for recipient in message.get("recipients") or ():
            recipients.setdefault(recipient.get("address") or "", recipient)
    recipients.pop("", None)

    last_sent = dated_messages[0][0]
    last_activity = max((t for t in (last_sent, last_triggered) if t is not None), default=None)
    state_pinned = state.get("pinned")
    pinned = bool(state_pinned) if state_pinned is not None else any(
        m.get("mode") == "manual" for m in messages)
    auto_external = any(m.get("mode") == "auto" and m.get("external") for m in messages)
    viewed_at = parse_optional(state.get("viewed_at"))
    devices = [d for d in _DEVICE_ORDER if d in device_seen]
    counted = opens + clicks
    return {
        "thread_id": thread_id,
        "subject": latest.get("subject") or "",
        "messages": messages,
        "events": [event for _, event in dated_events],
        # Every event of the thread; ``events`` may hold only the latest of them.
        "events_total": events_total,
        "latest_message_id": latest.get("id"),
        "client": latest.get("client"),
        "pinned": pinned,
        "category": "pinned" if pinned else "other",
        "last_sent_at": last_sent and format_iso(last_sent),
        "last_triggered_at": last_triggered and format_iso(last_triggered),
        "last_engagement_at": last_engagement and format_iso(last_engagement),
        "last_activity_at": last_activity and format_iso(last_activity),
        "viewed_at": viewed_at and format_iso(viewed_at),
        "first_reply_at": state.get("first_reply_at"),
        "last_reply_at": state.get("last_reply_at"),
        "opens": opens,
        "clicks": clicks,
        "not_counted": events_total - counted,
        "recipients": list(recipients.values()),
        "recipients_count": len(recipients),
        "devices": devices,
        "places": list(places),
        "external": any(bool(m.get("external")) for m in messages),
        "auto": any(m.get("mode") == "auto" for m in messages),
        "auto_external": auto_external,
        "unread": _unread(pinned, auto_external, last_engagement, viewed_at, settings, reset_at),
        "in_window": _within(last_activity, now, days),
        "summary": thread_summary(opens, clicks, len(recipients), devices, list(places),
                                  events_total - counted),
        "_sent": [sent for sent, _ in dated_messages],  # parsed once, reused by filters
        "_activity": last_activity,
    }


def _build(messages: Iterable[MessageData], events: Iterable[EventData], states: Any,
           settings: Mapping, now: datetime, totals: Mapping | None = None) -> list[dict]:
    by_thread: dict[str, tuple[list, list]] = {}
    thread_of_message: dict[Any, tuple[list, list]] = {}
    for message in messages:
        thread_id = message.get("thread_id") or message.get("id") or ""
        group = by_thread.get(thread_id)
        if group is None:
            group = by_thread[thread_id] = ([], [])
        group[0].append((parse_optional(message.get("sent_at")), message))
        if message.get("id") is not None:
            thread_of_message[message["id"]] = group
    for event in events:
        group = thread_of_message.get(event.get("message_id"))
        if group is not None:  # an event on an email we do not know is not shown
            group[1].append((parse_time(event["at"]), event))

    state_of = _states_by_thread(states)
    reset_at = parse_optional(settings.get("counter_reset_at"))
    days = window_days(settings)
    threads = [
        _thread(thread_id, dated_messages, dated_events, state_of.get(thread_id) or {},
                settings, reset_at, now, days, (totals or {}).get(thread_id))
        for thread_id, (dated_messages, dated_events) in by_thread.items()
    ]
    threads.sort(key=lambda t: (t["_activity"] or _OLDEST, t["thread_id"]), reverse=True)
    return threads


def _public(thread: dict) -> dict:
    del thread["_sent"], thread["_activity"]
    return thread


def build_threads(messages: Iterable[MessageData], events: Iterable[EventData],
                  states: Any = None, settings: Mapping | None = None,
                  now: str | datetime | None = None, totals: Mapping | None = None) -> list[dict]:
    """Group emails and events into thread dicts (see the module docstring), newest first.

    ``states`` is a list of ``ThreadState`` or a mapping from thread id to one.
    ``now`` only decides each thread's ``in_window`` flag.
    ``totals`` maps a thread id to what all of its events add up to, when ``events``
    holds only the latest few of a thread (the server pages the rest): ``opens``,
    ``clicks``, ``events_total``, ``devices``, ``places`` (newest first),
    ``last_engagement_at`` and ``last_triggered_at``.
    """
    built = _build(messages, events, states, merged_settings(settings), resolve_now(now), totals)
    return [_public(thread) for thread in built]


def build_panel(messages: Iterable[MessageData], events: Iterable[EventData], states: Any,
                settings: Mapping | None, query: PanelQuery | Mapping | None = None,
                now: str | datetime | None = None) -> dict:
    """The whole panel: ``pinned`` and ``other`` threads in the window that match the
    query, the ``unread`` count (over every thread in the window, whatever the query),
    ``total_shown``, ``hidden_by_window``, and the ``query`` applied."""
    settings = merged_settings(settings)
    current = resolve_now(now)
    parsed_query = as_query(query)
    compiled = CompiledQuery(parsed_query, current, settings.get("time_zone"))
    built = _build(messages, events, states, settings, current)
    in_window = [thread for thread in built if thread["in_window"]]
    unread = sum(1 for thread in in_window if thread["unread"])
    shown = in_window
    if not compiled.filters_nothing:
        shown = [thread for thread in in_window
                 if any(map(compiled.matches, thread["messages"], thread["_sent"]))]
    pinned = [_public(t) for t in shown if t["pinned"]]
    other = [_public(t) for t in shown if not t["pinned"]]
    return {
        "pinned": pinned,
        "other": other,
        "unread": unread,
        "total_shown": len(pinned) + len(other),
        "hidden_by_window": len(built) - len(in_window),
        "display_window_days": window_days(settings),
        "query": parsed_query.to_dict(),
        "filtered": not compiled.filters_nothing,
    }


def panel_from_api(threads: Iterable[Mapping], unread: int, settings: Mapping | None,
                   query: PanelQuery | Mapping | None = None, hidden_by_window: int = 0) -> dict:
    """The panel dict ``render_panel`` takes, from thread dicts as the server's
    ``GET /api/v1/threads`` returns them (already windowed, filtered and paged there)."""
    settings = merged_settings(settings)
    parsed_query = as_query(query)
    pinned: list = []
    other: list = []
    for thread in threads:
        (pinned if thread.get("pinned") else other).append(thread)
    return {
        "pinned": pinned,
        "other": other,
        "unread": int(unread or 0),
        "total_shown": len(pinned) + len(other),
        "hidden_by_window": int(hidden_by_window or 0),
        "display_window_days": window_days(settings),
        "query": parsed_query.to_dict(),
        "filtered": not parsed_query.is_empty,
    }
