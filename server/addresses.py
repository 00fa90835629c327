"""Which address a request came from: X-Forwarded-For is believed only when the
direct peer is one of the configured trusted proxies (otherwise anyone could claim
to be the sender's office and be filed as ``self``)."""

from __future__ import annotations

import ipaddress
from typing import Sequence


def _parse(value: str):
    try:
        return ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        return None


def client_address(remote_addr: str | None, forwarded_for: str | None, trusted: Sequence) -> str:
    if not trusted or not forwarded_for:
        return remote_addr or ""  # the server's own peer address: nothing to believe or parse
    peer = _parse(remote_addr or "")
    if peer is None:
        return remote_addr or ""
    if not trusted or not forwarded_for or not any(peer in net for net in trusted):
        return str(peer)
    # Walk from the right: the nearest hop first; the first untrusted one is the client.
    hops = [h for h in (x.strip() for x in forwarded_for.split(",")) if h]
    for hop in reversed(hops):
        addr = _parse(hop)
        if addr is None:
            return str(peer)  # garbage in the header: trust nothing further
        if not any(addr in net for net in trusted):
            return str(addr)
    return str(_parse(hops[0]) or peer) if hops else str(peer)
