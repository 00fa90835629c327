"""client_py.snippet: the tracking pixel goes in once, in the right place, and comes
out leaving the body exactly as it was."""

from __future__ import annotations

import time
from html.parser import HTMLParser

import pytest

from client_py.errors import NotHtmlError
from client_py.snippet import (
    body_kind, build_snippet, find_snippet, insert_snippet, is_html, is_pixel_url,
    remove_snippet,
)

PIXEL = "https://t.example.com/p/Tok3n.gif"
NEW_PIXEL = "https://t.example.com/p/N3wT0k.gif"
SNIPPET = build_snippet(PIXEL)
WHERE = ["first", "last"]
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class ElementsParser(HTMLParser):
    """The stdlib's reading of a body: every start tag with the elements around it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict]] = []
        self.starts: list[tuple[str, dict, list[tuple[str, dict]], bool]] = []
        self.html_closed = False

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        self.starts.append((tag, attributes, list(self.stack), self.html_closed))
        if tag not in VOID:
            self.stack.append((tag, attributes))

    def handle_startendtag(self, tag, attrs):
        self.starts.append((tag, {n: v or "" for n, v in attrs}, list(self.stack),
                            self.html_closed))

    def handle_endtag(self, tag):
        if tag == "html":
            self.html_closed = True
        for k in range(len(self.stack) - 1, -1, -1):
            if self.stack[k][0] == tag:
                del self.stack[k:]
                break


def parse(body: str) -> ElementsParser:
    parser = ElementsParser()
    parser.feed(body)
    parser.close()
    return parser


def is_quote_or_signature(tag: str, attrs: dict) -> bool:
    classes = set(attrs.get("class", "").split())
    return bool(
        tag in ("blockquote", "head", "title", "style", "script")
        or classes & {"gmail_quote", "gmail_quote_container", "gmail_signature",
                      "moz-signature", "moz-cite-prefix", "yahoo_quoted"}
        or attrs.get("id") in ("Signature", "divRplyFwdMsg", "appendonsend",
                               "mail-editor-reference-message-container")
    )


# --- the snippet itself ---------------------------------------------------------------

def test_snippet_is_a_hidden_one_pixel_image_that_still_loads():
    starts = parse(SNIPPET).starts
    assert [tag for tag, *_ in starts] == ["span", "img"]
    (_, wrapper, _, _), (_, image, _, _) = starts
    assert image["src"] == PIXEL
    assert (image["width"], image["height"], image["alt"], image["border"]) == ("1", "1", "", "0")
    assert "width:1px" in image["style"] and "height:1px" in image["style"]
    assert "border:0" in image["style"]
    for rule in ("mso-hide:all", "max-height:0", "overflow:hidden", "line-height:0",
                 "font-size:0"):
        assert rule in wrapper["style"]
    # display:none would stop clients that lazy-load images from ever fetching it.
    assert "display:none" not in SNIPPET
    assert "data-engage-pixel" in wrapper and "engage-pixel" in wrapper["class"].split()


def test_snippet_escapes_the_pixel_url():
    url = 'https://t.example.com/p/a.gif?x=1&y="><script>alert(1)</script>'
    starts = parse(build_snippet(url)).starts
    assert [tag for tag, *_ in starts] == ["span", "img"]
    assert starts[1][1]["src"] == url


@pytest.mark.parametrize("url", ["", "/p/x.gif", "javascript:alert(1)", "ftp://h/p/x.gif",
                                 "t.example.com/p/x.gif"])
def test_snippet_needs_an_absolute_http_url(url):
    with pytest.raises(ValueError):
        build_snippet(url)


@pytest.mark.parametrize("url, expected", [
    ("https://t.example.com/p/Tok3n.gif", True),
    ("http://localhost:5000/p/abc_DEF-123.gif", True),
    ("https://example.com/engage/p/abc.gif?v=2", True),
    ("https://ci3.googleusercontent.com/meips/AD#https://t.example.com/p/abc.gif", True),
    ("https://t.example.com/c/abc", False),
    ("https://t.example.com/p/abc.png", False),
    ("https://t.example.com/p/.gif", False),
    ("https://t.example.com/pp/abc.gif", False),
])
def test_pixel_urls_are_recognised_on_any_host(url, expected):
    assert is_pixel_url(url) is expected


# --- every fixture body, both positions ---------------------------------------------

@pytest.mark.parametrize("where", WHERE)
def test_insertion_adds_only_the_snippet_once(body, where):
    out = insert_snippet(body, PIXEL, where)
    assert out.count(SNIPPET) == 1
    at = out.index(SNIPPET)
    assert out[:at] + out[at + len(SNIPPET):] == body  # not one other byte changed
    assert find_snippet(out) == PIXEL


@pytest.mark.parametrize("where", WHERE)
def test_removal_gives_back_the_original(body, where):
    assert remove_snippet(insert_snippet(body, PIXEL, where)) == body


@pytest.mark.parametrize("where", WHERE)
def test_inserting_twice_leaves_one(body, where):
    once = insert_snippet(body, PIXEL, where)
    assert insert_snippet(once, PIXEL, where) == once
    other = "last" if where == "first" else "first"
    assert insert_snippet(once, PIXEL, other) == insert_snippet(body, PIXEL, other)


@pytest.mark.parametrize("where", WHERE)
def test_inserting_a_new_url_replaces_the_old_one(body, where):
    replaced = insert_snippet(insert_snippet(body, PIXEL, where), NEW_PIXEL, where)
    assert SNIPPET not in replaced
    assert replaced == insert_snippet(body, NEW_PIXEL, where)
    assert find_snippet(replaced) == NEW_PIXEL
    assert remove_snippet(replaced) == body


def test_a_body_without_snippet_has_none(body):
    assert find_snippet(body) is None
    assert remove_snippet(body) == body


@pytest.mark.parametrize("where", WHERE)
def test_snippet_is_never_in_head_quote_or_signature_or_after_html(body, where):
    out = insert_snippet(body, PIXEL, where)
    images = [s for s in parse(out).starts if s[0] == "img" and s[1].get("src") == PIXEL]
    assert len(images) == 1
    _tag, _attrs, ancestors, after_html = images[0]
    assert ancestors[-1][1].get("class") == "engage-pixel"  # parsed as markup, whole
    assert not after_html
    assert not [a for a in ancestors[:-1] if is_quote_or_signature(*a)]


# What a reader of each body expects right after the snippet: for "first" the body's
# first content, for "last" the end of the body or the start of the quoted message.
PLACES = {
    "apple_mail_reply.html": ("Sure — here is", '<blockquote type="cite">'),
    "body_end_without_start.html": ("<div>Hello, here", "</body>\n</html>"),
    "content_after_html_end.html": ("<p>Hi, see", "</body></html>\n<!-- appended"),
    "emoji_cjk.html": ('<div dir="ltr">Hi 田中さん', ""),
    "entity_hrefs.html": ("<div>\n<a href", ""),
    "fragment_style_first.html": ("<p>Hi Jo,</p>", ""),
    "gmail_forward.html": ('<div dir="ltr">FYI', '<div class="gmail_quote">'),
    "gmail_forward_nothing_typed.html": ("<br><div class=", '<div class="gmail_quote'),
    "gmail_new_message.html": ('<div dir="ltr">Hi Anna', ""),
    "gmail_reply_quote.html": ('<div dir="ltr">Sounds', '<div class="gmail_quote'),
    "gmail_reply_quoted_pixel.html": ('<div dir="ltr">Just', '<div class="gmail_quote">'),
    "gmail_reply_signature_quote.html": ('<div dir="ltr"><div>Hi', '<div class="gmail_quote">'),
    "gmail_signature.html": ('<div dir="ltr">Hello Peter', ""),
    "malformed_comments_scripts.html": ("\n<!-- </body></html>", "</body>\n</html>\n"),
    "malformed_unclosed.html": ("<div>Hi Sam,", ""),
    "marketing_template.html": ('\n<div style="display:none', "</body>\n</html>\n"),
    "notrack_and_unsubscribe.html": ('<div dir="ltr">\n<p>', ""),
    "outlook_2010_word_reply.html": ("\r\n<div class=WordSection1>",
                                     "<div style='border:none;border-top:solid #B5C4DF"),
    "outlook_desktop_word_reply.html": ('\r\n<div class="WordSection1">',
                                        '<a name="_MailEndCompose">'),
    "outlook_new_reference_container.html": ('\n<div class="elementToProof"',
                                             '<div id="mail-editor-reference-message'),
    "outlook_web_new.html": ('\n<div class="elementToProof"', "</body>\n</html>"),
    "outlook_web_reply.html": ('\n<div class="elementToProof"', '<div id="appendonsend">'),
    "outlook_web_reply_hr_only.html": ("\n<div style=", '<hr style="display:inline-block'),
    "rtl_arabic.html": ('<div dir="rtl"', ""),
    "rtl_hebrew_reply.html": ('<div dir="rtl">שלום', '<div class="gmail_quote">'),
    "thunderbird_reply.html": ("\n    <p>Hi Anna,", '<div class="moz-cite-prefix">'),
    "truncated_document.html": ("\n<p>This body", ""),
    "unclosed_signature.html": ('<div dir="ltr">Hi Jo', '<div class="gmail_signature"'),
    "unterminated_comment.html": ('<div dir="ltr">Draft', "<!-- unfinished note"),
    "unterminated_tag.html": ("<div>Hello</div>", '<div class="broken"'),
    "uppercase_tags.html": ("\n<P><FONT", "</BODY>\n</HTML>"),
    "yahoo_reply.html": ('<div class="ydp', '<div id="yahoo_quoted_'),
}


def test_every_fixture_body_has_expected_places(body_names):
    assert sorted(PLACES) == body_names
    assert len(body_names) >= 20


@pytest.mark.parametrize("name, first_next, last_next",
                         [(name, *places) for name, places in sorted(PLACES.items())])
def test_snippet_lands_where_a_reader_expects(read_body, name, first_next, last_next):
    body = read_body(name)
    for where, expected_next in (("first", first_next), ("last", last_next)):
        out = insert_snippet(body, PIXEL, where)
        following = out[out.index(SNIPPET) + len(SNIPPET):]
        if expected_next:
            assert following.startswith(expected_next), where
        else:
            assert following == "", where  # the very end of a fragment


def test_a_quoted_earlier_pixel_is_part_of_the_quote(read_body):
    body = read_body("gmail_reply_quoted_pixel.html")
    assert find_snippet(body) is None
    assert remove_snippet(body) == body
    out = insert_snippet(body, PIXEL, "last")
    assert out.count("/p/Old123.gif") == 1 and find_snippet(out) == PIXEL


# --- snippets a mail client has rewritten ---------------------------------------------

BEFORE, AFTER = '<div dir="ltr">Hi</div>', '<div class="gmail_quote">quoted</div>'
MANGLED = {
    "data attribute dropped": '<span class="engage-pixel" style="display:block;max-height:0">'
                              f'<img src="{PIXEL}" width="1" height="1" alt=""></span>',
    "marker class dropped too": f'<span style="display:block"><img src="{PIXEL}" width="1" '
                                'height="1" alt=""></span>',
    "only the image left": f'<img alt="" style="width:1px;height:1px" src="{PIXEL}">',
    "upper case, reordered": f'<SPAN DATA-ENGAGE-PIXEL="1"><IMG HEIGHT=1 SRC="{PIXEL}" '
                             'WIDTH=1></SPAN>',
    "behind Gmail's image proxy": '<span class="engage-pixel"><img src="https://ci3.google'
                                  f'usercontent.com/meips/ADKq#{PIXEL}" width="1"></span>',
}


@pytest.mark.parametrize("snippet", MANGLED.values(), ids=MANGLED.keys())
def test_a_rewritten_snippet_is_still_found_and_removed(snippet):
    body = BEFORE + snippet + AFTER
    assert find_snippet(body) == PIXEL
    assert remove_snippet(body) == BEFORE + AFTER
    assert insert_snippet(body, NEW_PIXEL, "last") == BEFORE + build_snippet(NEW_PIXEL) + AFTER


@pytest.mark.parametrize("image", [
    '<img src="https://cdn.example.com/p/logo.gif" width="120" height="40">',
    '<img src="https://cdn.example.com/img/spacer.gif" width="1" height="1">',
    '<img src="https://esp.example.net/open.gif?c=1" width="1" height="1">',
])
def test_other_images_are_not_taken_for_the_snippet(image):
    body = f"<p>Hello {image}</p>"
    assert find_snippet(body) is None
    assert remove_snippet(body) == body


# --- bodies that cannot be tracked ------------------------------------------------------

@pytest.mark.parametrize("body, kind", [
    ("Hi Anna,\n\nSee you Tuesday.\n\nMarc", "plain_text"),
    ("Marc Dupont <marc@example.com> wrote:\n> 2 < 3 and 5 > 4", "plain_text"),
    ("Use <grin> and &amp; freely", "plain_text"),
    ("{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 Calibri;}} Hello}", "rich_text"),
    ("\ufeff  {\\rtf1\\ansi\\fromhtml1 {\\*\\htmltag <p>}}", "rich_text"),
])
def test_plain_and_rich_text_are_refused(body, kind):
    assert body_kind(body) == kind and not is_html(body)
    with pytest.raises(NotHtmlError) as refused:
        insert_snippet(body, PIXEL, "last")
    assert refused.value.code == "not_html"
    assert refused.value.fields["kind"] == kind
    assert "Tracking needs an HTML email" in str(refused.value)


@pytest.mark.parametrize("body", [
    "Hi<br>", "<div>Hi</div>", "</div>", "<p>unclosed", "<O:P></O:P>", "<!DOCTYPE html>",
    "x <b>bold</b>", "", "  \n",
])
def test_html_fragments_and_empty_bodies_are_html(body):
    assert is_html(body)
    assert insert_snippet(body, PIXEL, "last").count(SNIPPET) == 1


def test_position_must_be_first_or_last():
    with pytest.raises(ValueError):
        insert_snippet("<p>Hi</p>", PIXEL, "middle")


def test_insertion_into_a_200_kb_body_is_fast(read_body):
    template = read_body("marketing_template.html")
    content = template.split("<body", 1)[1].split(">", 1)[1].rsplit("</body>", 1)[0]
    quote = read_body("gmail_reply_quote.html")
    body = "<html><body>" + content * (200_000 // len(content)) + quote + "</body></html>"
    assert len(body) > 190_000
    started = time.perf_counter()
    out = insert_snippet(body, PIXEL, "last")
    elapsed = time.perf_counter() - started
    assert out.count(SNIPPET) == 1
    # About 20 ms on CPython here; the bound leaves room for Pyodide and a busy machine
    # while still failing on anything worse than linear.
    assert elapsed < 1.0


@pytest.mark.parametrize(("kind", "words"), [("plain_text", "plain text"), ("rich_text", "Rich Text Format"),
                                             ("html", None)])
def test_not_html_reason_is_the_error_a_body_of_that_kind_raises(kind, words):
    from client_py.snippet import not_html_reason

    reason = not_html_reason(kind)
    if words is None:
        assert reason is None
    else:
        assert words in reason and reason.startswith("Tracking needs an HTML email")
