"""Properties of snippet insertion and link rewriting over generated HTML-ish bodies.

The stdlib's ``html.parser`` is the independent reader: whatever it sees in a body
(every start tag with its attributes, every end tag, all text) it must still see after
the edit, apart from the snippet itself or the rewritten href values.
"""

from __future__ import annotations

from html.parser import HTMLParser

from hypothesis import given, settings, strategies as st

from client_py.htmlscan import tokenize
from client_py.links import find_trackable_links, rewrite_links
from client_py.snippet import build_snippet, find_snippet, insert_snippet, remove_snippet

PIXEL = "https://t.example.com/p/Pr0p.gif"
SNIPPET = build_snippet(PIXEL)
HOST = "t.example.com"
FEW = settings(deadline=None, max_examples=100)  # Pyodide is slower than CPython

# --- a grammar of email-ish HTML ---------------------------------------------------------

plain_chars = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="<&")
text = st.one_of(
    st.text(plain_chars, max_size=12),
    st.sampled_from(["&amp;", "&nbsp;", "&#x1F600;", "a < b", "x<3 ", "> quoted", "שלום",
                     "مرحبا", "日本語のテキスト", "👨‍👩‍👧 🚀", "\u202eRTL\u202c", "Hi,\r\n"]),
)
attr_text = st.text(st.characters(blacklist_categories=("Cs", "Cc"),
                                  blacklist_characters="\"'&<"), max_size=10)
tag_names = st.sampled_from(["div", "span", "p", "b", "i", "font", "td", "center", "li",
                             "DIV", "Span", "o:p"])


@st.composite
def attributes(draw) -> str:
    parts = []
    for name in draw(st.lists(st.sampled_from(["class", "style", "dir", "title", "id",
                                               "data-x", "lang", "nowrap"]),
                              max_size=3, unique=True)):
        style = draw(st.sampled_from(["dq", "sq", "bare", "none", "spaced"]))
        value = draw(attr_text)
        if style == "dq":
            parts.append(f'{name}="{value}"')
        elif style == "sq":
            parts.append(f"{name}='{value}'")
        elif style == "spaced":
            parts.append(f'{name} = "{value}"')
        elif style == "bare":
            parts.append(f"{name}=v{draw(st.integers(0, 99))}")
        else:
            parts.append(name)
    return "".join(" " + part for part in parts)


leaves = st.one_of(
    text,
    st.sampled_from(["<br>", "<br/>", "<hr>", '<img src="https://cdn.example.com/a.png" alt="">',
                     "<!-- note -->", "<!-- </body></html> -->", "<!--[if mso]><b>x</b><![endif]-->",
                     "<style>p{color:red}/* </body> */</style>",
                     '<script>var s = "</div></body>";</script>', "</span>"]),
)


@st.composite
def element(draw, children) -> str:
    name = draw(tag_names)
    inner = "".join(draw(st.lists(children, max_size=4)))
    closing = draw(st.sampled_from([f"</{name}>", f"</{name}>", f"</{name.upper()}>", ""]))
    return f"<{name}{draw(attributes())}>{inner}{closing}"


content = st.recursive(leaves, lambda children: element(children), max_leaves=12)

SIGNATURE = '<div class="gmail_signature">Marc | <a href="https://example.com/sig">site</a></div>'
QUOTE = ('<div class="gmail_quote"><div class="gmail_attr">On Mon wrote:</div>'
         '<blockquote class="gmail_quote">old <a href="https://old.example/">x</a></blockquote></div>')
SHELLS = [
    "{}",
    '<div dir="ltr">{}</div>',
    "<html><head><meta charset=\"utf-8\"><title>T</title></head><body>{}</body></html>",
    "<!DOCTYPE html>\r\n<HTML><HEAD><STYLE>b{{}}</STYLE></HEAD><BODY BGCOLOR=#fff>{}</BODY></HTML>\r\n",
    "<html><head></head>{}</body></html>",
    "<html><body>{}",
]


@st.composite
def bodies(draw) -> str:
    own = draw(element(content)) + "".join(draw(st.lists(content, max_size=3)))
    if draw(st.booleans()):
        own += SIGNATURE
    if draw(st.booleans()):
        own += "<br>" + QUOTE
    return draw(st.sampled_from(SHELLS)).format(own)


# --- what the stdlib parser sees ---------------------------------------------------------

