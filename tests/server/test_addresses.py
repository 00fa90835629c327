"""The client's address as the pixel reads it (server/hitpath/addresses.py): the fast
IPv4 way answers exactly as the general one, for every shape of peer, forwarded chain
and trusted-proxy list a deployment has."""

from __future__ import annotations

import ipaddress
import random

import pytest

from server.hitpath.addresses import _client_address, client_address

TRUSTED_LISTS = [
    [],
    [ipaddress.ip_network("127.0.0.1/32")],
    [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("172.16.0.0/12")],
    [ipaddress.ip_network("::1/128"), ipaddress.ip_network("127.0.0.0/8")],
    [ipaddress.ip_network("2001:db8::/32")],  # IPv6 proxies only: no IPv4 hop is trusted
    [ipaddress.ip_network("0.0.0.0/0")],  # everything trusted: the leftmost hop is the client
    [ipaddress.ip_network("::ffff:0:0/96"), ipaddress.ip_network("192.0.2.0/24")],
]

PEERS = ["127.0.0.1", "10.1.2.3", "172.31.255.255", "172.32.0.1", "81.2.69.142", "192.0.2.7", "::1",
         "::ffff:127.0.0.1", "2001:db8::5", "[2001:db8::5]:443", "127.000.000.001", "081.2.69.142",
         "81.2.69.142:51234", "", None, "not an address", "300.1.1.1", "1.2.3", "fe80::1%eth0",
         "  81.2.69.142", "81.2.69.142\x00", "0.0.0.0", "255.255.255.255"]

CHAINS = [None, "", "81.2.69.142", "81.2.69.142, 10.0.0.1", "203.0.113.9,127.0.0.1", " 81.2.69.142 ,, 10.2.2.2 ",
          "2001:db8::1, 127.0.0.1", "garbage, 10.0.0.1", "10.0.0.1, garbage", "::ffff:81.2.69.142",
          "81.2.69.142, 2001:db8::9", "010.0.0.1", "10.0.0.1, 10.0.0.2", "192.0.2.1, 192.0.2.2",
          "[2001:db8::1]:80", ",", "81.2.69.142:8080, 10.0.0.3"]


@pytest.mark.parametrize("trusted", TRUSTED_LISTS, ids=lambda t: ",".join(map(str, t)) or "none")
def test_the_fast_way_answers_as_the_general_one(trusted):
    for peer in PEERS:
        for chain in CHAINS:
            assert client_address(peer, chain, trusted) == _client_address(peer, chain, trusted), (peer, chain)


def test_random_chains_answer_alike():
    rng = random.Random(12)
    trusted = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("127.0.0.1/32"),
               ipaddress.ip_network("100.64.0.0/10")]

    def octets(n: int) -> str:
        return ".".join(str(rng.randrange(256)) for _ in range(n))

    def addr() -> str:
        kind = rng.random()
        if kind < 0.6:
            return str(ipaddress.IPv4Address(rng.getrandbits(32)))
        if kind < 0.8:  # inside the trusted ranges
            return rng.choice(["10." + octets(3), "127.0.0.1", "100." + str(rng.randrange(64, 128)) + "." + octets(2)])
        if kind < 0.9:
            return str(ipaddress.IPv6Address(rng.getrandbits(128)))
        return rng.choice(["x", "1.2.3.4.5", "01.2.3.4", "::ffff:10.0.0.1", "[::1]"])

    for _ in range(20_000):
        peer = addr()
        chain = ", ".join(addr() for _ in range(rng.randrange(0, 4)))
        assert client_address(peer, chain, trusted) == _client_address(peer, chain, trusted), (peer, chain)


def test_what_the_pixel_keeps():
    proxy = [ipaddress.ip_network("127.0.0.1/32")]
    assert client_address("127.0.0.1", "81.2.69.142", proxy) == "81.2.69.142"  # behind the trusted proxy
    assert client_address("198.51.100.4", "81.2.69.142", proxy) == "198.51.100.4"  # a claimed hop is not believed
    assert client_address("127.0.0.1", "81.2.69.142, 127.0.0.1", proxy) == "81.2.69.142"
    assert client_address("127.0.0.1", "::FFFF:81.2.69.142", proxy) == "81.2.69.142"
    assert client_address("127.0.0.1", "garbage", proxy) == "127.0.0.1"
    assert client_address(None, "81.2.69.142", proxy) == ""
