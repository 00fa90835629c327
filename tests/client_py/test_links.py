"""client_py.links: which links get click tracking, and rewriting exactly their hrefs."""

from __future__ import annotations

import pytest

from client_py.links import find_trackable_links, is_unsubscribe, rewrite_links

HOST = "t.example.com"

# Per fixture body: the addresses that get click tracking, in document order.  Links in
# quoted earlier messages, unsubscribe links, mailto:/tel:/#anchors and links inside
# Outlook conditional comments never appear.
EXPECTED = {
    "apple_mail_reply.html": ["https://example.com/contract"],
    "body_end_without_start.html": ["https://example.com/no-body"],
    "content_after_html_end.html": ["https://example.com/after", "https://relay.example/info"],
    "emoji_cjk.html": ["https://example.jp/製品?lang=ja", "https://example.cn/产品",
                       "https://example.kr/"],
    "entity_hrefs.html": [
        "https://example.com/search?q=a&page=2",
        "https://example.com/search?q=b&page=3",
        "https://example.com/search?q=c&page=4",
        "https://example.com/legal?x=1&copy=2&reg=3",
        'https://example.com/quote?name="Bob"',
        "https://example.com/apos?name=O'Brien",
        "https://example.com/spaced",
        "https://example.com/unquoted?a=1&b=2",
        "https://example.com/upper",
        "https://example.com/first",
        "https://example.com/after-gt-in-title",
        "https://example.com/a%20b?c=%C3%A9",
    ],
    "fragment_style_first.html": ["https://example.com/faq"],
    "gmail_forward.html": ["https://example.com/case-study"],
    "gmail_forward_nothing_typed.html": [],
    "gmail_new_message.html": ["https://example.com/deck.pdf?utm_source=email&utm_medium=sales",
                               "https://calendly.com/marc-dupont/30min"],
    "gmail_reply_quote.html": ["https://example.com/agenda?id=42&lang=en"],
    "gmail_reply_quoted_pixel.html": [],
    "gmail_reply_signature_quote.html": ["https://example.com/pricing", "https://example.com"],
    "gmail_signature.html": ["https://www.example.com/", "https://www.linkedin.com/in/marc-dupont"],
    "malformed_comments_scripts.html": ["https://example.com/real"],
    "malformed_unclosed.html": ["https://example.com/a?x=1&y=2", "https://example.com/b",
                                "https://example.com/c"],
    "marketing_template.html": [
        "https://news.example.com/view?id=123&u=abc",
        "https://www.example.com/?utm_source=newsletter&utm_medium=email&utm_campaign=spring",
        "https://www.example.com/plans#pro",
        "https://www.example.com/start?src=button",
        "https://twitter.com/example",
        "https://www.facebook.com/example",
        "https://news.example.com/preferences?u=abc",
    ],
    "notrack_and_unsubscribe.html": ["https://example.com/track-me",
                                     "https://other-tracker.example.net/c/Xyz",
                                     "http://example.com/plain-http", "https://example.com/spaces"],
    "outlook_2010_word_reply.html": ["https://example.fr/offre?ref=abc&canal=mail"],
    "outlook_desktop_word_reply.html": ["https://example.com/terms?v=2&lang=en"],
    "outlook_new_reference_container.html": ["https://example.com/roadmap"],
    "outlook_web_new.html": ["https://example.com/webinar?utm_campaign=q2&utm_source=outlook",
                             "https://example.com"],
    "outlook_web_reply.html": ["https://example.com/meet"],
    "outlook_web_reply_hr_only.html": ["https://example.com/invoice/2025-031"],
    "rtl_arabic.html": ["https://example.com/ar/offer?ref=%D8%B9%D8%B1%D8%B6"],
    "rtl_hebrew_reply.html": ["https://example.co.il/הצעה"],
    "thunderbird_reply.html": ["https://example.com/release-notes", "https://example.com"],
    "truncated_document.html": ["https://example.com/cut"],
    "unclosed_signature.html": ["https://example.com/sig-test", "https://example.com/me"],
    "unterminated_comment.html": ["https://example.com/draft"],
    "unterminated_tag.html": [],
    "uppercase_tags.html": ["https://example.com/Q3-Report.PDF", "HTTPS://EXAMPLE.COM/CONTACT"],
    "yahoo_reply.html": ["https://example.com/done"],
}


def tracking_map(links) -> dict[str, str]:
    urls = dict.fromkeys(link["url"] for link in links)
    return {url: f"https://{HOST}/c/L{n}" for n, url in enumerate(urls)}


