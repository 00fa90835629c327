"""The verdict on each hit of an email, decided from the email's whole history, with
real user agents and real addresses, values in and out (server/hitpath/verdicts.py)."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from server.device import device_class
from server.hitpath.rules import Rules, RulesFileError, observe
from server.hitpath.verdicts import Context, Decision, Hit, Running, decide

from tests.fixtures import agents as ua

SENT = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
LATER = SENT + timedelta(hours=3)

# Real addresses, by who owns them.
GOOGLE_PROXY_V4 = "66.249.84.129"  # Google 66.249.64.0/19, where Gmail's image proxy fetches from
GOOGLE_V4 = "66.102.8.73"  # Google 66.102.0.0/20
GOOGLE_V6 = "2a00:1450:4864:20::131"  # Google 2a00:1450::/32
APPLE_V4 = "17.58.63.12"  # Apple 17.0.0.0/8
APPLE_V6 = "2620:149:a44:1000::1"  # Apple 2620:149::/32
RELAY_AKAMAI = "172.225.35.97"  # in Apple's Private Relay egress list (Akamai)
RELAY_CLOUDFLARE = "104.28.30.5"  # in Apple's Private Relay egress list (Cloudflare)
OUTLOOK_SERVER = "132.245.26.156"  # Microsoft Exchange Online; seen fetching an Outlook.com user's link
OUTLOOK_SERVER_V6 = "2603:1026:c0b:10::5"  # Microsoft Exchange Online 2603:1026::/36
EOP = "40.107.22.54"  # Microsoft Exchange Online Protection 40.107.0.0/16
MIMECAST = "205.139.110.61"  # us-smtp-1.mimecast.com
PROOFPOINT = "148.163.156.19"  # mx0a-00230701.pphosted.com
BARRACUDA_ESS = "209.222.82.220"  # outbound-ip23b.ess.barracuda.com
YAHOO_PROXY_V4 = "98.137.27.103"  # Yahoo 98.136.0.0/14 (mail and proxy servers)
HOME_V4 = "81.2.69.142"  # a British broadband address
HOME_V6 = "2a01:e0a:1c3:5b0::1"  # a French broadband address (Free)

ORG_V4 = "203.0.113.0/24"
ORG_V6 = "2001:db8:1234::/48"
LINK = "https://example.com/pricing"


@pytest.fixture(scope="module")
def rules() -> Rules:
    return Rules.load()


_RULES = Rules.load()
_keys = iter(range(10**9))


def make_hit(ua_string=ua.CHROME_WINDOWS, ip=HOME_V4, *, kind="open", method="GET", headers=None, at=LATER,
             url=None, org_ranges=(), key=None) -> Hit:
    """A hit as the writer makes it: the address becomes its network, and is gone."""
    if kind == "click" and url is None:
        url = LINK
    return Hit(key=key or f"hit-{next(_keys):09d}", kind=kind, at=at, method=method, user_agent=ua_string,
               headers=headers or {}, network=observe(ip, _RULES, org_ranges), source=f"src:{ip}:{ua_string}",
               address=f"ip:{ip}", link=url)


def run(rules, hit: Hit, *, org_ranges=(), self_reported=False, sender_address_recent=False,
        last_same_source_at=None, recent_clicks_same_source=(), earlier=()) -> Decision:
    """The decision on ``hit`` in a history made of it and the evidence named."""
    hits = [hit, *earlier]
    if org_ranges:
        hits[0] = replace(hit, network=observe(_ip_of(hit), _RULES, org_ranges))
        hit = hits[0]
    if last_same_source_at is not None:
        # Its key sorts first: a previous hit at the very same time is the earlier one.
        hits.append(replace(hit, key="0-previous", at=last_same_source_at))
    for i, (at, url) in enumerate(recent_clicks_same_source):
        hits.append(replace(hit, key=f"click-{i}", kind="click", at=at, link=url))
    ctx = Context(sent_at=SENT, org_ranges=tuple(org_ranges), self_views=(hit.at,) if self_reported else (),
                  sender_addresses={hit.address: hit.at} if sender_address_recent else {})
    return decide(hits, ctx, rules)[hit.key]


def _ip_of(hit: Hit) -> str:
    return hit.address.split(":", 1)[1]


# -- every verdict -------------------------------------------------------------------------

VERDICTS = [
    # (case, hit, context, verdict, proxy, words in the reason)
    ("gmail proxy v4", make_hit(ua.GMAIL_PROXY, GOOGLE_PROXY_V4), {}, "gmail", "gmail", "66.249.64.0/19"),
    ("gmail proxy v6", make_hit(ua.GMAIL_PROXY, GOOGLE_V6), {}, "gmail", "gmail", "2a00:1450::/32"),
    ("gmail prefetch at delivery", make_hit(ua.GMAIL_PREFETCH, GOOGLE_V4, at=SENT + timedelta(seconds=4)), {},
     "gmail_prefetch", "gmail", "4 s after sending"),
    ("gmail prefetch, SparkPost's agent", make_hit(ua.GMAIL_PREFETCH_SPARKPOST, GOOGLE_PROXY_V4,
                                                   at=SENT + timedelta(seconds=60)), {},
     "gmail_prefetch", "gmail", "60 s after sending"),
    ("gmail prefetch later", make_hit(ua.GMAIL_PREFETCH, GOOGLE_V4, at=SENT + timedelta(minutes=45)), {},
     "gmail_prefetch", "gmail", "when the recipient's Gmail was active"),
    ("edge 12 agent off Google", make_hit(ua.GMAIL_PREFETCH, HOME_V4, at=SENT + timedelta(seconds=4)), {},
     "scanner", None, "not a Google address"),
    ("apple mpp, Apple", make_hit(ua.APPLE_MPP, APPLE_V4), {}, "apple_mpp", "apple", "17.0.0.0/8"),
    ("apple mpp, Apple v6", make_hit(ua.APPLE_MPP, APPLE_V6), {}, "apple_mpp", "apple", "2620:149::/32"),
    ("apple mpp, relay Akamai", make_hit(ua.APPLE_MPP, RELAY_AKAMAI), {}, "apple_mpp", "apple", "172.224.0.0/12"),
    ("apple mpp, relay Cloudflare", make_hit(ua.APPLE_MPP, RELAY_CLOUDFLARE), {}, "apple_mpp", "apple",
     "104.28.0.0/16"),
    ("yahoo proxy", make_hit(ua.YAHOO_PROXY, YAHOO_PROXY_V4), {}, "yahoo", "yahoo", "98.136.0.0/14"),
    ("outlook for windows loading images", make_hit(ua.OUTLOOK_DESKTOP, HOME_V4), {}, "human", None,
     "ordinary mail app"),
    ("bare Mozilla/5.0 elsewhere", make_hit(ua.APPLE_MPP, HOME_V4), {}, "scanner", None, "outside Apple's ranges"),
    ("outlook.com server", make_hit(ua.OUTLOOK_COM_FETCHER, OUTLOOK_SERVER), {}, "outlook", "outlook",
     "132.245.0.0/16"),
    ("outlook.com server v6", make_hit(ua.CHROME_WINDOWS, OUTLOOK_SERVER_V6), {}, "outlook", "outlook",
     "2603:1026::/36"),
    ("outlook proxy agent", make_hit("Mozilla/5.0 (compatible; OutlookImageProxy)", HOME_V4), {}, "outlook",
     "outlook", "OutlookImageProxy"),
    ("self: extension reported", make_hit(ua.CHROME_WINDOWS, HOME_V4), {"self_reported": True}, "self", None,
     "viewing this email yourself"),
    ("self: org range v4", make_hit(ua.OUTLOOK_WINDOWS, "203.0.113.77"), {"org_ranges": (ORG_V4, ORG_V6)},
     "self", None, "203.0.113.0/24"),
    ("self: org range v6", make_hit(ua.SAFARI_MAC, "2001:db8:1234:5::9"), {"org_ranges": [ORG_V4, ORG_V6]},
     "self", None, "2001:db8:1234::/48"),
    ("self: sender's address", make_hit(ua.IPHONE_MAIL, HOME_V6), {"sender_address_recent": True}, "self", None,
     "an address you used yourself"),
    ("duplicate", make_hit(ua.IPHONE_MAIL, HOME_V4), {"last_same_source_at": LATER - timedelta(seconds=12)},
     "duplicate", None, "12 s after"),
    ("human", make_hit(ua.CHROME_WINDOWS, HOME_V4), {}, "human", None, "ordinary mail app or browser"),
]


@pytest.mark.parametrize("case,hit,ctx,expected,proxy,words", VERDICTS, ids=[v[0] for v in VERDICTS])
def test_each_verdict(rules, case, hit, ctx, expected, proxy, words):
    got = run(rules, hit, **ctx)
    assert (got.verdict, got.proxy) == (expected, proxy)
    assert words in got.reason
    assert _ip_of(hit) not in got.reason  # reasons name networks, never the reader's address


def test_an_org_range_does_not_claim_addresses_outside_it(rules):
    got = run(rules, make_hit(ua.CHROME_WINDOWS, "203.0.114.1"), org_ranges=(ORG_V4, "not a range"))
    assert got.verdict == "human"


# -- scanners: each signal -------------------------------------------------------------------

SCANNER_AGENTS = [
    ua.BARRACUDA, ua.GOOGLEBOT, ua.BINGBOT, ua.SLACKBOT, ua.FACEBOOK, ua.LINKEDIN, ua.TWITTERBOT, ua.WHATSAPP,
    ua.TELEGRAM, ua.DISCORD, ua.SKYPE_PREVIEW, ua.IOS_DATAACCESSD,
    ua.HEADLESS_CHROME, ua.PYTHON_REQUESTS, ua.CURL, ua.WGET, ua.GO_HTTP, ua.JAVA, ua.APACHE_HTTPCLIENT,
    ua.LIBWWW, ua.OFFICE_PROTOCOL_DISCOVERY, ua.OFFICE_EXISTENCE_DISCOVERY, ua.EXCEL_LINK_HEAD, ua.WEBDAV_REDIRECTOR,
    ua.CRYPTOAPI, ua.YAHOO_SLURP, ua.ZGRAB,
]


@pytest.mark.parametrize("agent", SCANNER_AGENTS)
@pytest.mark.parametrize("kind", ["open", "click"])
def test_scanner_user_agents(rules, agent, kind):
    got = run(rules, make_hit(agent, HOME_V4, kind=kind))
    assert got.verdict == "scanner"
    assert "user agent identifies" in got.reason


@pytest.mark.parametrize("agent", [ua.OUTLOOK_DESKTOP_LINK_CHECK, ua.OUTLOOK_DESKTOP, ua.GOOGLE_SAFETY,
                                   ua.OFFICE_LINK_PREFETCH, ua.OUTLOOK_WINDOWS, ua.OFFICE_PROTOCOL_DISCOVERY,
                                   ua.OFFICE_EXISTENCE_DISCOVERY, ua.EXCEL_LINK_HEAD, ua.WEBDAV_REDIRECTOR])
def test_link_checkers_are_scanners_on_a_click(rules, agent):
    # Office asks for a clicked link itself before the browser does: the browser's hit is the person.
    got = run(rules, make_hit(agent, HOME_V4, kind="click"))
    assert got.verdict == "scanner"
    assert "user agent identifies" in got.reason


@pytest.mark.parametrize("agent,device", [(ua.OUTLOOK_DESKTOP, "desktop"), (ua.OUTLOOK_MAC_DESKTOP, "desktop"),
                                          (ua.OUTLOOK_WINDOWS, "desktop")])
def test_outlook_for_windows_and_mac_loading_the_images_is_a_person(rules, agent, device):
    # The "Microsoft Office/" and "ms-office" markers describe Office checking a link, not Outlook
    # showing the email.
    got = run(rules, make_hit(agent, HOME_V4))
    assert got.verdict == "human", got.reason
    assert device_class(agent, got.verdict) == device


@pytest.mark.parametrize("ip,owner,cidr", [
    (EOP, "Microsoft", "40.107.0.0/16"), (MIMECAST, "Mimecast", "205.139.110.0/24"),
    (PROOFPOINT, "Proofpoint", "148.163.128.0/19"), (BARRACUDA_ESS, "Barracuda", "209.222.80.0/21"),
])
def test_security_service_addresses_are_scanners_even_with_a_browser_agent(rules, ip, owner, cidr):
    got = run(rules, make_hit(ua.CHROME_WINDOWS, ip, kind="click"))
    assert got.verdict == "scanner"
    assert got.reason.startswith(f"From {owner}'s email security network {cidr}")
    assert ip not in got.reason


@pytest.mark.parametrize("name,value", [
    ("purpose", "prefetch"),
    ("sec-purpose", "prefetch;prerender"),
    ("sec-purpose", "prefetch"),
    ("x-purpose", "preview"),
    ("x-moz", "prefetch"),
])
def test_prefetch_and_preview_headers(rules, name, value):
    got = run(rules, make_hit(ua.CHROME_WINDOWS, HOME_V4, headers={name: value}))
    assert got.verdict == "scanner"
    assert value in got.reason


def test_other_purpose_values_are_not_prefetch(rules):
    assert run(rules, make_hit(headers={"sec-purpose": "", "purpose": "navigate"})).verdict == "human"


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS", "head", ""])
def test_requests_that_are_not_get_are_scanners(rules, method):
    got = run(rules, make_hit(method=method))
    assert got.verdict == "scanner"


@pytest.mark.parametrize("agent", ["", "   "])
def test_no_user_agent_is_a_scanner(rules, agent):
    got = run(rules, make_hit(agent))
    assert (got.verdict, got.reason.startswith("No user agent")) == ("scanner", True)


def test_bundled_scanner_markers_each_match_a_user_agent_containing_them(rules):
    # Every substring marker in the data file must reach the classifier.
    missed = [
        m.text for m in rules.markers
        if m.group == "scanner" and m.match == "contains"
        and run(rules, make_hit(f"Mozilla/5.0 (compatible; {m.text} 1.0)", HOME_V4,
                                kind=m.applies_to[0])).verdict != "scanner"
    ]
    assert missed == []


# -- clicks: bursts and providers -----------------------------------------------------------------


def _clicks(*offsets_and_urls):
    return tuple((LATER - timedelta(seconds=s), url) for s, url in offsets_and_urls)


BURSTS = [
    # (case, earlier clicks from the same source, verdict)
    ("two other links within a second", _clicks((0.4, "https://a.example/1"), (0.8, "https://a.example/2")),
     "scanner"),
    ("three other links", _clicks((0.1, "https://a.example/1"), (0.2, "https://a.example/2"),
                                  (0.3, "https://a.example/3")), "scanner"),
    ("exactly one second apart", _clicks((1.0, "https://a.example/1"), (1.0, "https://a.example/2")), "scanner"),
    ("one other link", _clicks((0.3, "https://a.example/1")), "human"),
    ("same link again twice", _clicks((0.3, "https://example.com/pricing"), (0.6, "https://example.com/pricing")),
     "duplicate"),
    ("one other link repeated", _clicks((0.3, "https://a.example/1"), (0.6, "https://a.example/1")), "human"),
    ("other links 1.5 s before", _clicks((1.5, "https://a.example/1"), (1.6, "https://a.example/2")), "human"),
]


@pytest.mark.parametrize("case,earlier,expected", BURSTS, ids=[b[0] for b in BURSTS])
def test_click_bursts(rules, case, earlier, expected):
    got = run(rules, make_hit(ua.CHROME_WINDOWS, HOME_V4, kind="click"), recent_clicks_same_source=earlier)
    assert got.verdict == expected


def test_a_burst_reason_counts_the_links(rules):
    got = run(rules, make_hit(kind="click"), recent_clicks_same_source=_clicks(
        (0.2, "https://a.example/1"), (0.5, "https://a.example/2")))
    assert got.reason.startswith("3 different links clicked within 0.5 s")


@pytest.mark.parametrize("agent,ip,words", [
    (ua.GMAIL_PROXY, GOOGLE_PROXY_V4, "only fetches images"),
    (ua.GMAIL_PREFETCH, GOOGLE_V4, "not a person clicking"),
    (ua.APPLE_MPP, APPLE_V4, "only downloads images"),
    (ua.OUTLOOK_COM_FETCHER, OUTLOOK_SERVER, "link preview or safety check"),
])
def test_provider_machines_on_a_link_are_scanners(rules, agent, ip, words):
    got = run(rules, make_hit(agent, ip, kind="click", at=SENT + timedelta(seconds=5)))
    assert got.verdict == "scanner"
    assert words in got.reason


# -- duplicates -----------------------------------------------------------------------------------


@pytest.mark.parametrize("seconds,expected", [(0, "duplicate"), (29.5, "duplicate"), (30, "duplicate"),
                                              (31, "human"), (3600, "human")])
def test_duplicate_window(rules, seconds, expected):
    got = run(rules, make_hit(), last_same_source_at=LATER - timedelta(seconds=seconds))
    assert got.verdict == expected


def test_a_previous_hit_in_the_future_is_not_a_duplicate(rules):
    assert run(rules, make_hit(), last_same_source_at=LATER + timedelta(seconds=5)).verdict == "human"


def test_windows_are_configurable():
    rules = Rules.load(duplicate_window=timedelta(seconds=5), prefetch_window=timedelta(seconds=10))
    assert run(rules, make_hit(), last_same_source_at=LATER - timedelta(seconds=6)).verdict == "human"
    late = run(rules, make_hit(ua.GMAIL_PREFETCH, GOOGLE_V4, at=SENT + timedelta(seconds=20)))
    assert "when the recipient's Gmail was active" in late.reason


# -- precedence ------------------------------------------------------------------------------------

PRECEDENCE = [
    # (case, hit, context, verdict): the first rule in classify's order wins
    ("HEAD beats self", make_hit(method="HEAD", ip="203.0.113.5"), {"org_ranges": (ORG_V4,)}, "scanner"),
    ("self beats the Gmail proxy", make_hit(ua.GMAIL_PROXY, GOOGLE_PROXY_V4), {"self_reported": True}, "self"),
    ("self beats a scanner agent", make_hit(ua.CURL, "203.0.113.5"), {"org_ranges": (ORG_V4,)}, "self"),
    ("self beats duplicate", make_hit(), {"sender_address_recent": True,
                                          "last_same_source_at": LATER - timedelta(seconds=3)}, "self"),
    ("a scanner agent beats duplicate", make_hit(ua.BARRACUDA),
     {"last_same_source_at": LATER - timedelta(seconds=3)}, "scanner"),
    ("a scanner address beats duplicate", make_hit(ip=MIMECAST),
     {"last_same_source_at": LATER - timedelta(seconds=3)}, "scanner"),
    ("prefetch header beats the Gmail proxy", make_hit(ua.GMAIL_PROXY, GOOGLE_PROXY_V4,
                                                       headers={"sec-purpose": "prefetch"}), {}, "scanner"),
    ("duplicate beats the Gmail proxy", make_hit(ua.GMAIL_PROXY, GOOGLE_PROXY_V4),
     {"last_same_source_at": LATER - timedelta(seconds=20)}, "duplicate"),
    ("duplicate beats Apple MPP", make_hit(ua.APPLE_MPP, APPLE_V4),
     {"last_same_source_at": LATER - timedelta(seconds=1)}, "duplicate"),
    ("duplicate beats Outlook", make_hit(ua.CHROME_WINDOWS, OUTLOOK_SERVER),
     {"last_same_source_at": LATER - timedelta(seconds=1)}, "duplicate"),
    ("a burst beats duplicate", make_hit(kind="click"),
     {"last_same_source_at": LATER - timedelta(seconds=0.5),
      "recent_clicks_same_source": _clicks((0.5, "https://a.example/1"), (0.7, "https://a.example/2"))}, "scanner"),
    ("the Gmail agent beats a Microsoft address", make_hit(ua.GMAIL_PROXY, OUTLOOK_SERVER), {}, "gmail"),
]


@pytest.mark.parametrize("case,hit,ctx,expected", PRECEDENCE, ids=[p[0] for p in PRECEDENCE])
def test_precedence(rules, case, hit, ctx, expected):
    assert run(rules, hit, **ctx).verdict == expected


@pytest.mark.parametrize("ctx,verdict", [
    ({"last_same_source_at": LATER - timedelta(seconds=2)}, "duplicate"),
    ({"self_reported": True}, "self"),
])
def test_gmail_proxy_hits_keep_the_gmail_location_whatever_the_verdict(rules, ctx, verdict):
    got = run(rules, make_hit(ua.GMAIL_PROXY, GOOGLE_PROXY_V4), **ctx)
    assert (got.verdict, got.proxy) == (verdict, "gmail")


# -- people, and their devices -------------------------------------------------------------------

PEOPLE = [
    (ua.CHROME_WINDOWS, HOME_V4, "desktop"),
    (ua.EDGE_WINDOWS, HOME_V6, "desktop"),
    (ua.FIREFOX_WINDOWS, HOME_V4, "desktop"),
    (ua.CHROME_LINUX, HOME_V4, "desktop"),
    (ua.SAFARI_MAC, HOME_V4, "desktop"),
    (ua.APPLE_MAIL_MAC, HOME_V4, "desktop"),
    (ua.THUNDERBIRD, HOME_V6, "desktop"),
    (ua.IPHONE_MAIL, HOME_V4, "mobile"),
    (ua.IPHONE_SAFARI, HOME_V6, "mobile"),
    (ua.ANDROID_GMAIL_APP, HOME_V4, "mobile"),
    (ua.ANDROID_CHROME, HOME_V4, "mobile"),
    (ua.SAMSUNG_BROWSER, HOME_V4, "mobile"),
    (ua.CUBOT_PHONE, HOME_V4, "mobile"),
    (ua.IPAD_MAIL, HOME_V4, "tablet"),
    (ua.IPAD_SAFARI, HOME_V6, "tablet"),
    (ua.ANDROID_TABLET, HOME_V4, "tablet"),
]


@pytest.mark.parametrize("agent,ip,device", PEOPLE)
@pytest.mark.parametrize("kind", ["open", "click"])
def test_people_are_human_with_their_device(rules, agent, ip, device, kind):
    got = run(rules, make_hit(agent, ip, kind=kind))
    assert got.verdict == "human", got.reason
    assert got.reason.startswith("Clicked" if kind == "click" else "Opened")
    assert device_class(agent, got.verdict) == device


# -- odd input -------------------------------------------------------------------------------------


@pytest.mark.parametrize("ip", ["", "not-an-ip", "999.1.1.1", "::gggg", "66.249.84", None])
@pytest.mark.parametrize("agent,verdict", [
    (ua.GMAIL_PROXY, "gmail"), (ua.CHROME_WINDOWS, "human"), (ua.APPLE_MPP, "scanner"), (ua.CURL, "scanner"),
])
def test_unreadable_addresses_still_classify_by_user_agent(rules, ip, agent, verdict):
    got = run(rules, make_hit(agent, ip), org_ranges=(ORG_V4,))
    assert got.verdict == verdict


def test_an_unreadable_address_is_said_in_the_reason(rules):
    assert "could not be read" in run(rules, make_hit(ip="nope")).reason
    assert "not from Google's published ranges" in run(rules, make_hit(ua.GMAIL_PROXY, "nope")).reason


def test_ipv4_mapped_ipv6_is_read_as_ipv4(rules):
    assert run(rules, make_hit(ua.APPLE_MPP, "::ffff:" + APPLE_V4)).verdict == "apple_mpp"


def test_private_addresses_are_said_to_be_private(rules):
    assert "private or local" in run(rules, make_hit(ip="192.168.1.20")).reason


# -- the data files ----------------------------------------------------------------------------------


def test_bundled_rules_cover_every_group_the_classifier_uses(rules):
    groups = {r.group for r in rules.ranges} | {m.group for m in rules.markers}
    assert {"google", "apple", "apple_relay", "microsoft_outlook", "yahoo", "scanner", "gmail_proxy",
            "gmail_prefetch", "apple_mpp", "outlook_proxy", "yahoo_proxy"} <= groups
    assert all(r.source and r.as_of for r in rules.ranges)
    assert all(m.source and m.as_of for m in rules.markers)


def test_a_rules_directory_overrides_only_the_files_it_has(tmp_path, rules):
    markers = {"markers": [{"group": "scanner", "match": "contains", "text": "AcmeLinkGuard",
                            "name": "Acme's link guard", "source": "our own logs", "as_of": "2026-11"}]}
    (tmp_path / "user_agent_markers.json").write_text(json.dumps(markers))
    custom = Rules.load(tmp_path)
    assert run(custom, make_hit("AcmeLinkGuard/2.0")).verdict == "scanner"
    assert run(custom, make_hit(ua.CURL)).verdict == "human"  # the bundled markers are replaced
    assert run(custom, make_hit(ua.CHROME_WINDOWS, EOP)).verdict == "scanner"  # ranges still bundled
    assert run(rules, make_hit("AcmeLinkGuard/2.0")).verdict == "human"


BAD_FILES = [
    ("address_ranges.json", {"groups": {"scanner": {"ranges": [
        {"cidr": "10.0.0.0/33", "owner": "x", "source": "y", "as_of": "2026"}]}}}, "10.0.0.0/33"),
    ("address_ranges.json", {"groups": {"scanner": {"ranges": [
        {"cidr": "10.0.0.1/8", "owner": "x", "source": "y", "as_of": "2026"}]}}}, "host bits"),
    ("address_ranges.json", {"groups": {"scanner": {"ranges": [
        {"cidr": "10.0.0.0/8", "owner": "x", "as_of": "2026"}]}}}, "'source'"),
    ("user_agent_markers.json", {"markers": [
        {"group": "scanner", "match": "glob", "text": "x", "name": "x", "source": "y", "as_of": "2026"}]}, "glob"),
    ("user_agent_markers.json", {"markers": [
        {"group": "scanner", "match": "regex", "text": "(", "name": "x", "source": "y", "as_of": "2026"}]},
     "markers[0]"),
    ("user_agent_markers.json", {"markers": [
        {"group": "scanner", "match": "contains", "text": "x", "name": "x", "source": "y"}]}, "'as_of'"),
]


@pytest.mark.parametrize("name,doc,words", BAD_FILES)
def test_bad_rules_files_fail_loudly_at_load(tmp_path, name, doc, words):
    (tmp_path / name).write_text(json.dumps(doc))
    with pytest.raises(RulesFileError, match=words.replace("(", r"\(").replace("[", r"\[")):
        Rules.load(tmp_path)


def test_a_missing_rules_directory_is_an_error_not_the_bundled_rules(tmp_path):
    with pytest.raises(RulesFileError, match="does not exist"):
        Rules.load(tmp_path / "nowhere")


def test_unparseable_rules_file_names_the_file(tmp_path):
    (tmp_path / "address_ranges.json").write_text("{not json")
    with pytest.raises(RulesFileError, match="address_ranges.json"):
        Rules.load(tmp_path)


# -- what the history decides ------------------------------------------------------------------------


def _decide(rules, hits, **ctx):
    return decide(hits, Context(sent_at=SENT, **ctx), rules)


def test_a_click_burst_files_every_click_as_a_scanner_the_first_ones_too(rules):
    # Four different links 0.6 s apart from an ordinary address and browser.
    clicks = [make_hit(kind="click", url=f"https://prospect.example/{i}", at=LATER + timedelta(seconds=0.6 * i))
              for i in range(4)]
    got = _decide(rules, clicks)
    assert [got[c.key].verdict for c in clicks] == ["scanner"] * 4
    assert {got[c.key].reason.split(" clicked")[0] for c in clicks} == {"4 different links"}
    assert not any(d.implied_open for d in got.values())


def test_a_burst_is_measured_on_answer_times_not_the_order_hits_arrive_in(rules):
    clicks = [make_hit(kind="click", url=f"https://prospect.example/{i}", at=LATER + timedelta(seconds=0.6 * i))
              for i in range(4)]
    assert _decide(rules, clicks) == _decide(rules, clicks[::-1]) == _decide(rules, clicks[2:] + clicks[:2])


def test_two_hundred_hits_from_one_source_in_two_seconds_count_as_one_open(rules):
    hits = [make_hit(ua.IPHONE_MAIL, at=LATER + timedelta(seconds=2 * i / 200)) for i in range(200)]
    random.Random(7).shuffle(hits)
    got = _decide(rules, hits)
    assert sum(d.counts for d in got.values()) == 1
    assert sum(d.verdict == "duplicate" for d in got.values()) == 199
    assert all(d.reason.endswith("counted once") for d in got.values() if d.verdict == "duplicate")


def test_a_duplicate_of_a_hit_that_did_not_count_does_not_say_counted_once(rules):
    first = make_hit(ua.APPLE_MPP, APPLE_V4)
    again = make_hit(ua.APPLE_MPP, APPLE_V4, at=LATER + timedelta(seconds=5))
    got = _decide(rules, [first, again])
    assert got[again.key].verdict == "duplicate"
    assert "counted once" not in got[again.key].reason
    assert "Apple Mail Privacy Protection" in got[again.key].reason


def test_an_apple_mpp_download_followed_by_a_real_click_is_a_confirmed_open(rules):
    mpp = make_hit(ua.APPLE_MPP, RELAY_AKAMAI, at=SENT)
    click = make_hit(ua.IPHONE_SAFARI, HOME_V4, kind="click", at=SENT + timedelta(hours=2))
    got = _decide(rules, [click, mpp])
    assert got[mpp.key].verdict == "confirmed" and got[mpp.key].counts
    assert got[mpp.key].proxy == "apple"  # the place is Apple's relay, not the reader's
    assert "clicked 2 h later" in got[mpp.key].reason
    assert got[click.key].verdict == "human" and not got[click.key].implied_open  # the open is known


def test_an_apple_mpp_download_alone_or_after_the_click_is_not_confirmed(rules):
    assert _decide(rules, [h := make_hit(ua.APPLE_MPP, APPLE_V4)])[h.key].verdict == "apple_mpp"
    click = make_hit(kind="click", at=LATER)
    mpp = make_hit(ua.APPLE_MPP, APPLE_V4, at=LATER + timedelta(minutes=5))
    got = _decide(rules, [click, mpp])
    assert got[mpp.key].verdict == "apple_mpp"
    assert got[click.key].implied_open


def test_a_bare_mozilla_click_through_icloud_private_relay_is_a_person(rules):
    got = run(rules, make_hit(ua.APPLE_MPP, RELAY_CLOUDFLARE, kind="click"))
    assert got.verdict == "human"
    assert "iCloud Private Relay" in got.reason and RELAY_CLOUDFLARE not in got.reason
    assert run(rules, make_hit(ua.APPLE_MPP, APPLE_V4, kind="click")).verdict == "scanner"


def test_yahoo_mail_proxy_counts_as_an_open_placed_at_yahoo_mail(rules):
    from client_py.present import location_label

    got = run(rules, make_hit(ua.YAHOO_PROXY, YAHOO_PROXY_V4))
    assert (got.verdict, got.counts, got.proxy) == ("yahoo", True, "yahoo")
    event = {"verdict": got.verdict, "city": "New York", "region": "New York", "country": "United States"}
    assert location_label(event) == "Yahoo Mail"
    assert run(rules, make_hit(ua.YAHOO_PROXY, YAHOO_PROXY_V4, kind="click")).verdict == "scanner"


def test_only_the_first_counting_click_without_an_open_implies_one(rules):
    a = make_hit(kind="click", url="https://a.example/1", at=LATER)
    b = make_hit(kind="click", url="https://a.example/2", at=LATER + timedelta(minutes=3))
    got = _decide(rules, [a, b])
    assert [got[a.key].implied_open, got[b.key].implied_open] == [True, False]
    # An open that arrives later but happened before the click: nothing to infer.
    opened = make_hit(ua.IPHONE_MAIL, "89.160.20.112", at=LATER - timedelta(minutes=1))
    got = _decide(rules, [a, b, opened])
    assert not any(d.implied_open for d in got.values())


def test_a_self_view_report_refiles_a_proxy_load_around_it(rules):
    load = make_hit(ua.GMAIL_PROXY, GOOGLE_PROXY_V4)
    assert _decide(rules, [load])[load.key].verdict == "gmail"
    got = _decide(rules, [load], self_views=(LATER + timedelta(seconds=40),))
    assert (got[load.key].verdict, got[load.key].proxy) == ("self", "gmail")


def test_hits_stored_before_facts_were_kept_keep_their_verdict_and_still_count_as_evidence(rules):
    old = Hit(key="old", kind="open", at=LATER, user_agent=ua.IPHONE_MAIL, source="s", settled=("human", "Opened"))
    again = Hit(key="new", kind="open", at=LATER + timedelta(seconds=3), user_agent=ua.IPHONE_MAIL, source="s",
                network=observe(HOME_V4, _RULES))
    got = _decide(rules, [old, again])
    assert (got["old"].verdict, got["old"].reason) == ("human", "Opened")
    assert got["new"].verdict == "duplicate"


@pytest.mark.parametrize("agent", [ua.CURL, ua.BARRACUDA, ua.GMAIL_PROXY, ua.GMAIL_PREFETCH, ua.GOOGLE_SAFETY])
def test_a_scanner_line_in_the_panel_says_not_a_person_at_most_once(rules, agent):
    from client_py.panel import why_not_counted

    got = run(rules, make_hit(agent, GOOGLE_V4, kind="click"))
    assert got.verdict == "scanner"
    why = why_not_counted({"verdict": "scanner", "reason": got.reason})
    assert why.lower().count("not a person") <= 1, why


def test_reasons_never_say_the_address_the_way_google_and_microsoft_ones_did(rules):
    for hit in (make_hit(ua.GMAIL_PREFETCH, GOOGLE_V4, kind="click"), make_hit(ua.CHROME_WINDOWS, EOP),
                make_hit(ua.GMAIL_PREFETCH, GOOGLE_V4, at=SENT + timedelta(hours=2))):
        reason = run(rules, hit).reason
        assert "the address" not in reason and _ip_of(hit) not in reason
        assert "/" in reason  # the network, by its CIDR


# -- the property: the same hits, the same verdicts ------------------------------------------------

_AGENTS = [ua.CHROME_WINDOWS, ua.IPHONE_MAIL, ua.GMAIL_PROXY, ua.APPLE_MPP, ua.CURL, ua.OUTLOOK_DESKTOP,
           ua.YAHOO_PROXY, ""]
_ADDRESSES = [HOME_V4, HOME_V6, GOOGLE_PROXY_V4, APPLE_V4, RELAY_AKAMAI, EOP, YAHOO_PROXY_V4, "203.0.113.9"]
_hit_values = st.tuples(
    st.sampled_from(["open", "open", "click"]), st.integers(0, 6000),  # tenths of a second after LATER
    st.sampled_from(range(len(_AGENTS))), st.sampled_from(range(len(_ADDRESSES))),
    st.sampled_from(["GET", "GET", "GET", "HEAD"]), st.integers(0, 3))


def _history(values):
    return [make_hit(_AGENTS[a], _ADDRESSES[ip], kind=kind, method=method, at=LATER + timedelta(seconds=t / 10),
                     url=f"https://prospect.example/{link}", org_ranges=(ORG_V4,), key=f"h{i:04d}")
            for i, (kind, t, a, ip, method, link) in enumerate(values)]


@settings(max_examples=150, deadline=None)
@given(st.lists(_hit_values, min_size=1, max_size=40), st.randoms(use_true_random=False),
       st.lists(st.integers(1, 10), min_size=1, max_size=8))
def test_same_hits_same_verdicts_in_any_order_and_batching(rules, values, rnd, cuts):
    hits = _history(values)
    ctx = dict(org_ranges=(ORG_V4,), self_views=(LATER + timedelta(seconds=300),))
    expected = _decide(rules, hits, **ctx)
    shuffled = hits[:]
    rnd.shuffle(shuffled)
    assert _decide(rules, shuffled, **ctx) == expected
    # Stored in batches (as writers drain their spools): each batch decides the whole
    # history so far; after the last one every hit has the verdict of the whole history.
    stored: list[Hit] = []
    i = 0
    for size in cuts * (len(shuffled) // max(1, sum(cuts)) + 1):
        if i >= len(shuffled):
            break
        stored += shuffled[i:i + size]
        i += size
        decided = _decide(rules, stored, **ctx)
        assert set(decided) == {h.key for h in stored}
    stored += shuffled[i:]
    assert _decide(rules, stored, **ctx) == expected
    # And what the decisions promise, whatever the history:
    counted = sorted((h.at, h.source, h.kind, h.link) for h in hits if expected[h.key].counts and h.kind == "open")
    for a, b in zip(counted, counted[1:]):
        if a[1:] == b[1:]:
            assert b[0] - a[0] > rules.duplicate_window  # a source's opens that count are > 30 s apart
    assert sum(d.implied_open for d in expected.values()) <= 1
    assert all(_ip_of(h) not in expected[h.key].reason for h in hits if _ip_of(h))


# -- the writer's running decisions are the whole history's -----------------------------------

# Dense histories: few sources, a minute of answer times, so runs of duplicates, bursts,
# confirmed Apple downloads and implied opens form, join and re-file each other.
_DENSE_AGENTS = [ua.CHROME_WINDOWS, ua.APPLE_MPP, ua.IPHONE_MAIL, ua.CURL]
_DENSE_ADDRESSES = [HOME_V4, APPLE_V4, RELAY_AKAMAI, HOME_V6]
_dense_values = st.tuples(
    st.sampled_from(["open", "open", "click"]), st.integers(0, 600),  # tenths of a second after LATER
    st.sampled_from(range(len(_DENSE_AGENTS))), st.sampled_from(range(len(_DENSE_ADDRESSES))),
    st.sampled_from(["GET"] * 9 + ["HEAD"]), st.integers(0, 4), st.booleans())


def _dense_history(values):
    hits = []
    for i, (kind, t, a, ip, method, link, settled) in enumerate(values):
        hit = make_hit(_DENSE_AGENTS[a], _DENSE_ADDRESSES[ip], kind=kind, method=method,
                       at=LATER + timedelta(seconds=t / 10), url=f"https://prospect.example/{link}", key=f"h{i:04d}")
        if settled and i % 7 == 0:  # now and then a hit stored before its facts were kept
            hit = replace(hit, settled=("human", "Opened (stored before facts were kept)"))
        hits.append(hit)
    return hits


@settings(max_examples=300, deadline=None)
@given(st.lists(_dense_values, min_size=1, max_size=60), st.randoms(use_true_random=False),
       st.lists(st.integers(1, 12), min_size=1, max_size=8), st.booleans())
def test_the_writers_running_decisions_equal_deciding_the_whole_history(rules, values, rnd, cuts, viewing):
    """What the writer keeps per email (verdicts.Running, a batch at a time) is, after
    every batch, exactly ``decide`` over every hit so far; and ``add`` names exactly
    the hits whose decision changed (record writes only those)."""
    hits = _dense_history(values)
    rnd.shuffle(hits)
    ctx = Context(sent_at=SENT, self_views=(LATER + timedelta(seconds=20),) if viewing else ())
    running = Running(ctx, rules)
    before: dict = {}
    i, sizes = 0, cuts * (len(hits) // sum(cuts) + 1)
    for size in sizes:
        if i >= len(hits):
            break
        batch = hits[i:i + size] + hits[max(0, i - 2):i]  # a replayed hit or two: no change
        i += size
        changed = running.add(batch)
        whole = decide(hits[:i], ctx, rules)
        assert running.decisions == whole
        assert changed == {k for k in whole if before.get(k) != whole[k]}
        counting = [(h.at, whole[h.key].proxy is not None) for h in hits[:i]
                    if whole[h.key].counts and (h.kind == "open" or whole[h.key].implied_open)]
        assert running.counting_opens() == ((min(counting)[0], max(counting)[0], max(counting)[1])
                                            if counting else (None, None, False))
        counted = [h for h in hits[:i] if whole[h.key].counts]  # as record.write counted them
        assert running.engagement() == (min((h.at for h in counted if h.kind == "click"), default=None),
                                        len(counted) + sum(1 for h in counted if whole[h.key].implied_open))
        before = dict(whole)


def test_running_decisions_re_file_the_first_hits_of_a_burst_that_arrives_last_first(rules):
    clicks = [make_hit(kind="click", url=f"https://prospect.example/{i}", at=LATER + timedelta(seconds=0.6 * i))
              for i in range(4)]
    running = Running(Context(sent_at=SENT), rules)
    assert running.add(clicks[:2]) == {clicks[0].key, clicks[1].key}
    assert running.decisions[clicks[0].key].implied_open
    assert running.add(clicks[3:]) == {clicks[3].key}  # 1.2 s after the second: not yet a run
    assert running.add(clicks[2:3]) == {c.key for c in clicks}  # joins them: all four a burst
    assert {d.verdict for d in running.decisions.values()} == {"scanner"}
    assert not any(d.implied_open for d in running.decisions.values())


def test_running_decisions_re_word_the_duplicates_of_a_download_a_later_click_confirms(rules):
    mpp = [make_hit(ua.APPLE_MPP, APPLE_V4, at=LATER + timedelta(seconds=s), key=f"mpp-{s}") for s in (0, 10)]
    running = Running(Context(sent_at=SENT), rules)
    running.add(mpp)
    assert running.decisions[mpp[1].key].reason.endswith("which was Apple Mail Privacy Protection: not counted either")
    click = make_hit(kind="click", at=LATER + timedelta(minutes=5))
    assert running.add([click]) == {mpp[0].key, mpp[1].key, click.key}
    assert running.decisions[mpp[0].key].verdict == "confirmed"
    assert running.decisions[mpp[1].key].reason.endswith(": counted once")
    assert running.decisions == decide([*mpp, click], Context(sent_at=SENT), rules)


def test_is_global_shared_by_a_slash_24_is_ipaddress_own_answer():
    """The writer asks ``is_global`` once per IPv4 /16 or /24 (rules.is_global): for every
    address of the /24s around the special-purpose ranges (the narrow ones included:
    192.0.0.0/29, 192.0.0.170/31, 255.255.255.255/32), addresses all over the /16s
    holding a range narrower than a /16 and their neighbours, and random ones,
    whichever address of its block came first, the answer is ``ipaddress``'s."""
    import ipaddress as ip_mod
    import random as random_mod

    from server.hitpath import rules as rules_mod

    rng = random_mod.Random(24)
    blocks = ["0.0.0.0/24", "10.0.0.0/24", "100.63.255.0/24", "100.64.0.0/24", "127.0.0.0/24", "169.254.0.0/24",
              "172.15.255.0/24", "172.31.255.0/24", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24",
              "198.18.0.0/24", "198.19.255.0/24", "203.0.113.0/24", "224.0.0.0/24", "240.0.0.0/24",
              "255.255.255.0/24", "81.2.69.0/24"]
    addresses = [a for b in blocks for a in ip_mod.ip_network(b)]
    addresses += [ip_mod.IPv4Address(rng.getrandbits(32)) for _ in range(20_000)]
    for wide in sorted(rules_mod._SPECIAL_V4_16):
        for block in (wide - 1, wide, wide + 1):
            if 0 <= block < 1 << 16:
                addresses += [ip_mod.IPv4Address(block << 16 | rng.getrandbits(16)) for _ in range(100)]
    for order in (addresses, addresses[::-1], rng.sample(addresses, len(addresses))):
        rules_mod._GLOBAL_V4.clear()
        rules_mod._GLOBAL_V4_16.clear()
        assert [rules_mod.is_global(a) for a in order] == [a.is_global for a in order]
    assert rules_mod._SPECIAL_V4 and rules_mod._SPECIAL_V4_16  # ipaddress's tables were read: blocks are shared


def test_a_kept_network_is_read_as_ipaddress_reads_it():
    """``rules._kept_network`` (the stored /24 or /48 read back for ``network_ranges``)
    gives what ``ipaddress.ip_network`` gives, None where it raises."""
    import ipaddress as ip_mod
    import random as random_mod

    from server.hitpath.rules import _kept_network, network_of

    rng = random_mod.Random(48)
    cases = ["81.2.69.0/24", "81.2.69.1/24", "81.2.69.0/33", "81.2.69.0/024", "2001:db8::/48", "2001:DB8::/48",
             "::ffff:1.2.3.0/120", "x", "1.2.3.0/", "1.2.3.0/0", "0.0.0.0/0", "::/0", "1.2.3.0/ 24", " 1.2.3.0/24"]
    cases += [network_of(ip_mod.IPv4Address(rng.getrandbits(32))) for _ in range(2000)]
    cases += [network_of(ip_mod.IPv6Address(rng.getrandbits(128))) for _ in range(2000)]
    for case in cases:
        try:
            net = ip_mod.ip_network(case)
            want = (net.version, int(net.network_address), net.prefixlen)
        except ValueError:
            want = None
        assert _kept_network(case) == want, case
