"""Marks in Gmail's thread lists and conversations, end to end: the real extension in
Chromium on the Gmail double (whose list is virtualised like Gmail's: every scroll
builds the rows anew), the real server, a recipient opening an email.

What a user would notice: one grey mark on a tracked email nobody opened, two green
marks once somebody did (live, without reloading), a distinct mark when only Apple's
privacy proxy fetched the images, nothing on untracked mail; marks that stay put and
single when Gmail redraws rows; the hover words; a click opening the side panel."""

from __future__ import annotations

import math
import secrets

import pytest

from tests.fixtures.agents import APPLE_MPP
from tests.live_server import recipient_fetch

from . import harness

pytestmark = pytest.mark.browser
APPLE_IP = "17.58.63.12"  # Apple's 17.0.0.0/8, where Mail Privacy Protection fetches from
MARK = "[data-engage-mark]"


def gmail_id() -> str:
    return "18" + secrets.token_hex(7)


def register(ext, thread_id, subject):
    return ext.api("POST", "/api/v1/messages", {
        "subject": subject, "recipients": [harness.RAE], "thread_id": thread_id,
        "mode": "manual", "client": "gmail", "links": []})


def body_with(pixel_url: str) -> str:
    return f'<div dir="ltr">Here is the proposal.</div><img src="{pixel_url}" width="1" height="1" alt="">'


def requests_made(ext) -> int:
    return (harness.diagnostics(ext.context).get("marks") or {}).get("requests", 0)


def row_mark(thread_id: str) -> str:
    return f'tr.zA:has([data-legacy-thread-id="{thread_id}"]) {MARK}'


@pytest.fixture(scope="module")
def seeded(ext):
    """Three tracked conversations in Sent (not opened, opened, only Apple's proxy),
    two untracked ones, one the server never heard of, and a row without ids."""
    ids = {name: gmail_id() for name in ("waiting", "opened", "machine", "untracked", "unknown", "later")}
    messages = {name: register(ext, ids[name], subject)
                for name, subject in (("waiting", "Proposal"), ("opened", "Intro call"),
                                      ("machine", "Pricing sheet"), ("later", "Follow-up"))}
    assert recipient_fetch(messages["opened"]["pixel_url"]) == (200, None)
    assert recipient_fetch(messages["machine"]["pixel_url"], ip=APPLE_IP, user_agent=APPLE_MPP) == (200, None)
    threads = [{"id": ids[name], "subject": subject, "sent": True, "html": body_with(messages[name]["pixel_url"])}
               for name, subject in (("waiting", "Proposal"), ("opened", "Intro call"),
                                     ("machine", "Pricing sheet"), ("later", "Follow-up"))]
    threads += [{"id": ids["untracked"], "subject": "Lunch?", "sent": True},
                {"id": ids["unknown"], "subject": "Sent elsewhere", "sent": True},
                {"id": gmail_id(), "subject": "No ids at all", "sent": True, "noId": True}]
    page = ext.gmail
    page.evaluate("(t) => fakeGmail.addThreads(t)", threads)
    harness.wait_until(page, lambda: ext.thread(ids["machine"]) and ext.thread(ids["machine"])["not_counted"],
                       what="the Apple download stored")
    return ids, messages


@pytest.fixture(scope="module")
def sent_list(ext, seeded):
    ids, _ = seeded
    page = ext.gmail
    page.wait_for_function("document.readyState === 'complete'")
    harness.wait_until(page, lambda: requests_made(ext) >= 1, what="the inbox's marks asked for")
    page.requests_before_sent = requests_made(ext)
    page.evaluate("() => fakeGmail.show('#sent')")
    page.wait_for_selector(row_mark(ids["machine"]), timeout=10000)
    return page


