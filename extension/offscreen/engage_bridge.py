"""The extension's door into client_py: JSON in, JSON out.  Pure: no I/O.

Runs in Pyodide inside the offscreen document's worker (see python_worker.js); the
tests import it on CPython too.  JavaScript calls ``call(name, json_text)`` and gets
client_py's one envelope back (``client_py.calls``: ``{"ok": true, "value": ...}`` or
``{"ok": false, "error": {"code", "message"}}``), so no Python object ever leaks into
JavaScript.  The calls the add-in makes too (``auto_insert``, ``inspect_body``,
``tracked_body``, ``panel_html``) are ``client_py.calls``'s; this module adds what only
the extension needs.

Every decision is client_py's.  What this module adds is the translation of
client_py's string edits into DOM edits, because Gmail's page enforces Trusted Types
and the content script may not assign ``innerHTML``:

* ``client_py.snippet.insert_snippet`` splices the snippet in at an offset of the body
  as the browser serialised it.  ``plan`` turns that offset into a *position in the
  tree*: a list of child indices from the body element down to the parent, then the
  index of the child to insert before.  Children are counted as the serialisation shows
  them: a run of adjacent text nodes is one child (they serialise as one text), and
  empty text nodes are none.
* ``client_py.links.rewrite_links`` changes some ``href`` values; ``plan`` names each
  by the index of its ``<a>`` among all the body's ``<a>`` elements (document order in
  the tree is the order of start tags in its serialisation).
* the snippet itself comes as a list of elements with attributes, read back from
  ``build_snippet``'s markup, so the content script builds exactly that markup with
  ``createElement``/``setAttribute``.

``plan`` also returns the body client_py would have produced (``expected``, which is
``client_py.calls.tracked_body``): the content script compares the body's ``innerHTML``
after its edits with it.
"""

from __future__ import annotations

from typing import Any, Callable

from client_py import calls
from client_py import links as links_rules
from client_py import render
from client_py import snippet as snippet_rules
from client_py.htmlscan import COMMENT, DECL, END, RAW, START, TEXT, VOID_ELEMENTS, index_at, tokenize


def inspect_compose(body: str, tracking_host: str, recipients: list, org: dict | None,
                    settings: dict | None) -> dict:
    """``calls.inspect_body`` and ``calls.auto_insert`` in one answer: Gmail's send path
    has 400 ms in all, so it asks Python once. ``{"body": ..., "decision", "recipients",
    "rejected"}``."""
    return {"body": calls.inspect_body(body, tracking_host), **calls.auto_insert(recipients, org, settings)}


def prepare_send(body: str, tracking_host: str, recipients: list, org: dict | None, settings: dict | None,
                 mode: str, pixel_url: str, where: str, nonce: str) -> dict:
    """Gmail's send path in one trip to Python: ``inspect_compose``'s answer and, when
    the email is to be tracked, the ``plan`` for it made before the server answers.

    The pixel's address is known before registering (its token is the client's: the
    draft's, or a new one), the tracked links' addresses are not: the plan holds a
    placeholder for each (``placeholders``: link address -> placeholder, unique to this
    ``nonce``), which the worker replaces with the server's tracked address, an
    opaque string substitution. No plan (``plan`` None) when the email is not tracked,
    or the nonce is in the body (the worker then asks ``plan`` after registering).
    """
    answer = inspect_compose(body, tracking_host, recipients, org, settings)
    answer["plan"] = None
    answer["placeholders"] = {}
    tracked = mode == "manual" or bool(answer["decision"].get("applies"))
    if answer["body"]["kind"] != "html" or not answer["recipients"] or not tracked or mode == "skip":
        return answer
    prefix = f"https://engage-link.invalid/{nonce}/"
    if not nonce or prefix in body:
        return answer
    placeholders = {url: f"{prefix}{i}/" for i, url in enumerate(answer["body"]["links"])}
    answer["plan"] = plan(body, pixel_url, where, placeholders)
    answer["placeholders"] = placeholders
    return answer


def _elements(markup: str) -> list[dict]:
    """``build_snippet``'s markup as nested {tag, attrs, children}, attributes in order."""
    roots: list[dict] = []
    stack: list[dict] = []
    for token in tokenize(markup):
        if token.kind == START:
            node = {"tag": token.name, "attrs": [[a.name, token.attr_value(a.name) or ""] for a in token.attrs],
                    "children": []}
            (stack[-1]["children"] if stack else roots).append(node)
            if token.name not in VOID_ELEMENTS:
                stack.append(node)
        elif token.kind == END and stack:
            stack.pop()
        elif token.kind == TEXT and markup[token.start:token.end].strip():
            raise ValueError("the snippet has text in it; the DOM plan only builds elements")
    return roots


