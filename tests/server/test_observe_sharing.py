"""The writer's shared address work (rules.Rules.observe_address, addresses.read_address,
rules.network_of, the network_ranges answers known ahead, the one-shot HMAC) gives
exactly what the unshared work gives, across the boundaries where sharing stops:
ranges narrower than the kept /24 or /48 in the rules' data, in the office ranges
(also listed before a wider one) and among ipaddress's special-purpose ranges."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import random

import pytest

from server.hitpath import rules as rules_mod
from server.hitpath.addresses import canonical, parse_address, read_address
from server.hitpath.rules import KEPT_PREFIX, Network, RangeEntry, Rules, network_of, parse_networks


def _entry(group: str, cidr: str, owner: str = "Owner") -> RangeEntry:
    return RangeEntry(group=group, cidr=cidr, owner=owner, source="test", as_of="2026-12-01")


# Narrow ranges inside a /24 (a /25, a /31, a /32, a /26 of another group), wider ones
# around them, a duplicate (group, cidr) with another owner, and IPv6 ones narrower
# and wider than the kept /48.
CUSTOM = [
    _entry("google", "66.249.64.0/19"),
    _entry("google", "66.249.66.128/25"),
    _entry("scanner", "66.249.66.200/31"),
    _entry("apple", "66.249.66.7/32"),
    _entry("yahoo", "66.249.67.64/26"),
    _entry("microsoft_outlook", "40.92.0.0/15"),
    _entry("microsoft_outlook", "40.92.0.0/15", owner="Second owner"),
    _entry("scanner", "40.93.255.0/24"),
    _entry("apple_relay", "172.224.0.0/12"),
    _entry("google", "2001:4860:4000::/36"),
    _entry("scanner", "2001:4860:4001:800::/64"),
    _entry("apple", "2a02:26f7:b3c0:4000::/50"),
]
OFFICES = ("81.2.69.128/25", "81.2.69.0/24", "10.0.0.0/8", "66.249.66.0/24", "2001:db8:1::/48",
           "2001:db8:2:1::/64", "not a range", "81.2.70.7")
BLOCKS_V4 = ["66.249.66.0/24", "66.249.67.0/24", "66.249.65.0/24", "40.92.0.0/24", "40.93.255.0/24",
             "81.2.69.0/24", "81.2.70.0/24", "10.1.2.0/24", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24",
             "255.255.255.0/24", "100.64.0.0/24", "127.0.0.0/24", "172.224.5.0/24", "0.0.0.0/24"]


def _addresses(rng: random.Random) -> list:
    out = [a for b in BLOCKS_V4 for a in ipaddress.ip_network(b)]
    out += [ipaddress.IPv4Address(rng.getrandbits(32)) for _ in range(3000)]
    v6_blocks = ["2001:4860:4001::/48", "2001:4860:4002::/48", "2a02:26f7:b3c0::/48", "2001:db8:1::/48",
                 "2001:db8:2::/48", "::/48", "2001:2::/48", "2001::/48", "fe80::/48", "2001:db8::/48",
                 "64:ff9b::/48"]
    for b in v6_blocks:
        net = ipaddress.ip_network(b)
        base = int(net.network_address)
        out += [ipaddress.IPv6Address(base | rng.getrandbits(80)) for _ in range(200)]
        out += [ipaddress.IPv6Address(base | low) for low in (0, 1, 2, (1 << 80) - 1)]
        out += [ipaddress.IPv6Address(base | 0x0800 << 64 | rng.getrandbits(64)) for _ in range(50)]
        out += [ipaddress.IPv6Address(base | 1 << 64 | rng.getrandbits(64)) for _ in range(50)]
        out += [ipaddress.IPv6Address(base | 0x4000 << 64 | rng.getrandbits(64)) for _ in range(50)]
    out += [ipaddress.IPv6Address(rng.getrandbits(128)) for _ in range(500)]
    out += [ipaddress.IPv6Address(1), ipaddress.IPv6Address(0), ipaddress.IPv6Address("::ffff:1.2.3.4")]
    return out


def _reference(ranges: list, ip, offices: tuple) -> Network:
    """What a stored hit keeps of ``ip``, from ``ipaddress`` alone: no table, no sharing.
    ``ranges``: the rules' (group, ``ipaddress`` network) pairs, in their order."""
    narrowest: dict[str, ipaddress._BaseNetwork] = {}
    for group, net in ranges:
        if net.version == ip.version and ip in net:
            if group not in narrowest or net.prefixlen > narrowest[group].prefixlen:
                narrowest[group] = net
    keep = KEPT_PREFIX[ip.version]
    prefix = str(ipaddress.ip_network(f"{ip}/{keep}", strict=False))
    org = next((str(n) for n in parse_networks(offices) if n.version == ip.version and ip in n), None)
    return Network(kind="global" if ip.is_global else "private", prefix=prefix,
                   matched=tuple(sorted((g, str(n)) for g, n in narrowest.items())), org=org)


@pytest.mark.parametrize("which", ["custom", "bundled"])
def test_a_shared_network_equals_the_address_by_address_answer(which):
    rules = Rules(CUSTOM, []) if which == "custom" else Rules.load()
    rng = random.Random(2024)
    addresses = _addresses(rng)
    ranges = [(entry.group, ipaddress.ip_network(entry.cidr)) for entry in rules.ranges]
    for offices in (OFFICES, (), ("66.249.66.5/32",)):
        want = {a: _reference(ranges, a, offices) for a in addresses}
        for order in (addresses, addresses[::-1], rng.sample(addresses, len(addresses))):
            rules._shared.clear()
            got = [rules.observe_address(a, offices) for a in order]
            assert got == [want[a] for a in order]
            assert rules.observe_address(None, offices) == Network()
    assert rules._shared, "ordinary blocks are shared"


