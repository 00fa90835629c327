"""Device class of a hit from its user agent: desktop, mobile, tablet or unknown.

Pure. Parsing uses the ``user-agents`` package (ua-parser's maintained rules) rather
than hand-written expressions; a parse costs a few hundred microseconds, so results are
cached: the same few mail apps and proxies send most hits.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from user_agents.parsers import UserAgent

#: Verdicts whose user agent is a server's, not the reader's device.
MACHINE_VERDICTS = frozenset({"gmail", "gmail_prefetch", "outlook", "yahoo", "apple_mpp", "confirmed", "scanner"})

# Outlook for Windows renders mail with Word and fetches images as "ms-office" with no
# OS in the agent; it only runs on desktops.
_DESKTOP_ONLY_FAMILIES = frozenset({"Outlook"})


def device_class(user_agent: str, verdict: Optional[str] = None) -> str:
    """"desktop" | "mobile" | "tablet" | "unknown" (proxies, scanners, bots, no agent)."""
    if verdict in MACHINE_VERDICTS:
        return "unknown"
    return _from_user_agent((user_agent or "").strip())


@lru_cache(maxsize=4096)
def _from_user_agent(user_agent: str) -> str:
    if not user_agent:
        return "unknown"
    ua = _parse(user_agent)
    if ua.is_bot:
        return "unknown"
    if ua.is_tablet:
        return "tablet"
    if ua.is_mobile:
        return "mobile"
    if ua.is_pc or ua.browser.family in _DESKTOP_ONLY_FAMILIES:
        return "desktop"
    return "unknown"


@lru_cache(maxsize=4096)
def _family(user_agent: str) -> str:
    ua = _parse(user_agent)
    return ua.browser.family if ua.browser.family and ua.browser.family != "Other" else ""


def agent_family(user_agent: str, verdict: Optional[str] = None) -> str:
    """The reader's mail app or browser family ("Chrome", "Outlook", "Mobile Safari"),
    "" when unknown or when the agent is a proxy's (for the readers rule)."""
    if verdict in MACHINE_VERDICTS or not (user_agent or "").strip():
        return ""
    return _family(user_agent.strip())


def _make_parser():
    """The parser class, built on first use: ``user_agents`` loads ua-parser's rules
    when imported and ua-parser compiles them when first asked (~0.3 s together), and
    most of Engage's processes never read an agent (the web workers answer pixels, the
    command line creates users): each paid it at start-up, CI many hundred times."""
    import ua_parser
    from user_agents.parsers import UserAgent, parse_browser, parse_device, parse_operating_system

    matcher = ua_parser.parser

    class Parsed(UserAgent):
        """``user_agents``' reading of a parse (is_mobile, is_tablet, is_pc, is_bot),
        the parse itself by ua-parser 1.x, which uses its native matcher (ua-parser-rs)
        where installed: ~25x faster than the pure-Python one ``user_agents.parse``
        calls, and a burst of hits can bring thousands of agents never seen before."""

        def __init__(self, user_agent: str):
            r = matcher.parse(user_agent).with_defaults()
            self.ua_string = user_agent
            b, o, d = r.user_agent, r.os, r.device
            self.os = parse_operating_system(o.family, o.major, o.minor, o.patch, o.patch_minor)
            self.browser = parse_browser(b.family, b.major, b.minor, b.patch, b.patch_minor)
            self.device = parse_device(d.family, d.brand, d.model)

    return Parsed


_parser_class = None


def load_parser() -> None:
    """Build the parser now (the writer, at start-up: before its first batch, and
    before ``gc.freeze`` so the collector never scans its thousands of objects)."""
    global _parser_class
    if _parser_class is None:  # two threads may both build it: the same class either way
        _parser_class = _make_parser()


def _parse(user_agent: str) -> "UserAgent":
    if _parser_class is None:
        load_parser()
    return _parser_class(user_agent)
