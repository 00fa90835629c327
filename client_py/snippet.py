"""The tracking snippet: building it, and putting it into / finding it in / taking it
out of an HTML email body.  Pure: no I/O.

Every edit splices the snippet's exact text in or out at an offset found by
``client_py.htmlscan``; the rest of the body is never re-serialised, so it stays byte for
byte as the mail client wrote it and ``remove_snippet(insert_snippet(b, ..)) == b``.

Only the sender's own part of a body is touched: a snippet inside a quoted earlier
message (say, the pixel of the tracked email being replied to) is part of that quote,
so it is neither found, nor removed, nor counted as this email's snippet.
"""

from __future__ import annotations

import re
from html import escape
from typing import Literal

from client_py.bodyparts import layout
from client_py.errors import NotHtmlError
from client_py.htmlscan import END, START, Token, matching_end, tokenize

#: Marks the snippet's wrapper.  Gmail drops ``data-`` attributes from what it sends, so
#: the class is there too, and a 1x1 image whose address looks like a pixel
#: (``/p/<token>.gif`` on any host) is recognised even when both are gone.
MARKER_ATTR = "data-engage-pixel"
MARKER_CLASS = "engage-pixel"

# Why this markup:
# - A <span>, not a <div>: a <div> inside an open <p> makes browsers close the <p> early,
#   and the <p>'s own </p> then opens an empty paragraph, i.e. a blank line.  A span is
#   allowed anywhere text is; display:block turns it into a box the next rules can shrink.
# - max-height:0 + overflow:hidden + font-size:0 + line-height:0 take the box, and any
#   line box around the image, down to zero height in browser-based clients (Gmail,
#   Outlook on the web, Apple Mail): no dot and no blank line, in light or dark mode.
# - mso-hide:all is what hides it in Outlook for Windows, whose Word engine ignores
#   max-height and overflow and would otherwise show a 1px dot (white in dark mode) and
#   a line of height.  Open trackers wrap their pixel in a hidden element for exactly
#   this (societe-generale/swordphish-awareness PR #53: "white dot in Outlook dark
#   mode"); that Outlook still downloads the hidden picture is what they rely on, not
#   something verified here against a real Outlook.
# - No display:none, and none on the image: browsers do fetch a display:none <img>, but
#   not one that is also loading="lazy" (it never comes near the viewport), which a
#   webmail may add to every image; a zero-height box avoids depending on either.
# - On the image: width/height 1 as attributes (Outlook sizes by these) and in the style,
#   border 0 both ways (old clients draw a border around images), alt="" so nothing is
#   read aloud or shown while images are blocked, and display:block so it sits on no
#   text baseline.
_WRAPPER_STYLE = "display:block;max-height:0;overflow:hidden;mso-hide:all;font-size:0;line-height:0"
_IMAGE_STYLE = "display:block;width:1px;height:1px;border:0"

_PIXEL_PATH = re.compile(r"^https?://[^/?#\s]+(?:/[^?#\s]*)?/p/[^/?#\s]+\.gif(?:[?#].*)?$", re.I)
_ONE_PIXEL_STYLE = re.compile(r"(?:^|[;\s])(?:width|height)\s*:\s*1px", re.I)


def build_snippet(pixel_url: str) -> str:
    """The pixel markup for ``pixel_url`` (an absolute http(s) address)."""
    if not re.match(r"^https?://[^/\s]", pixel_url, re.I):
        raise ValueError(f"the pixel address must be an absolute http(s) URL: {pixel_url!r}")
    return (
        f'<span class="{MARKER_CLASS}" {MARKER_ATTR}="1" style="{_WRAPPER_STYLE}">'
        f'<img src="{escape(pixel_url, quote=True)}" width="1" height="1" alt="" border="0"'
        f' style="{_IMAGE_STYLE}"></span>'
    )


def is_pixel_url(url: str) -> bool:
    """Whether ``url`` has the shape of a tracking pixel address, ``/p/<token>.gif``."""
    return bool(_PIXEL_PATH.match(_unproxied(url.strip())))


def _unproxied(url: str) -> str:
    # Gmail shows images through its proxy as "https://ci3.googleusercontent.com/..#<original>".
    cut = url.rfind("#http")
    return url[cut + 1:] if cut >= 0 else url


def body_kind(body: str) -> Literal["html", "plain_text", "rich_text"]:
    """What an email body is written in.

    Rich text: it starts with ``{\\rtf`` (Outlook's RTF).  Plain text: some text and not
    a single HTML tag, i.e. no start or end tag of an HTML element (``<john@x.com>`` or
    ``a < b`` are not tags).  HTML: everything else, including compose fragments such as
    ``Hi<br>`` and an empty body, which is an empty HTML fragment in every compose window.
    """
    head = body.lstrip("\ufeff \t\r\n")
    if head.startswith("{\\rtf"):
        return "rich_text"
    if not head.strip() or _HTML_TAG.search(body):
        return "html"
    return "plain_text"


def is_html(body: str) -> bool:
    """Whether a tracking snippet can go into ``body`` (see ``body_kind``)."""
    return body_kind(body) == "html"


#: Why a body of each non-HTML kind cannot carry a tracking image, for people.
NOT_HTML_REASONS = {
    "plain_text": "Tracking needs an HTML email, and this one is plain text. "
                  "Switch the message to HTML (rich formatting) to track it.",
    "rich_text": "Tracking needs an HTML email, and this one is in Rich Text Format (RTF). "
                 "Switch the message format to HTML to track it.",
}


