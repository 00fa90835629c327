"""Shared by the test suites that need real parts: Debian's Chromium (one place for
its path and the flags this machine needs) and small MaxMind-format City databases
written for geolocation through real geoip2 lookups."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
# As root Chromium needs --no-sandbox; without the networking flags it floods the
# closed network with connections that are refused.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


def require_chromium() -> None:
    """Browser tests run in CI, never skipped: fail clearly when Chromium is missing."""
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        pytest.fail(f"Chromium is needed at {CHROMIUM} (Debian package `chromium`; scripts/test.sh installs it)")


LONDON_NETWORK = {"81.2.69.0/24": ("GB", "United Kingdom", "England", "London")}


def write_city_db(path: Path, networks: dict, description: str = "Engage test City database") -> str:
    """A City database with MaxMind's structure: {cidr: (iso, country, region, city)}."""
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoIP2-City",
                        languages=["en"], description=description)
    for net, (iso, country, region, city) in networks.items():
        writer.insert_network(IPSet([net]), {
            "country": {"iso_code": iso, "names": {"en": country}},
            "subdivisions": [{"names": {"en": region}}],
            "city": {"names": {"en": city}},
        })
    writer.to_db_file(str(path))
    return str(path)