class Events(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[tuple] = []

    def handle_starttag(self, tag, attrs):
        self.events.append(("start", tag, tuple(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.events.append(("start", tag, tuple(attrs)))

    def handle_endtag(self, tag):
        self.events.append(("end", tag))

    def handle_data(self, data):
        if self.events and self.events[-1][0] == "data":
            self.events[-1] = ("data", self.events[-1][1] + data)
        else:
            self.events.append(("data", data))

    def handle_comment(self, data):
        self.events.append(("comment", data))


def events(body: str) -> list[tuple]:
    parser = Events()
    parser.feed(body)
    parser.close()
    return parser.events


def without_snippet(seen: list[tuple]) -> list[tuple]:
    """The events with the snippet's own three taken out (and text rejoined)."""
    starts = [i for i, event in enumerate(seen) if event[0] == "start" and event[1] == "span"
              and ("class", "engage-pixel") in event[2]]
    assert len(starts) == 1
    i = starts[0]
    assert seen[i + 1][:2] == ("start", "img") and ("src", PIXEL) in seen[i + 1][2]
    assert seen[i + 2] == ("end", "span")
    rest = seen[:i] + seen[i + 3:]
    joined: list[tuple] = []
    for event in rest:
        if joined and event[0] == "data" and joined[-1][0] == "data":
            joined[-1] = ("data", joined[-1][1] + event[1])
        else:
            joined.append(event)
    return joined


# --- properties -----------------------------------------------------------------------------

@FEW
@given(bodies())
def test_tokens_cover_the_body_exactly(body):
    tokens = tokenize(body)
    assert "".join(body[t.start:t.end] for t in tokens) == body
    assert all(a.end == b.start for a, b in zip(tokens, tokens[1:]))


@FEW
@given(bodies(), st.sampled_from(["first", "last"]))
def test_insertion_keeps_every_element_and_all_text(body, where):
    out = insert_snippet(body, PIXEL, where)
    assert out.count(SNIPPET) == 1
    assert without_snippet(events(out)) == events(body)
    assert find_snippet(out) == PIXEL
    assert remove_snippet(out) == body
    assert insert_snippet(out, PIXEL, where) == out


@FEW
@given(bodies(), st.sampled_from(["first", "last"]))
def test_the_quote_is_untouched_and_the_snippet_precedes_it(body, where):
    out = insert_snippet(body, PIXEL, where)
    if QUOTE in body:
        assert out.count(QUOTE) == 1 and out.index(SNIPPET) < out.index(QUOTE)
    if SIGNATURE in body:
        assert SIGNATURE in out


# Links written every way a mail client might.
hosts = st.sampled_from(["example.com", "a.example.org", "例え.jp", "EXAMPLE.NET"])
paths = st.text(st.sampled_from("abcXYZ019-_./~%"), max_size=8)
queries = st.lists(st.tuples(st.sampled_from(["q", "page", "utm_source", "id", "ref"]),
                             st.text(st.sampled_from("abc123-é"), max_size=5)), max_size=3)


@st.composite
def addresses(draw) -> str:
    if draw(st.integers(0, 5)) == 0:
        return draw(st.sampled_from(["mailto:a@example.com", "#top", "/relative", "tel:+1555",
                                     f"https://{HOST}/c/Done1"]))
    query = "&".join(f"{k}={v}" for k, v in draw(queries))
    scheme = draw(st.sampled_from(["https://", "http://", "HTTPS://"]))
    return f"{scheme}{draw(hosts)}/{draw(paths)}" + (f"?{query}" if query else "")


@st.composite
def anchors(draw) -> str:
    url = draw(addresses())
    written = url.replace("&", "&amp;") if draw(st.booleans()) else url
    style = draw(st.sampled_from(["dq", "sq", "bare", "upper", "spaced"]))
    if style == "bare" and not any(c in written for c in " \"'=<>`"):
        href = f"href={written}"
    elif style == "sq":
        href = f"href='{written}'"
    elif style == "upper":
        href = f'HREF="{written}"'
    elif style == "spaced":
        href = f'href = "{written}"'
    else:
        href = f'href="{written}"'
    extra = draw(st.sampled_from(["", ' target="_blank"', ' title="a>b"', " data-engage-notrack",
                                  ' class="x"']))
    before = draw(st.booleans())
    attrs = f"{extra} {href}" if before else f" {href}{extra}"
    return f"<a{attrs}>{draw(text)}</a>"


@st.composite
def linked_bodies(draw) -> str:
    pieces = draw(st.lists(st.one_of(anchors(), content), min_size=1, max_size=6))
    return draw(st.sampled_from(SHELLS)).format("<div>" + "".join(pieces) + "</div>")


def tracking_map(body: str) -> dict[str, str]:
    urls = dict.fromkeys(link["url"] for link in find_trackable_links(body, HOST))
    return {url: f"https://{HOST}/c/T{n}" for n, url in enumerate(urls)}


@FEW
@given(linked_bodies())
def test_rewrite_is_idempotent(body):
    tracked = tracking_map(body)
    once = rewrite_links(body, tracked)
    assert rewrite_links(once, tracked) == once
    assert find_trackable_links(once, HOST) == []


@FEW
@given(linked_bodies())
def test_rewrite_changes_only_href_values(body):
    tracked = tracking_map(body)
    before, after = events(body), events(rewrite_links(body, tracked))
    assert len(before) == len(after)
    for old, new in zip(before, after):
        if old[0] == "start" and old[1] == "a" and old != new:
            old_attrs, new_attrs = dict(old[2]), dict(new[2])
            assert new_attrs.pop("href") == tracked[old_attrs.pop("href").strip()]
            assert [name for name, _ in old[2]] == [name for name, _ in new[2]]
            assert old_attrs == new_attrs
        else:
            assert old == new
