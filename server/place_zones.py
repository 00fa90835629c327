"""The time zone of a place as events keep it (English country, region and city
names from the City database, server/geo.py), for the recipient's local hour.

Events keep names, not coordinates or zones (DB-IP City Lite has no ``time_zone``),
so the zone is looked up from the names:

* a country with a single zone in the tz database's own tables (``zone.tab`` and
  ``iso3166.tab`` in the ``tzdata`` package) has that zone;
* a country whose other zones are small outlying areas has its main one
  (:data:`MAIN_ZONE`: Germany is Europe/Berlin whatever Büsingen does);
* a country spanning zones is split by its region (:data:`REGION_ZONES`: US states,
  Canadian provinces, Australian states, ...);
* anything else has no zone: its opens are left out of the heatmap and counted as
  "without a known place", never guessed.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Optional

# DB-IP / GeoLite2 English names that differ from iso3166.tab's.
ALIASES = {
    "United Kingdom": "Britain (UK)", "South Korea": "Korea (South)", "North Korea": "Korea (North)",
    "Czechia": "Czech Republic", "Türkiye": "Turkey", "Russian Federation": "Russia",
    "Vietnam": "Vietnam", "Republic of Korea": "Korea (South)", "Hong Kong": "Hong Kong",
    "Bosnia and Herzegovina": "Bosnia & Herzegovina", "Trinidad and Tobago": "Trinidad & Tobago",
    "Ivory Coast": "Côte d'Ivoire", "Côte d’Ivoire": "Côte d'Ivoire", "Macao": "Macau",
    "The Netherlands": "Netherlands", "Republic of Lithuania": "Lithuania", "Myanmar": "Myanmar (Burma)",
    "Eswatini": "Eswatini (Swaziland)", "North Macedonia": "North Macedonia", "Palestine": "Palestine",
    "Vatican City": "Vatican City", "St Kitts and Nevis": "St Kitts & Nevis",
}

MAIN_ZONE = {
    "Germany": "Europe/Berlin", "Spain": "Europe/Madrid", "Portugal": "Europe/Lisbon",
    "Netherlands": "Europe/Amsterdam", "Denmark": "Europe/Copenhagen", "Ukraine": "Europe/Kyiv",
    "New Zealand": "Pacific/Auckland", "Ecuador": "America/Guayaquil", "Chile": "America/Santiago",
    "Argentina": "America/Argentina/Buenos_Aires", "China": "Asia/Shanghai", "Malaysia": "Asia/Kuala_Lumpur",
    "Uzbekistan": "Asia/Tashkent", "Cyprus": "Asia/Nicosia", "Korea (South)": "Asia/Seoul",
    "France": "Europe/Paris", "Britain (UK)": "Europe/London", "Italy": "Europe/Rome", "Norway": "Europe/Oslo",
    "Israel": "Asia/Jerusalem", "India": "Asia/Kolkata", "Japan": "Asia/Tokyo", "Ireland": "Europe/Dublin",
}

_US = {
    "America/New_York": ("Connecticut", "Delaware", "District of Columbia", "Florida", "Georgia", "Maine",
                         "Maryland", "Massachusetts", "Michigan", "New Hampshire", "New Jersey", "New York",
                         "North Carolina", "Ohio", "Pennsylvania", "Rhode Island", "South Carolina", "Vermont",
                         "Virginia", "West Virginia", "Washington, D.C."),
    "America/Indiana/Indianapolis": ("Indiana",),
    "America/Kentucky/Louisville": ("Kentucky",),
    "America/Chicago": ("Alabama", "Arkansas", "Illinois", "Iowa", "Kansas", "Louisiana", "Minnesota",
                        "Mississippi", "Missouri", "Nebraska", "North Dakota", "Oklahoma", "South Dakota",
                        "Tennessee", "Texas", "Wisconsin"),
    "America/Denver": ("Colorado", "Idaho", "Montana", "New Mexico", "Utah", "Wyoming"),
    "America/Phoenix": ("Arizona",),
    "America/Los_Angeles": ("California", "Nevada", "Oregon", "Washington"),
    "America/Anchorage": ("Alaska",),
    "Pacific/Honolulu": ("Hawaii",),
}
_CA = {
    "America/Toronto": ("Ontario", "Quebec", "Québec"), "America/Vancouver": ("British Columbia",),
    "America/Edmonton": ("Alberta", "Northwest Territories"), "America/Winnipeg": ("Manitoba",),
    "America/Regina": ("Saskatchewan",), "America/Halifax": ("Nova Scotia", "New Brunswick", "Prince Edward Island"),
    "America/St_Johns": ("Newfoundland and Labrador",), "America/Whitehorse": ("Yukon",),
    "America/Iqaluit": ("Nunavut",),
}
_AU = {
    "Australia/Sydney": ("New South Wales", "Australian Capital Territory"), "Australia/Melbourne": ("Victoria",),
    "Australia/Brisbane": ("Queensland",), "Australia/Adelaide": ("South Australia",),
    "Australia/Perth": ("Western Australia",), "Australia/Hobart": ("Tasmania",),
    "Australia/Darwin": ("Northern Territory",),
}
_BR = {
    "America/Sao_Paulo": ("São Paulo", "Rio de Janeiro", "Minas Gerais", "Paraná", "Santa Catarina",
                          "Rio Grande do Sul", "Federal District", "Goiás", "Espírito Santo"),
    "America/Bahia": ("Bahia",), "America/Recife": ("Pernambuco",), "America/Fortaleza": ("Ceará",),
    "America/Manaus": ("Amazonas",),
}
_MX = {"America/Mexico_City": ("Mexico City", "Jalisco", "Nuevo León", "Puebla", "State of Mexico"),
       "America/Tijuana": ("Baja California",), "America/Cancun": ("Quintana Roo",)}
_RU = {"Europe/Moscow": ("Moscow", "St.-Petersburg", "Saint Petersburg", "Moscow Oblast", "Leningrad Oblast"),
       "Asia/Yekaterinburg": ("Sverdlovsk Oblast",), "Asia/Novosibirsk": ("Novosibirsk Oblast",),
       "Europe/Kaliningrad": ("Kaliningrad Oblast",), "Asia/Vladivostok": ("Primorsky Krai",)}


def _by_region(table: dict) -> dict:
    return {region: tz for tz, regions in table.items() for region in regions}


REGION_ZONES = {"United States": _by_region(_US), "Canada": _by_region(_CA), "Australia": _by_region(_AU),
                "Brazil": _by_region(_BR), "Mexico": _by_region(_MX), "Russia": _by_region(_RU)}


@lru_cache(maxsize=1)
def _single_zone_countries() -> dict[str, str]:
    root = resources.files("tzdata").joinpath("zoneinfo")
    names = {}
    for line in root.joinpath("iso3166.tab").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            code, name = line.split("\t")[:2]
            names[code] = name
    zones: dict[str, list[str]] = {}
    for line in root.joinpath("zone.tab").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            code, _coords, tz = line.split("\t")[:3]
            zones.setdefault(code, []).append(tz)
    return {names[c]: z[0] for c, z in zones.items() if len(z) == 1 and c in names}


@lru_cache(maxsize=4096)
def place_zone(country: Optional[str], region: Optional[str] = None) -> Optional[str]:
    """The IANA zone of a place, or None when it cannot be told from its names."""
    if not country:
        return None
    name = ALIASES.get(country, country)
    regions = REGION_ZONES.get(name)
    if regions is not None:
        return regions.get(region or "")
    return MAIN_ZONE.get(name) or _single_zone_countries().get(name)
