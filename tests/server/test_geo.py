"""Geolocation through real geoip2 on real MaxMind-format City databases: a tiny one
written here with mmdb-writer, and the bundled DB-IP City Lite."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.geo import GeoLocator, Location, default_database_path
from tests.fixtures.geo import write_mmdb

# Public addresses (the locator skips private ones before looking anything up).
NETWORKS = {
    "81.2.69.0/24": {
        "country": {"iso_code": "FR", "names": {"en": "France", "de": "Frankreich"}},
        "subdivisions": [
            {"iso_code": "IDF", "names": {"en": "Île-de-France"}},
            {"iso_code": "75", "names": {"en": "Paris"}},
        ],
        "city": {"names": {"en": "Paris", "ja": "パリ"}},
    },
    "89.160.20.0/24": {  # country only: no region, no city
        "country": {"iso_code": "SE", "names": {"en": "Sweden"}},
    },
    "2001:218::/32": {
        "country": {"iso_code": "JP", "names": {"en": "Japan"}},
        "subdivisions": [{"iso_code": "13", "names": {"en": "Tokyo"}}],
        "city": {"names": {"en": "Tokyo"}},
    },
}


@pytest.fixture(scope="module")
def city_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("geo") / "test-city.mmdb"
    write_mmdb(path, NETWORKS, database_type="Engage-Test-City")
    return path


@pytest.fixture(scope="module")
def geo(city_db):
    locator = GeoLocator(city_db)
    yield locator
    locator.close()


LOOKUPS = [
    ("81.2.69.142", Location("France", "Île-de-France", "Paris")),  # first subdivision, English names
    ("::ffff:81.2.69.1", Location("France", "Île-de-France", "Paris")),  # IPv4-mapped
    ("89.160.20.128", Location("Sweden", None, None)),
    ("2001:218:1:2::3", Location("Japan", "Tokyo", "Tokyo")),
    (" 81.2.69.7 ", Location("France", "Île-de-France", "Paris")),
]


@pytest.mark.parametrize("ip,expected", LOOKUPS)
def test_lookup(geo, ip, expected):
    assert geo.lookup(ip) == expected


UNKNOWN = [
    "8.8.8.8",  # not in this database: AddressNotFoundError
    "10.1.2.3", "192.168.0.10", "172.16.5.4",  # private
    "127.0.0.1", "::1",  # loopback
    "169.254.1.1", "fe80::1",  # link-local
    "", "not-an-ip", "999.1.1.1", "81.2.69", None,
]


@pytest.mark.parametrize("ip", UNKNOWN)
def test_unplaceable_addresses_give_an_empty_location(geo, ip):
    assert geo.lookup(ip) == Location(None, None, None)


def test_close_releases_the_database(city_db):
    locator = GeoLocator(city_db)
    locator.close()
    with pytest.raises(ValueError):
        locator.lookup("81.2.69.142")


def test_context_manager_closes(city_db):
    with GeoLocator(city_db) as locator:
        assert locator.lookup("89.160.20.1").country == "Sweden"
    with pytest.raises(ValueError):
        locator.lookup("89.160.20.1")


def test_the_default_database_is_the_bundled_db_ip_file():
    path = Path(default_database_path())
    assert path.name == "dbip-city-lite-latest.mmdb"
    assert path.is_file()


@pytest.fixture(scope="module")
def bundled():
    locator = GeoLocator()  # no path: the bundled DB-IP City Lite
    yield locator
    locator.close()


# Country only: cities and regions in a free database drift between releases.
@pytest.mark.parametrize("ip,country", [
    ("8.8.8.8", "United States"),  # Google Public DNS
    ("193.0.6.139", "Netherlands"),  # RIPE NCC, Amsterdam
])
def test_bundled_database(bundled, ip, country):
    assert bundled.lookup(ip).country == country


def _geoip2_place(reference, text: str) -> Location:
    """The place geoip2's own City model gives (the reference the locator is held to)."""
    import geoip2.errors

    try:
        found = reference.city(text)
    except geoip2.errors.AddressNotFoundError:
        return Location()
    return Location(found.country.name, found.subdivisions[0].name if found.subdivisions else None, found.city.name)


def test_places_read_from_the_raw_record_are_geoip2s(bundled):
    """The locator reads the names from maxminddb's record instead of building
    geoip2's City model: for addresses all over the bundled database, every place
    (and the writer's ``lookup_global``) is exactly what geoip2 gives."""
    import ipaddress
    import random

    import geoip2.database

    rng = random.Random(10)
    reference = geoip2.database.Reader(bundled.path, locales=["en"])
    try:
        addresses = [str(ipaddress.IPv4Address(rng.getrandbits(32))) for _ in range(400)]
        addresses += [str(ipaddress.IPv6Address((0x2000 + rng.getrandbits(9)) << 112 | rng.getrandbits(112)))
                      for _ in range(100)]
        placed = 0
        for text in addresses:
            address = ipaddress.ip_address(text)
            if not address.is_global:
                assert bundled.lookup(text) == Location()
                continue
            want = _geoip2_place(reference, text)
            placed += want != Location()
            assert bundled.lookup(text) == want, text
            assert bundled.lookup_global(text) == want, text
        assert placed > 250  # most of the random addresses have a place: the comparison is not empty
    finally:
        reference.close()


def test_readers_in_networks_seen_before_get_the_databases_own_place():
    """The writer keeps places by the database's own networks: neighbours of a looked-up
    address (same /24, same /16, networks narrower than a /24 side by side) each get
    exactly the place geoip2 gives them, also once the kept networks were cleared."""
    import ipaddress
    import random

    import geoip2.database

    rng = random.Random(11)
    locator = GeoLocator(cache_size=500)  # cleared several times over the run
    reference = geoip2.database.Reader(locator.path, locales=["en"])
    try:
        bases = [rng.getrandbits(32) & 0xFFFF0000 for _ in range(40)]
        values = [base | rng.getrandbits(16) for base in bases for _ in range(40)]
        values += [base | 0x4200 | rng.getrandbits(8) for base in bases for _ in range(20)]  # one /24 each
        addresses = [a for a in (ipaddress.IPv4Address(v) for v in values) if a.is_global]
        reused = 0
        for address in addresses:
            text = str(address)
            want = _geoip2_place(reference, text)
            before = len(locator._networks)
            assert locator._lookup_global(text) == want, text
            reused += len(locator._networks) == before
        assert reused > len(addresses) / 3  # many were answered from a kept network
    finally:
        reference.close()
        locator.close()
