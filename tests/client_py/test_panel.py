import pytest
from panel_fixtures import NOW, ago, event, message

from client_py.errors import InvalidQueryError
from client_py.panel import (
    build_panel,
    build_threads,
    counts_as_engagement,
    in_display_window,
    is_unread,
    thread_summary,
    unread_count,
    why_not_counted,
)
from client_py.search import PanelQuery


def by_id(threads):
    return {thread["thread_id"]: thread for thread in threads}


def test_thread_groups_every_email_and_event_newest_first():
    messages = [
        message(id="m1", thread_id="t1", subject="Proposal", sent_at="2026-11-20T09:00:00Z"),
        message(id="m2", thread_id="t1", subject="Re: Proposal", sent_at="2026-11-22T09:00:00Z"),
        message(id="m3", thread_id="t2", subject="Other", sent_at="2026-11-21T09:00:00Z"),
    ]
    events = [
        event("m1", at="2026-11-20T10:00:00Z", id="a"),
        event("m2", at="2026-11-23T10:00:00Z", id="b"),
        event("m1", at="2026-11-21T10:00:00Z", id="c"),
        event("m3", at="2026-11-21T11:00:00Z", id="d"),
        event("unknown", at="2026-11-24T10:00:00Z", id="e"),
    ]
    threads = by_id(build_threads(messages, events, now=NOW))
    t1 = threads["t1"]
    assert [m["id"] for m in t1["messages"]] == ["m2", "m1"]
    assert [e["id"] for e in t1["events"]] == ["b", "c", "a"]
    assert (t1["subject"], t1["latest_message_id"], t1["client"]) == ("Re: Proposal", "m2", "gmail")
    assert [e["id"] for e in threads["t2"]["events"]] == ["d"]
    assert set(threads) == {"t1", "t2"}


def test_threads_sort_by_last_activity_newest_first():
    messages = [
        message(id="m1", thread_id="sent-recently", sent_at="2026-11-26T09:00:00Z"),
        message(id="m2", thread_id="opened-today", sent_at="2026-11-01T09:00:00Z"),
        message(id="m3", thread_id="quiet", sent_at="2026-11-10T09:00:00Z"),
    ]
    # A scanner hit does not count, but it is still activity.
    events = [event("m2", at="2026-11-27T08:00:00Z", verdict="scanner")]
    threads = build_threads(messages, events, now=NOW)
    assert [t["thread_id"] for t in threads] == ["opened-today", "sent-recently", "quiet"]


def test_thread_times_and_counts():
    messages = [message(id="m1", sent_at="2026-11-20T09:00:00Z")]
    events = [
        event(at="2026-11-20T09:00:05Z", verdict="gmail_prefetch"),
        event(at="2026-11-21T09:00:00Z", verdict="human"),
        event(at="2026-11-21T09:01:00Z", kind="click", verdict="human", url="https://x.com"),
        event(at="2026-11-22T09:00:00Z", verdict="gmail"),
        event(at="2026-11-23T09:00:00Z", verdict="scanner"),
    ]
    (thread,) = build_threads(messages, events, now=NOW)
    assert thread["last_sent_at"] == "2026-11-20T09:00:00Z"
    assert thread["last_triggered_at"] == "2026-11-23T09:00:00Z"
    assert thread["last_engagement_at"] == "2026-11-22T09:00:00Z"
    assert thread["last_activity_at"] == "2026-11-23T09:00:00Z"
    assert (thread["opens"], thread["clicks"], thread["not_counted"]) == (2, 1, 2)


def test_a_thread_never_opened_has_no_trigger_and_its_activity_is_the_send():
    (thread,) = build_threads([message(sent_at="2026-11-20T09:00:00+00:00")], [], now=NOW)
    assert (thread["last_triggered_at"], thread["last_engagement_at"]) == (None, None)
    assert thread["last_activity_at"] == "2026-11-20T09:00:00Z"
    assert thread["summary"] == "Not opened yet"