def test_every_fixture_body_has_expected_links(body_names):
    assert sorted(EXPECTED) == body_names


@pytest.mark.parametrize("name, urls", sorted(EXPECTED.items()))
def test_trackable_links_per_body(read_body, name, urls):
    links = find_trackable_links(read_body(name), HOST)
    assert [link["url"] for link in links] == urls


def test_links_point_at_their_href_as_written(body):
    for link in find_trackable_links(body, HOST):
        assert body[link["start"]:link["end"]] == link["href"]


def test_rewriting_changes_only_the_href_values(body):
    links = find_trackable_links(body, HOST)
    tracked = tracking_map(links)
    out = rewrite_links(body, tracked)
    expected, pos = [], 0
    for link in links:  # the tracking URLs here need no escaping or quoting
        expected += [body[pos:link["start"]], tracked[link["url"]]]
        pos = link["end"]
    assert out == "".join(expected) + body[pos:]
    assert find_trackable_links(out, HOST) == []
    assert rewrite_links(out, tracked) == out


@pytest.mark.parametrize("name, text", [
    ("gmail_new_message.html", ["deck", "booking page"]),
    ("gmail_signature.html", ["www.example.com", "LinkedIn"]),  # an image link: its alt
    ("emoji_cjk.html", ["製品ページ", "产品介绍 🇨🇳", "제품"]),
    ("malformed_unclosed.html", ["the list", "this", "c"]),
])
def test_link_text_is_what_the_reader_sees(read_body, name, text):
    assert [link["text"] for link in find_trackable_links(read_body(name))] == text


# --- one link at a time -----------------------------------------------------------------

@pytest.mark.parametrize("anchor, trackable", [
    ('<a href="https://example.com/x">x</a>', True),
    ('<a href="http://example.com/x">x</a>', True),
    ('<a href="mailto:a@example.com">mail</a>', False),
    ('<a href="tel:+15551234567">call</a>', False),
    ('<a href="#section-2">jump</a>', False),
    ('<a href="/relative">rel</a>', False),
    ('<a href="javascript:void(0)">js</a>', False),
    ('<a name="bookmark">no href</a>', False),
    ('<a href="https://example.com/x" data-engage-notrack>x</a>', False),
    ('<a href="https://example.com/x" data-engage-notrack="true">x</a>', False),
    ('<a class="button engage-notrack" href="https://example.com/x">x</a>', False),
    ('<a rel="notrack" href="https://example.com/x">x</a>', False),
    ('<a rel="noopener NoTrack" href="https://example.com/x">x</a>', False),
    ('<a href="https://example.com/unsubscribe?u=1">here</a>', False),
    ('<a href="https://example.com/x">Unsubscribe</a>', False),
    ('<a href="https://example.com/x">Se désinscrire</a>', False),
    ('<a href="https://example.com/x">se de\u0301sabonner</a>', False),  # decomposed é
    ('<a href="https://example.com/se-desinscrire">ici</a>', False),
    ('<a href="https://example.com/x">Newsletter abbestellen</a>', False),
    ('<a href="https://example.com/darse%20de%20baja">aquí</a>', False),
    ('<a href="https://example.com/x">Darse de baja</a>', False),
    (f'<a href="https://{HOST}/c/AbC">tracked</a>', False),
    (f'<a href="https://{HOST}/p/AbC.gif">pixel</a>', False),
    ('<a href="https://elsewhere.example/c/AbC">other host</a>', True),
    ('<a href="https://example.com/subscribe">Subscribe</a>', True),
])
def test_which_links_are_tracked(anchor, trackable):
    found = find_trackable_links(f"<p>{anchor}</p>", HOST)
    assert bool(found) is trackable


@pytest.mark.parametrize("host", [HOST, "T.EXAMPLE.COM", f"https://{HOST}", f"https://{HOST}/"])
def test_tracking_host_may_be_a_host_or_a_base_url(host):
    body = f'<a href="https://{HOST}/c/AbC">a</a><a href="https://example.com">b</a>'
    assert [link["url"] for link in find_trackable_links(body, host)] == ["https://example.com"]


def test_without_tracking_host_any_c_link_is_a_candidate():
    body = f'<a href="https://{HOST}/c/AbC">a</a>'
    assert [link["url"] for link in find_trackable_links(body)] == [f"https://{HOST}/c/AbC"]


T = f"https://{HOST}/c/1"


