"""Which links in an email body get click tracking, and rewriting them.  Pure: no I/O.

A link is trackable when it is an ``<a href>`` in the sender's own part of the body (a
quoted earlier message is left exactly as it was) whose address is http or https, and
it is none of:

- a link the sender marked as not tracked: a ``data-engage-notrack`` attribute, the
  class ``engage-notrack``, or a ``rel`` containing ``notrack``;
- an unsubscribe link: its address or text contains one of ``UNSUBSCRIBE_WORDS``
  (any case, accents optional), since rewriting those breaks one-click unsubscribe
  expectations and records a "click" nobody meant as interest;
- the tracking pixel, or a link already tracked (``/c/<token>`` on the tracking host).

``mailto:``, ``tel:``, in-page ``#anchors``, relative and ``javascript:`` addresses are
never tracked.  Links inside Outlook conditional comments (``<!--[if mso]>`` VML buttons)
are comment text to an HTML reader and are left alone.
"""

from __future__ import annotations

import re
import unicodedata
from html import unescape
from typing import Optional, TypedDict
from urllib.parse import unquote, urlsplit

from client_py.bodyparts import layout
from client_py.htmlscan import END, START, TEXT, Token, tokenize, unescape_attr
from client_py.snippet import is_pixel_url

#: Words that make a link an unsubscribe link, compared after lower-casing and dropping
#: accents; "-", "_", "+" and "%20" in addresses count as spaces.
UNSUBSCRIBE_WORDS = (
    "unsubscribe",  # English
    "desinscri",  # French: se désinscrire, désinscription
    "desabonn",  # French: se désabonner, désabonnement
    "abbestellen",  # German
    "darse de baja",  # Spanish
)
NOTRACK_ATTR = "data-engage-notrack"
NOTRACK_CLASS = "engage-notrack"

_TRACKED_PATH = re.compile(r"(?:^|/)c/[^/]+/?$")
_UNQUOTED_SAFE = re.compile(r"[^\s\"'=<>`]+")


class Link(TypedDict):
    href: str  # the attribute value exactly as written, without its quotes
    url: str  # the address it stands for: character references resolved, trimmed
    start: int  # offsets of the written value in the body: body[start:end] == href
    end: int
    text: str  # what the reader sees: its text, else its images' alt text


def _fold(value: str) -> str:
    """Lower case without accents, so "Désinscrire" and "DESINSCRIRE" compare equal."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def is_unsubscribe(url: str, text: str) -> bool:
    address = re.sub(r"[-_+]", " ", unquote(url))
    haystack = _fold(address) + "\n" + _fold(text)
    return any(word in haystack for word in UNSUBSCRIBE_WORDS)


def _is_marked_notrack(token: Token) -> bool:
    return (
        token.attr(NOTRACK_ATTR) is not None
        or NOTRACK_CLASS in token.classes()
        or "notrack" in (token.attr_value("rel") or "").lower()
    )


def _host_of(tracking_host: str) -> str:
    """"t.example.com", "t.example.com:8443" or "https://t.example.com/x" -> netloc."""
    value = tracking_host.strip()
    if "//" not in value:
        value = "//" + value
    return urlsplit(value).netloc.lower()


def is_tracked_url(url: str, tracking_host: str) -> bool:
    """Whether ``url`` is already a click-tracking address on ``tracking_host``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    host = _host_of(tracking_host)
    return bool(host) and parts.netloc.lower() == host and bool(_TRACKED_PATH.search(parts.path))


def _link_text(body: str, tokens: list[Token], index: int, stop: int) -> str:
    """Visible text of the <a> at ``index``: up to its </a>, the next <a>, or ``stop``."""
    words: list[str] = []
    alts: list[str] = []
    for j in range(index + 1, len(tokens)):
        token = tokens[j]
        if token.start >= stop or token.name == "a" and token.kind in (START, END):
            break
        if token.kind == TEXT:
            words.append(unescape(body[token.start:token.end]))
        elif token.kind == START and token.name == "img":
            alts.append(token.attr_value("alt") or "")
    text = " ".join("".join(words).split())
    return text or " ".join(" ".join(alts).split())


def _links(body: str) -> list[tuple[Link, Token]]:
    """Every http(s) <a href> in the sender's own part that is not excluded by kind."""
    tokens = tokenize(body)
    own_end = layout(body, tokens).own_end
    found: list[tuple[Link, Token]] = []
    for i, token in enumerate(tokens):
        if token.start >= own_end:
            break
        if token.kind != START or token.name != "a":
            continue
        href = token.attr("href")
        if href is None or href.value is None:
            continue
        url = unescape_attr(href.value).strip(" \t\n\r\f")
        if not url.lower().startswith(("http://", "https://")) or is_pixel_url(url):
            continue
        if _is_marked_notrack(token):
            continue
        text = _link_text(body, tokens, i, own_end)
        if is_unsubscribe(url, text):
            continue
        link = Link(href=href.value, url=url, start=href.start, end=href.end, text=text)
        found.append((link, token))
    return found


def find_trackable_links(body: str, tracking_host: Optional[str] = None) -> list[Link]:
    """The links of ``body`` that get click tracking, in document order.

    ``tracking_host`` is the tracking server ("t.example.com" or its base URL); links
    already pointing at its ``/c/<token>`` are left out.  The same address may appear
    several times, once per link.
    """
    links = [link for link, _token in _links(body)]
    if tracking_host:
        links = [link for link in links if not is_tracked_url(link["url"], tracking_host)]
    return links


def _written(value: str, quote: str | None) -> str:
    """``value`` as an attribute value in the original quoting style, quotes included."""
    text = value.replace("&", "&amp;")
    if quote == "'":
        return "'" + text.replace("'", "&#39;") + "'"
    if quote == "" and _UNQUOTED_SAFE.fullmatch(text):
        return text
    return '"' + text.replace('"', "&quot;") + '"'


def rewrite_links(body: str, tracked: dict[str, str]) -> str:
    """``body`` with each trackable link's href replaced by ``tracked[url]``.

    ``tracked`` maps an original address (a ``Link``'s ``url``, or its ``href`` as
    written) to its tracking address.  Only the href values change, in the quoting they
    were written with; links without an entry, and links already pointing at one of
    the tracking addresses, are left alone, so running it again changes nothing.
    """
    targets = set(tracked.values())
    pieces: list[str] = []
    pos = 0
    for link, token in _links(body):
        if link["url"] in targets:
            continue
        new = tracked.get(link["url"], tracked.get(link["href"]))
        if new is None:
            continue
        href = token.attr("href")
        # Replace the value with its quotes, so an unquoted one can gain quotes if needed.
        left = href.start - (1 if href.quote else 0)
        right = href.end + (1 if href.quote else 0)
        pieces.append(body[pos:left])
        pieces.append(_written(new, href.quote))
        pos = right
    pieces.append(body[pos:])
    return "".join(pieces)


def trackable_urls(body: str, tracking_host: str | None = None) -> list[str]:
    """The distinct addresses of the links worth tracking, in document order: what a
    client registers with the server (a link that appears twice is tracked once)."""
    urls: dict[str, None] = {}
    for link in find_trackable_links(body, tracking_host):
        urls.setdefault(link["url"], None)
    return list(urls)