def dom_position(body: str, tokens: list, offset: int) -> list[int] | None:
    """Tree position of ``offset`` in ``body`` (see the module docstring), or None when
    it is not between two children (inside a text, a tag, or a mismatched tree)."""
    upto = index_at(tokens, offset)
    if upto < len(tokens) and tokens[upto].start != offset:
        return None  # inside a token
    if upto == len(tokens) and offset != len(body):
        return None
    path: list[int] = []
    names: list[str] = []
    counts = [0]
    in_text = [False]
    for token in tokens[:upto]:
        kind = token.kind
        if kind in (TEXT, RAW):
            if not in_text[-1]:
                counts[-1] += 1
                in_text[-1] = True
        elif kind in (COMMENT, DECL):
            counts[-1] += 1
            in_text[-1] = False
        elif kind == START:
            counts[-1] += 1
            in_text[-1] = False
            if token.name == "template":
                return None  # its content is not among the DOM children
            if token.name not in VOID_ELEMENTS:
                path.append(counts[-1] - 1)
                names.append(token.name)
                counts.append(0)
                in_text.append(False)
        elif kind == END:
            if not names or names[-1] != token.name:
                return None  # not a browser serialisation: give up rather than guess
            path.pop()
            names.pop()
            counts.pop()
            in_text.pop()
    if in_text[-1] and upto < len(tokens) and tokens[upto].kind in (TEXT, RAW):
        return None  # between two pieces of one text run
    return path + [counts[-1]]


def plan(body: str, pixel_url: str, where: str, tracked: dict) -> dict:
    """The DOM edits that turn ``body`` into client_py's tracked body, and that body.

    ``tracked`` maps each link address to its tracking address (from the server).
    Returns ``{"expected", "remove", "insert", "keep", "snippet", "links"}``: ``remove``
    are the positions of old snippets to take out first (last first), ``insert`` the
    position for the new one (None: cannot be placed in the tree), ``keep`` true when
    the body already holds exactly this snippet where it belongs (nothing to remove or
    insert), ``links`` the ``<a>`` indices with their current and new addresses.
    """
    tokens = tokenize(body)
    # An old snippet in the sender's part goes first (insert_snippet does the same).
    spans = snippet_rules.snippet_spans(body)
    remove = [dom_position(body, tokens, start) for start, _end, _url in spans]
    clean = snippet_rules.remove_snippet(body)
    clean_tokens = tokenize(clean) if clean != body else tokens
    with_pixel = snippet_rules.insert_snippet(clean, pixel_url, where)
    markup = snippet_rules.build_snippet(pixel_url)
    # The pixel put into the draft at compose time (``keep``): already the one snippet,
    # where client_py puts it; left alone, so Send only rewrites links.
    keep = len(spans) == 1 and spans[0][2] == pixel_url and with_pixel == body
    if keep:
        remove = []
    at = with_pixel.find(markup)
    insert = dom_position(clean, clean_tokens, at) if at >= 0 and with_pixel[:at] == clean[:at] else None
    anchors = [t.start for t in clean_tokens if t.kind == START and t.name == "a"]
    link_edits = []
    for link in links_rules.find_trackable_links(clean):
        new = tracked.get(link["url"], tracked.get(link["href"]))
        if new is None or link["url"] in tracked.values():
            continue
        index = _anchor_index(anchors, link["start"])
        link_edits.append({"index": index, "url": link["url"], "href": new})
    expected = calls.tracked_body(body, pixel_url, where, tracked)
    return {
        "expected": expected,
        "remove": list(reversed(remove)),
        "insert": None if keep else insert,
        "keep": keep,
        "snippet": [] if keep else _elements(markup),
        "links": link_edits,
        "pixel_url": pixel_url,
    }


def _anchor_index(anchors: list[int], href_start: int) -> int:
    """Index of the last ``<a`` start tag before the href value at ``href_start``."""
    lo, hi = 0, len(anchors)
    while lo < hi:
        mid = (lo + hi) // 2
        if anchors[mid] < href_start:
            lo = mid + 1
        else:
            hi = mid
    return lo - 1


def verify(body: str, pixel_url: str, tracked_urls: list) -> dict:
    """Whether ``body`` holds the pixel (in the sender's part) and every tracked link."""
    found = snippet_rules.find_snippet(body)
    present = {link["url"] for link in links_rules.find_trackable_links(body)} | set(_all_hrefs(body))
    missing = [url for url in tracked_urls if url not in present]
    return {"ok": found == pixel_url and not missing, "pixel": found, "missing_links": missing}


def _all_hrefs(body: str) -> list[str]:
    return [t.attr_value("href") or "" for t in tokenize(body) if t.kind == START and t.name == "a"]


def panel_css() -> str:
    return render.PANEL_CSS


def badge_text(unread: int) -> str:
    return render.render_counter_badge(int(unread or 0))


def ping() -> dict:
    import sys

    return {"python": sys.version.split()[0]}


FUNCTIONS: dict[str, Callable[..., Any]] = {
    **calls.FUNCTIONS,
    "inspect_compose": inspect_compose,
    "prepare_send": prepare_send,
    "plan": plan,
    "verify": verify,
    "panel_css": panel_css,
    "badge_text": badge_text,
    "ping": ping,
}


def call(name: str, payload: str) -> str:
    """Run ``FUNCTIONS[name]`` on JSON keyword arguments; errors come back as data."""
    return calls.call(FUNCTIONS, name, payload)