def test_recipients_devices_and_places_come_from_counting_events_only():
    messages = [
        message(id="m1", recipients=(("Jane", "jane@client.com"), ("Bob", "bob@client.com"))),
        message(id="m2", recipients=(("Jane", "jane@client.com"), ("Ann", "ann@client.com"))),
    ]
    events = [
        event("m1", at="2026-11-21T09:00:00Z", device="mobile", city="Lyon", region="Auvergne-Rhône-Alpes"),
        event("m1", at="2026-11-22T09:00:00Z", device="desktop", city="Paris"),
        event("m2", at="2026-11-22T10:00:00Z", device="desktop", city="Paris"),
        event("m2", at="2026-11-23T09:00:00Z", verdict="gmail", device="unknown"),
        event("m2", at="2026-11-23T10:00:00Z", verdict="scanner", device="tablet", city="Ashburn"),
    ]
    (thread,) = build_threads(messages, events, now=NOW)
    assert thread["recipients_count"] == 3
    assert thread["devices"] == ["desktop", "mobile"]
    assert thread["places"] == ["Paris, Île-de-France, France", "Lyon, Auvergne-Rhône-Alpes, France"]
    assert thread["summary"] == "Opened 4 times by one or more of 3 recipients, on desktop and mobile, in 2 places"


@pytest.mark.parametrize(
    ("opens", "clicks", "recipients", "devices", "places", "not_counted", "expected"),
    [
        (0, 0, 1, [], [], 0, "Not opened yet"),
        (0, 0, 1, [], [], 1, "Not opened yet (1 event not counted)"),
        (0, 0, 3, [], [], 2, "Not opened yet (2 events not counted)"),
        (1, 0, 1, ["mobile"], ["Paris, France"], 0, "Opened once, on mobile, in Paris, France"),
        (1, 0, 4, [], [], 0, "Opened once by one of 4 recipients"),
        (3, 0, 4, ["desktop", "mobile"], ["A", "B"], 0,
         "Opened 3 times by one or more of 4 recipients, on desktop and mobile, in 2 places"),
        (2, 1, 1, ["desktop", "mobile", "tablet"], [], 0, "Opened twice and clicked once, on desktop, mobile and tablet"),
        (0, 2, 1, [], [], 0, "Clicked twice"),
    ],
)
def test_thread_summary(opens, clicks, recipients, devices, places, not_counted, expected):
    assert thread_summary(opens, clicks, recipients, devices, places, not_counted) == expected


@pytest.mark.parametrize(
    ("verdict", "counts", "why"),
    [
        ("human", True, None),
        ("gmail", True, None),
        ("outlook", True, None),
        ("yahoo", True, None),
        ("confirmed", True, None),
        ("gmail_prefetch", False, "Gmail's prefetcher fetched the image ahead of time, not a person reading it"),
        ("apple_mpp", False, "Apple Mail Privacy Protection loads images for every email, read or not"),
        ("scanner", False, "A security scanner or link checker, not a person"),
        ("self", False, "You (or someone in your company) opened it"),
        ("duplicate", False, "Same address and device again within seconds: a repeat"),
    ],
)
def test_what_counts_and_why_not(verdict, counts, why):
    e = event(verdict=verdict)
    assert counts_as_engagement(e) is counts
    assert why_not_counted(e) == why


def test_a_scanners_own_reason_is_added():
    e = event(verdict="scanner", reason="Microsoft Defender Safe Links")
    assert why_not_counted(e) == "A security scanner or link checker: Microsoft Defender Safe Links"


def test_a_late_gmail_prefetch_is_not_said_to_be_right_after_sending():
    assert "right after sending" not in why_not_counted(event(verdict="gmail_prefetch"))


@pytest.mark.parametrize(
    ("modes", "state_pinned", "pinned"),
    [
        (["manual"], None, True),
        (["auto"], None, False),
        (["auto", "manual"], None, True),
        (["manual"], False, False),
        (["auto"], True, True),
        (["auto"], False, False),
    ],
)
def test_pinned_follows_the_mode_unless_the_user_chose(modes, state_pinned, pinned):
    messages = [message(id=f"m{i}", mode=mode) for i, mode in enumerate(modes)]
    states = [{"thread_id": "t1", "pinned": state_pinned, "viewed_at": None}]
    (thread,) = build_threads(messages, [], states=states, now=NOW)
    assert thread["pinned"] is pinned
    assert thread["category"] == ("pinned" if pinned else "other")


def test_states_can_be_a_mapping_by_thread_id():
    (thread,) = build_threads([message(mode="auto")], [], states={"t1": {"pinned": True}}, now=NOW)
    assert thread["pinned"] is True


# --- The unread counter ------------------------------------------------------------------

OPENED_AT = "2026-11-25T10:00:00Z"


def counter(mode="manual", external=True, verdicts=("human",), viewed_at=None, settings=None, extra=()):
    messages = [message(mode=mode, external=external)]
    events = [event(at=OPENED_AT, verdict=v) for v in verdicts] + list(extra)
    states = [{"thread_id": "t1", "pinned": None, "viewed_at": viewed_at}]
    return build_panel(messages, events, states, settings or {}, now=NOW)["unread"]


