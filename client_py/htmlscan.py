"""A small HTML tokenizer that remembers where every token came from. Pure: no I/O.

The rulebook edits email bodies by splicing strings at known offsets, never by
re-serialising a parsed tree, so that every byte it does not mean to touch stays as the
mail client wrote it.  That needs the exact source span of each tag and attribute value.

Why not ``html.parser``: its handling of edge cases (comments, ``<script>`` content,
CDATA) was changed by security fixes between CPython 3.11 and the Python 3.14 in
Pyodide, and the same body must be read the same way in both.  This scanner follows the
WHATWG tokenizer for the parts that decide what is markup and what is text (tags,
quoted/unquoted attributes, comments, raw-text elements such as ``<script>``/``<style>``,
bogus comments such as ``<![CDATA[`` or ``<![if mso]>``), and ignores the rest (tree
building, foreign content).
"""

from __future__ import annotations

import re
from html import unescape
from html.entities import html5

TEXT = "text"
START = "start"  # start tag
END = "end"  # end tag
COMMENT = "comment"  # <!-- ... -->, including Outlook's <!--[if mso]> ... <![endif]-->
DECL = "decl"  # <!DOCTYPE>, <![CDATA[, <![if ...]>, <?xml ...>, </ 3> and other bogus comments
RAW = "raw"  # the content of <script>, <style>, <title>, <textarea>, ...

#: Elements whose content is text up to their own end tag, whatever it looks like.
RAW_TEXT_ELEMENTS = frozenset(
    {"script", "style", "xmp", "iframe", "noembed", "noframes", "textarea", "title"}
)
VOID_ELEMENTS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
     "source", "track", "wbr", "basefont", "bgsound", "keygen", "frame"}
)

# HTML separates tag parts with ASCII whitespace only: a no-break space (U+00A0) inside
# an unquoted value is part of the value, which Python's Unicode "\s" would get wrong.
_WS = "\t\n\f\r "
_TAG_NAME = re.compile(rf"[^{_WS}/>]*")
_BETWEEN_ATTRS = re.compile(rf"[{_WS}/]*")  # a lone "/" inside a tag counts as a space
_ATTR_NAME = re.compile(rf"[^{_WS}/>][^{_WS}/>=]*")
_EQUALS = re.compile(rf"[{_WS}]*=[{_WS}]*")
_UNQUOTED = re.compile(rf"[^{_WS}>]*")
_RAW_END: dict[str, re.Pattern] = {}


class Attr:
    """One attribute: lower-cased name, value as written, and the value's span."""

    __slots__ = ("name", "value", "start", "end", "quote")

    def __init__(self, name: str, value: str | None, start: int, end: int, quote: str | None):
        self.name = name
        self.value = value  # None for a bare attribute such as ``<td nowrap>``
        self.start = start  # offsets of the value without its quotes
        self.end = end
        self.quote = quote  # '"', "'", "" (unquoted) or None (no value)

    def __repr__(self) -> str:
        return f"Attr({self.name!r}, {self.value!r}, {self.start}, {self.end}, {self.quote!r})"


class Token:
    """One piece of the source: ``body[start:end]`` is exactly what was scanned."""

    __slots__ = ("kind", "start", "end", "name", "attrs", "self_closing", "terminated")

    def __init__(self, kind: str, start: int, end: int, name: str = "",
                 attrs: list[Attr] | None = None, self_closing: bool = False,
                 terminated: bool = True):
        self.kind = kind
        self.start = start
        self.end = end
        self.name = name  # lower-cased tag name for START/END
        self.attrs = attrs if attrs is not None else []
        self.self_closing = self_closing
        # False when the source ended inside this token (an unclosed comment, tag or
        # <style>): nothing may be inserted after it, or it would be swallowed.
        self.terminated = terminated

    def attr(self, name: str) -> Attr | None:
        """The first attribute called ``name``: browsers ignore later duplicates."""
        for a in self.attrs:
            if a.name == name:
                return a
        return None

    def attr_value(self, name: str) -> str | None:
        """The decoded value of attribute ``name`` ("" for a bare one), or None."""
        a = self.attr(name)
        if a is None:
            return None
        return "" if a.value is None else unescape_attr(a.value)

    def classes(self) -> set[str]:
        value = self.attr_value("class")
        return set(re.split(f"[{_WS}]+", value.strip(_WS))) if value else set()

    def __repr__(self) -> str:
        return f"Token({self.kind}, {self.start}, {self.end}, {self.name!r})"


