"""Device class from real user agents, through the real user-agents parser."""

from __future__ import annotations

import pytest

from server.device import MACHINE_VERDICTS, device_class

from tests.fixtures import agents as ua

DEVICES = [
    (ua.CHROME_WINDOWS, "desktop"),
    (ua.EDGE_WINDOWS, "desktop"),
    (ua.FIREFOX_WINDOWS, "desktop"),
    (ua.CHROME_LINUX, "desktop"),
    (ua.SAFARI_MAC, "desktop"),
    (ua.APPLE_MAIL_MAC, "desktop"),
    (ua.OUTLOOK_WINDOWS, "desktop"),  # no OS in the agent; Outlook for Windows is desktop-only
    (ua.THUNDERBIRD, "desktop"),
    (ua.IPHONE_MAIL, "mobile"),
    (ua.IPHONE_SAFARI, "mobile"),
    (ua.ANDROID_GMAIL_APP, "mobile"),
    (ua.ANDROID_CHROME, "mobile"),
    (ua.SAMSUNG_BROWSER, "mobile"),
    (ua.CUBOT_PHONE, "mobile"),
    (ua.IPAD_MAIL, "tablet"),
    (ua.IPAD_SAFARI, "tablet"),
    (ua.ANDROID_TABLET, "tablet"),
    (ua.GOOGLEBOT, "unknown"),  # a robot has no device, even without a verdict
    (ua.BINGBOT, "unknown"),
    (ua.BARRACUDA, "unknown"),
    (ua.PYTHON_REQUESTS, "unknown"),
    (ua.APPLE_MPP, "unknown"),
    ("", "unknown"),
    ("   ", "unknown"),
]


@pytest.mark.parametrize("agent,expected", DEVICES)
def test_device_class_from_the_user_agent(agent, expected):
    assert device_class(agent) == expected
    assert device_class(agent, "human") == expected


@pytest.mark.parametrize("verdict", sorted(MACHINE_VERDICTS))
@pytest.mark.parametrize("agent", [ua.GMAIL_PROXY, ua.GMAIL_PREFETCH, ua.CHROME_WINDOWS, ua.IPHONE_MAIL])
def test_proxies_and_scanners_have_no_device(agent, verdict):
    # Gmail's proxy claims Windows XP Firefox; a scanner may claim any browser.
    assert device_class(agent, verdict) == "unknown"


@pytest.mark.parametrize("verdict,expected", [("self", "mobile"), ("duplicate", "mobile"), (None, "mobile")])
def test_people_verdicts_keep_the_device(verdict, expected):
    assert device_class(ua.IPHONE_MAIL, verdict) == expected


def test_machine_verdicts_are_the_proxy_and_scanner_ones():
    assert MACHINE_VERDICTS == {"gmail", "gmail_prefetch", "outlook", "yahoo", "apple_mpp", "confirmed", "scanner"}