def test_blocks_are_shared_only_where_no_narrower_range_is():
    rules = Rules(CUSTOM, [])
    a, b = ipaddress.ip_address("81.2.71.1"), ipaddress.ip_address("81.2.71.250")
    assert rules.observe_address(a) is rules.observe_address(b)  # one Network for the /24
    for text in ("66.249.66.1", "66.249.67.1", "192.0.0.1", "255.255.255.1", "2001:4860:4001::1", "::2"):
        ip = ipaddress.ip_address(text)
        rules.observe_address(ip)
        block = int(ip) >> ((32 if ip.version == 4 else 128) - KEPT_PREFIX[ip.version])
        assert (ip.version, block, ()) not in rules._shared, text
    rules.observe_address(ipaddress.ip_address("81.2.69.1"), OFFICES)  # a /25 office range in this /24
    assert (4, int(ipaddress.ip_address("81.2.69.1")) >> 8, OFFICES) not in rules._shared
    assert rules_mod._SPECIAL_KEPT[4] and rules_mod._SPECIAL_KEPT[6]  # ipaddress's tables were read


@pytest.mark.parametrize("which", ["custom", "bundled"])
def test_network_ranges_known_ahead_equal_reading_the_kept_network_back(which):
    rules = Rules(CUSTOM, []) if which == "custom" else Rules.load()
    rng = random.Random(48)
    for ip in _addresses(rng)[::3]:
        network = rules.observe_address(ip, OFFICES)
        ahead = rules.network_ranges(network.prefix, network.matched)
        assert ahead == rules._network_ranges(network.prefix, network.matched), ip
    if which != "custom":
        return
    # The duplicate (group, cidr) is named as reading it back names it (its last entry).
    network = rules.observe_address(ipaddress.ip_address("40.92.1.1"))
    assert rules.network_ranges(network.prefix, network.matched)["microsoft_outlook"].owner == "Second owner"


def test_read_address_is_parse_address_and_canonical_at_once():
    rng = random.Random(7)
    cases = ["81.2.69.142", "081.2.69.142", "81.2.69.142:443", " 81.2.69.142", "::ffff:81.2.69.142",
             "[2001:DB8::1]:443", "2001:0db8:0000::1", "fe80::1%eth0", "", "x", "1.2.3", "256.1.1.1", "::",
             "0.0.0.0", "1.2.3.4.5", "[::1]", "1.2.3.4\n", "١.2.3.4"]
    cases += [str(ipaddress.IPv4Address(rng.getrandbits(32))) for _ in range(500)]
    cases += [str(ipaddress.IPv6Address(rng.getrandbits(128))) for _ in range(200)]
    for text in cases:
        assert read_address(text) == (parse_address(text), canonical(text)), text


def test_network_of_prints_what_ipaddress_prints():
    rng = random.Random(24)
    values = [0, 1, 255, 256, (1 << 32) - 1, 0x0A000001, 0x7F000001] + [rng.getrandbits(32) for _ in range(5000)]
    for v in values:
        ip = ipaddress.IPv4Address(v)
        assert network_of(ip) == str(ipaddress.ip_network(f"{ip}/24", strict=False))
    for _ in range(500):
        ip = ipaddress.IPv6Address(rng.getrandbits(128))
        assert network_of(ip) == str(ipaddress.ip_network(f"{ip}/48", strict=False))


def test_keyed_hash_is_the_same_hmac():
    from server.services import Services

    svc = Services.__new__(Services)
    svc.secret = b"k" * 32
    for parts in (("ip", "81.2.69.142"), ("src", "81.2.69.142", "Mozilla/5.0"), ("ip", ""),
                  ("src", "::1", "agent \udcff surrogate"), ("x",), ()):
        msg = "\x00".join(parts).encode("utf-8", "surrogatepass")
        assert svc.keyed_hash(*parts) == hmac.new(svc.secret, msg, hashlib.sha256).hexdigest()[:40]


@pytest.mark.parametrize("which", ["custom", "bundled"])
def test_an_ipv4_lookup_by_its_slash_16_equals_every_level_in_turn(which):
    """_PrefixTable's IPv4 lookup keeps the wide levels' answer per /16 and asks the
    narrow levels only in the /16s they are in: the same dict, in the same order, as
    asking every level most specific first."""
    rules = Rules(CUSTOM, []) if which == "custom" else Rules.load()
    table = rules._v4

    def every_level(value):
        found = {}
        for shift, levels in table._levels:
            for entry in levels.get(value >> shift) or ():
                found.setdefault(entry.group, entry)
        return found

    rng = random.Random(16)
    values = [int(a) for a in _addresses(rng) if a.version == 4]
    for entry in rules.ranges:  # each range's edges and the addresses just outside them
        net = ipaddress.ip_network(entry.cidr)
        if net.version == 4:
            lo, hi = int(net.network_address), int(net.broadcast_address)
            values += [v for v in (lo - 1, lo, lo + 1, hi - 1, hi, hi + 1, lo | 0xFFFF, lo & ~0xFFFF) if 0 <= v < 1 << 32]
    for order in (values, values[::-1]):
        table._wide.clear()
        for v in order:
            got, want = table.lookup(v), every_level(v)
            assert got == want and list(got) == list(want), ipaddress.IPv4Address(v)
    assert table._narrow_16 and len(table._wide) > 100