def marks_by_thread(page) -> dict:
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('tr.zA')].map(r => {
        const id = r.querySelector('[data-legacy-thread-id]')?.getAttribute('data-legacy-thread-id') || 'no-id';
        return [id, [...r.querySelectorAll('[data-engage-mark]')].map(m => [m.dataset.engageState, m.title,
                                                                             m.textContent])];
    }))""")


def test_the_sent_list_shows_each_tracked_emails_state_and_nothing_on_the_rest(ext, seeded, sent_list, artifacts):
    ids, _ = seeded
    got = marks_by_thread(sent_list)
    assert got[ids["waiting"]] == [["sent", "Tracked · not opened yet", "✓"]]
    [[state, title, glyph]] = got[ids["opened"]]
    assert (state, glyph) == ("opened", "✓✓")
    assert title.startswith("Opened once") and "London" in title and "last just now" in title
    [[state, title, glyph]] = got[ids["machine"]]
    assert state == "machine" and title == "Apple Mail Privacy Protection downloaded the images; not a read"
    for name in ("untracked", "unknown"):
        assert got[ids[name]] == []
    assert got["no-id"] == []
    # Every row in view was asked about at once: one request for the page.
    assert requests_made(ext) - sent_list.requests_before_sent == 1
    colours = sent_list.evaluate(f"""() => [...document.querySelectorAll('{MARK}')]
        .map(m => [m.dataset.engageState, getComputedStyle(m).color])""")
    assert {"sent": "rgb(154, 160, 166)", "opened": "rgb(24, 128, 56)", "machine": "rgb(176, 96, 0)"} == dict(colours)
    sent_list.locator("table.F").screenshot(path=str(artifacts / "gmail-list-marks.png"))


def test_marks_survive_gmail_redrawing_its_rows_without_flicker_or_a_request(ext, seeded, sent_list):
    ids, _ = seeded
    before = requests_made(ext)
    # What is in the rows at the first frame after each redraw: the frame the user sees.
    frames = sent_list.evaluate("""async () => {
        const out = [];
        for (let i = 0; i < 5; i++) {
            fakeGmail.rerender();
            await new Promise(requestAnimationFrame);
            out.push([...document.querySelectorAll('tr.zA')].map(r => r.querySelectorAll('[data-engage-mark]').length));
        }
        return [out, fakeGmail.listRenders()];
    }""")
    counts, _renders = frames
    expected = [len(v) for v in marks_by_thread(sent_list).values()]
    assert sorted(expected) == [0, 0, 0, 1, 1, 1, 1]
    assert all(frame == expected for frame in counts), counts
    assert requests_made(ext) == before


def test_a_recipients_open_turns_the_mark_green_live(ext, seeded, sent_list):
    ids, messages = seeded
    assert sent_list.get_attribute(row_mark(ids["later"]), "data-engage-state") == "sent"
    assert recipient_fetch(messages["later"]["pixel_url"]) == (200, None)
    sent_list.wait_for_selector(f'{row_mark(ids["later"])}[data-engage-state="opened"]', timeout=5000)
    assert sent_list.locator(row_mark(ids["later"])).count() == 1


def test_a_click_on_a_mark_opens_the_thread_in_the_side_panel_not_the_conversation(ext, seeded, sent_list):
    ids, _ = seeded
    # The panel as a page of its own too: Playwright cannot reach Chrome's side panel
    # document, but this one hears the same broadcast.
    panel = harness.open_side_panel(ext.context)
    panel.wait_for_selector(".engage-panel")
    sent_list.bring_to_front()
    sent_list.click(row_mark(ids["opened"]))
    opened = harness.wait_until(sent_list, lambda: harness.diagnostics(ext.context).get("markOpen"), what="the click")
    assert opened == {"threadId": ids["opened"], "at": opened["at"]}  # no error: Chrome took it as the user's
    harness.wait_until(sent_list, lambda: [c["documentUrl"].rsplit("/", 1)[-1] for c in harness.sw_eval(
        ext.context, "() => chrome.runtime.getContexts({contextTypes: ['SIDE_PANEL']})")] == ["sidepanel.html"],
        what="the side panel on the Gmail tab")
    panel.wait_for_selector(f'#panel[data-focused="{ids["opened"]}"]', state="attached", timeout=10000)
    focused = panel.locator(f'article.engage-thread.engage-focused[data-thread-id="{ids["opened"]}"]')
    assert focused.count() == 1
    assert sent_list.evaluate("() => location.hash") == "#sent"  # Gmail did not open the row
    panel.close()


def test_a_new_email_is_marked_in_the_sent_list_as_soon_as_it_is_sent(ext, seeded, sent_list):
    """A new email is registered before Gmail names its conversation: the id comes from
    Gmail's "Message sent · View message" toast, paired with the tracked send."""
    compose = harness.Compose.new(ext, to=[harness.RAE], subject="Fresh proposal")
    compose.wait_toggle(tracked=True)
    sent, outcome = compose.send()
    assert outcome["applied"] and outcome["threadId"].startswith("gmail-draft:")
    sent_list.evaluate("() => fakeGmail.show('#sent')")
    mark = sent_list.locator(row_mark(sent["threadId"]))
    mark.wait_for(timeout=10000)
    assert mark.get_attribute("data-engage-state") == "sent"
    assert mark.get_attribute("data-engage-thread") == outcome["threadId"]
    assert harness.diagnostics(ext.context)["marksAlias"]["gmailId"] == sent["threadId"]