def _scan_attrs(s: str, i: int) -> tuple[list[Attr], int, bool] | None:
    """Attributes from ``i`` to the tag's ``>``: (attrs, end after ">", self-closing).

    None when the source ends first (the WHATWG tokenizer drops such a tag).
    """
    n = len(s)
    attrs: list[Attr] = []
    while True:
        gap = _BETWEEN_ATTRS.match(s, i)
        j = gap.end()
        if j >= n:
            return None
        if s[j] == ">":
            return attrs, j + 1, j > gap.start() and s[j - 1] == "/"
        name_m = _ATTR_NAME.match(s, j)
        name = name_m.group().lower()
        i = name_m.end()
        eq = _EQUALS.match(s, i)
        if not eq:
            attrs.append(Attr(name, None, i, i, None))
            continue
        k = eq.end()
        if k >= n:
            return None
        quote = s[k]
        if quote in "\"'":
            close = s.find(quote, k + 1)
            if close < 0:
                return None
            attrs.append(Attr(name, s[k + 1:close], k + 1, close, quote))
            i = close + 1
        else:
            value_m = _UNQUOTED.match(s, k)
            attrs.append(Attr(name, value_m.group(), k, value_m.end(), ""))
            i = value_m.end()


def _raw_end(name: str) -> re.Pattern:
    pattern = _RAW_END.get(name)
    if pattern is None:
        pattern = _RAW_END[name] = re.compile(rf"</{re.escape(name)}(?=[{_WS}/>])", re.I)
    return pattern


def _markup_end(s: str, i: int) -> tuple[int, bool]:
    """End of a bogus comment / declaration: just after the next ">", or the end."""
    close = s.find(">", i)
    return (close + 1, True) if close >= 0 else (len(s), False)


def _comment_end(s: str, i: int) -> tuple[int, bool]:
    """End of the comment opened by ``<!--`` at ``i``."""
    if s.startswith(">", i + 4):
        return i + 5, True  # "<!-->" is a complete (empty) comment
    if s.startswith("->", i + 4):
        return i + 6, True  # so is "<!--->"
    close = s.find("-->", i + 4)
    # "--!>" also ends a comment; look for it only before "-->", so that a body full
    # of comments is still scanned in linear time.
    bang = s.find("--!>", i + 4, close + 3 if close >= 0 else len(s))
    if bang >= 0:
        return bang + 4, True
    return (close + 3, True) if close >= 0 else (len(s), False)


