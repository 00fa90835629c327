"""Hypothesis fuzzing of the rulebook's parsers on arbitrary, hostile text.

Whatever a mail client, a user or an attacker puts in a recipient field, a blocklist or
an email body, the parsers either answer or raise one of the documented
``client_py.errors`` (never ``IndexError``, ``ValueError``, ``RecursionError``, ...), and
what they answer keeps its promises: tokens cover the body, offsets point at what they
say, parsing what was formatted gives it back, edits are idempotent and reversible.

Standard library, pytest and hypothesis only: this file also runs inside Pyodide.
"""

from __future__ import annotations

import re

from hypothesis import assume, given, settings, strategies as st

from client_py.errors import InvalidAddressError, NotHtmlError
from client_py.htmlscan import (
    COMMENT, DECL, END, RAW, START, TEXT, index_at, matching_end, open_elements, tokenize, unescape_attr,
)
from client_py.links import find_trackable_links, rewrite_links
from client_py.recipients import classify_recipient, is_valid_address, normalize_domain, parse_recipients
from client_py.snippet import body_kind, find_snippet, insert_snippet, remove_snippet

FUZZ = settings(max_examples=60, deadline=None)  # Pyodide is a few times slower than CPython
PIXEL = "https://t.example.com/p/Fuzz0123456789abcdef.gif"
HOST = "t.example.com"
KINDS = {TEXT, START, END, COMMENT, DECL, RAW}

# --- strategies ---------------------------------------------------------------------------

any_text = st.text(max_size=80)  # every code point but lone surrogates, controls included

# Pieces that mean something to an HTML reader, an address parser or both, mixed with
# arbitrary characters, so generated inputs land on the edges those parsers decide.
HTML_PIECES = [
    "<", ">", "/", "=", '"', "'", "!", "-", "?", " ", "\n", "\r\n", "\t", "\x00", "\u00a0",
    "<!--", "-->", "--!>", "<!-->", "<!DOCTYPE html>", "<![CDATA[", "]]>", "<![if mso]>",
    "<![endif]>", "<?xml", "</", "</>", "<html>", "</html>", "<head>", "</head>", "<body>",
    "</body>", "<div>", "</div>", "<p>", "</p>", "<span>", "</span>", "<br>", "<br/>",
    "<script>", "</script>", "</script ", "<style>", "</style>", "<title>", "</title>",
    "<textarea>", "<plaintext>", "<a href=", '<a href="https://x.example/?a=1&amp;b=2">',
    "<a href='http://y.example/'>", "<a href=https://z.example/>", "</a>", "<img src=",
    '<img src="https://t.example.com/p/Old0123456789abcdef.gif" width="1" height="1">',
    'class="gmail_quote"', '<div class="gmail_quote">', "<blockquote>", "</blockquote>",
    'class="gmail_signature"', 'id="divRplyFwdMsg"', "<hr>", "unsubscribe", "&amp;", "&#0;",
    "&#x110000;", "&copy=", "&lt;", "{\\rtf1", "\ufeff", "é", "日本", "👨‍👩‍👧", "\u202e",
    "javascript:", "mailto:", "https://", "HTTP://", "t.example.com/c/", "data-engage-pixel",
    "engage-pixel", "data-engage-notrack",
]
html_ish = st.lists(st.one_of(st.sampled_from(HTML_PIECES), st.text(max_size=3)), max_size=40).map("".join)

ADDRESS_PIECES = [
    "@", ".", ",", ";", "<", ">", '"', "\\", "(", ")", " ", "\t", "\n", "'", "mailto:",
    "ann", "Ann", "x.example", "acme.example", "bücher.de", "xn--bcher-kva.de", "-", "_",
    "+", "..", "@@", "\u00a0", "\x00", "日本", "İ", "ß", "Doe, John", '"Last, First"',
]
address_ish = st.lists(st.one_of(st.sampled_from(ADDRESS_PIECES), st.text(max_size=3)), max_size=20).map("".join)

label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
idn_label = st.sampled_from(["bücher", "münchen", "日本", "пример", "ελλάδα", "straße"])
domains = st.lists(st.one_of(label, idn_label), min_size=1, max_size=3).flatmap(
    lambda labels: st.sampled_from(["com", "example", "de", "co.uk"]).map(lambda tld: ".".join([*labels, tld])))
local_parts = st.from_regex(r"[a-z0-9!#$%&'*+/=?^_`{|}~-]{1,10}(\.[a-z0-9_+-]{1,6}){0,2}", fullmatch=True)
addresses = st.builds(lambda local, domain: f"{local}@{domain}", local_parts, domains)
display_names = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=20)


# --- recipients ---------------------------------------------------------------------------

@FUZZ
@given(st.one_of(any_text, address_ish))
def test_parse_recipients_answers_or_names_the_bad_entry(text):
    try:
        parsed = parse_recipients(text)
    except InvalidAddressError as err:
        assert err.code == "invalid_address" and isinstance(err.fields.get("value"), str)
        return
    addresses_seen = [r["address"] for r in parsed]
    assert len(addresses_seen) == len(set(addresses_seen))
    for recipient in parsed:
        assert set(recipient) == {"name", "address"}
        assert is_valid_address(recipient["address"]) and recipient["address"] == recipient["address"].lower()
        assert recipient["name"] == recipient["name"].strip()


@FUZZ
@given(st.lists(st.one_of(any_text, address_ish, st.fixed_dictionaries({"name": any_text, "address": address_ish})),
                max_size=4))
def test_parse_recipients_on_lists_raises_only_invalid_address(items):
    try:
        parse_recipients(items)
    except InvalidAddressError:
        pass


