"""The honest verdict on every hit of one email, decided from the email's whole history.

Pure: values in (all the email's hits, what the server knows about the email, the
loaded ``Rules``), a ``Decision`` per hit out; no Flask, no database, no clock. The
hits are put in time order (the time the server answered each; ties broken by the
hit id), so the same hits give the same verdicts whatever order they arrived in,
however they were batched and however many writers stored them. Later evidence
re-files earlier hits: the third link of a scanner's burst re-files the first two,
a click confirms an Apple Mail Privacy Protection download.

Every reason is a plain-words sentence naming the evidence, shown as is in the
Engagement panel and kept for 90 days: it names networks ("Google's network
66.249.64.0/19"), never the reader's address (which is not even an input here).

Precedence, first match wins (each step is tested in tests/server/test_verdicts.py):

1. ``scanner``   a request that is not GET (HEAD, ...): mail apps download the image.
2. ``self``      the sender: their extension reported viewing the thread around then,
                 the address is in their org's office ranges, or they used it
                 recently themselves. Before everything else but (1), because the
                 sender viewing their own sent mail must not look like the recipient.
3. ``scanner``   machine evidence in the request itself: prefetch or preview headers,
                 no user agent, a known scanner/bot/library user agent (for the hit's
                 kind: ``Microsoft Office/`` is a link check, not Outlook loading
                 images), an address of an email security service.
4. ``scanner``   a burst: the same source clicked ``burst_other_links`` + 1 or more
                 different links, each click within ``burst_window`` of the one
                 before (answer times). Every click of the burst is filed, the first
                 ones too.
5. ``duplicate`` the same source (address and user agent), same act (the pixel, or the
                 same link) within ``duplicate_window`` (inclusive) of its previous hit.
6. ``gmail``     Google's image proxy user agent. On a click: ``scanner``.
7. ``yahoo``     Yahoo Mail's image proxy user agent. On a click: ``scanner``.
8. ``gmail_prefetch``  Gmail's prefetch user agent (2015 Edge 12) from a Google address;
                 from elsewhere, or on a click, ``scanner``.
9. ``apple_mpp`` exactly ``Mozilla/5.0`` from Apple / iCloud Private Relay ranges on the
                 image; from anywhere else ``scanner``. On a click: from iCloud Private
                 Relay it is a person (``human``: Private Relay hides the reader's
                 address), from Apple's own network ``scanner``.
10. ``outlook``  an Exchange Online / Outlook.com address or Outlook's image proxy agent.
                 On a click: ``scanner`` (Outlook's link preview or check).
11. ``human``    nothing above.

Then, over the decided history:

- ``confirmed``  the last ``apple_mpp`` download before the email's first click that
                 counts: the recipient did open it. Counts as an open.
- an implied open: the first click that counts, when no open that counts came at or
                 before it (``Decision.implied_open``).

``Decision.proxy`` says whose server fetched it (``gmail`` / ``outlook`` / ``yahoo`` /
``apple``) whatever the verdict, so a duplicate or a self-view through a proxy is not
located at the proxy's data centre either.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Mapping, Optional, Sequence

from client_py.model import ENGAGEMENT_VERDICTS

from .rules import Marker, Network, RangeEntry, Rules, parse_networks

# Headers browsers and proxies send when nobody is looking at the page yet.
_PREFETCH_HEADERS = (
    ("purpose", ("prefetch", "preview")),
    ("sec-purpose", ("prefetch", "preview")),
    ("x-purpose", ("prefetch", "preview")),
    ("x-moz", ("prefetch",)),
)
_HEADER_NAMES = {"purpose": "Purpose", "sec-purpose": "Sec-Purpose", "x-purpose": "X-Purpose", "x-moz": "X-Moz"}
_LABELS = {  # for "the first of these was ..." in duplicate reasons
    "scanner": "a scanner", "self": "your own view", "gmail_prefetch": "Gmail's prefetch",
    "apple_mpp": "Apple Mail Privacy Protection",
}


@dataclass(frozen=True, slots=True)
class Hit:
    """One answered request to the pixel (kind="open") or a tracked link (kind="click")."""

    key: str  # the hit id given when answered: unique, breaks ties in time
    kind: str  # "open" | "click"
    at: datetime  # when the server answered it (UTC, aware)
    method: str = "GET"
    user_agent: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-cased names
    network: Network = Network()
    source: str = ""  # keyed hash of address + user agent: "the same source"
    address: str = ""  # keyed hash of the address alone (the sender's addresses)
    link: Optional[str] = None  # the link's URL, for clicks
    # A hit stored before its network was kept: its verdict is kept as it is (it
    # still counts as evidence for the hits around it).
    settled: Optional[tuple[str, str]] = None  # (verdict, reason)


@dataclass(frozen=True)
class Context:
    """What the server knows about the email and its sender."""

    sent_at: datetime
    org_ranges: Sequence[str] = ()  # the sender's org's office ranges, CIDR (v4 and v6)
    sender_addresses: Mapping[str, datetime] = field(default_factory=dict)  # address hash -> last used
    sender_address_window: timedelta = timedelta(days=7)
    self_views: Sequence[datetime] = ()  # the sender's "I am viewing this thread" reports
    self_view_window: timedelta = timedelta(seconds=120)


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: str  # human | gmail | yahoo | outlook | confirmed | gmail_prefetch | apple_mpp | scanner | self | duplicate
    reason: str  # plain words for the panel
    proxy: Optional[str] = None  # gmail | outlook | yahoo | apple: the place is the proxy's, not the reader's
    implied_open: bool = False  # a click that counts, with no open that counts at or before it

    @property
    def counts(self) -> bool:
        return self.verdict in COUNTING


class Shared:
    """One object for every equal (hashable) value given, so the many equal ones a
    writer keeps in memory (history.Memory, one per hit) are one; at most ``size``
    of them, then it starts again."""

    def __init__(self, size: int):
        self.size, self._seen = size, {}

    def __call__(self, value):
        found = self._seen.get(value)
        if found is None:
            if len(self._seen) >= self.size:
                self._seen.clear()
            found = self._seen[value] = value
        return found


_DECISIONS = Shared(4096)


def shared(verdict: str, reason: str, proxy: Optional[str] = None) -> Decision:
    """The one ``Decision`` for every hit given the same verdict in the same words:
    most hits are decided by a few dozen sentences."""
    return _DECISIONS(Decision(verdict, reason, proxy))


COUNTING = ENGAGEMENT_VERDICTS
IMPLIED_REASON = "Counted as an open because a link in the email was clicked"


def decide(hits: Sequence[Hit], ctx: Context, rules: Rules) -> dict[str, Decision]:
    """The decision on each hit (by ``Hit.key``); never raises on odd input."""
    ordered = sorted(hits, key=lambda h: (h.at, h.key))
    out: dict[str, Decision] = {}
    facts = {h.key: _Facts.of(h, rules) for h in ordered}
    # 1-3: what each hit says about itself.
    for h in ordered:
        if h.settled is not None:
            out[h.key] = Decision(h.settled[0], h.settled[1], facts[h.key].proxy)
            continue
        found = _static(h, ctx, rules, facts[h.key])
        if found is not None:
            out[h.key] = found
    # 4: bursts of different links from one source, on answer times.
    for decision_key, reason in _bursts(ordered, rules):
        if decision_key not in out:
            out[decision_key] = Decision("scanner", reason, facts[decision_key].proxy)
    # 5: the same source doing the same thing again.
    previous: dict[tuple, Hit] = {}
    heads: dict[str, str] = {}  # duplicate key -> the key of the first hit of its run
    for h in ordered:
        act = (h.source, h.kind, h.link)
        before = previous.get(act)
        previous[act] = h
        if before is not None and h.at - before.at <= rules.duplicate_window:
            heads[h.key] = heads.get(before.key, before.key)
            if h.key not in out:
                out[h.key] = None  # type: ignore[assignment]  # worded below, once the head is final
        else:
            heads[h.key] = h.key
    # 6-11: providers and people.
    for h in ordered:
        if h.key not in out:
            out[h.key] = _provider_or_human(h, ctx, rules, facts[h.key])
    _confirm_mpp(ordered, out)
    at = {h.key: h.at for h in ordered}
    for h in ordered:
        if out[h.key] is None:
            out[h.key] = _duplicate(h, at, heads, out, facts[h.key])
    _imply_open(ordered, out)
    return out


# -- what one hit says about itself ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Facts:
    ranges: Mapping[str, RangeEntry]
    markers: Mapping[str, Marker]
    proxy: Optional[str]

    @classmethod
    def of(cls, h: Hit, rules: Rules) -> "_Facts":
        ua = h.user_agent or ""
        ranges = rules.network_ranges(h.network.prefix, h.network.matched)
        markers = rules.user_agent(ua, h.kind) if ua.strip() else {}
        return cls(ranges, markers, _proxy(ranges, markers))


def _proxy(ranges: Mapping[str, RangeEntry], markers: Mapping[str, Marker]) -> Optional[str]:
    if "gmail_proxy" in markers or ("gmail_prefetch" in markers and "google" in ranges):
        return "gmail"
    if "yahoo_proxy" in markers:
        return "yahoo"
    if "apple_mpp" in markers and ("apple" in ranges or "apple_relay" in ranges):
        return "apple"
    if "outlook_proxy" in markers or "microsoft_outlook" in ranges:
        return "outlook"
    return None


def _static(h: Hit, ctx: Context, rules: Rules, f: _Facts) -> Optional[Decision]:
    def verdict(name: str, reason: str) -> Decision:
        return shared(name, reason, f.proxy)

    method = (h.method or "").upper()
    if method != "GET":
        return verdict("scanner", f"A {method or 'non-GET'} request, not a download: link checkers and "
                                  "security scanners ask like this, mail apps and browsers do not")
    found = _self(h, ctx)
    if found:
        return verdict("self", found)
    headers = h.headers or {}
    for name, words in _PREFETCH_HEADERS:
        value = headers.get(name)
        if value and any(w in value.lower() for w in words):
            return verdict("scanner", f"The request says it is a prefetch or preview "
                                      f"({_HEADER_NAMES[name]}: {value.strip()[:40]}), not someone looking at the email")
    ua = h.user_agent or ""
    if not ua.strip():
        return verdict("scanner", "No user agent: mail apps and browsers always send one, scanners often do not")
    marker = f.markers.get("scanner")
    if marker is not None:
        shown = marker.text if marker.match != "regex" else ua.strip()[:80]
        verb = "contains" if marker.match != "regex" else "is"
        return verdict("scanner", f"The user agent identifies {marker.name} (it {verb} \u201c{shown}\u201d)")
    entry = f.ranges.get("scanner")
    if entry is not None:
        return verdict("scanner", f"From {entry.owner}'s email security network {entry.cidr}: its scanners open "
                                  "links and images to check them")
    return None


def _self(h: Hit, ctx: Context) -> Optional[str]:
    window = ctx.self_view_window
    if any(abs(h.at - at) <= window for at in ctx.self_views):
        return "You were viewing this email yourself (your extension or add-in reported it)"
    net = _in_org(h.network, ctx.org_ranges)
    if net:
        return f"From your organisation's own network {net}"
    seen = ctx.sender_addresses.get(h.address) if h.address else None
    if seen is not None and seen >= h.at - ctx.sender_address_window:
        return "From an address you used yourself with Engage recently"
    return None


def _in_org(network: Network, org_ranges: Sequence[str]) -> Optional[str]:
    if not org_ranges:
        return None
    nets = parse_networks(tuple(org_ranges))
    if network.org is not None:
        for net in nets:
            if str(net) == network.org:
                return network.org  # the full address was in it when answered, and still is an office range
    if network.prefix:
        kept = ipaddress.ip_network(network.prefix)
        for net in nets:
            if net.version == kept.version and kept.subnet_of(net):
                return str(net)
    return None


# -- bursts ------------------------------------------------------------------------------------


def _bursts(ordered: Sequence[Hit], rules: Rules):
    """(key, reason) of every click in a burst: runs of clicks from one source, each
    within ``burst_window`` of the one before, on enough different links."""
    by_source: dict[str, list[Hit]] = {}
    for h in ordered:
        if h.kind == "click" and h.link is not None:
            by_source.setdefault(h.source, []).append(h)
    for clicks in by_source.values():
        run: list[Hit] = []
        for h in clicks + [None]:  # type: ignore[list-item]
            if h is not None and run and h.at - run[-1].at <= rules.burst_window:
                run.append(h)
                continue
            reason = _burst_reason(run, rules)
            if reason is not None:
                for c in run:
                    yield c.key, reason
            run = [h] if h is not None else []


def _burst_reason(run: Sequence[Hit], rules: Rules) -> Optional[str]:
    """The reason for every click of ``run`` (one source's clicks, each within the
    window of the one before) if it is a burst, else None."""
    links = {c.link for c in run}
    if len(links) < rules.burst_other_links + 1:
        return None
    span = run[-1].at - run[0].at
    return (f"{len(links)} different links clicked within {_duration(span)} from the same address "
            "and device, each within "
            f"{_duration(rules.burst_window)} of the one before: a security scanner opening every link")


# -- providers and people ----------------------------------------------------------------------


def _provider_or_human(h: Hit, ctx: Context, rules: Rules, f: _Facts) -> Decision:
    def verdict(name: str, reason: str) -> Decision:
        return shared(name, reason, f.proxy)

    ranges, markers = f.ranges, f.markers
    google = ranges.get("google")
    if "gmail_proxy" in markers:
        if h.kind == "click":
            return verdict("scanner", "Google's image proxy user agent on a link: the proxy only fetches images, "
                                      "so this was not a person clicking")
        where = (f"from Google's network {google.cidr}" if google
                 else "note: not from Google's published ranges")
        return verdict("gmail", f"Opened through Google's image proxy (Gmail); {where}")

    if "yahoo_proxy" in markers:
        yahoo = ranges.get("yahoo")
        if h.kind == "click":
            return verdict("scanner", "Yahoo Mail's proxy user agent on a link: Yahoo fetching the page to check "
                                      "or preview it, not a person clicking")
        where = (f"from {yahoo.owner}'s network {yahoo.cidr}" if yahoo
                 else "note: not from Yahoo's known networks")
        return verdict("yahoo", f"Opened through Yahoo Mail's image proxy; {where}")

    if "gmail_prefetch" in markers:
        if google is None:
            return verdict("scanner", "The 2015 Edge 12 user agent Gmail's prefetcher uses, but from elsewhere, not a Google "
                                      "address: an automated fetcher")
        after = h.at - ctx.sent_at
        if h.kind == "click":
            return verdict("scanner", f"Google's automated fetcher (Google's network {google.cidr}, the Edge 12 user "
                                      "agent of Gmail's prefetcher) on a link: not a person clicking")
        if after <= rules.prefetch_window:
            return verdict("gmail_prefetch", f"Gmail prefetched the images {_duration(after)} after sending "
                                             f"(Google's network {google.cidr}, Gmail's prefetch user agent): "
                                             "not an open")
        return verdict("gmail_prefetch", f"Gmail's prefetcher fetched the images {_duration(after)} after sending, "
                                         f"when the recipient's Gmail was active (Google's network {google.cidr}): "
                                         "not an open")

    if "apple_mpp" in markers:
        apple = ranges.get("apple")
        relay = ranges.get("apple_relay")
        if h.kind == "click":
            if relay is not None:
                return Decision("human", f"Clicked through iCloud Private Relay ({relay.owner}, {relay.cidr}), which "
                                         "hides the reader's address and browser", None)
            if apple is not None:
                return verdict("scanner", f"Bare \u201cMozilla/5.0\u201d user agent from {apple.owner}'s network "
                                          f"{apple.cidr} on a link: Mail Privacy Protection only downloads images, "
                                          "so this was not a person clicking")
        entry = apple or relay
        if entry is None:
            return verdict("scanner", "Bare \u201cMozilla/5.0\u201d user agent from outside Apple's ranges: no mail "
                                      "app or browser sends this, an automated fetcher")
        return verdict("apple_mpp", f"Apple Mail Privacy Protection downloaded the images ({entry.owner}, "
                                    f"{entry.cidr}, bare \u201cMozilla/5.0\u201d agent): it does this for every "
                                    "email, opened or not")

    outlook = ranges.get("microsoft_outlook")
    marker = markers.get("outlook_proxy")
    if outlook is not None or marker is not None:
        evidence = (f"Microsoft's network {outlook.cidr}" if outlook
                    else f"user agent contains \u201c{marker.text}\u201d")
        if h.kind == "click":
            return verdict("scanner", f"Link fetched by Microsoft's Outlook servers ({evidence}): Outlook's link "
                                      "preview or safety check, not a person clicking")
        return verdict("outlook", f"Opened through Microsoft's Outlook servers (Outlook.com or Outlook on the "
                                  f"web; {evidence})")

    kind = h.network.kind
    if kind == "unreadable":
        where = "the address could not be read"
    elif kind == "global":
        where = "not from a known proxy or scanner network"
    else:
        where = "from a private or local network"
    action = "Clicked" if h.kind == "click" else "Opened"
    return verdict("human", f"{action} in an ordinary mail app or browser ({where})")


# -- what the history adds ---------------------------------------------------------------------


def _duplicate(h: Hit, at: Mapping[str, datetime], heads, out, f: _Facts) -> Decision:
    head_key = heads[h.key]
    return _duplicate_of(h, at[head_key], out[head_key], f)


def _duplicate_of(h: Hit, head_at: datetime, head: Optional[Decision], f: _Facts) -> Decision:
    gap = h.at - head_at
    again = f"Same address and device again {_duration(gap)} after its first hit on this email"
    if head is not None and head.counts:
        return shared("duplicate", f"{again}: counted once", f.proxy)
    label = _LABELS.get(head.verdict, head.verdict) if head is not None else "not counted"
    return shared("duplicate", f"{again}, which was {label}: not counted either", f.proxy)


def _confirm_mpp(ordered: Sequence[Hit], out: dict) -> None:
    first_click = next((h for h in ordered if h.kind == "click" and out[h.key] is not None
                        and out[h.key].verdict in COUNTING), None)
    if first_click is None:
        return
    mpp = [h for h in ordered if h.kind == "open" and h.at <= first_click.at and out[h.key] is not None
           and out[h.key].verdict == "apple_mpp"]
    if mpp:
        last = mpp[-1]
        gap = _duration(first_click.at - last.at)
        out[last.key] = _confirmed(gap, out[last.key].proxy)


def _confirmed(gap: str, proxy: Optional[str]) -> Decision:
    return Decision("confirmed", "Apple Mail Privacy Protection downloaded the images, and a link in "
                                 f"the email was clicked {gap} later: the recipient did open it", proxy)


def _imply_open(ordered: Sequence[Hit], out: dict[str, Decision]) -> None:
    for h in ordered:
        d = out[h.key]
        if not d.counts:
            continue
        if h.kind == "open":
            return  # an open that counts came first: nothing to infer
        out[h.key] = Decision(d.verdict, d.reason, d.proxy, implied_open=True)
        return


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


# -- the same decisions, kept up to date as hits arrive ----------------------------------------


class Running:
    """One email's decisions kept up to date as its hits arrive, for the writer.

    ``add(hits)`` takes new hits (in any order, any batching) and returns the keys whose
    decision changed; ``decisions`` is then exactly ``decide(every hit added so far,
    ctx, rules)`` (tests/server/test_verdicts.py compares the two on random histories,
    orders and batchings). What ``decide`` computes over the whole history is kept
    here, indexed, so a batch only touches what it can change:

    - what a hit says about itself (steps 1-3, 6-11): once per hit;
    - bursts: only the run of clicks (one source, each within the window of the one
      before) that a new click joins;
    - duplicates: a run's first hit is kept per hit; a new hit re-links the hits after
      it until one already has the right first hit (at the end of a run: none);
    - the confirmed Apple download and the implied open: the first click that counts,
      the Apple downloads and the hits that count are kept sorted.

    A different ``Context`` (a self-view report, new sender addresses) needs a new
    ``Running`` (``decide`` over the whole history again)."""

    def __init__(self, ctx: Context, rules: Rules):
        self.ctx, self.rules = ctx, rules
        self.hits: dict[str, Hit] = {}
        self.decisions: dict[str, Decision] = {}
        self._facts: dict[str, _Facts] = {}
        self._own: dict[str, Optional[Decision]] = {}  # steps 1-3 (or a settled verdict)
        self._provider: dict[str, Decision] = {}  # steps 6-11, when needed
        self._clicks: dict[str, list] = {}  # source -> its clicks, sorted (at, key)
        self._burst: dict[str, str] = {}  # key -> burst reason
        self._acts: dict[tuple, list] = {}  # (source, kind, link) -> its hits, sorted (at, key)
        self._head: dict[str, str] = {}  # key -> the first hit of its run of duplicates
        self._members: dict[str, set] = {}  # head -> the other hits of its run
        self._base: dict[str, Optional[Decision]] = {}  # after steps 1-11 (None: a duplicate, worded later)
        self._counting_clicks: list = []  # (at, key) of clicks whose base counts
        self._mpp: list = []  # (at, key) of opens whose base is apple_mpp
        self._confirmed: Optional[tuple] = None  # (key of the confirmed download, the first counting click's at)
        self._worded: dict[str, Decision] = {}  # after confirmation and duplicate wording
        self._counting: list = []  # (at, key) of hits whose worded decision counts
        self._counting_worded_clicks: list = []  # the clicks among them, (at, key)
        self._implied: Optional[str] = None

    def add(self, hits: Sequence[Hit]) -> set[str]:
        new: list[Hit] = []
        for h in hits:
            if h.key not in self.hits:
                self.hits[h.key] = h
                new.append(h)
        if not new:
            return set()
        dirty: set[str] = set()
        for h in new:
            f = _Facts.of(h, self.rules)
            self._facts[h.key] = f
            if h.settled is not None:
                self._own[h.key] = Decision(h.settled[0], h.settled[1], f.proxy)
            else:
                self._own[h.key] = _static(h, self.ctx, self.rules, f)
            dirty.add(h.key)
        by_source: dict[str, list[Hit]] = {}
        by_act: dict[tuple, list[Hit]] = {}
        for h in new:
            if h.kind == "click" and h.link is not None:
                by_source.setdefault(h.source, []).append(h)
            by_act.setdefault((h.source, h.kind, h.link), []).append(h)
        for source, clicks in by_source.items():
            dirty |= self._rerun_bursts(_insert_sorted(self._clicks.setdefault(source, []), clicks), clicks)
        for act, group in by_act.items():
            dirty |= self._relink(_insert_sorted(self._acts.setdefault(act, []), group), group)
        return self._settle(dirty)

    # -- bursts and runs of duplicates -------------------------------------------------

    def _rerun_bursts(self, clicks: list, new: list[Hit]) -> set[str]:
        window, changed, done = self.rules.burst_window, set(), -1
        for p in sorted(_position(clicks, h) for h in new):
            if p <= done:
                continue  # in the run already looked at
            lo, hi = p, p
            while lo > 0 and clicks[lo][0] - clicks[lo - 1][0] <= window:
                lo -= 1
            while hi + 1 < len(clicks) and clicks[hi + 1][0] - clicks[hi][0] <= window:
                hi += 1
            done = hi
            run = [self.hits[k] for _, k in clicks[lo:hi + 1]]
            reason = _burst_reason(run, self.rules)
            for c in run:
                if self._burst.get(c.key) != reason:
                    if reason is None:
                        del self._burst[c.key]
                    else:
                        self._burst[c.key] = reason
                    changed.add(c.key)
        return changed

    def _relink(self, act: list, new: list[Hit]) -> set[str]:
        window, changed = self.rules.duplicate_window, set()
        for p in sorted(_position(act, h) for h in new):
            for j in range(p, len(act)):
                at, key = act[j]
                want = self._head[act[j - 1][1]] if j and at - act[j - 1][0] <= window else key
                old = self._head.get(key)
                if old == want:
                    break  # this one and every one after it keep their run
                if old is not None and old != key:
                    self._members[old].discard(key)
                if want != key:
                    self._members.setdefault(want, set()).add(key)
                self._head[key] = want
                changed.add(key)
        return changed

    # -- from the parts to the decisions -------------------------------------------------

    def _settle(self, dirty: set[str]) -> set[str]:
        based = set()
        for k in dirty:
            b = self._base_of(k)
            if k not in self._base or self._base[k] != b:
                h = self.hits[k]
                item = (h.at, k)
                _keep(self._counting_clicks, item, h.kind == "click" and b is not None and b.verdict in COUNTING)
                _keep(self._mpp, item, h.kind == "open" and b is not None and b.verdict == "apple_mpp")
                self._base[k] = b
                based.add(k)
        confirmed = None
        if self._counting_clicks:
            first_at = self._counting_clicks[0][0]
            i = _after(self._mpp, first_at)
            if i:
                confirmed = (self._mpp[i - 1][1], first_at)
        if confirmed != self._confirmed:
            based |= {c[0] for c in (self._confirmed, confirmed) if c is not None}
            self._confirmed = confirmed
        to_word = dirty | based
        for k in based:
            to_word |= self._members.get(k, set())  # their reason names their first hit's verdict
        worded = set()
        for k in to_word:
            w = self._worded_of(k)
            if self._worded.get(k) != w:
                h = self.hits[k]
                _keep(self._counting, (h.at, k), w.counts)
                if h.kind == "click":
                    _keep(self._counting_worded_clicks, (h.at, k), w.counts)
                self._worded[k] = w
                worded.add(k)
        implied = None
        if self._counting and self.hits[self._counting[0][1]].kind == "click":
            implied = self._counting[0][1]
        if implied != self._implied:
            worded |= {k for k in (self._implied, implied) if k is not None}
            self._implied = implied
        changed = set()
        for k in worded:
            d = self._worded[k]
            if k == implied:
                d = Decision(d.verdict, d.reason, d.proxy, implied_open=True)
            if self.decisions.get(k) != d:
                self.decisions[k] = d
                changed.add(k)
        return changed

    def _base_of(self, k: str) -> Optional[Decision]:
        own = self._own[k]
        if own is not None:
            return own
        reason = self._burst.get(k)
        if reason is not None:
            return Decision("scanner", reason, self._facts[k].proxy)
        if self._head[k] != k:
            return None
        found = self._provider.get(k)
        if found is None:
            found = self._provider[k] = _provider_or_human(self.hits[k], self.ctx, self.rules, self._facts[k])
        return found

    def _confirmed_or_base(self, k: str) -> Optional[Decision]:
        if self._confirmed is not None and self._confirmed[0] == k:
            return _confirmed(_duration(self._confirmed[1] - self.hits[k].at), self._base[k].proxy)
        return self._base[k]

    def _worded_of(self, k: str) -> Decision:
        d = self._confirmed_or_base(k)
        if d is not None:
            return d
        head = self._head[k]
        return _duplicate_of(self.hits[k], self.hits[head].at, self._confirmed_or_base(head), self._facts[k])

    # -- for the CRM and the insights --------------------------------------------------------

    def engagement(self) -> tuple:
        """(the first click that counts, how many events count: the hits that count and
        the implied open): what ``record`` writes onto the email for the insights,
        without going over the whole history."""
        first_click = self._counting_worded_clicks[0][0] if self._counting_worded_clicks else None
        return (first_click, len(self._counting) + (self._implied is not None))

    def counting_opens(self) -> tuple:
        """(first, last, whether the last is through a mail proxy) of the opens that
        count, implied ones included: ``record`` tells the CRM when they change."""
        if not self._counting:
            return (None, None, False)
        first = self._counting[0][0]  # an open, or the click that implies one
        last_at, proxied = None, False
        for at, k in reversed(self._counting):
            if last_at is not None and at < last_at:
                break
            if self.hits[k].kind == "open" or k == self._implied:
                last_at = at
                proxied = proxied or self.decisions[k].proxy is not None
        return (first, last_at, proxied)


def _position(items: list, h: Hit) -> int:
    from bisect import bisect_left

    return bisect_left(items, (h.at, h.key))


def _insert_sorted(items: list, hits: list[Hit]) -> list:
    from bisect import insort

    if len(hits) * 4 > len(items):
        items.extend((h.at, h.key) for h in hits)
        items.sort()
    else:
        for h in hits:
            insort(items, (h.at, h.key))
    return items


def _keep(items: list, item: tuple, wanted: bool) -> None:
    """Put ``item`` in (or take it out of) the sorted list ``items``."""
    from bisect import bisect_left

    i = bisect_left(items, item)
    present = i < len(items) and items[i] == item
    if wanted and not present:
        items.insert(i, item)
    elif present and not wanted:
        del items[i]


def _after(items: list, at: datetime) -> int:
    """How many of the sorted (at, key) ``items`` are at or before ``at``."""
    from bisect import bisect_right

    return bisect_right(items, at, key=lambda item: item[0])
