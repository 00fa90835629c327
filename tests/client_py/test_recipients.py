import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from client_py.errors import InvalidAddressError
from client_py.recipients import (
    Decision,
    auto_insert_decision,
    classify_recipient,
    first_last_name,
    normalize_domain,
    parse_recipients,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("jane@x.com", [("", "jane@x.com")]),
        ("Jane Doe <Jane@X.com>", [("Jane Doe", "jane@x.com")]),
        ('"Doe, Jane" <jane@x.com>, bob@y.org', [("Doe, Jane", "jane@x.com"), ("", "bob@y.org")]),
        ("a@x.com; b@y.org", [("", "a@x.com"), ("", "b@y.org")]),
        ("Doe, Jane <jane@x.com>", [("Doe, Jane", "jane@x.com")]),
        ('"Doe; Jane" <jane@x.com>; b@y.org', [("Doe; Jane", "jane@x.com"), ("", "b@y.org")]),
        (" a@x.com , , b@y.org ,", [("", "a@x.com"), ("", "b@y.org")]),
        ("a@x.com, A@X.COM", [("", "a@x.com")]),
        ('"Quote \\"Q\\" Person" <q@x.com>', [('Quote "Q" Person', "q@x.com")]),
        ("jane@x.com (Jane Doe)", [("Jane Doe", "jane@x.com")]),
        ("<jane@x.com>", [("", "jane@x.com")]),
        ("mailto:Jane@X.com", [("", "jane@x.com")]),
        ("josé@Bücher.de", [("", "josé@bücher.de")]),
        ("", []),
        (None, []),
        (
            ["Jane <jane@x.com>", {"name": "Bob", "address": "BOB@y.org"}],
            [("Jane", "jane@x.com"), ("Bob", "bob@y.org")],
        ),
    ],
)
def test_parse_recipients(value, expected):
    assert parse_recipients(value) == [{"name": n, "address": a} for n, a in expected]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("not an address", "not an address"),
        ("jane@", "jane@"),
        ("@x.com", "@x.com"),
        ("jane@x", "jane@x"),
        ("Jane <jane>", "Jane <jane>"),
        ("a@b.com, garbage", "garbage"),
        ("jane doe@x.com", "jane doe@x.com"),
        ("jane\u00a0doe@x.com", "jane\u00a0doe@x.com"),
        ("jane@x..com", "jane@x..com"),
        ("jane.@x.com", "jane.@x.com"),
        ("jane@-x.com", "jane@-x.com"),
        ("<>", "<>"),
        (["ok@x.com", {"name": "No address"}], ""),
    ],
)
def test_parse_recipients_rejects_garbage_naming_it(value, shown):
    with pytest.raises(InvalidAddressError) as info:
        parse_recipients(value)
    assert info.value.code == "invalid_address"
    assert f"Not an email address: {shown!r}" == str(info.value)
    assert info.value.to_dict()["value"] == shown


def test_parse_recipients_rejects_non_text_items():
    with pytest.raises(InvalidAddressError, match="got int"):
        parse_recipients(["ok@x.com", 5])


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=40))
def test_parse_recipients_returns_lowercase_addresses_or_raises_the_domain_error(text):
    try:
        parsed = parse_recipients(text)
    except InvalidAddressError:
        return
    for recipient in parsed:
        assert recipient["address"] == recipient["address"].lower()
        assert "@" in recipient["address"]


INTERNAL = ["acme.com", "xn--bcher-kva.de"]


