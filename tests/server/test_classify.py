"""The verdict on each hit, with real user agents and real addresses, values in and out."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from server.classify import Context, Hit, Verdict, classify
from server.device import device_class
from server.rules import Rules, RulesFileError

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
HOME_V4 = "81.2.69.142"  # a British broadband address
HOME_V6 = "2a01:e0a:1c3:5b0::1"  # a French broadband address (Free)

ORG_V4 = "203.0.113.0/24"
ORG_V6 = "2001:db8:1234::/48"


@pytest.fixture(scope="module")
def rules() -> Rules:
    return Rules.load()


def make_hit(ua_string=ua.CHROME_WINDOWS, ip=HOME_V4, *, kind="open", method="GET", headers=None, at=LATER,
             url=None) -> Hit:
    if kind == "click" and url is None:
        url = "https://example.com/pricing"
    return Hit(kind=kind, method=method, ip=ip, user_agent=ua_string, headers=headers or {}, at=at, url=url)


def run(rules, hit: Hit, **ctx) -> Verdict:
    return classify(hit, Context(sent_at=SENT, **ctx), rules)


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
    ("apple mpp, Apple", make_hit(ua.APPLE_MPP, APPLE_V4), {}, "apple_mpp", None, "17.0.0.0/8"),
    ("apple mpp, Apple v6", make_hit(ua.APPLE_MPP, APPLE_V6), {}, "apple_mpp", None, "2620:149::/32"),
    ("apple mpp, relay Akamai", make_hit(ua.APPLE_MPP, RELAY_AKAMAI), {}, "apple_mpp", None, "172.224.0.0/12"),
    ("apple mpp, relay Cloudflare", make_hit(ua.APPLE_MPP, RELAY_CLOUDFLARE), {}, "apple_mpp", None, "104.28.0.0/16"),
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


def test_an_org_range_does_not_claim_addresses_outside_it(rules):
    got = run(rules, make_hit(ua.CHROME_WINDOWS, "203.0.114.1"), org_ranges=(ORG_V4, "not a range"))
    assert got.verdict == "human"


# -- scanners: each signal -------------------------------------------------------------------

SCANNER_AGENTS = [
    ua.BARRACUDA, ua.GOOGLEBOT, ua.BINGBOT, ua.SLACKBOT, ua.FACEBOOK, ua.LINKEDIN, ua.TWITTERBOT, ua.WHATSAPP,
    ua.TELEGRAM, ua.DISCORD, ua.SKYPE_PREVIEW, ua.OUTLOOK_DESKTOP_LINK_CHECK, ua.IOS_DATAACCESSD,
    ua.HEADLESS_CHROME, ua.PYTHON_REQUESTS, ua.CURL, ua.WGET, ua.GO_HTTP, ua.JAVA, ua.APACHE_HTTPCLIENT,
    ua.LIBWWW,
]


@pytest.mark.parametrize("agent", SCANNER_AGENTS)
@pytest.mark.parametrize("kind", ["open", "click"])
def test_scanner_user_agents(rules, agent, kind):
    got = run(rules, make_hit(agent, HOME_V4, kind=kind))
    assert got.verdict == "scanner"
    assert "user agent identifies" in got.reason


@pytest.mark.parametrize("ip,owner", [
    (EOP, "Microsoft"), (MIMECAST, "Mimecast"), (PROOFPOINT, "Proofpoint"), (BARRACUDA_ESS, "Barracuda"),
])
def test_security_service_addresses_are_scanners_even_with_a_browser_agent(rules, ip, owner):
    got = run(rules, make_hit(ua.CHROME_WINDOWS, ip, kind="click"))
    assert got.verdict == "scanner"
    assert owner in got.reason and ip in got.reason


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
        and run(rules, make_hit(f"Mozilla/5.0 (compatible; {m.text} 1.0)", HOME_V4)).verdict != "scanner"
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
     "human"),
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
    assert got.reason.startswith("3 different links clicked within 1 s")


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
    (ua.OUTLOOK_WINDOWS, HOME_V4, "desktop"),
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
    assert "not in Google's published ranges" in run(rules, make_hit(ua.GMAIL_PROXY, "nope")).reason


def test_ipv4_mapped_ipv6_is_read_as_ipv4(rules):
    assert run(rules, make_hit(ua.APPLE_MPP, "::ffff:" + APPLE_V4)).verdict == "apple_mpp"


def test_private_addresses_are_said_to_be_private(rules):
    assert "private or local" in run(rules, make_hit(ip="192.168.1.20")).reason


# -- the data files ----------------------------------------------------------------------------------


def test_bundled_rules_cover_every_group_the_classifier_uses(rules):
    groups = {r.group for r in rules.ranges} | {m.group for m in rules.markers}
    assert {"google", "apple", "microsoft_outlook", "scanner", "gmail_proxy", "gmail_prefetch", "apple_mpp",
            "outlook_proxy"} <= groups
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
