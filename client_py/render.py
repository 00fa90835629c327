"""The Engagement panel as an HTML string, for Gmail (extension) and Outlook (add-in).

Pure: no I/O; the clock is read only when ``now`` is ``None``.  Every value from data
is escaped (``html.escape(..., quote=True)``), so a subject like
``<img src=x onerror=alert(1)>`` shows as text.  A clicked link becomes an ``<a href>``
only for ``http``/``https`` URLs.  There are no inline event handlers, inline scripts or
styles and no external resources (both hosts enforce a strict CSP; Gmail enforces
Trusted Types, so hosts insert this through their policy or ``DOMParser``).

Stable hooks for the host JavaScript (attach one delegated listener on the root and
branch on ``data-action``):

``div.engage-panel[data-unread=N]``
    Root; ``N`` is the unread counter.
``span.engage-counter[data-action=reset-counter]``
    The counter; Ctrl+double-click resets it (the host sets ``counter_reset_at``).
``section.engage-category[data-category=pinned|other]``
    One per category, with an ``h2`` and either threads or ``p.engage-empty``.
``article.engage-thread[data-thread-id][data-latest-message-id][data-client][data-unread]``
    One per thread.  Inside it:
``button.engage-thread-toggle[data-action=toggle][aria-expanded][aria-controls]``
    Expands/collapses the events list: the host flips ``aria-expanded`` and the list's
    ``hidden`` attribute, and records the thread as viewed.
``button.engage-pin[data-action=pin|unpin][data-thread-id][aria-pressed]``
    Pins or unpins the thread.
``a.engage-open[data-action=open][data-thread-id][data-message-id]``
    Opens the latest tracked email in the mail client (``href="#"``; the host
    prevents the default).
``ol.engage-events[hidden] > li.engage-event[data-verdict][data-counts=true|false]``
    The events, newest first; a non-counting one carries ``span.engage-why``.
``li.engage-readers``
    First in the events list when the latest email's counted events show more than
    one probable reader or a possible forward (client_py/insights.py).
``p.engage-hidden-note``
    How many older threads the display window hides.

Language: ``settings["locale"]`` (a BCP 47 tag the host reads from the browser's or
Office's display language, e.g. ``de-DE``, and adds to the settings it passes; not a
stored setting) picks the panel's words and how dates and
numbers are written (:mod:`client_py.i18n`: English, German, French, Spanish; English
for anything else).  The hooks above never change with the language.
"""

from __future__ import annotations

import re
from datetime import datetime
from html import escape
from typing import Mapping
from urllib.parse import urlsplit

from client_py.i18n import language, number, plural, text
from client_py.insights import INSIGHTS_CSS, readers, readers_line
from client_py.marks import GLYPHS, thread_mark
from client_py.model import ENGAGEMENT_VERDICTS, merged_settings
from client_py.panel import localized_summary, why_not_counted
from client_py.present import TimeFormatter, device_label, event_label, location_label
from client_py.reminder_view import remind_menu
from client_py.replies import confirmed_by_reply

_SAFE_URL_RE = re.compile(r"https?://[^\s\x00-\x1f\x7f]+", re.IGNORECASE)
_ID_UNSAFE_RE = re.compile(r"[^A-Za-z0-9_-]")
_RECIPIENTS_SHOWN = 3


_SPECIAL_RE = re.compile(r"[&<>\"']")


def _e(value: object) -> str:
    """Escape for text and double-quoted attributes; most values need nothing (fast path)."""
    text = "" if value is None else str(value)
    return escape(text, quote=True) if _SPECIAL_RE.search(text) else text


def safe_url(url: object) -> str | None:
    """``url`` when it is an absolute http(s) URL with a host, else ``None`` (no link)."""
    if not isinstance(url, str) or not _SAFE_URL_RE.fullmatch(url):
        return None
    try:
        return url if urlsplit(url).hostname else None
    except ValueError:
        return None


def render_counter_badge(n: int) -> str:
    """The extension badge text: ``""`` for none, the number, or ``99+``."""
    if n <= 0:
        return ""
    return "99+" if n > 99 else str(n)


def _recipients_line(thread: Mapping, lang: str) -> str:
    people = [r.get("name") or r.get("address") or "" for r in thread.get("recipients") or ()]
    if not people:
        return ""
    shown = ", ".join(people[:_RECIPIENTS_SHOWN])
    more = len(people) - _RECIPIENTS_SHOWN
    if more > 0:
        return text(lang, "thread.to_more", people=shown, more=number(more, lang))
    return text(lang, "thread.to", people=shown)