def test_a_long_list_unknown_ids_and_rows_without_ids_cost_one_request_a_page_and_no_errors(ext, seeded, sent_list):
    ids, _ = seeded
    errors = []
    sent_list.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sent_list.on("pageerror", lambda e: errors.append(str(e)))
    bulk = [{"id": gmail_id(), "subject": f"Bulk {i}", "sent": True, "noId": i % 100 == 7} for i in range(1000)]
    sent_list.evaluate("(t) => fakeGmail.addThreads(t)", bulk)
    sent_list.evaluate("() => fakeGmail.show('#search/bulk')")
    sent_list.wait_for_selector(row_mark(ids["waiting"]))
    before = requests_made(ext)
    # Scroll through the whole list a screen at a time, as fast as frames allow.
    screens = sent_list.evaluate("""async () => {
        const box = document.querySelector('.Cp');
        let screens = 0;
        for (let top = box.clientHeight; top < box.scrollHeight; top += box.clientHeight) {
            box.scrollTop = top;
            await new Promise(requestAnimationFrame);
            screens += 1;
        }
        return screens;
    }""")
    sent_list.wait_for_timeout(300)
    scrolled = requests_made(ext) - before
    assert 1 <= scrolled <= screens
    # All 1,000 rows at once (a very tall window): one request per 200 ids, no more.
    sent_list.evaluate("() => { document.querySelector('.Cp').style.height = '50000px'; fakeGmail.rerender(); }")
    rows = sent_list.evaluate("() => document.querySelectorAll('tr.zA').length")
    assert rows > 1000
    before = requests_made(ext)
    tracked = {ids[name] for name in ("waiting", "opened", "machine", "later")}

    def marked():
        return set(sent_list.evaluate(f"""() => [...document.querySelectorAll('tr.zA')]
            .filter(r => r.querySelector('{MARK}'))
            .map(r => r.querySelector('[data-legacy-thread-id]').getAttribute('data-legacy-thread-id'))"""))

    harness.wait_until(sent_list, lambda: marked() >= tracked, what="the tracked rows' marks")
    sent_list.wait_for_timeout(300)
    assert requests_made(ext) - before <= math.ceil(rows / 200)
    # Only tracked emails are marked (the earlier test's new email is one of them).
    assert not marked() & ({t["id"] for t in bulk} | {ids["untracked"], ids["unknown"]})
    assert sent_list.locator(MARK).count() == len(marked()) <= len(tracked) + 1
    assert errors == []


def test_each_sent_email_in_an_open_conversation_has_its_own_mark(ext, seeded):
    ids, messages = seeded
    page = ext.gmail
    # A conversation of two tracked emails, the first opened, the follow-up not yet,
    # registered under the ids their compose windows had ("draft:…", as new emails are)
    # and not Gmail's: so opening the conversation re-files nothing as the sender's own
    # view (any hit within 2 minutes of it would be) and the marks come by pixel alone.
    thread_id = gmail_id()
    first = register(ext, f"draft:{secrets.token_hex(6)}", "Two steps")
    second = register(ext, f"draft:{secrets.token_hex(6)}", "Re: Two steps")
    assert recipient_fetch(first["pixel_url"]) == (200, None)
    # Images not shown (Gmail's "ask before displaying external images"): this test is
    # about the marks, not about Gmail's proxy fetching the sender's own pixels.
    page.route(f"{harness.PROXY_HOST}**", lambda route: route.fulfill(status=204, body=b""))
    try:
        page.evaluate("(t) => fakeGmail.addThreads([t])", {"id": thread_id, "subject": "Two steps", "messages": [
            {"sent": True, "html": body_with(first["pixel_url"])},
            {"sent": False, "html": "<div>Interesting, tell me more</div>"},
            {"sent": True, "html": body_with(second["pixel_url"])}]})
        page.evaluate("(id) => fakeGmail.show('#sent/' + id)", thread_id)
        page.wait_for_selector(f"div.adn {MARK}[data-engage-state='sent']", timeout=10000)
        states = page.evaluate(f"""() => [...document.querySelectorAll('div.adn')]
            .map(m => [...m.querySelectorAll('{MARK}')].map(x => x.dataset.engageState))""")
        assert states == [["opened"], [], ["sent"]]
        # The mark sits in the header, before the date.
        assert page.evaluate(f"() => document.querySelector('div.adn {MARK}').nextElementSibling.className") == "gH"
    finally:
        page.unroute(f"{harness.PROXY_HOST}**")
