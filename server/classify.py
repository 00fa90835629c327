"""The honest verdict on one hit of the tracking pixel or a tracked link.

Pure: values in (the request, what the server knows about the message, the loaded
``Rules``), a ``Verdict`` out; no Flask, no database, no clock. Every reason is a
plain-words sentence naming the evidence, shown as is in the Engagement panel.

Precedence, first match wins (each step is tested in tests/server/test_classify.py):

1. ``scanner``   a request that is not GET (HEAD, ...): mail apps download the image.
2. ``self``      the sender: their extension reported viewing the message, the address
                 is in their org's office ranges, or they used it recently themselves.
                 Before everything else but (1), because the sender viewing their own
                 sent mail through Gmail must not look like the recipient opening it.
3. ``scanner``   machine evidence in the request itself, strongest first: prefetch or
                 preview headers, no user agent, a burst of different links within
                 ``burst_window``, a known scanner/bot/library user agent, an address of
                 an email security service. Before ``duplicate`` so a repeating scanner
                 is named as one rather than hidden as a repeat.
4. ``duplicate`` the same source (address and user agent) within ``duplicate_window``
                 (inclusive) of its previous hit on this message: counted once.
5. ``gmail``     Google's image proxy user agent. On a click: ``scanner`` (the proxy
                 only fetches images).
6. ``gmail_prefetch``  Gmail's prefetch user agent (2015 Edge 12) from a Google address.
                 At any time: within ``prefetch_window`` of sending it is worded as the
                 prefetch at delivery; later it is Gmail prefetching when the recipient's
                 Gmail became active, still not a read (the user agent and address are
                 the prefetcher's whenever it runs). From a non-Google address, or on a
                 click, the same agent is ``scanner``.
7. ``apple_mpp`` exactly ``Mozilla/5.0`` from Apple / iCloud Private Relay ranges. The same
                 bare agent from anywhere else, or on a click, is ``scanner``.
8. ``outlook``   an Exchange Online / Outlook.com address or Outlook's image proxy agent.
                 On a click: ``scanner`` (Outlook's link preview or check).
9. ``human``     nothing above.

``Verdict.proxy`` says whose server the address belongs to (``gmail`` / ``outlook``)
whatever the verdict, so a duplicate or a self-view through Gmail is not located at a
Google data centre either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping, Optional, Sequence

from .rules import AddressFacts, Marker, Rules, parse_networks

# Headers browsers and proxies send when nobody is looking at the page yet.
_PREFETCH_HEADERS = (
    ("purpose", ("prefetch", "preview")),
    ("sec-purpose", ("prefetch", "preview")),
    ("x-purpose", ("prefetch", "preview")),
    ("x-moz", ("prefetch",)),
)
_HEADER_NAMES = {"purpose": "Purpose", "sec-purpose": "Sec-Purpose", "x-purpose": "X-Purpose", "x-moz": "X-Moz"}


@dataclass(frozen=True)
class Hit:
    """One request to the pixel (kind="open") or a tracked link (kind="click")."""

    kind: str  # "open" | "click"
    method: str  # "GET" | "HEAD" | ...
    ip: str  # client address, already resolved (X-Forwarded-For handled by the caller)
    user_agent: str
    headers: Mapping[str, str]  # lower-cased header names
    at: datetime  # UTC, aware
    url: Optional[str] = None  # the link for clicks


@dataclass(frozen=True)
class Context:
    """What the server knows about this message and source (from the DB, by the caller)."""

    sent_at: datetime
    org_ranges: Sequence[str] = ()  # the sender's org's office ranges, CIDR (v4 and v6)
    sender_address_recent: bool = False  # the sender used this address recently
    self_reported: bool = False  # the sender's extension reported viewing this message just now
    # Previous hit (any verdict) on this message from the same source (address + user agent).
    last_same_source_at: Optional[datetime] = None
    # Earlier clicks on this message from the same source in the last few seconds: (at, url).
    recent_clicks_same_source: Sequence[tuple[datetime, str]] = ()


@dataclass(frozen=True)
class Verdict:
    verdict: str  # human | gmail | gmail_prefetch | outlook | apple_mpp | scanner | self | duplicate
    reason: str  # plain words for the panel
    proxy: Optional[str]  # "gmail" | "outlook" | None: where the location should say Gmail / Outlook.com


def classify(hit: Hit, ctx: Context, rules: Rules) -> Verdict:
    """The verdict on ``hit``; never raises on odd input (unreadable address, no agent)."""
    ua = hit.user_agent or ""
    addr = rules.address(hit.ip or "")
    markers = rules.user_agent(ua) if ua.strip() else {}
    proxy = _proxy(addr, markers)

    def verdict(name: str, reason: str) -> Verdict:
        return Verdict(name, reason, proxy)

    method = (hit.method or "").upper()
    if method != "GET":
        return verdict("scanner", f"A {method or 'non-GET'} request, not a download: link checkers and "
                                  "security scanners ask like this, mail apps and browsers do not")

    found = _self(hit, ctx, addr)
    if found:
        return verdict("self", found)

    found = _machine_evidence(hit, ctx, rules, ua, addr, markers)
    if found:
        return verdict("scanner", found)

    if ctx.last_same_source_at is not None:
        gap = hit.at - ctx.last_same_source_at
        if timedelta(0) <= gap <= rules.duplicate_window:
            return verdict("duplicate", f"Same address and device again {_duration(gap)} after the previous "
                                        "hit on this email: counted once")

    return _provider_or_human(hit, ctx, rules, addr, markers, verdict)


def _proxy(addr: AddressFacts, markers: Mapping[str, Marker]) -> Optional[str]:
    if "gmail_proxy" in markers or ("gmail_prefetch" in markers and "google" in addr.ranges):
        return "gmail"
    if "outlook_proxy" in markers or "microsoft_outlook" in addr.ranges:
        return "outlook"
    return None


def _self(hit: Hit, ctx: Context, addr: AddressFacts) -> Optional[str]:
    if ctx.self_reported:
        return "You were viewing this email yourself (your extension or add-in reported it)"
    if addr.ip is not None and ctx.org_ranges:
        for net in parse_networks(tuple(ctx.org_ranges)):
            if addr.ip in net:
                return f"From your organisation's own network ({addr.text} is in {net})"
    if ctx.sender_address_recent:
        return f"From {addr.text if addr.ip else hit.ip}, an address you used yourself with Engage recently"
    return None


def _machine_evidence(
    hit: Hit, ctx: Context, rules: Rules, ua: str, addr: AddressFacts, markers: Mapping[str, Marker]
) -> Optional[str]:
    headers = hit.headers or {}
    for name, words in _PREFETCH_HEADERS:
        value = headers.get(name)
        if value and any(w in value.lower() for w in words):
            return (f"The request says it is a prefetch or preview ({_HEADER_NAMES[name]}: {value.strip()[:40]}), "
                    "not someone looking at the email")
    if not ua.strip():
        return "No user agent: mail apps and browsers always send one, scanners often do not"
    if hit.kind == "click" and hit.url is not None:
        others = {
            url for at, url in ctx.recent_clicks_same_source
            if url != hit.url and timedelta(0) <= hit.at - at <= rules.burst_window
        }
        if len(others) >= rules.burst_other_links:
            return (f"{len(others) + 1} different links clicked within {_duration(rules.burst_window)} from the same "
                    "address and device: a security scanner opening every link, not a person")
    marker = markers.get("scanner")
    if marker is not None:
        shown = marker.text if marker.match != "regex" else ua.strip()[:80]
        verb = "contains" if marker.match != "regex" else "is"
        return f"The user agent identifies {marker.name} (it {verb} \u201c{shown}\u201d), not a person"
    entry = addr.ranges.get("scanner")
    if entry is not None:
        return (f"From {addr.text}, in {entry.owner}'s email security network ({entry.cidr}): "
                "its scanners open links and images to check them")
    return None


def _provider_or_human(hit, ctx, rules, addr, markers, verdict) -> Verdict:
    google = addr.ranges.get("google")
    if "gmail_proxy" in markers:
        if hit.kind == "click":
            return verdict("scanner", "Google's image proxy user agent on a link: the proxy only fetches images, "
                                      "so this was not a person clicking")
        where = (f"{addr.text} is in Google's {google.cidr}" if google
                 else f"note: {addr.text} is not in Google's published ranges")
        return verdict("gmail", f"Opened through Google's image proxy (Gmail); {where}")

    if "gmail_prefetch" in markers:
        if google is None:
            return verdict("scanner", f"The 2015 Edge 12 user agent Gmail's prefetcher uses, but from "
                                      f"{addr.text}, not a Google address: an automated fetcher")
        after = hit.at - ctx.sent_at
        if hit.kind == "click":
            return verdict("scanner", f"Google's automated fetcher (Google address {addr.text}, the Edge 12 user "
                                      "agent of Gmail's prefetcher) on a link: not a person clicking")
        if after <= rules.prefetch_window:
            return verdict("gmail_prefetch", f"Gmail prefetched the images {_duration(after)} after sending "
                                             f"(Google address {addr.text}, Gmail's prefetch user agent): not an open")
        return verdict("gmail_prefetch", f"Gmail's prefetcher fetched the images {_duration(after)} after sending, "
                                         f"when the recipient's Gmail was active (Google address {addr.text}): "
                                         "not an open")

    if "apple_mpp" in markers:
        apple = addr.ranges.get("apple")
        if apple is None:
            return verdict("scanner", f"Bare \u201cMozilla/5.0\u201d user agent from {addr.text}, "
                                      "outside Apple's ranges: no mail app or browser sends this, an automated fetcher")
        if hit.kind == "click":
            return verdict("scanner", f"Bare \u201cMozilla/5.0\u201d user agent from {apple.owner} on a link: Mail "
                                      "Privacy Protection only downloads images, so this was not a person clicking")
        return verdict("apple_mpp", f"Apple Mail Privacy Protection downloaded the images ({addr.text}, {apple.owner} "
                                    f"{apple.cidr}, bare \u201cMozilla/5.0\u201d agent): it does this for every "
                                    "email, opened or not")

    outlook = addr.ranges.get("microsoft_outlook")
    marker = markers.get("outlook_proxy")
    if outlook is not None or marker is not None:
        evidence = (f"{addr.text} is in Microsoft's {outlook.cidr}" if outlook
                    else f"user agent contains \u201c{marker.text}\u201d")
        if hit.kind == "click":
            return verdict("scanner", f"Link fetched by Microsoft's Outlook servers ({evidence}): Outlook's link "
                                      "preview or safety check, not a person clicking")
        return verdict("outlook", f"Opened through Microsoft's Outlook servers (Outlook.com or Outlook on the "
                                  f"web; {evidence})")

    if addr.ip is None:
        where = "the address could not be read"
    elif addr.is_global:
        where = f"{addr.text} is not a known proxy or scanner address"
    else:
        where = f"{addr.text} is a private or local address"
    action = "Clicked" if hit.kind == "click" else "Opened"
    return verdict("human", f"{action} in an ordinary mail app or browser ({where})")


def _duration(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    if seconds < 1:
        return f"{seconds:.1f} s".replace(".0 s", " s")
    if seconds < 120:
        return f"{int(seconds)} s"
    if seconds < 7200:
        return f"{int(seconds // 60)} min"
    if seconds < 172800:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} days"
