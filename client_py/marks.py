"""The marks shown next to a tracked email where the sender already looks: Gmail's
thread lists and conversations, Outlook's task pane and read pane.

Pure: no I/O; the clock is read only when ``now`` is ``None``.

One mark per thread (or per email in an open conversation), from the thread dict
:func:`client_py.panel.build_threads` makes (or the server's ``GET /threads``
returns), so the marks and the panel never disagree:

* ``sent``: tracked, nothing counted yet: one grey mark;
* ``opened``: at least one counted open or click, or a reply from a recipient (the
  strongest sign a person read it, :mod:`client_py.replies`): two green marks;
* ``machine``: nothing counted, but a machine fetched the pixel (Apple Mail Privacy
  Protection, Gmail's prefetcher, a security scanner): a distinct mark that says so,
  because "your images were downloaded" is not "your email was read";
* no mark at all for an email Engage does not track (the caller shows nothing).

``title`` is the plain-words hover text in the user's language (:mod:`client_py.i18n`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Mapping

from client_py.feed import relative_age
from client_py.i18n import DEFAULT, language, text
from client_py.panel import thread_summary

#: Verdicts of machines that fetch images or follow links for nobody in particular.
MACHINE_VERDICTS = frozenset({"apple_mpp", "gmail_prefetch", "scanner"})
STATES = ("sent", "opened", "machine")
#: What each mark looks like, wherever it is drawn (the extension's list_marks.js too).
GLYPHS = {"sent": "\u2713", "opened": "\u2713\u2713", "machine": "\u2713?"}


def age(when: str | datetime, now: str | datetime | None = None, lang: str = DEFAULT) -> str:
    """How long ago, in ``lang``: the activity feed's words (:func:`client_py.feed.relative_age`)."""
    return relative_age(when, now, lang)


def _machine_verdict(thread: Mapping) -> str | None:
    for event in thread.get("events") or ():  # newest first
        if event.get("verdict") in MACHINE_VERDICTS:
            return event["verdict"]
    return None


def mark_state(thread: Mapping) -> str:
    """``opened``, ``machine`` or ``sent`` for a tracked thread (or one email's events)."""
    if int(thread.get("opens") or 0) + int(thread.get("clicks") or 0) > 0 or thread.get("first_reply_at"):
        return "opened"
    return "machine" if _machine_verdict(thread) else "sent"


def thread_mark(thread: Mapping, lang: str = DEFAULT, now: str | datetime | None = None) -> dict:
    """``{"state", "title"}`` for one tracked thread dict (see the module docstring)."""
    lang = language(lang)
    state = mark_state(thread)
    counted = int(thread.get("opens") or 0) + int(thread.get("clicks") or 0)
    replied = thread.get("last_reply_at") or thread.get("first_reply_at")
    if state == "opened" and not counted:  # a reply, with the images never shown
        title = text(lang, "mark.replied", age=age(replied, now, lang))
    elif state == "opened":
        title = thread_summary(int(thread.get("opens") or 0), int(thread.get("clicks") or 0),
                               int(thread.get("recipients_count") or len(thread.get("recipients") or ())),
                               list(thread.get("devices") or ()), list(thread.get("places") or ()), 0, lang)
        last = thread.get("last_engagement_at")
        if last:
            title += text(lang, "mark.last", age=age(last, now, lang))
        if replied:
            title += text(lang, "mark.and_replied", age=age(replied, now, lang))
    elif state == "machine":
        title = text(lang, f"mark.machine.{_machine_verdict(thread)}")
    else:
        title = text(lang, "mark.sent")
    return {"state": state, "title": title}