def not_html_reason(kind: str) -> str | None:
    """The words for a body of this ``body_kind`` that cannot be tracked; None for HTML."""
    return NOT_HTML_REASONS.get(kind)


def require_html(body: str) -> None:
    """Raise ``NotHtmlError`` with words for people when ``body`` is not HTML."""
    kind = body_kind(body)
    reason = not_html_reason(kind)
    if reason is not None:
        raise NotHtmlError(reason, kind=kind)


def _snippet_spans(body: str, tokens: list[Token]) -> list[tuple[int, int, str | None]]:
    """(start, end, pixel URL) of each snippet in the sender's own part of ``body``."""
    own_end = layout(body, tokens).own_end
    spans: list[tuple[int, int, str | None]] = []
    i = 0
    while i < len(tokens) and tokens[i].start < own_end:
        token = tokens[i]
        if token.kind == START and _is_marked(token):
            close = matching_end(tokens, i) if token.name != "img" else None
            last = close if close is not None else i
            url = _first_pixel_src(tokens[i:last + 1])
            spans.append((token.start, tokens[last].end, url))
            i = last + 1
            continue
        if token.kind == START and token.name == "img" and _is_bare_pixel(token):
            first = last = i
            # A wrapper whose markers a mail client stripped still holds only the image.
            if (0 < i < len(tokens) - 1 and tokens[i - 1].kind == START
                    and tokens[i + 1].kind == END and tokens[i - 1].name == tokens[i + 1].name
                    and tokens[i - 1].name in ("span", "div")):
                first, last = i - 1, i + 1
            spans.append((tokens[first].start, tokens[last].end, _pixel_src(token)))
            i = last + 1
            continue
        i += 1
    return spans


def _is_marked(token: Token) -> bool:
    return token.attr(MARKER_ATTR) is not None or MARKER_CLASS in token.classes()


def _pixel_src(token: Token) -> str | None:
    src = token.attr_value("src")
    return _unproxied(src.strip()) if src else None


def _first_pixel_src(tokens: list[Token]) -> str | None:
    for token in tokens:
        if token.kind == START and token.name == "img" and token.attr_value("src"):
            return _pixel_src(token)
    return None


def _is_bare_pixel(token: Token) -> bool:
    """An <img> that is a pixel by its address and its 1x1 size."""
    src = token.attr_value("src")
    if not src or not is_pixel_url(src):
        return False
    sized = token.attr_value("width") == "1" or token.attr_value("height") == "1"
    return sized or bool(_ONE_PIXEL_STYLE.search(token.attr_value("style") or ""))


def find_snippet(body: str) -> str | None:
    """The pixel URL of the snippet in the sender's part of ``body``, or None."""
    for _start, _end, url in _snippet_spans(body, tokenize(body)):
        if url:
            return url
    return None


def remove_snippet(body: str) -> str:
    """``body`` without its snippet(s): exactly the body as it was before insertion."""
    return _without_snippets(body, tokenize(body))


def _without_snippets(body: str, tokens: list[Token]) -> str:
    spans = _snippet_spans(body, tokens)
    if not spans:
        return body
    pieces, pos = [], 0
    for start, end, _url in spans:
        pieces.append(body[pos:start])
        pos = end
    pieces.append(body[pos:])
    return "".join(pieces)


def insert_snippet(body: str, pixel_url: str, where: Literal["first", "last"] = "last") -> str:
    """``body`` with the snippet for ``pixel_url`` at its first or last line.

    First line: just inside ``<body>`` (or before a fragment's first content).  Last
    line: at the end of what the sender wrote, i.e. before a quoted reply/forward and
    after the signature, else just before ``</body>`` (never after ``</html>``).  Any
    snippet already in the sender's part is taken out first, so inserting twice leaves
    one and inserting with a new URL replaces the old one.  Raises ``NotHtmlError`` for
    plain-text and RTF bodies.
    """
    if where not in ("first", "last"):
        raise ValueError(f'where must be "first" or "last", not {where!r}')
    require_html(body)
    snippet = build_snippet(pixel_url)
    tokens = tokenize(body)
    clean = _without_snippets(body, tokens)
    if clean is not body:  # an old snippet came out, so every offset after it moved
        tokens = tokenize(clean)
    places = layout(clean, tokens)
    at = places.first if where == "first" else places.last
    return clean[:at] + snippet + clean[at:]


_HTML_ELEMENTS = (
    "a abbr address area article aside b base bdi bdo big blockquote body br button caption "
    "center cite code col colgroup dd del details dfn div dl dt em fieldset figcaption figure "
    "font footer form h1 h2 h3 h4 h5 h6 head header hr html i iframe img input ins kbd label "
    "legend li link main map mark meta nav noscript o:p ol optgroup option p picture pre q s "
    "samp script section small source span strike strong style sub summary sup table tbody td "
    "template textarea tfoot th thead title tr tt u ul var video wbr"
).split()
_HTML_TAG = re.compile(
    r"<!doctype\s+html|</?(?:" + "|".join(map(re.escape, _HTML_ELEMENTS)) + r")(?=[\s/>])",
    re.I,
)


def snippet_spans(body: str) -> list[tuple[int, int, str | None]]:
    """Where tracking snippets sit in ``body``: ``(start, end, pixel_url)`` for each, so
    a host that edits a live DOM (the Gmail extension) can remove exactly those."""
    return _snippet_spans(body, tokenize(body))
