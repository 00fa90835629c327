"""Which address a request came from, in one canonical spelling.

Every address is canonicalized here, before anything else looks at it: IPv4-mapped
IPv6 (``::ffff:81.2.69.142``) becomes the IPv4 address, any IPv6 spelling (upper
case, leading zeros, ``[brackets]``, a ``%zone``, uncompressed) becomes the one
compressed form. So the keyed hashes of "the same address" are equal, and nothing
downstream can miss an address written another way.

X-Forwarded-For is believed only when the direct peer is one of the configured
trusted proxies (otherwise anyone could claim to be the sender's office and be
filed as ``self``). Pure: values in, values out.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Optional, Sequence, Union

IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]


def parse_address(text: Optional[str]) -> Optional[IPAddress]:
    """The address, or None when it cannot be read."""
    v4 = _v4(text)  # most addresses: IPv4 already in their one spelling (what the spool keeps)
    if v4 is not None:
        return ipaddress.IPv4Address(v4)
    value = (text or "").strip()
    if value.startswith("[") and "]" in value:
        value = value[1:value.index("]")]  # "[2001:db8::1]" or "[2001:db8::1]:443"
    elif value.count(":") == 1 and "." in value:
        value = value.split(":", 1)[0]  # "81.2.69.142:51234"
    value = value.split("%", 1)[0]  # an IPv6 zone ("fe80::1%eth0") names no network
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def read_address(text: Optional[str]) -> tuple[Optional[IPAddress], str]:
    """``(parse_address(text), canonical(text))`` at once: an IPv4 address already in
    its one spelling (what the spool keeps) is its own canonical text, so it is
    neither parsed twice nor printed again (``str`` of an address costs as much as
    parsing it). ``(None, "")`` when it cannot be read."""
    v4 = _v4(text)
    if v4 is not None:
        return ipaddress.IPv4Address(v4), text
    ip = parse_address(text)
    return (None, "") if ip is None else (ip, str(ip))


def canonical(text: Optional[str]) -> str:
    """The address in its one spelling; "" when it cannot be read (never the raw text:
    whatever it is, it is not kept)."""
    ip = parse_address(text)
    return "" if ip is None else str(ip)


def _v4(text: str | None) -> int | None:
    """The address as an integer when ``text`` is an IPv4 address in its one spelling
    (nearly every pixel's peer and forwarded address), else None: the C parser and
    printer decide that in a fraction of ``ip_address``'s time."""
    if not text or "." not in text or len(text) > 15:
        return None
    try:
        packed = socket.inet_pton(socket.AF_INET, text)
    except (OSError, ValueError):
        return None
    return int.from_bytes(packed, "big") if socket.inet_ntop(socket.AF_INET, packed) == text else None


_last_ranges: tuple = (None, 0, ())


def _v4_ranges(trusted: Sequence) -> tuple[tuple[int, int], ...]:
    """The IPv4 trusted proxies as (network, netmask) integers (an IPv4 address is in
    no IPv6 network, as ``ipaddress`` answers too), kept for the list the app passes
    every time (hashing network objects to look them up cost more than the check)."""
    global _last_ranges
    seen, size, ranges = _last_ranges
    if seen is not trusted or size != len(trusted):
        ranges = tuple((int(n.network_address), int(n.netmask)) for n in trusted if n.version == 4)
        _last_ranges = (trusted, len(trusted), ranges)
    return ranges


def client_address(remote_addr: str | None, forwarded_for: str | None, trusted: Sequence) -> str:
    """The client's address, canonical ("" when unreadable).

    Every pixel asks this, so the common case, a canonical IPv4 peer and IPv4 hops, is
    decided on integers, with no ``ipaddress`` objects (a fifth of the pixel's own
    Python time); anything else takes the general way. Both answer alike
    (tests/server/test_addresses.py compares them)."""
    peer = _v4(remote_addr)
    if peer is None:
        return _client_address(remote_addr, forwarded_for, trusted)
    if not trusted or not forwarded_for:
        return remote_addr
    ranges = _v4_ranges(trusted)
    if not _within(peer, ranges):
        return remote_addr
    if "," in forwarded_for:
        hops = [h for h in (x.strip() for x in forwarded_for.split(",")) if h]
    else:  # one hop: what a single proxy in front sends
        hops = [forwarded_for.strip()]
    for hop in reversed(hops):
        addr = _v4(hop)
        if addr is None:
            return _client_address(remote_addr, forwarded_for, trusted)
        if not _within(addr, ranges):
            return hop
    return _client_address(remote_addr, forwarded_for, trusted)


def _within(addr: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    for net, mask in ranges:
        if addr & mask == net:
            return True
    return False


def _client_address(remote_addr: str | None, forwarded_for: str | None, trusted: Sequence) -> str:
    """``client_address``, for any spelling of any address."""
    peer = parse_address(remote_addr)
    if peer is None:
        return ""
    if not trusted or not forwarded_for or not any(peer in net for net in trusted):
        return str(peer)
    # Walk from the right: the nearest hop first; the first untrusted one is the client.
    hops = [h for h in (x.strip() for x in forwarded_for.split(",")) if h]
    for hop in reversed(hops):
        addr = parse_address(hop)
        if addr is None:
            return str(peer)  # garbage in the header: trust nothing further
        if not any(addr in net for net in trusted):
            return str(addr)
    return str(parse_address(hops[0]) or peer) if hops else str(peer)
