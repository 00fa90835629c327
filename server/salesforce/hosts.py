"""Where Salesforce may be reached: the host rules for the instance and login URLs.

A leaf (no import of the rest of the Salesforce package), so the REST client and the
admin code can both check a URL without importing each other."""

from __future__ import annotations

import ipaddress
import os
import re

from flask import current_app
# requests' own URL parser (urllib3 comes with requests, which simple-salesforce uses).
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url


#: Where Salesforce lives. Credentials are only ever sent to these hosts, so an org admin
#: cannot point the server at an internal address (the token request carries secrets,
#: and error summaries are shown back). SALESFORCE_EXTRA_HOSTS (app config) or
#: ENGAGE_SALESFORCE_HOSTS (comma-separated, environment) add hosts, e.g. a test server.
SALESFORCE_HOSTS = ("salesforce.com", "force.com", "cloudforce.com", "database.com", "salesforce.mil",
                    "sfcrmproducts.cn")


def allowed_hosts() -> tuple[str, ...]:
    extra = list(current_app.config.get("SALESFORCE_EXTRA_HOSTS") or [])
    extra += [h.strip() for h in os.environ.get("ENGAGE_SALESFORCE_HOSTS", "").split(",") if h.strip()]
    return SALESFORCE_HOSTS + tuple(h.lower() for h in extra)


class ConfigError(ValueError):
    """A configuration refused. ``status`` 422: the value itself is wrong; 409: it does
    not fit what is stored (the first configuration must name the instance, the flow
    needs its secrets), which the request alone cannot show."""

    def __init__(self, message: str, field: str, status: int = 422):
        super().__init__(message)
        self.field = field
        self.status = status


def _any_case(text: str) -> str:
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else re.escape(c) for c in text)


# The form https_url accepts, as a regular expression (the OpenAPI document quotes it):
# https://, a host name of dotted labels (or an address), an optional port, at most "/";
# spaces around it are trimmed.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PORT = r"(?::(?:0|[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])?)?"
_IPV4 = r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"


def https_url_pattern(hosts: tuple[str, ...] | None = None) -> str:
    """What ``https_url(value, field, hosts)`` accepts: under ``hosts`` (names, and any
    address listed exactly), or any host name or IPv4 address when ``hosts`` is None."""
    if hosts is None:
        host = rf"{_LABEL}(?:\.{_LABEL})+|{_IPV4}"
    else:
        names = [_any_case(h) for h in hosts if not _is_ip_literal(h)]
        exact = [re.escape(h) for h in hosts if _is_ip_literal(h)]
        host = "|".join(([rf"(?:{_LABEL}\.)*(?:{'|'.join(names)})"] if names else []) + exact)
    return rf" *{_any_case('https')}://(?:{host}){_PORT}/? *"


_HOST_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$")


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


def _host_allowed(host: str, hosts: tuple[str, ...]) -> bool:
    """``host`` is one of ``hosts`` or a name under one. An address (IP literal) passes
    only when the operator listed exactly that address (a test stand-in)."""
    if _is_ip_literal(host):
        return host in hosts
    return bool(_HOST_NAME.match(host)) and any(host == h or host.endswith("." + h) for h in hosts
                                                if not _is_ip_literal(h))


def https_url(value: str, field: str, hosts: tuple[str, ...] | None = None) -> str:
    """The origin ``https://host[:port]`` that ``value`` names, rebuilt from its parts.

    Parsed with urllib3's ``parse_url``, the parser requests (the HTTP library the
    delivery uses) sends with, so the host checked is the host connected to: with
    ``urlsplit``, ``https://attacker.example\\.salesforce.com`` kept the backslash in
    its host and passed, while requests connected to attacker.example. Nothing else
    than a plain ASCII host name (or a listed address), an optional port and no path,
    user, query or fragment is accepted."""
    example = f"{field} must be an https:// address like https://acme.my.salesforce.com"
    text = value.strip()
    if not text.isascii() or any(ch in text for ch in "\\%@") or any(ord(ch) < 0x21 for ch in text):
        raise ConfigError(example, field)
    try:
        parts = parse_url(text)
    except LocationParseError:
        raise ConfigError(example, field) from None
    host = (parts.host or "").lower()
    if (parts.scheme != "https" or not host or parts.auth or parts.query is not None
            or parts.fragment is not None or (parts.path or "/") != "/"):
        raise ConfigError(example, field)
    if hosts is None:
        if not (_HOST_NAME.match(host) or _is_ip_literal(host)):
            raise ConfigError(example, field)
    elif not _host_allowed(host, hosts):
        raise ConfigError(f"{field} must be a Salesforce address (…{', …'.join(hosts[:3])})", field)
    return f"https://{host}" + (f":{parts.port}" if parts.port is not None else "")
