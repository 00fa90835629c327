"""The live activity feed: one stream across every tracked email, newest first, as
HubSpot's users know it ("Carol Buyer opened “Intro” · 2 min ago · London · mobile").

Pure: no I/O; the clock is read only when ``now`` is ``None``. Items are the server's
``GET /api/v1/feed`` answer (server/feed.py). Every value is escaped; the hooks:

``section.engage-feed`` > ``ol.engage-feed-list`` > ``li.engage-feed-item[data-kind][data-thread-id]``
    One per item; ``data-kind`` is ``open``, ``click``, ``reply`` or ``machine``.
``a.engage-feed-open[data-action=open-thread][data-thread-id]``
    The whole line: one click opens the thread.
``time.engage-feed-age[datetime]``
    The relative time; hosts render the feed again every ``TICK_SECONDS`` so it ticks.

Who: an email to one person names them; with several recipients nobody can tell who
opened or clicked, so it says "Someone on “Intro”" (a reply names its sender).
"""

from __future__ import annotations

import re
from datetime import datetime
from html import escape
from typing import Iterable, Mapping
from urllib.parse import unquote, urlsplit

from client_py.i18n import language, plural, text
from client_py.model import ENGAGEMENT_VERDICTS
from client_py.present import device_label, verdict_label
from client_py.times import parse_time, resolve_now

TICK_SECONDS = 30
MACHINE_VERDICTS = frozenset({"gmail_prefetch", "apple_mpp", "scanner"})
# Inline SVG (no fonts or external images: both hosts' CSP, and emoji fonts are not
# everywhere): an eye, a pointer, a reply arrow, a cog.
_SVG = '<svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true"><path fill="currentColor" d="{}"/></svg>'
ICONS = {
    "open": _SVG.format("M8 3C4.4 3 1.7 5.6 1 8c.7 2.4 3.4 5 7 5s6.3-2.6 7-5c-.7-2.4-3.4-5-7-5zm0 8a3 3 0 110-6 "
                        "3 3 0 010 6zm0-1.5a1.5 1.5 0 100-3 1.5 1.5 0 000 3z"),
    "click": _SVG.format("M3 1.5l10 5.2-4.2 1.2 2.7 4.8-1.9 1-2.6-4.8L4 12z"),
    "reply": _SVG.format("M6.5 3.5L1.5 8l5 4.5V9.8c3.4 0 5.9 1 8 3.7-.7-4-3.3-6.9-8-7.4z"),
    "machine": _SVG.format("M7 1h2l.4 1.9 1.4.6 1.6-1.1 1.4 1.4-1.1 1.6.6 1.4L15 7v2l-1.9.4-.6 1.4 1.1 1.6-1.4 "
                           "1.4-1.6-1.1-1.4.6L9 15H7l-.4-1.9-1.4-.6-1.6 1.1-1.4-1.4 1.1-1.6-.6-1.4L1 9V7l1.9-.4.6-1.4"
                           "-1.1-1.6 1.4-1.4 1.6 1.1 1.4-.6zm1 4.5a2.5 2.5 0 100 5 2.5 2.5 0 000-5z"),
}
# Providers whose domain says nothing about the person's company.
_FREE_MAIL = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com", "yahoo.com", "ymail.com",
    "icloud.com", "me.com", "mac.com", "aol.com", "proton.me", "protonmail.com", "gmx.de", "gmx.net", "web.de",
    "t-online.de", "orange.fr", "free.fr", "laposte.net", "wanadoo.fr", "yahoo.fr", "yahoo.es", "hotmail.fr",
    "hotmail.es", "mail.com", "zoho.com", "yandex.com", "fastmail.com",
})
_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "edu"})
_AGES = ((60 * 24 * 365, "age.years"), (60 * 24 * 30, "age.months"), (60 * 24 * 7, "age.weeks"),
         (60 * 24, "age.days"), (60, "age.hours"))


def item_kind(kind: str | None, verdict: str | None) -> str:
    """``open``, ``click`` or ``machine`` for an event (replies are ``reply``)."""
    if verdict in MACHINE_VERDICTS:
        return "machine"
    return "click" if kind == "click" else "open"


def company_of(address: object) -> str:
    """``Buyer`` for carol@buyer.example or carol@eu.buyer.co.uk; "" for free mail."""
    domain = str(address or "").rpartition("@")[2].strip().lower()
    if not domain or domain in _FREE_MAIL or "." not in domain:
        return ""
    labels = domain.split(".")
    name = labels[-3] if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL else labels[-2]
    return " ".join(part.capitalize() for part in re.split(r"[-_]", name) if part)


def link_name(url: object) -> str:
    """What a person calls a link: its last path word ("pricing"), else its host."""
    try:
        parts = urlsplit(str(url or ""))
    except ValueError:
        return ""
    words = [w for w in parts.path.split("/") if w]
    if words:
        word = re.sub(r"\.[a-z0-9]{1,5}$", "", unquote(words[-1]), flags=re.I)
        word = " ".join(re.split(r"[-_+]", word)).strip()
        if word and not word.isdigit() and len(word) <= 40:
            return word
    return (parts.hostname or "").removeprefix("www.")