@pytest.mark.parametrize(
    ("case", "kwargs", "expected"),
    [
        ("manual thread opened", {}, 1),
        ("viewed after the open clears it", {"viewed_at": "2026-11-25T10:00:01Z"}, 0),
        ("viewed at the same instant clears it", {"viewed_at": OPENED_AT}, 0),
        ("an open after viewing counts again", {"viewed_at": "2026-11-25T09:00:00Z"}, 1),
        ("a reset clears it", {"settings": {"counter_reset_at": "2026-11-26T00:00:00Z"}}, 0),
        ("an open after the reset counts", {"settings": {"counter_reset_at": "2026-11-24T00:00:00Z"}}, 1),
        ("many opens are one thread", {"verdicts": ("human",) * 5 + ("gmail",)}, 1),
        ("only automatic loads never count", {"verdicts": ("gmail_prefetch", "apple_mpp", "scanner", "self")}, 0),
        ("auto external without notify", {"mode": "auto"}, 0),
        ("auto external with notify", {"mode": "auto", "settings": {"notify_on_open": True}}, 1),
        ("auto internal never counts", {"mode": "auto", "external": False, "settings": {"notify_on_open": True}}, 0),
    ],
)
def test_unread_counter(case, kwargs, expected):
    assert counter(**kwargs) == expected, case


def test_viewing_one_thread_clears_only_that_thread_and_a_reset_clears_all():
    messages = [message(id=f"m{i}", thread_id=f"t{i}", mode="manual") for i in range(3)]
    events = [event(f"m{i}", at=OPENED_AT) for i in range(3)]
    viewed = [{"thread_id": "t1", "viewed_at": "2026-11-26T00:00:00Z"}]
    assert build_panel(messages, events, [], {}, now=NOW)["unread"] == 3
    assert build_panel(messages, events, viewed, {}, now=NOW)["unread"] == 2
    reset = {"counter_reset_at": "2026-11-26T00:00:00Z"}
    assert build_panel(messages, events, [], reset, now=NOW)["unread"] == 0
    later = events + [event("m2", at="2026-11-26T08:00:00Z")]
    assert build_panel(messages, later, [], reset, now=NOW)["unread"] == 1


def test_is_unread_and_unread_count_agree_with_the_built_threads():
    messages = [message(id="m1", thread_id="t1", mode="manual"), message(id="m2", thread_id="t2", mode="auto")]
    events = [event("m1", at=OPENED_AT), event("m2", at=OPENED_AT)]
    settings = {"notify_on_open": False}
    threads = build_threads(messages, events, settings=settings, now=NOW)
    assert [is_unread(t, settings) for t in threads] == [t["unread"] for t in threads]
    assert unread_count(threads, settings) == 1
    assert unread_count(threads, {"notify_on_open": True}) == 2
    assert unread_count(threads, {"counter_reset_at": "2026-11-26T00:00:00+00:00"}) == 0


# --- The display window ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "triggered", "days", "shown"),
    [
        (ago(days=30), ago(days=14), None, True),
        (ago(days=30), ago(days=14, seconds=1), None, False),
        (ago(days=14), None, None, True),
        (ago(days=14, seconds=1), None, None, False),
        (ago(days=1), ago(days=1), None, True),
        (ago(days=10), ago(days=3), 3, True),
        (ago(days=10), ago(days=3, seconds=1), 3, False),
        (ago(days=40), ago(days=29), 30, True),
        (ago(days=20), ago(days=15), 0, False),  # not a usable window: the default 14
        (ago(days=20), ago(days=15), "30", False),
        (ago(days=1), ago(days=20), None, True),  # a follow-up sent in an old thread shows it again
    ],
)
def test_display_window(sent, triggered, days, shown):
    settings = {} if days is None else {"display_window_days": days}
    # A scanner hit is a trigger too, though it does not count as engagement.
    events = [event(at=triggered, verdict="scanner")] if triggered else []
    (thread,) = build_threads([message(sent_at=sent)], events, settings=settings, now=NOW)
    assert thread["in_window"] is shown
    assert in_display_window(thread, settings, NOW) is shown
    panel = build_panel([message(sent_at=sent)], events, [], settings, now=NOW)
    assert (panel["total_shown"], panel["hidden_by_window"]) == ((1, 0) if shown else (0, 1))


# --- The panel ---------------------------------------------------------------------------