class _Context:
    """One render: the time formatter and the event-line pieces already built.

    Most events share their verdict, kind, device and place, so the escaped pieces
    that depend only on those are built once per distinct combination (this halved
    the time to render 100,000 events on CPython).
    """

    def __init__(self, settings: Mapping | None, now: str | datetime | None) -> None:
        # The display language is the host's, passed with the settings at render time;
        # it is not a stored setting (merged_settings keeps only those).
        self.lang = language((settings or {}).get("locale"))
        self.fmt = TimeFormatter(merged_settings(settings).get("time_zone"), now, self.lang)
        self.now = now
        self.pieces: dict[tuple, tuple[str, str, str]] = {}
        self.with_reminders = bool((settings or {}).get("with_reminders"))

    def event_pieces(self, event: Mapping, replied: bool = False) -> tuple[str, str, str]:
        """(li start up to the title's time, kind span, device/place/why spans and end).

        ``replied``: an Apple MPP download the thread's reply confirmed (it counts)."""
        verdict = event.get("verdict")
        counts = verdict in ENGAGEMENT_VERDICTS or replied
        key = (verdict, event.get("kind"), bool(event.get("implied")), event.get("device"),
               event.get("city"), event.get("region"), event.get("country"),
               None if counts else event.get("reason"), replied)
        pieces = self.pieces.get(key)
        if pieces is None:
            lang = self.lang
            place = location_label(event, lang)
            kind = text(lang, "verdict.replied") if replied else event_label(event, lang)
            if event.get("implied"):
                kind += text(lang, "event.implied")
            why = "" if counts else f' <span class="engage-why">{_e(why_not_counted(event, lang))}</span>'
            pieces = self.pieces[key] = (
                f'<li class="engage-event" data-verdict="{_e(verdict)}" '
                f'data-counts="{"true" if counts else "false"}" title="{_e(place)} · ',
                f' <span class="engage-kind">{_e(kind)}</span>',
                f' <span class="engage-device">{_e(device_label(event.get("device"), lang))}</span>'
                f' <span class="engage-place">{_e(place)}</span>{why}</li>',
            )
        return pieces


def _render_event(event: Mapping, ctx: _Context, out: list[str], first_reply_at: str | None = None) -> None:
    replied = bool(first_reply_at) and confirmed_by_reply(event, first_reply_at)
    start, kind, end = ctx.event_pieces(event, replied)
    at = event.get("at")
    short, full = ctx.fmt.short_and_full(at) if at else ("", "")
    out.append(f'{start}{_e(full)}"><time datetime="{_e(at)}">{_e(short)}</time>{kind}')
    url = event.get("url")
    if event.get("kind") == "click" and url:
        href = safe_url(url)
        if href:
            out.append(f' <a class="engage-link" href="{_e(href)}" target="_blank" '
                       f'rel="noopener noreferrer">{_e(url)}</a>')
        else:
            out.append(f' <span class="engage-link">{_e(url)}</span>')
    out.append(end)


