"""Where the parts of an email body are: its start, the end of what the sender wrote,
and the quoted message that follows.  Pure: no I/O.

Bodies come in two shapes.  A compose fragment, as Gmail's editor and Outlook on the web
hold it (``<div dir="ltr">Hi<br></div><div class="gmail_quote">..``), and a full document
(``<html><head>..</head><body>..</body></html>``).  Both may end with a quoted earlier
message, and everything from the first of these markers onwards counts as quoted:

- Gmail: an element with class ``gmail_quote`` (``gmail_quote_container`` in newer
  Gmail), which holds the "On .. wrote:" line and the quote.
- Outlook on the web: ``#appendonsend`` (an empty div Outlook puts exactly where the
  reply text ends), else ``#divRplyFwdMsg`` (the From/Sent header, with the quoted body
  as its following siblings) together with the ``<hr>`` Outlook puts just before it;
  new Outlook wraps the quote in ``#mail-editor-reference-message-container``.
- Outlook for Windows: the ``_MailEndCompose`` bookmark, or the header block
  ``<div style="border:none;border-top:solid #E1E1E1 1.0pt">`` (``#B5C4DF`` in 2007-10).
- Apple Mail and Thunderbird: ``<blockquote type="cite">`` and Thunderbird's
  ``.moz-cite-prefix`` line; Yahoo's ``.yahoo_quoted``; Proton's ``.protonmail_quote``.

Signatures (``.gmail_signature``, Outlook's ``#Signature``, ``.moz-signature``) belong to
the sender's own part, but nothing is ever inserted inside one.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from client_py.htmlscan import (
    COMMENT, DECL, END, RAW, START, TEXT, Token, index_at, open_elements, tokenize,
)

QUOTE_CLASSES = frozenset(
    {"gmail_quote", "gmail_quote_container", "moz-cite-prefix", "yahoo_quoted",
     "protonmail_quote"}
)
QUOTE_IDS = frozenset({"appendonsend", "divrplyfwdmsg", "mail-editor-reference-message-container"})
SIGNATURE_CLASSES = frozenset({"gmail_signature", "moz-signature"})
SIGNATURE_IDS = frozenset({"signature"})
_OUTLOOK_HEADER_STYLE = re.compile(r"border-top:\s*solid\s+#(?:e1e1e1|b5c4df)\s+1\.0pt")

# Before the body proper: what a fragment may start with and what only a head holds.
_HEAD_START_TAGS = frozenset(
    {"html", "head", "meta", "link", "title", "style", "base", "script", "noscript",
     "template", "basefont", "bgsound"}
)
_HEAD_END_TAGS = frozenset({"head", "title", "style", "script", "noscript", "template"})


def _blank(body: str, token: Token) -> bool:
    """Only HTML whitespace: a no-break space is content."""
    return not body[token.start:token.end].strip(" \t\n\r\f")


def _id(token: Token) -> str:
    return (token.attr_value("id") or "").strip().lower()


def is_quote_start(token: Token) -> bool:
    """Whether this start tag opens a quoted earlier message (or ends the new text)."""
    if token.kind != START:
        return False
    if token.classes() & QUOTE_CLASSES or _id(token) in QUOTE_IDS:
        return True
    if token.name == "blockquote":
        return (token.attr_value("type") or "").strip().lower() == "cite"
    if token.name == "a":
        return (token.attr_value("name") or "") == "_MailEndCompose"
    if token.name == "div":
        style = (token.attr_value("style") or "").lower()
        return bool(_OUTLOOK_HEADER_STYLE.search(style))
    return False


def is_signature_start(token: Token) -> bool:
    return token.kind == START and bool(
        token.classes() & SIGNATURE_CLASSES or _id(token) in SIGNATURE_IDS
    )


class Layout(NamedTuple):
    first: int  # where "first line" content goes: just inside the body
    last: int  # where "last line" content goes: end of the sender's own text
    own_end: int  # where the quoted part starts (len(body) when there is none)


def _safe_end(tokens: list[Token], length: int) -> int:
    """The end of the body, backed off before a trailing unclosed comment/tag/<style>,
    which would otherwise swallow anything appended after it."""
    end = length
    k = len(tokens) - 1
    while k >= 0 and not tokens[k].terminated:
        end = tokens[k].start
        if tokens[k].kind == RAW and k > 0:
            k -= 1  # the <style>/<script> start tag that opened the unclosed content
            end = tokens[k].start
        k -= 1
    return end


def _first(body: str, tokens: list[Token]) -> tuple[int, int]:
    """(token index, offset) where the body's content starts.

    Right after ``<body ..>`` when there is one.  Otherwise (fragments, and documents
    with ``</body>`` but no ``<body>``) before the first token that is not blank text,
    a comment, a doctype, or something that belongs in a head (``<html>``, ``<head>``,
    ``<meta>``, ``<style>``..): that is where a browser starts the body.
    """
    for i, token in enumerate(tokens):
        if token.kind == START and token.name == "body" and token.terminated:
            return i + 1, token.end
    for i, token in enumerate(tokens):
        kind = token.kind
        if kind in (COMMENT, DECL, RAW):
            continue
        if kind == TEXT and _blank(body, token):
            continue
        if kind == START and token.name in _HEAD_START_TAGS:
            continue
        if kind == END and token.name in _HEAD_END_TAGS:
            continue
        return i, token.start
    return len(tokens), _safe_end(tokens, len(body))


def _end(tokens: list[Token], begin: int, length: int) -> int:
    """Offset just before the body closes: the last ``</body>`` before ``</html>``,
    else ``</html>``, else the end of the source; never after ``</html>``."""
    html_end = body_end = None
    for token in tokens[begin:]:
        if token.kind == END:
            if token.name == "html":
                html_end = token
                break
            if token.name == "body":
                body_end = token
    if body_end is not None:
        return body_end.start
    if html_end is not None:
        return html_end.start
    return _safe_end(tokens, length)


def _quote_start(body: str, tokens: list[Token], begin: int, end: int) -> int | None:
    """Offset of the first quote marker between token ``begin`` and offset ``end``."""
    for i in range(begin, len(tokens)):
        token = tokens[i]
        if token.start >= end:
            return None
        if not is_quote_start(token):
            continue
        if _id(token) == "divrplyfwdmsg":
            # Outlook draws its separator line with an <hr> just before the header.
            k = i - 1
            while k >= begin and (
                tokens[k].kind == COMMENT
                or tokens[k].kind == TEXT and _blank(body, tokens[k])
            ):
                k -= 1
            if k >= begin and tokens[k].kind == START and tokens[k].name == "hr":
                return tokens[k].start
        return token.start
    return None


def _outside_protected(tokens: list[Token], offset: int) -> int:
    """``offset``, moved back before any quote or signature element still open there."""
    for token in open_elements(tokens, index_at(tokens, offset)):
        if is_quote_start(token) or is_signature_start(token):
            return token.start
    return offset


def layout(body: str, tokens: list[Token] | None = None) -> Layout:
    """Where to insert at the first / last line, and where the quoted part begins."""
    if tokens is None:
        tokens = tokenize(body)
    begin, first = _first(body, tokens)
    end = max(first, _end(tokens, begin, len(body)))
    quote = _quote_start(body, tokens, begin, end)
    last = _outside_protected(tokens, end if quote is None else quote)
    return Layout(first, max(first, last), len(body) if quote is None else quote)
