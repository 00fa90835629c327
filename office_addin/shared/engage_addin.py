"""The Outlook add-in's calls into client_py, with JSON in and JSON out.

Pure: no I/O, standard library and client_py only. The add-in's pages load this file
into Pyodide next to the client_py wheel (office_addin/shared/engine.mjs) and call
:func:`call` with a function name and a JSON array of arguments; the answer is
client_py's one envelope (``client_py.calls``: ``{"ok": true, "value": ...}`` or
``{"ok": false, "error": {"code", "message"}}``). CPython runs the same functions in
tests/addin/test_engage_addin.py.

The calls the Gmail extension makes too (``auto_insert``, ``inspect_body``,
``tracked_body``, ``panel_html``) are ``client_py.calls``'s. What is Outlook's own:
where the tracking image goes (:func:`insert_position`, because only the add-in has a
task pane to look at), client_py's words for a body Outlook reports as not HTML
(:func:`not_html_message`: Outlook tells the kind, not a sample body), and when Outlook
cannot be trusted with a whole-body write and whether one kept the sender's content
(:func:`rewrite_risk`, :func:`preserved`: Outlook's body API loses content in known
cases, docs/addin.md).
"""

from __future__ import annotations

from collections import Counter
from html import unescape
from typing import Any, Callable, Mapping

from client_py import calls
from client_py.htmlscan import START, TEXT, tokenize
from client_py.links import rewrite_links
from client_py.model import merged_settings
from client_py.snippet import build_snippet, not_html_reason

#: Longest body Engage writes back whole: setAsync refuses over 1,000,000 characters
#: (and throws rather than answering, office-js #6263), and Outlook's own normalisation
#: of what is written can make it longer.
MAX_REWRITE_CHARS = 500_000
#: OneDrive/SharePoint file links that make a whole-body write unsafe: with about ten
#: inline items new Outlook keeps only part of the body (office-js #6944); half that.
MAX_CLOUD_LINKS = 4
_CLOUD_HOSTS = (".sharepoint.com", "onedrive.live.com", "1drv.ms")


def insert_position(taskpane_open: bool, settings: Mapping | None) -> str:
    """``"first"`` while the Engage task pane is open, else the user's ``insert_at``.

    With the pane open the sender is looking at Engage, so the image goes where the
    sender's eye is (the top of what they wrote); otherwise it follows their setting,
    whose default is the last line.
    """
    if taskpane_open:
        return "first"
    where = merged_settings(settings).get("insert_at")
    return where if where in ("first", "last") else "last"


def not_html_message(kind: str) -> str:
    """client_py's words for why a ``plain_text`` or ``rich_text`` body cannot be tracked."""
    return not_html_reason(kind) or ""


def snippet(pixel_url: str) -> str:
    """client_py's tracking snippet for ``pixel_url`` (queued with appendOnSendAsync)."""
    return build_snippet(pixel_url)


def rewritten_body(body: str, links: list[Mapping]) -> str:
    """``body`` with its registered links rewritten and nothing else changed (the pixel
    is already queued to be added on send)."""
    return rewrite_links(body, calls.link_mapping(links))


def _inline_image(token) -> bool:
    """An image carried by the email itself rather than fetched from the web: a content id
    (Outlook on the web keeps it in ``originalsrc``), a ``data:`` or ``blob:`` picture, one
    shown from Outlook's attachment service, or one whose address getAsync left out
    (office-js #5036: for a while Outlook on the web gave inline images without ``src``)."""
    values = [(token.attr_value(name) or "").strip().lower() for name in ("originalsrc", "src")]
    if not any(values):
        return True
    return any(v.startswith(("cid:", "data:", "blob:", "https://attachments.office.net/")) for v in values)


def _cloud_link(token) -> bool:
    href = (token.attr_value("href") or "").strip().lower()
    host = href.split("://", 1)[1].split("/", 1)[0] if "://" in href else ""
    return any(host == h.lstrip(".") or host.endswith(h) for h in _CLOUD_HOSTS)


def rewrite_risk(body: str, platform: str | None = None) -> str | None:
    """Why writing ``body`` back whole with ``body.setAsync`` could lose the sender's
    content, or None when nothing known speaks against it.

    ``"too_large"``: over :data:`MAX_REWRITE_CHARS`. ``"mac"``: inline images in Outlook
    for Mac, which setAsync breaks for the recipient (office-js #5430).
    ``"inline_images"``: inline images anywhere (in a send handler setAsync replaces
    quoted ones by a blank image, #6808; with many, new Outlook drops the end of the body,
    #6944). ``"cloud_links"``: more than :data:`MAX_CLOUD_LINKS` OneDrive/SharePoint file
    links (#6944).
    """
    if len(body) > MAX_REWRITE_CHARS:
        return "too_large"
    starts = [t for t in tokenize(body) if t.kind == START]
    if any(t.name == "img" and _inline_image(t) for t in starts):
        return "mac" if platform == "Mac" else "inline_images"
    if sum(1 for t in starts if t.name == "a" and _cloud_link(t)) > MAX_CLOUD_LINKS:
        return "cloud_links"
    return None


def _content(body: str) -> tuple[str, Counter, Counter]:
    """What a reader of ``body`` gets: its text without white space, its images' and
    links' addresses (decoded, so Outlook's re-serialisation does not count)."""
    text, images, links = [], Counter(), Counter()
    for token in tokenize(body):
        if token.kind == TEXT:
            text.append(unescape(body[token.start:token.end]))
        elif token.kind == START and token.name == "img":
            images[(token.attr_value("originalsrc") or token.attr_value("src") or "").strip()] += 1
        elif token.kind == START and token.name == "a" and token.attr_value("href") is not None:
            links[token.attr_value("href").strip()] += 1
    return "".join("".join(text).split()), images, links


def preserved(expected: str, actual: str) -> bool:
    """Whether Outlook kept everything of ``expected`` (what Engage wrote) in ``actual``
    (what reading the body back gave): all its text, in order, and every image and link.

    Outlook re-serialises what it is given (quotes, entities, white space), so bodies are
    not compared byte for byte; and on replies getAsync may return the quote twice after a
    setAsync although the email holds it once (office-js #4392), so more is not a loss.
    """
    text, images, links = _content(expected)
    got_text, got_images, got_links = _content(actual)
    return (text in got_text
            and all(got_images[k] >= n for k, n in images.items())
            and all(got_links[k] >= n for k, n in links.items()))


FUNCTIONS: dict[str, Callable[..., Any]] = {
    **calls.FUNCTIONS,
    "insert_position": insert_position,
    "not_html_message": not_html_message,
    "snippet": snippet,
    "rewritten_body": rewritten_body,
    "rewrite_risk": rewrite_risk,
    "preserved": preserved,
}


def call(name: str, args_json: str) -> str:
    """Run ``FUNCTIONS[name]`` on a JSON array of arguments; errors come back as data."""
    return calls.call(FUNCTIONS, name, args_json)
