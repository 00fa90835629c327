"""The Outlook add-in's calls into client_py, with JSON in and JSON out.

Pure: no I/O, standard library and client_py only. The add-in's pages load this file
into Pyodide next to the client_py wheel (office_addin/engine.mjs) and call
:func:`call` with a function name and a JSON array of arguments, so that only strings
cross the JavaScript/Python boundary (no proxies to leak or destroy). CPython runs the
same functions in tests/addin/test_engage_addin.py.

The rules decided here rather than in client_py, because only the add-in has them:
where the tracking image goes (:func:`insert_position`: only the add-in has a task pane
to look at), and when Outlook cannot be trusted with a whole-body write and whether one
kept the sender's content (:func:`rewrite_risk`, :func:`preserved`: Outlook's body API
loses content in known cases, docs/addin.md).
"""

from __future__ import annotations

import json
from collections import Counter
from html import unescape
from typing import Any, Mapping

from client_py.links import rewrite_links, trackable_urls
from client_py.panel import merged_settings, panel_from_api
from client_py.recipients import auto_insert_decision
from client_py.render import render_panel
from client_py.htmlscan import RAW, START, TEXT, tokenize
from client_py.snippet import body_kind, build_snippet, find_snippet, insert_snippet, not_html_reason

#: Longest body Engage writes back whole: setAsync refuses over 1,000,000 characters
#: (and throws rather than answering, office-js #6263), and Outlook's own normalisation
#: of what is written can make it longer.
MAX_REWRITE_CHARS = 500_000
#: OneDrive/SharePoint file links that make a whole-body write unsafe: with about ten
#: inline items new Outlook keeps only part of the body (office-js #6944); half that.
MAX_CLOUD_LINKS = 4
_CLOUD_HOSTS = (".sharepoint.com", "onedrive.live.com", "1drv.ms")

# Bodies that client_py.snippet.body_kind classifies as each kind, to get its own words
# for "why this body cannot be tracked" (Outlook tells us the kind, not a sample body).


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


def inspect_body(body: str, tracking_host: str) -> dict:
    """What the add-in needs to know before registering an email.

    ``kind`` (html / plain_text / rich_text), ``pixel``: the pixel URL already in the
    sender's part (then the email is tracked already), ``links``: the distinct trackable
    link addresses in document order, ``reason``: why it cannot be tracked, or None.
    """
    kind = body_kind(body)
    if kind != "html":
        return {"kind": kind, "pixel": None, "links": [], "reason": not_html_message(kind)}
    return {"kind": kind, "pixel": find_snippet(body), "links": trackable_urls(body, tracking_host), "reason": None}


def not_html_message(kind: str) -> str:
    """client_py's words for why a ``plain_text`` or ``rich_text`` body cannot be tracked."""
    return not_html_reason(kind) or ""


def tracked_body(body: str, pixel_url: str, where: str, links: list[Mapping]) -> str:
    """``body`` with its registered links rewritten and the pixel at ``where``.

    ``links`` is the server's ``[{url, tracked_url}]``. Links registered but no longer
    in the body are ignored; an existing snippet is replaced (never two).
    """
    mapping = {link["url"]: link["tracked_url"] for link in links if link.get("tracked_url")}
    return insert_snippet(rewrite_links(body, mapping), pixel_url, where)


def snippet(pixel_url: str) -> str:
    """client_py's tracking snippet for ``pixel_url`` (queued with appendOnSendAsync)."""
    return build_snippet(pixel_url)


def rewritten_body(body: str, links: list[Mapping]) -> str:
    """``body`` with its registered links rewritten and nothing else changed (the pixel
    is already queued to be added on send)."""
    mapping = {link["url"]: link["tracked_url"] for link in links if link.get("tracked_url")}
    return rewrite_links(body, mapping)


def _inline_image(token) -> bool:
    for name in ("originalsrc", "src"):  # Outlook on the web keeps the content id in originalsrc
        value = (token.attr_value(name) or "").strip().lower()
        if value.startswith(("cid:", "data:")):
            return True
    return False


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


def auto_insert(recipients: list[Mapping], org: Mapping | None, settings: Mapping | None) -> dict:
    """client_py's automatic-insertion decision for these recipients, as a dict."""
    merged = merged_settings(settings)
    decision = auto_insert_decision(
        recipients,
        (org or {}).get("internal_domains") or [],
        merged.get("blocklist") or [],
        bool(merged.get("auto_insert")),
    )
    return decision.to_dict()


def panel_html(page: Mapping, settings: Mapping | None, query: Mapping | None = None,
               now: str | None = None) -> str:
    """The Engagement panel's HTML from a ``GET /api/v1/threads`` answer (escaped by client_py)."""
    panel = panel_from_api(page.get("threads") or [], page.get("unread") or 0, settings,
                           query, page.get("hidden_by_window") or 0)
    return render_panel(panel, settings, now)


_FUNCTIONS = {
    "insert_position": insert_position,
    "inspect_body": inspect_body,
    "not_html_message": not_html_message,
    "tracked_body": tracked_body,
    "snippet": snippet,
    "rewritten_body": rewritten_body,
    "rewrite_risk": rewrite_risk,
    "preserved": preserved,
    "auto_insert": auto_insert,
    "panel_html": panel_html,
}


def call(name: str, args_json: str) -> str:
    """Run one of the functions above on JSON arguments; answer ``{"ok": value}`` or
    ``{"error": {"type", "message"}}`` as JSON (a Python error never escapes as a JS one)."""
    function = _FUNCTIONS.get(name)
    if function is None:
        return json.dumps({"error": {"type": "UnknownFunction", "message": f"no add-in function {name!r}"}})
    try:
        args: Any = json.loads(args_json)
        return json.dumps({"ok": function(*args)})
    except Exception as error:  # noqa: BLE001 - reported to the page, which decides
        return json.dumps({"error": {"type": type(error).__name__, "message": str(error)}})
