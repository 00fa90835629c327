"""Database models. Times are stored as naive UTC and handed out as aware UTC."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timezone
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from .extensions import db

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class UTCDateTime(TypeDecorator):
    """Naive UTC in the database (both SQLite and PostgreSQL sort it right), aware in Python."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: Optional[datetime], dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: Optional[datetime], dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_token(nbytes: int = 24) -> str:
    """Unguessable, URL-safe, meaningless: 192 random bits by default."""
    return secrets.token_urlsafe(nbytes)


def hash_token(token: str) -> str:
    # API tokens carry 256 random bits, so a fast hash is enough: nobody can
    # brute-force the preimage, and lookups by hash leak nothing useful.
    return hashlib.sha256(token.encode()).hexdigest()


class Org(db.Model):
    __tablename__ = "orgs"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    internal_domains: Mapped[list] = mapped_column(sa.JSON, default=list)
    office_ranges: Mapped[list] = mapped_column(sa.JSON, default=list)
    # Admins may see each member's insights (server/api/insights.py); off by default.
    team_insights: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    users: Mapped[list["User"]] = relationship(back_populates="org")


class User(db.Model):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("orgs.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    is_admin: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    password_hash: Mapped[Optional[str]] = mapped_column(sa.String(300))
    settings: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set by an admin: the user can no longer sign in and their tokens are refused.
    disabled_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    org: Mapped[Org] = relationship(back_populates="users")


class ApiToken(db.Model):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    label: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    user: Mapped[User] = relationship()


class OneTimeLink(db.Model):
    """A link that works once, until it expires: the first-run setup, an invitation,
    a password reset. Only the hash of its secret is stored (like API tokens)."""

    __tablename__ = "one_time_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(sa.String(16))  # setup | invite | reset
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    org_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("orgs.id", ondelete="CASCADE"))
    user_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    created_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    email: Mapped[str] = mapped_column(sa.String(320), default="")
    is_admin: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    org: Mapped[Optional[Org]] = relationship()
    user: Mapped[Optional[User]] = relationship(foreign_keys=[user_id])