@pytest.mark.parametrize("before, after", [
    ('<a href="https://a.example/x?y=1&amp;z=2">x</a>', f'<a href="{T}">x</a>'),
    ('<a href="https://a.example/x?y=1&#38;z=2">x</a>', f'<a href="{T}">x</a>'),
    ("<a href='https://a.example/x?y=1&z=2'>x</a>", f"<a href='{T}'>x</a>"),
    ('<a href=https://a.example/x?y=1&amp;z=2 target=_blank>x</a>',
     f'<a href={T} target=_blank>x</a>'),
    ('<A HREF="https://a.example/x?y=1&z=2">X</A>', f'<A HREF="{T}">X</A>'),
    ('<a href \n =\t "https://a.example/x?y=1&z=2" >x</a>', f'<a href \n =\t "{T}" >x</a>'),
    ('<a title="a>b" href="https://a.example/x?y=1&z=2">x</a>', f'<a title="a>b" href="{T}">x</a>'),
    ('<a href="https://a.example/x?y=1&z=2" href="https://b.example/">x</a>',
     f'<a href="{T}" href="https://b.example/">x</a>'),
    ('<a href=" https://a.example/x?y=1&z=2\n">x</a>', f'<a href="{T}">x</a>'),
])
def test_rewrite_handles_every_way_of_writing_an_href(before, after):
    assert rewrite_links(before, {"https://a.example/x?y=1&z=2": T}) == after


@pytest.mark.parametrize("quote, new, written", [
    ('"', "https://t.example.com/c/1?a=1&b=2", '"https://t.example.com/c/1?a=1&amp;b=2"'),
    ("'", "https://t.example.com/c/1?n=O'B", "'https://t.example.com/c/1?n=O&#39;B'"),
    ('"', 'https://t.example.com/c/1?n="x"', '"https://t.example.com/c/1?n=&quot;x&quot;"'),
    ("", "https://t.example.com/c/1", "https://t.example.com/c/1"),
    ("", "https://t.example.com/c/1?a=1&b=2", '"https://t.example.com/c/1?a=1&amp;b=2"'),
    ("", "https://t.example.com/c/1 x", '"https://t.example.com/c/1 x"'),
])
def test_rewritten_values_are_escaped_for_their_quotes(quote, new, written):
    body = f"<a href={quote}https://a.example/{quote}>a</a>"
    out = rewrite_links(body, {"https://a.example/": new})
    assert out == f"<a href={written}>a</a>"
    assert [link["url"] for link in find_trackable_links(out)] == [new]


def test_rewrite_accepts_the_href_as_written_as_key():
    body = '<a href="https://a.example/?x=1&amp;y=2">a</a>'
    assert rewrite_links(body, {"https://a.example/?x=1&amp;y=2": T}) == f'<a href="{T}">a</a>'


def test_rewrite_leaves_links_without_a_tracking_address():
    body = '<a href="https://a.example/">a</a> <a href="https://b.example/">b</a>'
    assert rewrite_links(body, {"https://b.example/": T}) == (
        f'<a href="https://a.example/">a</a> <a href="{T}">b</a>'
    )


def test_rewrite_is_idempotent_even_when_a_tracking_address_is_also_a_key():
    body = '<a href="https://a.example/">a</a>'
    tracked = {"https://a.example/": "https://b.example/", "https://b.example/": T}
    once = rewrite_links(body, tracked)
    assert rewrite_links(once, tracked) == once


def test_links_in_a_quote_are_left_alone(read_body):
    body = read_body("gmail_reply_quote.html")
    out = rewrite_links(body, {"https://client.example/office-map": T})
    assert out == body


@pytest.mark.parametrize("url, text, expected", [
    ("https://x.example/u", "Unsubscribe", True),
    ("https://x.example/List-Unsubscribe", "", True),
    ("https://x.example/x", "DÉSINSCRIPTION", True),
    ("https://x.example/desabonnement", "", True),
    ("https://x.example/darse_de_baja", "", True),
    ("https://x.example/x", "Subscribe now", False),
    ("https://x.example/baja", "Baja California", False),
])
def test_unsubscribe_words(url, text, expected):
    assert is_unsubscribe(url, text) is expected


def test_trackable_urls_are_distinct_and_in_document_order():
    from client_py.links import trackable_urls

    body = ('<p><a href="https://b.example/x">B</a> <a href="mailto:a@b.example">mail</a> '
            '<a href="https://a.example/">A</a> <a href="https://b.example/x">B again</a></p>')
    assert trackable_urls(body) == ["https://b.example/x", "https://a.example/"]