@pytest.mark.parametrize(
    ("address", "internal", "blocklist", "expected"),
    [
        ("a@acme.com", INTERNAL, [], "internal"),
        ("a@ACME.COM", INTERNAL, [], "internal"),
        ("a@sales.acme.com", INTERNAL, [], "internal"),
        ("a@eu.sales.acme.com", ["ACME.com."], [], "internal"),
        ("a@notacme.com", INTERNAL, [], "external"),
        ("a@acme.com.evil.org", INTERNAL, [], "external"),
        ("a@bücher.de", INTERNAL, [], "internal"),
        ("a@BÜCHER.DE", INTERNAL, [], "internal"),
        ("a@xn--bcher-kva.de", ["bücher.de"], [], "internal"),
        ("a@client.com", INTERNAL, ["a@client.com"], "blocklisted"),
        ("A@Client.com", INTERNAL, ["a@CLIENT.com"], "blocklisted"),
        ("b@client.com", INTERNAL, ["a@client.com"], "external"),
        ("b@client.com", INTERNAL, ["client.com"], "blocklisted"),
        ("b@client.com", INTERNAL, ["@client.com"], "blocklisted"),
        ("b@eu.client.com", INTERNAL, ["@client.com"], "blocklisted"),
        ("b@notclient.com", INTERNAL, ["client.com"], "external"),
        ("b@münchen.de", INTERNAL, ["xn--mnchen-3ya.de"], "blocklisted"),
        ("a@acme.com", INTERNAL, ["acme.com", "a@acme.com"], "internal"),
        ("a@client.com", [], [], "external"),
        ("a@client.com", INTERNAL, ["", "  "], "external"),
    ],
)
def test_classify_recipient(address, internal, blocklist, expected):
    assert classify_recipient(address, internal, blocklist) == expected


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("Bücher.DE", "xn--bcher-kva.de"),
        ("@acme.com", "acme.com"),
        ("*.acme.com", "acme.com"),
        ("acme.com.", "acme.com"),
        ("XN--BCHER-KVA.de", "xn--bcher-kva.de"),
        # A label the IDNA codec refuses (over 63 characters) falls back to Unicode.
        ("ü" * 70 + ".de", "ü" * 70 + ".de"),
    ],
)
def test_normalize_domain(domain, expected):
    assert normalize_domain(domain) == expected


def test_an_unencodable_internal_domain_still_matches_itself():
    domain = "ü" * 70 + ".de"
    assert classify_recipient(f"a@{domain}", [domain], []) == "internal"


@pytest.mark.parametrize(
    ("recipients", "auto_on", "applies", "reason", "code"),
    [
        ("jane@client.com", False, False, "Automatic tracking is off", "off"),
        ("", True, False, "No recipients yet", "no_recipients"),
        ([], True, False, "No recipients yet", "no_recipients"),
        ("a@acme.com, b@sales.acme.com", True, False, "All recipients are inside your company", "internal"),
        ("a@acme.com, x@blocked.com", True, False, "All external recipients are on your blocklist", "blocklisted"),
        ("x@blocked.com, vip@client.com", True, False, "All external recipients are on your blocklist", "blocklisted"),
        ("a@acme.com, jane@client.com", True, True, "Tracking: 1 external recipient", "external"),
        ("jane@client.com; bob@other.org, x@blocked.com", True, True, "Tracking: 2 external recipients", "external"),
    ],
)
def test_auto_insert_decision(recipients, auto_on, applies, reason, code):
    decision = auto_insert_decision(recipients, ["acme.com"], ["blocked.com", "vip@client.com"], auto_on)
    assert (decision.applies, decision.reason, decision.code) == (applies, reason, code)


def test_decision_counts_each_kind_and_is_frozen_plain_data():
    decision = auto_insert_decision(
        [{"name": "", "address": "a@acme.com"}, "x@blocked.com", "j@client.com"], ["acme.com"], ["blocked.com"], True
    )
    assert decision.to_dict() == {
        "applies": True, "reason": "Tracking: 1 external recipient",
        "external": 1, "internal": 1, "blocklisted": 1, "code": "external",
    }
    with pytest.raises(dataclasses.FrozenInstanceError):
        decision.applies = False  # type: ignore[misc]
    assert isinstance(decision, Decision)


def test_auto_insert_decision_raises_on_garbage_recipients():
    with pytest.raises(InvalidAddressError):
        auto_insert_decision("jane@client.com, nonsense", [], [], True)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Jane Doe", ("Jane", "Doe")),
        ("Doe, Jane", ("Jane", "Doe")),
        ('"García López, José"', ("José", "García López")),
        ("Jane Mary Doe", ("Jane", "Doe")),
        ("Cher", ("Cher", "")),
        ("  ", ("", "")),
        ("", ("", "")),
    ],
)
def test_first_last_name(name, expected):
    assert first_last_name({"name": name, "address": "x@y.com"}) == expected