class SigninFailure(db.Model):
    """A wrong password, counted against its account and its address (keyed hashes of
    both, never the raw values): the sign-in limit, shared by every server process."""

    __tablename__ = "signin_failures"
    __table_args__ = (sa.Index("ix_signin_failures_key_at", "key", "at"), sa.Index("ix_signin_failures_at", "at"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class StreamTicketUse(db.Model):
    """A stream ticket that has been used: tickets open one stream, once (the row's
    primary key refuses the second use, in every process and on every machine).
    Rows older than a ticket's lifetime are deleted; the ticket has expired anyway."""

    __tablename__ = "stream_ticket_uses"
    nonce: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Thread(db.Model):
    """One conversation of one user, with the aggregates the panel sorts and filters on."""

    __tablename__ = "threads"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "client_thread_id", name="uq_threads_user_client_thread"),
        sa.Index("ix_threads_user_activity", "user_id", "last_activity_at", "id"),
        sa.Index("ix_threads_user_engagement", "user_id", "last_engagement_at"),
        # Covers the unread counter's query (server/panel_query.unread_count): a heavy
        # user's counter is counted from the index alone, not thousands of rows.
        sa.Index("ix_threads_user_counter", "user_id", "last_activity_at", "last_engagement_at",
                 "viewed_at", "pinned", "has_manual", "has_auto_external"),
        # The insights' "replied": a period's emails of the threads that got a reply.
        sa.Index("ix_threads_user_reply", "user_id", "last_reply_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    client_thread_id: Mapped[str] = mapped_column(sa.String(300))
    client: Mapped[str] = mapped_column(sa.String(16))
    subject: Mapped[str] = mapped_column(sa.Text, default="")
    pinned: Mapped[Optional[bool]] = mapped_column(sa.Boolean)
    viewed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    has_manual: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    has_auto_external: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    last_sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_triggered_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    last_engagement_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The first and last reply the sender's mail client saw arrive (table replies).
    first_reply_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    last_reply_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)


class Message(db.Model):
    __tablename__ = "messages"
    __table_args__ = (sa.Index("ix_messages_thread_sent", "thread_id", "sent_at"),
                      sa.Index("ix_messages_user_sent", "user_id", "sent_at", "first_open_after",
                               "first_click_at", "engaged", "domains", "client", "id"),
                      # The most-engaged emails of a period: read from the top, not sorted.
                      sa.Index("ix_messages_user_engaged", "user_id", "engaged", "sent_at"),
                      sa.Index("ix_messages_user_delay", "user_id", "first_open_after", "sent_at"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(40), unique=True, default=lambda: new_token(12))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    thread_id: Mapped[int] = mapped_column(sa.ForeignKey("threads.id", ondelete="CASCADE"))
    pixel_token: Mapped[str] = mapped_column(sa.String(64), unique=True, default=new_token)
    subject: Mapped[str] = mapped_column(sa.Text, default="")
    recipients: Mapped[list] = mapped_column(sa.JSON, default=list)
    mode: Mapped[str] = mapped_column(sa.String(8))
    client: Mapped[str] = mapped_column(sa.String(16))
    kind: Mapped[str] = mapped_column(sa.String(16), default="email")  # email | meeting
    sequence: Mapped[Optional[str]] = mapped_column(sa.String(200))
    step: Mapped[Optional[int]] = mapped_column(sa.Integer)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    external: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    # Normalised text the panel search matches (client_py.search.search_key), and
    # ",domain,other.com," for the company filter: both rules come from client_py.
    search_key: Mapped[str] = mapped_column(sa.Text, default="")
    domains: Mapped[str] = mapped_column(sa.Text, default="")
    client_message_id: Mapped[Optional[str]] = mapped_column(sa.String(500))
    # What the email's counted events add up to, kept by the writer (hitpath/record.py)
    # from the email's whole history, for the insights' sums over thousands of emails.
    first_open_after: Mapped[Optional[int]] = mapped_column(sa.Integer)  # seconds from sending to the first open
    first_click_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    engaged: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    # Bumped by every settle of the email's verdicts (server/hitpath/history.py), so a
    # writer can tell whether the history it kept in memory is still the stored one.
    history_rev: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    links: Mapped[list["Link"]] = relationship(
        back_populates="message", cascade="all, delete-orphan", order_by="Link.position"
    )
    thread: Mapped[Thread] = relationship()
    user: Mapped[User] = relationship()


class Link(db.Model):
    __tablename__ = "links"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[int] = mapped_column(sa.ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    token: Mapped[str] = mapped_column(sa.String(64), unique=True, default=new_token)
    url: Mapped[str] = mapped_column(sa.Text)
    position: Mapped[int] = mapped_column(sa.Integer, default=0)
    message: Mapped[Message] = relationship(back_populates="links")


class Event(db.Model):
    """One answered hit on a pixel or a tracked link, whatever its verdict."""

    __tablename__ = "events"
    __table_args__ = (
        sa.Index("ix_events_message_at", "message_id", "at"),
        sa.Index("ix_events_user_id", "user_id", "id"),
        sa.Index("ix_events_at", "at"),
        sa.UniqueConstraint("hit_id", name="uq_events_hit_id"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    message_id: Mapped[int] = mapped_column(sa.ForeignKey("messages.id", ondelete="CASCADE"))
    link_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("links.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(sa.String(8))  # open | click
    method: Mapped[str] = mapped_column(sa.String(8), default="GET")
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    verdict: Mapped[str] = mapped_column(sa.String(16))
    reason: Mapped[str] = mapped_column(sa.String(300), default="")
    country: Mapped[Optional[str]] = mapped_column(sa.String(100))
    region: Mapped[Optional[str]] = mapped_column(sa.String(100))
    city: Mapped[Optional[str]] = mapped_column(sa.String(100))
    device: Mapped[str] = mapped_column(sa.String(16), default="unknown")
    user_agent: Mapped[str] = mapped_column(sa.String(512), default="")
    # Keyed hashes (HMAC with the installation's secret): enough to tell "same source"
    # and "the sender's address" apart, never the raw address.
    ip_hash: Mapped[str] = mapped_column(sa.String(64), default="")
    source_hash: Mapped[str] = mapped_column(sa.String(64), default="")
    implied: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    # The id the pixel endpoint gave the hit when it answered: replaying the spool
    # after a crash stores each hit once.
    hit_id: Mapped[Optional[str]] = mapped_column(sa.String(40))
    # What the verdict is decided from, never the raw address (server/hitpath/history.py):
    # {"net", "kind", "matched", "org", "geo", "headers"}. NULL on implied opens and on
    # hits stored before it was kept (their verdict is settled).
    facts: Mapped[Optional[dict]] = mapped_column(sa.JSON)
    link: Mapped[Optional[Link]] = relationship()


class Reply(db.Model):
    """A message from a recipient that arrived in a tracked thread, as the sender's
    mail client saw it (client_py.replies.is_reply). Stored once per message id."""

    __tablename__ = "replies"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "client_message_id", name="uq_replies_user_message"),
        sa.Index("ix_replies_thread_at", "thread_id", "at"),
        sa.Index("ix_replies_user_at", "user_id", "at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    thread_id: Mapped[int] = mapped_column(sa.ForeignKey("threads.id", ondelete="CASCADE"))
    client_message_id: Mapped[str] = mapped_column(sa.String(300))
    from_address: Mapped[str] = mapped_column(sa.String(320))
    from_name: Mapped[str] = mapped_column(sa.String(300), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Reminder(db.Model):
    """"Remind me on ``due_at`` if nobody opens (``condition`` open) or replies (reply)
    to this thread after ``since``". The scheduler (server/reminders.py) takes a due
    row under a lease, like the Salesforce outbox, and settles it (``settled``: the
    open or reply came) or fires it (``due``) at most once, whatever the number of
    server processes; the user then snoozes (``pending`` again), marks it ``done`` or
    cancels it (``cancelled``)."""

    __tablename__ = "reminders"
    __table_args__ = (
        sa.Index("ix_reminders_status_due", "status", "due_at"),
        sa.Index("ix_reminders_user_status", "user_id", "status", "due_at"),
        sa.Index("ix_reminders_thread", "thread_id"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    public_id: Mapped[str] = mapped_column(sa.String(24), unique=True, default=lambda: new_token(12))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    thread_id: Mapped[int] = mapped_column(sa.ForeignKey("threads.id", ondelete="CASCADE"))
    condition: Mapped[str] = mapped_column(sa.String(8))  # open | reply
    since: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(sa.String(12), default="pending")
    fired_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    fired_by: Mapped[Optional[str]] = mapped_column(sa.String(60))
    notified_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    lease_owner: Mapped[Optional[str]] = mapped_column(sa.String(60))
    lease_until: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    thread: Mapped[Thread] = relationship()


class InsightHour(db.Model):
    """Answered hits per user, UTC hour, kind and verdict, and for counted opens with a
    known place the recipient's local weekday and hour (-1 otherwise): the insights'
    sums read these few rows, not the events. Kept by the writer with every change of
    an event (hitpath/record.py via server/insights_rollup.py)."""

    __tablename__ = "insight_hours"
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    verdict: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    local_dow: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    local_hour: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    n: Mapped[int] = mapped_column(sa.Integer, default=0)


class InsightHitDay(db.Model):
    """``insight_hours`` summed per UTC day, in three kinds of rows: hits by kind and
    verdict (``open``/``click``/``implied``, local -1), counted opens by the recipient's
    local weekday and hour (``cell``, verdict ''), counted opens by UTC hour of the day
    (``hour``, verdict '', local_hour the UTC hour). A period reads its whole days here
    and only its partial first and last days from ``insight_hours``
    (server/insights_rollup.py keeps both; migration 0012)."""

    __tablename__ = "insight_hit_days"
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    day: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    verdict: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    local_dow: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    local_hour: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    n: Mapped[int] = mapped_column(sa.Integer, default=0)


class InsightEmailDay(db.Model):
    """The emails sent per user and UTC day: ``domain`` '' and ``bucket`` -1 the day's
    totals (emails, opened, clicked, known: whose client reports replies); one row per
    recipient domain (bucket -1); and per delay bucket of the first counted open
    (domain '', ``opened`` the number: server/insights_rollup.BOUNDS)."""

    __tablename__ = "insight_email_days"
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    domain: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    bucket: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    emails: Mapped[int] = mapped_column(sa.Integer, default=0)
    opened: Mapped[int] = mapped_column(sa.Integer, default=0)
    clicked: Mapped[int] = mapped_column(sa.Integer, default=0)
    known: Mapped[int] = mapped_column(sa.Integer, default=0)


class SenderAddress(db.Model):
    """Addresses (keyed hashes) a user's extension or add-in called the API from."""

    __tablename__ = "sender_addresses"
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    ip_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SelfView(db.Model):
    """The sender's extension said "I am looking at this thread now"."""

    __tablename__ = "self_views"
    __table_args__ = (sa.Index("ix_self_views_thread_at", "thread_id", "at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    thread_id: Mapped[int] = mapped_column(sa.ForeignKey("threads.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def as_dict_time(value: Optional[datetime]) -> Optional[str]:
    if value is None:
        return None
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