def relative_age(iso: str | datetime, now: str | datetime | None = None, lang: str = "en") -> str:
    """``just now``, ``2 min ago``, ``3 hours ago``, ... in ``lang``."""
    lang = language(lang)
    seconds = (resolve_now(now) - parse_time(iso)).total_seconds()
    if seconds < 60:
        return text(lang, "age.just_now")
    minutes = int(seconds // 60)
    if minutes < 60:
        return plural(lang, "age.minutes", minutes)
    size, key = next((size, key) for size, key in _AGES if minutes >= size)
    return plural(lang, key, minutes // size)


def _who(item: Mapping) -> tuple[str, str]:
    """(the person's name or address, their company) when the item says who; else ("", "")."""
    person = item.get("who")
    if not person:
        return "", ""
    return (person.get("name") or person.get("address") or ""), company_of(person.get("address"))


def feed_line(item: Mapping, lang: str = "en") -> str:
    """The item in one sentence: ``Carol Buyer opened “Intro”``."""
    lang = language(lang)
    subject = item.get("subject") or text(lang, "thread.no_subject")
    kind = item.get("kind")
    name, _ = _who(item)
    if kind == "machine":
        return text(lang, "feed.machine", label=verdict_label(item.get("verdict"), lang), subject=subject)
    if kind == "reply":
        return text(lang, "feed.replied", who=name or text(lang, "feed.someone", subject=subject), subject=subject)
    someone = text(lang, "feed.someone", subject=subject)
    if kind == "click":
        label = link_name(item.get("url"))
        link = text(lang, "feed.link", name=label) if label else text(lang, "feed.a_link")
        if name:
            return text(lang, "feed.clicked", who=name, link=link, subject=subject)
        return text(lang, "feed.clicked_someone", who=someone, link=link)
    if name:
        return text(lang, "feed.opened", who=name, subject=subject)
    return text(lang, "feed.opened_someone", who=someone)


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def render_feed(items: Iterable[Mapping], settings: Mapping | None = None, now: str | datetime | None = None,
                more: bool = False) -> str:
    """The feed as HTML (see the module docstring); ``more``: a "Show older" button."""
    lang = language((settings or {}).get("locale"))
    current = resolve_now(now)
    out = [f'<section class="engage-feed" lang="{lang}"><h2 class="engage-feed-title">'
           f'{_e(text(lang, "feed.title"))}</h2><ol class="engage-feed-list">']
    count = 0
    for item in items:
        count += 1
        kind = item.get("kind") if item.get("kind") in ICONS else "open"
        _, company = _who(item)
        meta = [f'<time class="engage-feed-age" datetime="{_e(item.get("at"))}">'
                f'{_e(relative_age(item["at"], current, lang))}</time>']
        place = item.get("location")
        if place and kind != "machine":
            meta.append(f'<span class="engage-feed-place">{_e(place)}</span>')
        if item.get("device") and item.get("device") != "unknown" and kind in ("open", "click"):
            meta.append(f'<span class="engage-feed-device">{_e(device_label(item["device"], lang).lower())}</span>')
        counts = kind == "reply" or item.get("verdict") in ENGAGEMENT_VERDICTS
        thread_id = _e(item.get("thread_id"))
        out.append(
            f'<li class="engage-feed-item" data-kind="{kind}" data-counts="{"true" if counts else "false"}" '
            f'data-thread-id="{thread_id}" data-id="{_e(item.get("id"))}">'
            f'<a class="engage-feed-open" href="#" data-action="open-thread" data-thread-id="{thread_id}">'
            f'<span class="engage-feed-icon" role="img" aria-label="{_e(text(lang, "feed.kind." + kind))}">'
            f'{ICONS[kind]}</span><span class="engage-feed-body">'
            f'<span class="engage-feed-line">{_e(feed_line(item, lang))}</span>'
            + (f' <span class="engage-feed-company">{_e(company)}</span>' if company else "")
            + f'<span class="engage-feed-meta">{" · ".join(meta)}</span></span></a></li>')
    out.append("</ol>")
    if not count:
        out.append(f'<p class="engage-feed-empty">{_e(text(lang, "feed.empty"))}</p>')
    if more:
        out.append(f'<button type="button" class="engage-feed-more" data-action="feed-more">'
                   f'{_e(text(lang, "feed.more"))}</button>')
    out.append("</section>")
    return "".join(out)


FEED_CSS = """
.engage-feed{font:13px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg,#1f1f1f);padding:8px}
.engage-feed-title{font-size:11px;font-weight:600;letter-spacing:.04em;text-transform:uppercase;
 color:var(--muted,#5f6368);margin:8px 0 4px}
.engage-feed-list{list-style:none;margin:0;padding:0}
.engage-feed-item{border-top:1px solid var(--line,#e3e3e3)}
.engage-feed-open{display:flex;gap:8px;padding:6px 4px;color:inherit;text-decoration:none;border-radius:6px}
.engage-feed-open:hover{background:var(--hover,#f1f3f4)}
.engage-feed-open:focus-visible{outline:2px solid var(--accent,#1a73e8)}
.engage-feed-icon{flex:none;width:24px;height:24px;border-radius:50%;display:grid;place-items:center;
 background:#e8f0fe;color:#1a73e8}
.engage-feed-item[data-kind="click"] .engage-feed-icon{background:#e6f4ea;color:#137333}
.engage-feed-item[data-kind="reply"] .engage-feed-icon{background:#fef7e0;color:#b06000}
.engage-feed-item[data-kind="machine"] .engage-feed-icon{background:#f1f3f4;color:#5f6368}
.engage-feed-body{min-width:0;display:flex;flex-wrap:wrap;gap:0 6px}
.engage-feed-line{font-weight:600;overflow-wrap:anywhere}
.engage-feed-item[data-kind="machine"] .engage-feed-line{font-weight:400;color:var(--muted,#5f6368)}
.engage-feed-company{color:var(--muted,#5f6368)}
.engage-feed-meta{flex-basis:100%;color:var(--muted,#5f6368);font-size:12px}
.engage-feed-empty{color:var(--muted,#5f6368)}
.engage-feed-more{margin:6px 4px;background:none;border:0;color:var(--accent,#1a73e8);cursor:pointer;font:inherit}
"""
