"""The evidence the verdicts match a hit against: address ranges and user-agent
markers, loaded from JSON data files (``server/data/``), never written in code.

Pure apart from reading the files once in ``Rules.load``. Lookups are on the hot path
(every pixel hit), so both are cached per ``Rules`` instance: the same proxies, scanners
and mail apps come back again and again.

Data files (a directory given to ``Rules.load`` overrides the bundled file of the same
name; a file it lacks falls back to the bundled one):

``address_ranges.json``
    ``{"groups": {GROUP: {"meaning": str, "ranges": [{"cidr", "owner", "source",
    "as_of", "note"}]}}}``. Groups the verdicts use: ``google``, ``apple``,
    ``apple_relay`` (iCloud Private Relay egress), ``microsoft_outlook``, ``yahoo``,
    ``scanner``. Extra groups load but no verdict uses them.
``user_agent_markers.json``
    ``{"markers": [{"group", "match", "text", "name", "source", "as_of", "note",
    "prefilter", "applies_to"}]}``; ``match`` is ``contains`` (case-insensitive substring), ``exact``
    (whole user agent, surrounding spaces ignored) or ``regex`` (case-insensitive
    ``re.search``). A regex may list ``prefilter`` substrings, one of which must be in
    the (lower-cased) agent before the regex runs: a substring test costs a fraction
    of a regex scan, and most agents contain none of them. ``applies_to`` (default
    both) limits a marker to ``open`` (the image) or ``click`` (a link) hits: Outlook
    for Windows sends ``Microsoft Office/`` both when it checks a link and when it
    loads the images for its reader.
    Groups: ``gmail_proxy``, ``gmail_prefetch``, ``apple_mpp``, ``outlook_proxy``,
    ``yahoo_proxy``, ``scanner``.

Stored hits keep the network their address is in (``network_of``: a /24 or a /48),
never the address, plus the ranges the full address matched when it was answered;
``network_ranges`` matches that against the current data again (``engage reclassify``).
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterable, Mapping, Optional, Sequence, Union

from .addresses import parse_address

IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
IPNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]

RANGES_FILE = "address_ranges.json"
MARKERS_FILE = "user_agent_markers.json"
MATCH_KINDS = ("contains", "exact", "regex")
HIT_KINDS = ("open", "click")
#: How much of an address a stored hit keeps: its network, never the address itself.
KEPT_PREFIX = {4: 24, 6: 48}


class RulesFileError(ValueError):
    """A rules data file is unreadable or has an entry that cannot be used."""


@dataclass(frozen=True)
class RangeEntry:
    group: str
    cidr: str  # normalised, e.g. "66.249.64.0/19"
    owner: str
    source: str
    as_of: str
    note: str = ""


@dataclass(frozen=True)
class Marker:
    group: str
    match: str  # contains | exact | regex
    text: str
    name: str  # plain words for reasons, e.g. "Barracuda's email security scanner"
    source: str
    as_of: str
    note: str = ""
    prefilter: tuple[str, ...] = ()  # regex only: lower-case substrings, one required
    applies_to: tuple[str, ...] = HIT_KINDS  # the hit kinds the marker describes


@dataclass(frozen=True)
class AddressFacts:
    """What the rules know about one client address."""

    ip: Optional[IPAddress]  # None: malformed or missing
    ranges: Mapping[str, RangeEntry]  # group -> most specific matching range
    text: str = "an unreadable address"  # the address as shown in reasons (formatted once)
    is_global: bool = False  # a public Internet address (not private, loopback, ...)


@dataclass(frozen=True, slots=True)
class Network:
    """What is kept of the address a hit came from: never the address itself."""

    kind: str = "unreadable"  # "global" | "private" (private, loopback, ...) | "unreadable"
    prefix: Optional[str] = None  # the /24 or /48 it is in, e.g. "81.2.69.0/24"
    matched: tuple[tuple[str, str], ...] = ()  # (group, cidr) the full address matched when answered
    org: Optional[str] = None  # the sender's office range the full address was in when answered


def observe(text: Optional[str], rules: "Rules", office_ranges: Sequence[str] = ()) -> Network:
    """What a stored hit keeps of the address ``text``: called once, by the writer,
    while the address is still at hand (it is not kept). Cached per address and
    office ranges: the same proxies and readers come back again and again."""
    return rules.observe(text or "", tuple(office_ranges))


def _observe(rules: "Rules", text: str, office_ranges: tuple[str, ...]) -> Network:
    return rules.observe_address(parse_ip(text), office_ranges)


_UNREADABLE = Network()
#: How many kept blocks' ``Network`` a ``Rules`` shares (``observe_address``); then it starts again.
SHARED_BLOCKS = 65536


def parse_ip(text: str) -> Optional[IPAddress]:
    """The address, or None when it cannot be read: any IPv6 spelling (brackets, a
    zone, upper case, leading zeros dropped); IPv4-mapped IPv6 becomes IPv4."""
    return parse_address(text)


def _special_v4_blocks(prefix: int = 24, version: int = 4) -> Optional[frozenset]:
    """The blocks of ``prefix`` bits (address >> (32 - prefix); 128 for ``version`` 6)
    that hold a special-purpose range narrower than the block (``192.0.0.0/29``,
    ``255.255.255.255/32``, ``::1/128``...), from ``ipaddress``'s own tables; None when
    those tables cannot be read (then nothing is shared, see ``is_global``)."""
    bits = 32 if version == 4 else 128
    address, network = ((ipaddress.IPv4Address, ipaddress.IPv4Network) if version == 4
                        else (ipaddress.IPv6Address, ipaddress.IPv6Network))
    found, seen, shift = set(), 0, bits - prefix
    constants = "_IPv4Constants" if version == 4 else "_IPv6Constants"
    for value in vars(getattr(ipaddress, constants, object)).values():
        for item in value if isinstance(value, (list, tuple)) else (value,):
            if isinstance(item, address):
                item = network(item)
            if isinstance(item, network):
                seen += 1
                if item.prefixlen > prefix:
                    found.update(range(int(item.network_address) >> shift, (int(item.broadcast_address) >> shift) + 1))
    return frozenset(found) if seen else None


_SPECIAL_V4 = _special_v4_blocks(24)
_SPECIAL_V4_16 = _special_v4_blocks(16)
#: The kept blocks (a /24, a /48) holding a special-purpose range narrower than the block.
_SPECIAL_KEPT = {4: _SPECIAL_V4, 6: _special_v4_blocks(KEPT_PREFIX[6], 6)}


def _narrow_blocks(networks: Iterable[IPNetwork]) -> dict[int, frozenset]:
    """version -> the kept blocks (address >> (bits - KEPT_PREFIX)) that one of
    ``networks`` narrower than a kept block lies in (a range no narrower than the
    block holds all of the block or none of it)."""
    found: dict[int, set] = {4: set(), 6: set()}
    for net in networks:
        keep = KEPT_PREFIX[net.version]
        if net.prefixlen > keep:
            found[net.version].add(int(net.network_address) >> ((32 if net.version == 4 else 128) - keep))
    return {v: frozenset(b) for v, b in found.items()}


@lru_cache(maxsize=1024)
def _narrow_office_blocks(cidrs: tuple[str, ...]) -> dict[int, frozenset]:
    return _narrow_blocks(parse_networks(cidrs))
_GLOBAL_V4: dict[int, bool] = {}  # /24 -> is_global of every address in it
_GLOBAL_V4_16: dict[int, bool] = {}  # /16 -> the same, for the /16s no narrower special range is in


def is_global(ip: IPAddress) -> bool:
    """``ip.is_global``, shared by the addresses of an IPv4 /16 or /24 (``is_global``
    tests the address against a dozen special-purpose networks: a block that none of
    them narrower than the block is in gets one answer for all its addresses; so most
    /16s are asked once, the /24s of the others once each except the few /24s holding
    a narrower range: ``_SPECIAL_V4``). Readers' addresses are spread over the whole
    public space: a /24 each would be asked again for nearly every hit."""
    if ip.version != 4 or _SPECIAL_V4 is None or _SPECIAL_V4_16 is None:
        return ip.is_global
    value = int(ip)
    wide = value >> 16
    if wide not in _SPECIAL_V4_16:
        found = _GLOBAL_V4_16.get(wide)
        if found is None:
            found = _GLOBAL_V4_16[wide] = ip.is_global
        return found
    block = value >> 8
    if block in _SPECIAL_V4:
        return ip.is_global
    found = _GLOBAL_V4.get(block)
    if found is None:
        found = _GLOBAL_V4[block] = ip.is_global
    return found


def network_of(ip: Optional[IPAddress]) -> Optional[str]:
    """The network a stored hit keeps instead of its address: ``81.2.69.0/24``."""
    if ip is None:
        return None
    if ip.version == 4:  # what str(IPv4Address) prints, without building one
        value = int(ip)
        return f"{value >> 24}.{value >> 16 & 255}.{value >> 8 & 255}.0/24"
    bits = 32 if ip.version == 4 else 128
    keep = KEPT_PREFIX[ip.version]
    masked = int(ip) >> (bits - keep) << (bits - keep)  # int arithmetic: a third of ip_network's cost
    return f"{type(ip)(masked)}/{keep}"


def _kept_network(network: str) -> Optional[tuple[int, int, int]]:
    """(version, network address as an int, prefix length) of a stored network
    ("81.2.69.0/24"), as ``ipaddress.ip_network`` reads it (None where it raises): the
    kept networks are written by ``network_of``, so the quick path reads nearly all."""
    address, slash, length = network.partition("/")
    ip = parse_address(address) if slash and length.isdigit() and length[0] != "0" else None
    if ip is not None and str(ip) == address:
        bits, prefixlen = (32 if ip.version == 4 else 128), int(length)
        value = int(ip)
        if prefixlen <= bits and not value & ((1 << (bits - prefixlen)) - 1):
            return ip.version, value, prefixlen
    try:
        net = ipaddress.ip_network(network)
    except ValueError:
        return None
    return net.version, int(net.network_address), net.prefixlen


@lru_cache(maxsize=1024)
def parse_networks(cidrs: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """CIDR strings (an org's office ranges) as networks; unreadable ones are skipped
    rather than failing a hit. Cached: the same org's ranges come with every hit."""
    out = []
    for cidr in cidrs:
        try:
            out.append(ipaddress.ip_network(str(cidr).strip(), strict=False))
        except ValueError:
            continue
    return tuple(out)


class _PrefixTable:
    """Longest-prefix lookup: one dict per prefix length present, keyed by the masked
    address as an int. A lookup costs one shift and one dict probe per length
    (a couple of dozen at most), whatever the number of ranges."""

    def __init__(self, bits: int, entries: Iterable[tuple[IPNetwork, RangeEntry]]):
        self.bits = bits
        by_len: dict[int, dict[int, list[RangeEntry]]] = {}
        for net, entry in entries:
            shift = bits - net.prefixlen
            by_len.setdefault(net.prefixlen, {}).setdefault(int(net.network_address) >> shift, []).append(entry)
        # Most specific first, so the first hit per group is the narrowest range.
        self._levels = [
            (bits - plen, {k: tuple(v) for k, v in table.items()})
            for plen, table in sorted(by_len.items(), reverse=True)
        ]
        # IPv4: the levels no narrower than a /16 answer the same for every address of a
        # /16 (kept per /16 as met, ``_wide``); the narrower levels are asked only in the
        # /16s one of their ranges lies in (``_narrow_16``). Most /16s hold none.
        self._split = bits == 32
        self._deep = [(shift, table) for shift, table in self._levels if self._split and bits - shift > 16]
        self._shallow = [(shift, table) for shift, table in self._levels if self._split and bits - shift <= 16]
        self._narrow_16 = frozenset(key >> (16 - shift) for shift, table in self._deep for key in table)
        self._wide: dict[int, dict[str, RangeEntry]] = {}

    def lookup(self, value: int, max_prefix: int = 128) -> dict[str, RangeEntry]:
        """group -> narrowest range holding ``value``, among ranges no longer than
        ``max_prefix`` bits (a stored /24 is inside a /19 for sure, a /31 maybe not)."""
        if self._split and max_prefix >= 32:
            return self._lookup_v4(value)
        found: dict[str, RangeEntry] = {}
        for shift, table in self._levels:
            if self.bits - shift > max_prefix:
                continue
            hits = table.get(value >> shift)
            if hits:
                for entry in hits:
                    found.setdefault(entry.group, entry)
        return found


    def _lookup_v4(self, value: int) -> dict[str, RangeEntry]:
        """``lookup`` of a whole IPv4 address: the same levels in the same order (the
        narrow ones, then the /16's kept answer of the wide ones), so the same dict."""
        wide = value >> 16
        shallow = self._wide.get(wide)
        if shallow is None:
            shallow = self._wide[wide] = {}
            for shift, table in self._shallow:
                hits = table.get(value >> shift)
                if hits:
                    for entry in hits:
                        shallow.setdefault(entry.group, entry)
        if wide not in self._narrow_16:
            return dict(shallow)
        found: dict[str, RangeEntry] = {}
        for shift, table in self._deep:
            hits = table.get(value >> shift)
            if hits:
                for entry in hits:
                    found.setdefault(entry.group, entry)
        for group, entry in shallow.items():
            found.setdefault(group, entry)
        return found


class Rules:
    """Address ranges, user-agent markers and the time windows the classifier uses."""

    def __init__(
        self,
        ranges: Sequence[RangeEntry],
        markers: Sequence[Marker],
        *,
        duplicate_window: timedelta = timedelta(seconds=30),
        prefetch_window: timedelta = timedelta(seconds=60),
        burst_window: timedelta = timedelta(seconds=1),
        burst_other_links: int = 2,
    ) -> None:
        self.ranges = tuple(ranges)
        self._by_cidr = {(r.group, r.cidr): r for r in self.ranges}
        self.markers = tuple(markers)
        #: Same source again within this long is a duplicate (inclusive).
        self.duplicate_window = duplicate_window
        #: Gmail's prefetcher within this long of sending is "at delivery" (reason wording).
        self.prefetch_window = prefetch_window
        #: Clicks on this many other links within ``burst_window`` make a scanner burst.
        self.burst_window = burst_window
        self.burst_other_links = burst_other_links
        v4, v6 = [], []
        for entry in self.ranges:
            net = ipaddress.ip_network(entry.cidr)
            (v4 if net.version == 4 else v6).append((net, entry))
        self._v4 = _PrefixTable(32, v4)
        self._v6 = _PrefixTable(128, v6)
        self._contains = tuple((m.text.lower(), m) for m in self.markers if m.match == "contains")
        self._exact = {}
        for m in self.markers:
            if m.match == "exact":
                self._exact.setdefault(m.text.strip(), m)
        self._regex = tuple(
            (re.compile(m.text, re.IGNORECASE), tuple(p.lower() for p in m.prefilter), m)
            for m in self.markers if m.match == "regex"
        )
        # Per-instance caches (a reloaded Rules starts clean).
        self.address = lru_cache(maxsize=16384)(self._address)
        self.user_agent = lru_cache(maxsize=8192)(self._user_agent)
        self._kept_ranges: dict = {}  # network_ranges' answers, (network, matched) ->
        self.observe = lru_cache(maxsize=16384)(lambda text, offices=(): _observe(self, text, offices))
        self._narrow = _narrow_blocks(n for n, _ in (*v4, *v6))
        self._shared: dict[tuple, Network] = {}  # (version, kept block, office ranges) -> Network

    # -- loading ---------------------------------------------------------------------

    @classmethod
    def load(cls, path: Union[str, Path, None] = None, **windows) -> "Rules":
        """The bundled data files, or those in directory ``path`` where it has them.
        ``windows`` are passed to the constructor (``duplicate_window`` etc.)."""
        ranges_doc = _read_json(path, RANGES_FILE)
        markers_doc = _read_json(path, MARKERS_FILE)
        return cls(_ranges_from(ranges_doc), _markers_from(markers_doc), **windows)

    # -- lookups (cached; see __init__) ----------------------------------------------

    def _address(self, text: str) -> AddressFacts:
        ip = parse_ip(text)
        if ip is None:
            return AddressFacts(None, {})
        return self.address_of(ip)

    def observe_address(self, ip: Optional[IPAddress], office_ranges: tuple[str, ...] = ()) -> Network:
        """``observe`` for an address already parsed (``addresses.read_address``).

        Every address of a kept block (the /24 or /48 a stored hit keeps) gets the same
        ``Network`` wherever that is exact: when no range that can change the answer
        is narrower than the block, in the rules' data (``_narrow``), in the office
        ranges, or among ``ipaddress``'s special-purpose ranges (``is_global``). A
        range no narrower than the block holds all of it or none of it, so then the
        matched ranges, the office range (the first that holds it), the kind and the
        kept network are the same for all its addresses. Other blocks are looked up
        address by address."""
        if ip is None:
            return _UNREADABLE
        version, value = ip.version, int(ip)
        block = value >> ((32 if version == 4 else 128) - KEPT_PREFIX[version])
        key = (version, block, office_ranges)
        found = self._shared.get(key)
        if found is not None:
            return found
        found = self._observe_one(ip, value, office_ranges)
        special = _SPECIAL_KEPT[version]
        if (special is not None and block not in special and block not in self._narrow[version]
                and (not office_ranges or block not in _narrow_office_blocks(office_ranges)[version])):
            if len(self._shared) >= SHARED_BLOCKS:
                self._shared.clear()
            self._shared[key] = found
        return found

    def _observe_one(self, ip: IPAddress, value: int, office_ranges: tuple[str, ...]) -> Network:
        ranges = (self._v4 if ip.version == 4 else self._v6).lookup(value)
        org = next((str(n) for n in parse_networks(office_ranges) if ip in n), None) if office_ranges else None
        matched = tuple(sorted((g, e.cidr) for g, e in ranges.items()))
        network = Network(kind="global" if is_global(ip) else "private", prefix=network_of(ip), matched=matched,
                          org=org)
        # What network_ranges will answer for this hit, known now without reading the
        # kept network back: every range of the current data holding the whole block
        # (prefix no longer than it) holds the address, so its group is in ``matched``
        # already, and network_ranges takes ``matched``'s entries first.
        key = (network.prefix, matched)
        if key not in self._kept_ranges:
            self._keep_ranges(key, {g: self._by_cidr[(g, cidr)] for g, cidr in matched})
        return network

    def network_ranges(self, network: Optional[str], matched: tuple[tuple[str, str], ...] = ()
                       ) -> Mapping[str, RangeEntry]:
        """``_network_ranges``, cached (and known ahead for the hits ``observe_address`` saw)."""
        key = (network, matched)
        found = self._kept_ranges.get(key)
        if found is None:
            found = self._keep_ranges(key, self._network_ranges(network, matched))
        return found

    def _keep_ranges(self, key: tuple, found: Mapping[str, RangeEntry]) -> Mapping[str, RangeEntry]:
        if len(self._kept_ranges) >= SHARED_BLOCKS:
            self._kept_ranges.clear()
        self._kept_ranges[key] = found
        return found

    def address_of(self, ip: IPAddress) -> AddressFacts:
        """``address`` for an address already parsed (uncached: ``observe`` caches)."""
        table = self._v4 if ip.version == 4 else self._v6
        return AddressFacts(ip, table.lookup(int(ip)), str(ip), is_global(ip))

    def _network_ranges(self, network: Optional[str], matched: tuple[tuple[str, str], ...] = ()
                        ) -> Mapping[str, RangeEntry]:
        """group -> range for a stored hit: the ranges its full address matched when it
        was answered (``matched``: (group, cidr) pairs) that the data still has, then
        any range of the current data that holds its whole kept ``network``."""
        found: dict[str, RangeEntry] = {}
        for group, cidr in matched:
            entry = self._by_cidr.get((group, cidr))
            if entry is not None:
                found.setdefault(group, entry)
        if network:
            kept = _kept_network(network)
            if kept is None:
                return found
            version, value, prefixlen = kept
            table = self._v4 if version == 4 else self._v6
            for group, entry in table.lookup(value, prefixlen).items():
                found.setdefault(group, entry)
        return found

    def _user_agent(self, ua: str, kind: Optional[str] = None) -> Mapping[str, Marker]:
        """group -> first matching marker (exact markers first, then file order), among
        the markers that apply to ``kind`` (any kind when None)."""
        found: dict[str, Marker] = {}
        exact = self._exact.get(ua.strip())
        if exact is not None and (kind is None or kind in exact.applies_to):
            found[exact.group] = exact
        lowered = ua.lower()
        for text, marker in self._contains:
            if kind is not None and kind not in marker.applies_to:
                continue
            if marker.group not in found and text in lowered:
                found[marker.group] = marker
        for pattern, prefilter, marker in self._regex:
            if marker.group in found or (kind is not None and kind not in marker.applies_to):
                continue
            if prefilter and not any(p in lowered for p in prefilter):
                continue
            if pattern.search(ua):
                found[marker.group] = marker
        return found


def bundled_data_dir() -> Path:
    return Path(str(resources.files("server") / "data"))


def _read_json(directory: Union[str, Path, None], name: str) -> dict:
    candidates = []
    if directory:
        if not Path(directory).is_dir():
            # A mistyped ENGAGE_RULES_DIR must not silently mean "the bundled rules".
            raise RulesFileError(f"rules directory {directory} does not exist")
        candidates.append(Path(directory) / name)
    candidates.append(bundled_data_dir() / name)
    for file in candidates:
        if file.is_file():
            try:
                return json.loads(file.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise RulesFileError(f"{file}: {exc}") from exc
    raise RulesFileError(f"no {name} in {directory or 'the bundled data'}")


def _required(item: Mapping, key: str, where: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        raise RulesFileError(f"{where}: missing {key!r}")
    return value


def _ranges_from(doc: Mapping) -> list[RangeEntry]:
    out = []
    for group, body in (doc.get("groups") or {}).items():
        for i, item in enumerate(body.get("ranges") or ()):
            where = f"{RANGES_FILE} {group}[{i}]"
            cidr = _required(item, "cidr", where)
            try:
                net = ipaddress.ip_network(cidr.strip(), strict=True)
            except ValueError as exc:
                raise RulesFileError(f"{where}: {exc}") from exc
            out.append(RangeEntry(
                group=group, cidr=str(net), owner=_required(item, "owner", where),
                source=_required(item, "source", where), as_of=_required(item, "as_of", where),
                note=item.get("note", ""),
            ))
    return out


def _markers_from(doc: Mapping) -> list[Marker]:
    out = []
    for i, item in enumerate(doc.get("markers") or ()):
        where = f"{MARKERS_FILE} markers[{i}]"
        match = _required(item, "match", where)
        if match not in MATCH_KINDS:
            raise RulesFileError(f"{where}: match must be one of {MATCH_KINDS}, not {match!r}")
        text = _required(item, "text", where)
        if match == "regex":
            try:
                re.compile(text)
            except re.error as exc:
                raise RulesFileError(f"{where}: {exc}") from exc
        applies_to = item.get("applies_to", list(HIT_KINDS))
        if not isinstance(applies_to, list) or not applies_to or not set(applies_to) <= set(HIT_KINDS):
            raise RulesFileError(f"{where}: applies_to must be a list of {HIT_KINDS}")
        prefilter = item.get("prefilter", [])
        if not isinstance(prefilter, list) or not all(isinstance(p, str) and p for p in prefilter):
            raise RulesFileError(f"{where}: prefilter must be a list of non-empty strings")
        out.append(Marker(
            group=_required(item, "group", where), match=match, text=text,
            name=_required(item, "name", where), source=_required(item, "source", where),
            as_of=_required(item, "as_of", where), note=item.get("note", ""), prefilter=tuple(prefilter),
            applies_to=tuple(applies_to),
        ))
    return out