def panel_data():
    messages = [
        message(id="m1", thread_id="t1", mode="manual", subject="Pricing", recipients=(("José", "jose@client.com"),),
                sent_at=ago(days=2)),
        message(id="m2", thread_id="t2", mode="auto", subject="Intro", recipients=(("Ann", "ann@other.org"),),
                sequence="Q4", step=1),
        message(id="m3", thread_id="t3", mode="manual", subject="Old", sent_at=ago(days=40)),
    ]
    events = [event("m1", at="2026-11-26T10:00:00Z"), event("m2", at="2026-11-26T11:00:00Z")]
    return messages, events


def test_build_panel_splits_categories_and_counts_the_window():
    messages, events = panel_data()
    panel = build_panel(messages, events, [], {"notify_on_open": True}, now=NOW)
    assert [t["thread_id"] for t in panel["pinned"]] == ["t1"]
    assert [t["thread_id"] for t in panel["other"]] == ["t2"]
    assert (panel["unread"], panel["total_shown"], panel["hidden_by_window"]) == (2, 2, 1)
    assert panel["filtered"] is False
    assert not any(key.startswith("_") for t in panel["pinned"] + panel["other"] for key in t)


@pytest.mark.parametrize(
    ("query", "pinned", "other"),
    [
        ({"text": "jose"}, ["t1"], []),
        (PanelQuery(text="INTRO"), [], ["t2"]),
        ({"domain": "other.org"}, [], ["t2"]),
        ({"sequence": "Q4", "step": "1"}, [], ["t2"]),
        ({"step": 2}, [], []),
        ({"text": "old"}, [], []),  # outside the window even though it matches
        ({"period": "7d"}, ["t1"], []),  # t2 was sent 7 days and 3 hours ago
        ({"period": "30d"}, ["t1"], ["t2"]),
    ],
)
def test_build_panel_applies_the_query_but_not_to_the_counter(query, pinned, other):
    messages, events = panel_data()
    panel = build_panel(messages, events, [], {"notify_on_open": True}, query=query, now=NOW)
    assert [t["thread_id"] for t in panel["pinned"]] == pinned
    assert [t["thread_id"] for t in panel["other"]] == other
    assert panel["total_shown"] == len(pinned) + len(other)
    assert panel["unread"] == 2
    assert panel["filtered"] is True


def test_build_panel_rejects_a_bad_query():
    messages, events = panel_data()
    with pytest.raises(InvalidQueryError):
        build_panel(messages, events, [], {}, query={"period": "forever"}, now=NOW)


def test_panel_from_api_splits_categories_and_keeps_server_order():
    from client_py.panel import panel_from_api

    threads = [{"thread_id": "a", "pinned": False}, {"thread_id": "b", "pinned": True},
               {"thread_id": "c", "pinned": False}]
    panel = panel_from_api(threads, 2, {"display_window_days": 7}, {"text": "acme"}, hidden_by_window=4)
    assert [t["thread_id"] for t in panel["pinned"]] == ["b"]
    assert [t["thread_id"] for t in panel["other"]] == ["a", "c"]
    assert (panel["unread"], panel["total_shown"], panel["hidden_by_window"]) == (2, 3, 4)
    assert panel["display_window_days"] == 7 and panel["filtered"] is True


def test_totals_cover_the_events_a_server_left_out():
    """The server sends a thread's latest events and what all of them add up to."""
    from client_py.panel import build_threads as build
    from panel_fixtures import event as ev, message as msg

    latest = [ev("m1", at="2026-11-27T08:05:00Z", verdict="human", device="mobile")]
    totals = {"t1": {"opens": 900, "clicks": 40, "events_total": 1500, "devices": ["tablet", "desktop"],
                     "places": ["Sweden", "Gmail", "France"], "last_engagement_at": "2026-11-27T08:05:00Z",
                     "last_triggered_at": "2026-11-27T08:09:00Z"}}
    (thread,) = build([msg()], latest, None, {}, "2026-11-28T00:00:00Z", totals=totals)
    assert (thread["opens"], thread["clicks"], thread["not_counted"], thread["events_total"]) == (900, 40, 560, 1500)
    assert thread["devices"] == ["desktop", "tablet"] and thread["places"] == ["Sweden", "France"]
    assert thread["last_triggered_at"] == "2026-11-27T08:09:00Z"
    assert len(thread["events"]) == 1
    (alone,) = build([msg()], latest, None, {}, "2026-11-28T00:00:00Z")
    assert alone["events_total"] == 1 and alone["opens"] == 1