def quoted(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


@FUZZ
@given(st.lists(st.tuples(display_names, addresses), min_size=1, max_size=4, unique_by=lambda r: r[1].lower()),
       st.sampled_from([", ", "; ", ",", ";\n"]))
def test_formatted_recipients_parse_back(people, separator):
    text = separator.join(f"{quoted(name)} <{address}>" if name else address for name, address in people)
    parsed = parse_recipients(text)
    assert [r["address"] for r in parsed] == [address.lower() for _, address in people]
    assert [r["name"] for r in parsed] == [" ".join(name.split()) for name, _ in people]


@FUZZ
@given(st.one_of(any_text, address_ish, addresses),
       st.lists(st.one_of(any_text, domains), max_size=3),
       st.lists(st.one_of(any_text, address_ish, domains, addresses), max_size=3))
def test_classify_recipient_always_answers_one_of_three(address, internal, blocklist):
    assert classify_recipient(address, internal, blocklist) in {"internal", "external", "blocklisted"}


@FUZZ
@given(addresses, st.lists(domains, max_size=2), st.lists(st.one_of(domains, addresses), max_size=2))
def test_classification_ignores_case_and_internal_beats_the_blocklist(address, internal, blocklist):
    kind = classify_recipient(address, internal, blocklist)
    assert classify_recipient(address.upper(), [d.upper() for d in internal], blocklist) == kind
    domain = address.rpartition("@")[2]
    assert classify_recipient(address, [*internal, domain], [*blocklist, address, domain]) == "internal"
    assert classify_recipient(address, [], [*blocklist, "@" + domain]) == "blocklisted"


@FUZZ
@given(st.one_of(any_text, address_ish))
def test_normalize_domain_never_raises(text):
    assert isinstance(normalize_domain(text), str)


@FUZZ
@given(domains, st.sampled_from(["", "@", "*.", " "]), st.sampled_from(["", ".", " "]))
def test_normalize_domain_reads_every_spelling_of_a_domain_alike(domain, prefix, suffix):
    plain = normalize_domain(domain)
    assert plain.isascii() and plain == plain.lower()
    assert normalize_domain(plain) == plain
    assert normalize_domain(prefix + domain.upper() + suffix) == plain


# --- the HTML tokenizer ---------------------------------------------------------------------

@FUZZ
@given(st.one_of(any_text, html_ish))
def test_tokens_cover_any_text_exactly_and_point_at_their_source(body):
    tokens = tokenize(body)
    assert "".join(body[t.start:t.end] for t in tokens) == body
    assert all(a.end == b.start for a, b in zip(tokens, tokens[1:]))
    for i, token in enumerate(tokens):
        assert token.kind in KINDS
        # Only an unclosed <script>/<plaintext> at the very end leaves an empty token: its
        # marker that nothing may be inserted after it.
        assert token.start < token.end or (token.kind == RAW and not token.terminated and token.end == len(body))
        if token.kind in (START, END):
            assert body[token.start] == "<" and token.name
        for attr in token.attrs:
            assert token.start <= attr.start <= attr.end <= token.end
            if attr.value is not None:
                assert body[attr.start:attr.end] == attr.value
        if token.kind == START:
            end = matching_end(tokens, i)
            assert end is None or (end > i and tokens[end].kind == END and tokens[end].name == token.name)
    assert all(t.kind == START for t in open_elements(tokens, len(tokens)))
    for offset in (0, len(body) // 2, len(body)):
        assert 0 <= index_at(tokens, offset) <= len(tokens)


@FUZZ
@given(st.one_of(any_text, html_ish))
def test_unescape_attr_never_raises_and_leaves_plain_text_alone(value):
    out = unescape_attr(value)
    assert isinstance(out, str)
    if "&" not in value:
        assert out == value


# --- the snippet and links on arbitrary bodies --------------------------------------------

@FUZZ
@given(html_ish, st.sampled_from(["first", "last"]))
def test_the_snippet_goes_in_and_comes_out_of_any_html(body, where):
    assume(PIXEL not in body and "engage-pixel" not in body and "/p/" not in body)
    try:
        out = insert_snippet(body, PIXEL, where)
    except NotHtmlError as err:
        assert body_kind(body) in ("plain_text", "rich_text") and err.fields["kind"] == body_kind(body)
        return
    assert body_kind(body) == "html"
    assert find_snippet(out) == PIXEL
    assert remove_snippet(out) == body
    assert insert_snippet(out, PIXEL, where) == out


@FUZZ
@given(st.one_of(any_text, html_ish))
def test_the_snippet_functions_raise_only_documented_errors(body):
    try:
        insert_snippet(body, PIXEL, "last")
    except NotHtmlError:
        pass
    assert body_kind(body) in ("html", "plain_text", "rich_text")
    found = find_snippet(body)
    assert found is None or isinstance(found, str)
    assert isinstance(remove_snippet(body), str)


@FUZZ
@given(st.one_of(any_text, html_ish))
def test_links_found_in_any_text_point_at_their_href(body):
    links = find_trackable_links(body, HOST)
    for link in links:
        assert body[link["start"]:link["end"]] == link["href"]
        assert re.match(r"https?://", link["url"], re.I)
    assert rewrite_links(body, {}) == body


@FUZZ
@given(html_ish)
def test_rewriting_links_in_any_text_is_idempotent_and_leaves_nothing_to_track(body):
    urls = dict.fromkeys(link["url"] for link in find_trackable_links(body, HOST))
    tracked = {url: f"https://{HOST}/c/Tok{n}" for n, url in enumerate(urls)}
    once = rewrite_links(body, tracked)
    assert rewrite_links(once, tracked) == once
    assert find_trackable_links(once, HOST) == []

