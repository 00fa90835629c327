import re
from html.parser import HTMLParser

import pytest
from panel_fixtures import NOW, event, message

from client_py.panel import build_panel, build_threads
from client_py.render import PANEL_CSS, render_counter_badge, render_panel, render_thread, safe_url

XSS = "<img src=x onerror=alert(1)>"
XSS_ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
BREAKOUT = '" onmouseover="alert(1)'


class Tags(HTMLParser):
    """Every start tag with its (unescaped) attributes, and the page's text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def find(self, tag: str, cls: str) -> list[dict]:
        return [attrs for name, attrs in self.tags if name == tag and cls in (attrs.get("class") or "").split()]


def panel_html(messages, events, states=(), settings=None, query=None):
    settings = {"time_zone": "Europe/Paris", **(settings or {})}
    panel = build_panel(messages, events, list(states), settings, query=query, now=NOW)
    return render_panel(panel, settings, now=NOW)


def sample():
    messages = [
        message(id="m1", thread_id="t1", mode="manual", subject="Pricing",
                recipients=(("Jane Doe", "jane@client.com"),), sent_at="2026-11-26T08:00:00Z"),
        message(id="m2", thread_id="t2", mode="auto", subject="Intro", client="outlook",
                recipients=tuple((f"P{i}", f"p{i}@other.org") for i in range(5))),
    ]
    events = [
        event("m1", at="2026-11-27T08:05:00Z", verdict="human", device="mobile", id="open1"),
        event("m1", at="2026-11-27T08:06:00Z", kind="click", url="https://example.com/a?b=1&c=2", id="click1"),
        event("m1", at="2026-11-26T08:00:02Z", verdict="gmail_prefetch", id="prefetch1"),
    ]
    return messages, events


def test_panel_root_header_and_categories():
    html = panel_html(*sample())
    page = Tags(html)
    assert page.find("div", "engage-panel") == [{"class": "engage-panel", "data-unread": "1", "lang": "en"}]
    (counter,) = page.find("span", "engage-counter")
    assert (counter["data-action"], counter["title"]) == ("reset-counter", "Ctrl+double-click to reset")
    assert [s["data-category"] for s in page.find("section", "engage-category")] == ["pinned", "other"]
    assert "Pinned" in page.text and "Other tracked emails" in page.text


def test_thread_hooks():
    page = Tags(panel_html(*sample()))
    threads = page.find("article", "engage-thread")
    assert [(t["data-thread-id"], t["data-latest-message-id"], t["data-client"], t["data-unread"]) for t in threads] == [
        ("t1", "m1", "gmail", "true"),
        ("t2", "m2", "outlook", "false"),
    ]
    toggles = page.find("button", "engage-thread-toggle")
    assert {(t["data-action"], t["aria-expanded"]) for t in toggles} == {("toggle", "false")}
    events_lists = page.find("ol", "engage-events")
    assert [t["aria-controls"] for t in toggles] == [ol["id"] for ol in events_lists]
    assert all("hidden" in ol for ol in events_lists)
    pins = page.find("button", "engage-pin")
    assert [(p["data-action"], p["data-thread-id"], p["aria-pressed"], p["title"]) for p in pins] == [
        ("unpin", "t1", "true", "Unpin"),
        ("pin", "t2", "false", "Pin"),
    ]
    opens = page.find("a", "engage-open")
    assert [(a["data-action"], a["data-thread-id"], a["data-message-id"]) for a in opens] == [
        ("open", "t1", "m1"),
        ("open", "t2", "m2"),
    ]
    assert "To P0, P1, P2 and 2 more" in page.text


def test_events_show_time_in_the_users_zone_with_place_and_reason():
    page = Tags(panel_html(*sample()))
    events = page.find("li", "engage-event")
    assert [(e["data-verdict"], e["data-counts"]) for e in events] == [
        ("human", "true"),
        ("human", "true"),
        ("gmail_prefetch", "false"),
    ]
    assert events[1]["title"] == "Paris, Île-de-France, France · Friday 27 November 2026, 09:05 CET"
    assert events[2]["title"].startswith("Gmail · Thursday 26 November 2026, 09:00 CET")
    assert "Today, 9:05 AM" in page.text
    assert "Gmail's prefetcher fetched the image ahead of time, not a person reading it" in page.text
    (link,) = page.find("a", "engage-link")
    assert link["href"] == "https://example.com/a?b=1&c=2"
    assert link["rel"] == "noopener noreferrer"


@pytest.mark.parametrize(
    ("category", "settings", "query", "sentence"),
    [
        ("pinned", {}, None, "Nothing pinned. Emails you track by hand appear here"),
        ("other", {}, None, "No other tracked emails in the last 14 days."),
        ("other", {"display_window_days": 30}, None, "No other tracked emails in the last 30 days."),
        ("other", {}, {"text": "zzz"}, "No other tracked emails match your search."),
        ("pinned", {}, {"text": "zzz"}, "No pinned emails match your search."),
    ],
)
def test_empty_states_say_what_to_do(category, settings, query, sentence):
    html = panel_html([], [], settings=settings, query=query)
    section = re.search(rf'data-category="{category}">(.*?)</section>', html).group(1)
    assert sentence in section


def test_hidden_threads_are_mentioned():
    html = panel_html([message(sent_at="2026-10-01T00:00:00Z")], [])
    assert "1 older email is hidden: no activity for over 14 days." in Tags(html).text


@pytest.mark.parametrize(
    ("where", "payload"),
    [
        ("subject", XSS),
        ("name", XSS),
        ("address", XSS),
        ("city", XSS),
        ("url", f"https://x.com/{XSS}"),
        ("reason", XSS),
        ("thread_id", XSS),
        ("subject", BREAKOUT),
        ("thread_id", BREAKOUT),
        ("city", BREAKOUT),
    ],
)
def test_every_value_is_escaped(where, payload):
    msg = message(subject=payload if where == "subject" else "Hello", mode="manual",
                  thread_id=payload if where == "thread_id" else "t1",
                  recipients=((payload if where == "name" else "", payload if where == "address" else "j@x.com"),))
    events = [
        event(at="2026-11-27T08:00:00Z", city=payload if where == "city" else "Paris"),
        event(at="2026-11-27T08:01:00Z", kind="click", url=payload if where == "url" else "https://x.com"),
        event(at="2026-11-27T08:02:00Z", verdict="scanner", reason=payload if where == "reason" else ""),
    ]
    html = panel_html([msg], events)
    assert "<img" not in html
    assert 'onmouseover="' not in html
    assert XSS_ESCAPED in html or "&quot; onmouseover=&quot;alert(1)" in html
    # Read back, the attributes and text hold the payload exactly: escaped, not mangled.
    page = Tags(html)
    if where == "thread_id":
        assert page.find("article", "engage-thread")[0]["data-thread-id"] == payload
    else:
        titles = [attrs["title"] for _, attrs in page.tags if "title" in attrs]
        assert any(payload in text for text in page.text + titles)


@pytest.mark.parametrize(
    ("url", "linked"),
    [
        ("https://example.com/x", True),
        ("HTTP://example.com", True),
        ("javascript:alert(1)", False),
        ("JaVaScRiPt:alert(1)", False),
        (" javascript:alert(1)", False),
        ("java\tscript:alert(1)", False),
        ("data:text/html,<script>alert(1)</script>", False),
        ("//evil.example/x", False),
        ("https://", False),
        ("https://exa mple.com", False),
        ("mailto:a@b.c", False),
    ],
)
def test_only_http_links_become_hrefs(url, linked):
    html = panel_html([message(mode="manual")], [event(at="2026-11-27T08:00:00Z", kind="click", url=url)])
    links = Tags(html).find("a", "engage-link")
    assert (links == [] if not linked else links[0]["href"] == url)
    assert "<script" not in html
    assert (safe_url(url) is not None) is linked


def test_no_inline_handlers_scripts_or_styles():
    html = panel_html(*sample())
    assert not re.search(r"\son[a-z]+\s*=", html)
    assert "<script" not in html and "style=" not in html and "javascript:" not in html


def test_render_thread_is_the_same_article_as_in_the_panel():
    messages, events = sample()
    settings = {"time_zone": "Europe/Paris"}
    threads = build_threads(messages, events, settings=settings, now=NOW)
    html = panel_html(messages, events)
    for thread in threads:
        assert render_thread(thread, settings, now=NOW) in html


@pytest.mark.parametrize(("n", "text"), [(0, ""), (-1, ""), (1, "1"), (99, "99"), (100, "99+"), (5000, "99+")])
def test_render_counter_badge(n, text):
    assert render_counter_badge(n) == text


def test_panel_css_is_self_contained_with_dark_mode():
    assert "prefers-color-scheme:dark" in PANEL_CSS.replace(" ", "")
    assert "url(" not in PANEL_CSS and "@import" not in PANEL_CSS
    assert ".engage-panel" in PANEL_CSS and "system-ui" in PANEL_CSS


def test_events_left_out_by_the_server_are_mentioned():
    messages, events = sample()
    panel = build_panel(messages, events, [], {}, now=NOW)
    thread = next(t for t in panel["pinned"] + panel["other"] if t["thread_id"] == "t1")
    assert "earlier" not in render_thread(thread, {}, now=NOW)
    page = Tags(render_thread({**thread, "events_total": len(thread["events"]) + 7}, {}, now=NOW))
    (more,) = page.find("li", "engage-more")
    assert more["data-thread-id"] == "t1" and "7 earlier events not shown" in "".join(page.text)