def _render_thread(thread: Mapping, ctx: _Context, out: list[str]) -> None:
    lang = ctx.lang
    thread_id = str(thread.get("thread_id") or "")
    unread = "true" if thread.get("unread") else "false"
    pinned = bool(thread.get("pinned"))
    events_id = "engage-events-" + _ID_UNSAFE_RE.sub("_", thread_id)
    activity = thread.get("last_activity_at")
    out.append(
        f'<article class="engage-thread" data-thread-id="{_e(thread_id)}" '
        f'data-latest-message-id="{_e(thread.get("latest_message_id"))}" '
        f'data-client="{_e(thread.get("client"))}" data-unread="{unread}">'
        f'<div class="engage-thread-head">'
    )
    # The mark Gmail's lists and Outlook's read pane show too (client_py/marks.py).
    mark = thread_mark(thread, lang, ctx.now)
    out.append(f'<span class="engage-mark engage-mark--{mark["state"]}" data-engage-state="{mark["state"]}" '
               f'title="{_e(mark["title"])}" role="img" aria-label="{_e(mark["title"])}">'
               f'{GLYPHS[mark["state"]]}</span>')
    out.append(
        f'<button type="button" class="engage-thread-toggle" data-action="toggle" '
        f'aria-expanded="false" aria-controls="{_e(events_id)}">'
    )
    if thread.get("unread"):
        out.append(f'<span class="engage-dot" title="{_e(text(lang, "thread.new"))}"></span>')
    subject = thread.get("subject") or text(lang, "thread.no_subject")
    out.append(f'<span class="engage-subject">{_e(subject)}</span>')
    recipients = _recipients_line(thread, lang)
    if recipients:
        addresses = ", ".join(r.get("address") or "" for r in thread.get("recipients") or ())
        out.append(f'<span class="engage-recipients" title="{_e(addresses)}">{_e(recipients)}</span>')
    out.append(f'<span class="engage-summary">{_e(localized_summary(thread, lang))}</span>')
    if activity:
        short, full = ctx.fmt.short_and_full(activity)
        out.append(f'<time class="engage-when" datetime="{_e(activity)}" title="{_e(full)}">{_e(short)}</time>')
    action = "unpin" if pinned else "pin"
    label = _e(text(lang, f"thread.{action}"))
    out.append(
        f'</button><button type="button" class="engage-pin" data-action="{action}" '
        f'data-thread-id="{_e(thread_id)}" aria-pressed="{"true" if pinned else "false"}" '
        f'title="{label}" aria-label="{label}">{"★" if pinned else "☆"}</button></div>'
        f'<a class="engage-open" href="#" data-action="open" data-thread-id="{_e(thread_id)}" '
        f'data-message-id="{_e(thread.get("latest_message_id"))}">{_e(text(lang, "thread.open"))}</a>'
    )
    if ctx.with_reminders:  # the host wires the reminder actions (client_py/reminder_view.py)
        out.append(remind_menu(thread, lang, ctx.fmt))
    out.append(
        f'<ol class="engage-events" id="{_e(events_id)}" hidden>'
    )
    events = thread.get("events") or ()
    first_reply_at = thread.get("first_reply_at")
    line = _readers(thread, events, lang)
    if line:
        out.append(f'<li class="engage-readers">{_e(line)}</li>')
    for event in events:
        _render_event(event, ctx, out, first_reply_at)
    if not events:
        out.append(f'<li class="engage-none">{_e(text(lang, "thread.no_events"))}</li>')
    earlier = int(thread.get("events_total") or 0) - len(events)
    if earlier > 0:  # the server sends a thread's latest events; the counts cover all
        out.append(f'<li class="engage-more" data-thread-id="{_e(thread_id)}">'
                   f'{_e(plural(lang, "thread.earlier_events", earlier))}</li>')
    out.append("</ol></article>")


def _readers(thread: Mapping, events, lang: str) -> str:
    """``2 readers: desktop in London, mobile in Berlin`` for the latest email's counted
    events (client_py.insights.readers), when there is more than one, or a forward."""
    latest = thread.get("latest_message_id")
    mine = [e for e in events if e.get("message_id") == latest and e.get("verdict") in ENGAGEMENT_VERDICTS]
    if len(mine) < 2:
        return ""
    recipients = [{"domain": str(r.get("address") or "").rpartition("@")[2].lower()}
                  for r in thread.get("recipients") or ()]
    found = readers(mine, recipients)
    return readers_line(found, lang) if len(found["readers"]) > 1 or found["forwarded"] else ""


def render_thread(thread: Mapping, settings: Mapping | None, now: str | datetime | None = None) -> str:
    """One thread's ``<article>``, e.g. to replace it in place after a live update."""
    out: list[str] = []
    _render_thread(thread, _Context(settings, now), out)
    return "".join(out)


def _empty_text(category: str, panel: Mapping, lang: str) -> str:
    if panel.get("filtered"):
        return text(lang, f"panel.empty.{category}.filtered")
    if category == "pinned":
        return text(lang, "panel.empty.pinned")
    days = int(panel.get("display_window_days") or 14)
    return plural(lang, "panel.empty.other", days, days=number(days, lang))


def render_panel(panel: Mapping, settings: Mapping | None, now: str | datetime | None = None) -> str:
    """The whole Engagement panel from :func:`client_py.panel.build_panel`'s result."""
    ctx = _Context(settings, now)
    lang = ctx.lang
    unread = int(panel.get("unread") or 0)
    out = [
        f'<div class="engage-panel" data-unread="{unread}" lang="{lang}">'
        f'<header class="engage-header"><h1 class="engage-title">{_e(text(lang, "panel.title"))}</h1>'
        f'<span class="engage-counter" data-action="reset-counter" '
        f'title="{_e(text(lang, "panel.reset_hint"))}" aria-label="{_e(plural(lang, "panel.unread", unread))}">'
        f'{_e(number(unread, lang))}</span></header>'
    ]
    for category in ("pinned", "other"):
        heading = _e(text(lang, f"panel.{category}"))
        threads = panel.get(category) or ()
        out.append(f'<section class="engage-category" data-category="{category}"><h2>{heading}</h2>')
        for thread in threads:
            _render_thread(thread, ctx, out)
        if not threads:
            out.append(f'<p class="engage-empty">{_e(_empty_text(category, panel, lang))}</p>')
        out.append("</section>")
    hidden = int(panel.get("hidden_by_window") or 0)
    if hidden:
        days = int(panel.get("display_window_days") or 14)
        note = plural(lang, "panel.hidden", hidden, days=number(days, lang))
        out.append(f'<p class="engage-hidden-note">{_e(note)}</p>')
    out.append("</div>")
    return "".join(out)


