from datetime import datetime, timezone

import pytest
from panel_fixtures import event

from client_py.present import (
    device_label,
    event_label,
    format_time,
    format_time_full,
    location_label,
    relative_age,
    verdict_label,
)


@pytest.mark.parametrize(
    ("iso", "tz_name", "now", "expected"),
    [
        ("2026-11-27T08:05:00Z", "Europe/Paris", "2026-11-27T12:00:00Z", "Today, 9:05 AM"),
        ("2026-11-26T17:40:00Z", "Europe/Paris", "2026-11-27T12:00:00Z", "Yesterday, 6:40 PM"),
        ("2026-11-23T14:10:00Z", "Europe/Paris", "2026-11-27T12:00:00Z", "Mon 23 Nov, 3:10 PM"),
        ("2025-11-24T14:10:00Z", "Europe/Paris", "2026-11-27T12:00:00Z", "Mon 24 Nov 2025, 3:10 PM"),
        ("2026-11-27T00:05:00Z", "UTC", "2026-11-27T12:00:00Z", "Today, 12:05 AM"),
        ("2026-11-27T12:00:00+00:00", "UTC", "2026-11-27T12:00:00Z", "Today, 12:00 PM"),
        # 22:00 on the 26th in New York is still "today" there although UTC says the 27th.
        ("2026-11-27T03:00:00Z", "America/New_York", "2026-11-27T04:00:00Z", "Today, 10:00 PM"),
        ("2026-11-26T04:59:00Z", "America/New_York", "2026-11-27T04:00:00Z", "Yesterday, 11:59 PM"),
        # US summer time starts 8 March 2026 at 02:00 local.
        ("2026-03-08T06:30:00Z", "America/New_York", "2026-03-08T12:00:00Z", "Today, 1:30 AM"),
        ("2026-03-08T07:30:00Z", "America/New_York", "2026-03-08T12:00:00Z", "Today, 3:30 AM"),
        # Paris summer time ends 25 October 2026 at 03:00 local: 02:30 happens twice.
        ("2026-10-25T00:30:00Z", "Europe/Paris", "2026-10-25T12:00:00Z", "Today, 2:30 AM"),
        ("2026-10-25T01:30:00Z", "Europe/Paris", "2026-10-25T12:00:00Z", "Today, 2:30 AM"),
        ("2026-11-27T08:05:00Z", "Not/AZone", "2026-11-27T12:00:00Z", "Today, 8:05 AM"),
        ("2026-11-27T08:05:00Z", "", "2026-11-27T12:00:00Z", "Today, 8:05 AM"),
    ],
)
def test_format_time(iso, tz_name, now, expected):
    assert format_time(iso, tz_name, now) == expected


def test_format_time_takes_datetimes_too():
    now = datetime(2026, 11, 27, 12, tzinfo=timezone.utc)
    assert format_time(datetime(2026, 11, 27, 8, 5, tzinfo=timezone.utc), "Europe/Paris", now) == "Today, 9:05 AM"


@pytest.mark.parametrize(
    ("iso", "tz_name", "expected"),
    [
        ("2026-11-27T04:44:00Z", "Europe/Paris", "Friday 27 November 2026, 05:44 CET"),
        ("2026-10-25T00:30:00Z", "Europe/Paris", "Sunday 25 October 2026, 02:30 CEST"),
        ("2026-10-25T01:30:00Z", "Europe/Paris", "Sunday 25 October 2026, 02:30 CET"),
        ("2026-03-08T06:30:00Z", "America/New_York", "Sunday 8 March 2026, 01:30 EST"),
        ("2026-03-08T07:30:00Z", "America/New_York", "Sunday 8 March 2026, 03:30 EDT"),
        ("2026-11-27T04:44:00Z", "UTC", "Friday 27 November 2026, 04:44 UTC"),
        ("2026-11-27T04:44:00Z", "Mars/Olympus", "Friday 27 November 2026, 04:44 UTC"),
    ],
)
def test_format_time_full(iso, tz_name, expected):
    assert format_time_full(iso, tz_name) == expected


@pytest.mark.parametrize(
    ("iso", "expected"),
    [
        ("2026-11-27T11:59:30Z", "just now"),
        ("2026-11-27T12:00:30Z", "just now"),  # a little clock skew
        ("2026-11-27T11:58:00Z", "2 min ago"),
        ("2026-11-27T11:00:00Z", "1 hour ago"),
        ("2026-11-27T07:00:00Z", "5 hours ago"),
        ("2026-11-26T12:00:00Z", "1 day ago"),
        ("2026-11-20T12:00:00Z", "1 week ago"),
        ("2026-10-01T12:00:00Z", "1 month ago"),
        ("2024-11-01T12:00:00Z", "2 years ago"),
    ],
)
def test_relative_age(iso, expected):
    assert relative_age(iso, "2026-11-27T12:00:00Z") == expected


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, "Paris, Île-de-France, France"),
        ({"verdict": "gmail"}, "Gmail"),
        ({"verdict": "gmail_prefetch"}, "Gmail"),
        ({"verdict": "outlook"}, "Outlook.com"),
        ({"verdict": "yahoo", "city": "New York", "region": "New York", "country": "United States"}, "Yahoo Mail"),
        ({"city": "Singapore", "region": "Singapore", "country": "Singapore"}, "Singapore"),
        ({"city": "Berlin", "region": "berlin", "country": "Germany"}, "Berlin, Germany"),
        ({"city": None, "region": "", "country": "Spain"}, "Spain"),
        ({"city": " ", "region": None, "country": None}, "Unknown"),
        ({"verdict": "scanner", "city": "Ashburn", "region": "Virginia", "country": "United States"},
         "Ashburn, Virginia, United States"),
    ],
)
def test_location_label(fields, expected):
    assert location_label(event(**fields)) == expected


@pytest.mark.parametrize(
    ("device", "expected"),
    [("desktop", "Desktop"), ("mobile", "Mobile"), ("tablet", "Tablet"), ("unknown", "Unknown device"),
     (None, "Unknown device"), ("toaster", "Unknown device")],
)
def test_device_label(device, expected):
    assert device_label(device) == expected


@pytest.mark.parametrize(
    ("verdict", "expected"),
    [
        ("human", "Opened"),
        ("gmail", "Opened (via Gmail)"),
        ("outlook", "Opened (via Outlook.com)"),
        ("yahoo", "Opened (via Yahoo Mail)"),
        ("confirmed", "Opened (confirmed by a click)"),
        ("gmail_prefetch", "Gmail prefetch"),
        ("apple_mpp", "Apple Mail Privacy Protection"),
        ("scanner", "Security scanner"),
        ("self", "You"),
        ("duplicate", "Repeat"),
        (None, "Unknown"),
    ],
)
def test_verdict_label(verdict, expected):
    assert verdict_label(verdict) == expected


@pytest.mark.parametrize(
    ("kind", "verdict", "expected"),
    [
        ("open", "human", "Opened"),
        ("open", "gmail", "Opened (via Gmail)"),
        ("open", "apple_mpp", "Apple Mail Privacy Protection"),
        ("click", "human", "Clicked"),
        ("click", "scanner", "Click: Security scanner"),
    ],
)
def test_event_label(kind, verdict, expected):
    assert event_label(event(kind=kind, verdict=verdict)) == expected