def tokenize(s: str) -> list[Token]:
    """Split ``s`` into tokens covering it exactly, in order, with no gaps."""
    tokens: list[Token] = []
    n = len(s)
    text_start = pos = 0

    def flush(upto: int) -> None:
        if upto > text_start:
            tokens.append(Token(TEXT, text_start, upto))

    while True:
        lt = s.find("<", pos)
        if lt < 0 or lt + 1 >= n:
            break
        c = s[lt + 1]
        token: Token | None = None
        if c.isascii() and c.isalpha():
            name_m = _TAG_NAME.match(s, lt + 1)
            scanned = _scan_attrs(s, name_m.end())
            if scanned is None:
                token = Token(START, lt, n, name_m.group().lower(), terminated=False)
            else:
                attrs, end, closing = scanned
                token = Token(START, lt, end, name_m.group().lower(), attrs, closing)
        elif c == "/":
            d = s[lt + 2] if lt + 2 < n else ""
            if d.isascii() and d.isalpha():
                name_m = _TAG_NAME.match(s, lt + 2)
                scanned = _scan_attrs(s, name_m.end())
                if scanned is None:
                    token = Token(END, lt, n, name_m.group().lower(), terminated=False)
                else:
                    token = Token(END, lt, scanned[1], name_m.group().lower())
            elif d == ">":
                token = Token(DECL, lt, lt + 3)  # "</>" is dropped by browsers
            elif d:
                end, done = _markup_end(s, lt + 2)
                token = Token(DECL, lt, end, terminated=done)
            else:  # "</" at the very end is text, but "</" + "<span" is a bogus comment
                token = Token(TEXT, lt, n, terminated=False)
        elif c == "!":
            if s.startswith("--", lt + 2):
                end, done = _comment_end(s, lt)
                token = Token(COMMENT, lt, end, terminated=done)
            else:
                end, done = _markup_end(s, lt + 2)
                token = Token(DECL, lt, end, terminated=done)
        elif c == "?":
            end, done = _markup_end(s, lt + 2)
            token = Token(DECL, lt, end, terminated=done)
        if token is None:  # a "<" that starts no markup is text ("a < b", "<3")
            pos = lt + 1
            continue
        flush(lt)
        tokens.append(token)
        pos = text_start = token.end
        if token.kind == START and token.terminated:
            if token.name == "plaintext":
                tokens.append(Token(RAW, pos, n, terminated=False))
                return tokens
            if token.name in RAW_TEXT_ELEMENTS:
                close = _raw_end(token.name).search(s, pos)
                raw_end = close.start() if close else n
                if raw_end > pos or not close:
                    tokens.append(Token(RAW, pos, raw_end, terminated=close is not None))
                pos = text_start = raw_end
    flush(n)
    return tokens


_CHARREF = re.compile(r"&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[A-Za-z][A-Za-z0-9]*;?)")


def unescape_attr(value: str) -> str:
    """Resolve character references the way browsers do inside an attribute value.

    Differs from ``html.unescape`` in one way that matters for links: a legacy named
    reference without ``;`` followed by ``=`` or a letter is left alone, so
    ``?a=1&copy=2`` keeps its ``&copy=`` while ``&amp;`` and ``&#38;`` become ``&``.
    """
    if "&" not in value:
        return value

    def resolve(m: re.Match) -> str:
        ref = m.group(1)
        if ref[0] == "#":
            return unescape(m.group())
        if ref.endswith(";"):
            return html5.get(ref, m.group())
        following = value[m.end():m.end() + 1]
        if ref in html5 and following != "=":
            return html5[ref]
        return m.group()

    return _CHARREF.sub(resolve, value)


def matching_end(tokens: list[Token], index: int) -> int | None:
    """Index of the end tag closing the start tag at ``index`` (same-name nesting)."""
    name = tokens[index].name
    depth = 0
    for j in range(index + 1, len(tokens)):
        token = tokens[j]
        if token.name != name:
            continue
        if token.kind == START and not token.self_closing:
            depth += 1
        elif token.kind == END:
            if depth == 0:
                return j
            depth -= 1
    return None


def open_elements(tokens: list[Token], upto: int) -> list[Token]:
    """Start tags still open just before ``tokens[upto]``, outermost first.

    An approximation of the tree builder, enough to tell whether an offset lies inside
    some element: void and self-closed elements never open, and an end tag closes the
    nearest open element of its name (and everything opened inside it).
    """
    stack: list[Token] = []
    for token in tokens[:upto]:
        if token.kind == START:
            if token.name not in VOID_ELEMENTS and not token.self_closing:
                stack.append(token)
        elif token.kind == END:
            for k in range(len(stack) - 1, -1, -1):
                if stack[k].name == token.name:
                    del stack[k:]
                    break
    return stack


def index_at(tokens: list[Token], offset: int) -> int:
    """Index of the first token starting at or after ``offset``."""
    lo, hi = 0, len(tokens)
    while lo < hi:
        mid = (lo + hi) // 2
        if tokens[mid].start < offset:
            lo = mid + 1
        else:
            hi = mid
    return lo
