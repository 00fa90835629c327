"""The plain data the rulebook works on, exactly as the server's JSON API returns it.

Everything crossing the Python/JavaScript boundary is one of these shapes made of
``dict``/``list``/``str``/``int``/``bool``/``None`` only, so the same values work in
CPython, in Pyodide and as JSON.  Times are ISO 8601 strings in UTC ending in ``Z``.
"""

from __future__ import annotations

from typing import Literal, Mapping, Optional, TypedDict

Mode = Literal["manual", "auto"]
Client = Literal["gmail", "outlook"]
EventKind = Literal["open", "click"]
Device = Literal["desktop", "mobile", "tablet", "unknown"]
Verdict = Literal[
    "human", "gmail", "outlook", "yahoo", "confirmed", "gmail_prefetch", "apple_mpp", "scanner", "self",
    "duplicate",
]
RecipientKind = Literal["internal", "external", "blocklisted"]

#: The verdicts that count as engagement: a person (or their mail provider's image
#: proxy acting for a person opening the email) saw it. ``confirmed``: an Apple Mail
#: Privacy Protection download that a later click showed was a real open.
ENGAGEMENT_VERDICTS: frozenset[str] = frozenset({"human", "gmail", "outlook", "yahoo", "confirmed"})
ALL_VERDICTS: tuple[str, ...] = (
    "human", "gmail", "outlook", "yahoo", "confirmed", "gmail_prefetch", "apple_mpp", "scanner", "self",
    "duplicate",
)


class Recipient(TypedDict):
    name: str  # display name as typed, "" when none
    address: str  # lower-cased email address


class MessageData(TypedDict, total=False):
    id: str  # server's public id of the tracked email
    thread_id: str  # the mail client's thread / conversation id
    subject: str
    recipients: list[Recipient]
    mode: Mode  # "manual": tracked by hand; "auto": inserted automatically
    client: Client
    sequence: Optional[str]
    step: Optional[int]
    sent_at: str
    external: bool  # at least one external, non-blocklisted recipient


class EventData(TypedDict, total=False):
    id: str
    message_id: str
    kind: EventKind
    at: str
    verdict: Verdict
    reason: str  # plain words: why this verdict
    country: Optional[str]
    region: Optional[str]
    city: Optional[str]
    device: Device
    url: Optional[str]  # the link, for clicks
    implied: bool  # an open inferred from a click when no open was seen


class ThreadState(TypedDict, total=False):
    thread_id: str
    pinned: Optional[bool]  # None: follow the mode (manual => pinned)
    viewed_at: Optional[str]  # when the user last viewed this thread
    first_reply_at: Optional[str]  # the first / last reply a recipient sent (client_py.replies)
    last_reply_at: Optional[str]


class UserSettings(TypedDict, total=False):
    time_zone: str  # IANA name, e.g. "Europe/Paris"
    auto_insert: bool
    notify_on_open: bool
    blocklist: list[str]  # addresses or domains
    insert_at: Literal["first", "last"]
    display_window_days: int  # 14 by default
    counter_reset_at: Optional[str]
    notify_mode: Literal["each", "digest"]  # a notification per open, or a daily digest
    digest_hour: int  # 0-23, in time_zone: when the daily digest is shown
    quiet_start: Optional[str]  # "22:00": no notifications from then ...
    quiet_end: Optional[str]  # ... until "07:00" (None: no quiet hours)


DEFAULT_SETTINGS: UserSettings = {
    "time_zone": "UTC",
    "auto_insert": True,
    "notify_on_open": False,
    "blocklist": [],
    "insert_at": "last",
    "display_window_days": 14,
    "counter_reset_at": None,
    "notify_mode": "each",
    "digest_hour": 9,
    "quiet_start": None,
    "quiet_end": None,
}


def merged_settings(stored: Mapping | None) -> UserSettings:
    """A user's settings over ``DEFAULT_SETTINGS``: a missing key never breaks a rule,
    and a key the rulebook does not know (an older client's, a typo) is left out.
    The server and both clients read settings through this, so they agree."""
    known = {k: v for k, v in (stored or {}).items() if k in DEFAULT_SETTINGS}
    return {**DEFAULT_SETTINGS, **known}  # type: ignore[typeddict-item]