#: The panel's stylesheet; hosts include it once (no external resources, no fonts).
PANEL_CSS = """
.engage-panel{--bg:#fff;--fg:#1f1f1f;--muted:#5f6368;--line:#e3e3e3;--accent:#1a73e8;
 --warn:#b06000;--hover:#f1f3f4;font:13px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
 color:var(--fg);background:var(--bg);min-width:0;max-width:100%;box-sizing:border-box;padding:8px}
.engage-panel *{box-sizing:border-box}
.engage-header{display:flex;align-items:center;justify-content:space-between;gap:8px;margin:0 0 8px}
.engage-title{font-size:16px;font-weight:600;margin:0}
.engage-counter{min-width:22px;padding:1px 7px;border-radius:11px;background:var(--accent);color:#fff;
 font-weight:600;text-align:center;cursor:default;user-select:none}
.engage-panel[data-unread="0"] .engage-counter{background:var(--line);color:var(--muted)}
.engage-category{margin:0 0 12px}
.engage-category h2{font-size:11px;font-weight:600;letter-spacing:.04em;text-transform:uppercase;
 color:var(--muted);margin:8px 0 4px}
.engage-empty,.engage-hidden-note,.engage-none{color:var(--muted);margin:4px 0}
.engage-thread{border-top:1px solid var(--line);padding:6px 0}
.engage-thread-head{display:flex;align-items:flex-start;gap:4px}
.engage-thread-toggle{flex:1;min-width:0;display:grid;grid-template-columns:1fr auto;gap:0 8px;
 text-align:left;background:none;border:0;padding:4px;border-radius:6px;color:inherit;font:inherit;cursor:pointer}
.engage-thread-toggle:hover,.engage-pin:hover{background:var(--hover)}
.engage-thread-toggle:focus-visible,.engage-pin:focus-visible,.engage-open:focus-visible{outline:2px solid var(--accent)}
.engage-subject{font-weight:600;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.engage-thread[data-unread="true"] .engage-subject{color:var(--accent)}
.engage-dot{grid-column:2;grid-row:1;justify-self:end;width:8px;height:8px;border-radius:50%;background:var(--accent);margin-top:5px}
.engage-when{grid-column:2;grid-row:2;color:var(--muted);font-size:12px;white-space:nowrap}
.engage-recipients,.engage-summary{grid-column:1;color:var(--muted);overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.engage-mark{flex:none;min-width:18px;padding:4px 0;font-weight:700;font-size:12px;letter-spacing:-3px;text-align:center;cursor:default}
.engage-mark--sent{color:var(--muted)}.engage-mark--opened{color:#188038}
.engage-mark--machine{color:var(--warn);letter-spacing:0}
.engage-pin{background:none;border:0;border-radius:6px;padding:4px 6px;color:var(--muted);font-size:15px;cursor:pointer}
.engage-pin[aria-pressed="true"]{color:var(--accent)}
.engage-open{display:inline-block;margin:2px 4px;color:var(--accent);text-decoration:none;font-size:12px}
.engage-open:hover{text-decoration:underline}
.engage-events{list-style:none;margin:4px 0 0;padding:0 4px}
.engage-event{display:flex;flex-wrap:wrap;gap:2px 6px;padding:3px 0;border-top:1px dashed var(--line);font-size:12px}
.engage-event time{color:var(--muted);white-space:nowrap}
.engage-kind{font-weight:600}
.engage-event[data-counts="false"]{color:var(--muted)}
.engage-event[data-counts="false"] .engage-kind{font-weight:400}
.engage-link{max-width:100%;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;color:var(--accent)}
.engage-device,.engage-place{color:var(--muted)}
.engage-why{flex-basis:100%;font-style:italic;color:var(--warn)}
@media (prefers-color-scheme:dark){.engage-panel{--bg:#202124;--fg:#e8eaed;--muted:#9aa0a6;
 --line:#3c4043;--accent:#8ab4f8;--warn:#fdd663;--hover:#2d2f31}
 .engage-counter{color:#202124}}
"""
PANEL_CSS += INSIGHTS_CSS  # the Insights view is shown in the same hosts

