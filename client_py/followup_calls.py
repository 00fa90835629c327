"""The calls both clients make for follow-up reminders, the activity feed and
notifications (JSON in, JSON out; joined into client_py.calls.FUNCTIONS)."""

from __future__ import annotations

from typing import Any, Callable, Mapping

from client_py.feed import FEED_CSS, render_feed
from client_py.i18n import language
from client_py.notify import (digest_due, digest_notification, engagement_notification, in_quiet_hours,
                              joins_group, notify_decision, reminder_notification)
from client_py.reminder_view import REMINDER_CSS, render_due


def feed_html(items: list | None, settings: Mapping | None = None, now: str | None = None,
              more: bool = False) -> dict:
    """The activity feed from ``GET /api/v1/feed`` items: ``{"html"}``."""
    return {"html": render_feed(items or [], settings, now, more)}


def due_html(reminders: list | None, settings: Mapping | None = None, now: str | None = None) -> dict:
    """The panel's "Due" section from ``GET /api/v1/reminders`` (``""`` when none is due)."""
    due = [r for r in reminders or () if r.get("status") == "due"]
    return {"html": render_due(due, settings, now), "due": len(due)}


def followup_css() -> str:
    """The feed's and the reminders' styles, to add to the panel's (render.PANEL_CSS)."""
    return FEED_CSS + REMINDER_CSS


def notification_for(events: list, settings: Mapping | None = None, now: str | None = None,
                     last_shown_at: str | None = None) -> dict:
    """For the newest of ``events`` (the ones already shown in this group before it):
    ``{"show", "why", "group", "title", "message"}``; ``group``: it joins the
    notification shown at ``last_shown_at`` (the host replaces that one)."""
    decision = notify_decision(events[-1], settings, now)
    if not decision["show"]:
        return {**decision, "group": False}
    group = joins_group(last_shown_at, now) and len(events) > 1
    shown = events if group else events[-1:]
    lang = language((settings or {}).get("locale"))
    return {**decision, "group": group, **engagement_notification(shown, lang)}


def digest_for(items: list | None, settings: Mapping | None = None, now: str | None = None,
               last_digest_at: str | None = None) -> dict:
    """``{"show", "title", "message"}``: the daily digest, when it is due now."""
    if not digest_due(settings, last_digest_at, now):
        return {"show": False}
    return {"show": True, **digest_notification(items or [], language((settings or {}).get("locale")))}


def reminder_alert(reminder: Mapping, settings: Mapping | None = None, now: str | None = None) -> dict:
    """``{"show", "title", "message"}`` for a due reminder (held back in quiet hours)."""
    if in_quiet_hours(settings, now):
        return {"show": False}
    return {"show": True, **reminder_notification(reminder, settings, now)}


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "feed_html": feed_html,
    "due_html": due_html,
    "followup_css": followup_css,
    "notification_for": notification_for,
    "digest_for": digest_for,
    "reminder_alert": reminder_alert,
}
