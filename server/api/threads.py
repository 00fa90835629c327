"""The Engagement panel's API: threads with their emails and events, pins, viewed
marks, the unread counter, and the sender's "this is me viewing it" reports."""

from __future__ import annotations

import sqlalchemy as sa
from flask_smorest import Blueprint

from client_py.errors import InvalidQueryError
from client_py.model import merged_settings
from client_py.panel import build_threads
from client_py.search import PanelQuery

from ..errors import ApiError
from ..extensions import db
from ..hitpath.sender import report_self_view
from ..models import Message, Thread, as_dict_time, utcnow
from ..panel_query import hidden_by_window, page_of_threads, unread_count
from ..reminders import active_reminders, due_count
from ..serialize import message_data, thread_state
from ..thread_events import latest_events, totals as thread_totals
from .auth import current_user
from .base import secured
from .schemas import CounterOut, SelfViewIn, SelfViewOut, ThreadPage, ThreadPatch, ThreadQuery, ThreadStateOut

blp = Blueprint("threads", __name__, url_prefix="/api/v1", description="The Engagement panel")


def threads_as_data(threads: list[Thread], settings: dict, now) -> list[dict]:
    """Rows to client_py thread dicts, in the order given."""
    if not threads:
        return []
    by_pk = {t.id: t for t in threads}
    rows = db.session.execute(
        sa.select(Message).where(Message.thread_id.in_(by_pk))
    ).scalars().all()
    messages = [message_data(m, by_pk[m.thread_id].client_thread_id) for m in rows]
    public = {m.id: m.public_id for m in rows}
    # Each thread's latest events and what all of them add up to (server/thread_events.py).
    events = latest_events(list(by_pk), public) if rows else []
    sums = thread_totals(list(by_pk), {pk: t.client_thread_id for pk, t in by_pk.items()})
    built = build_threads(messages, events, [thread_state(t) for t in threads], settings, now, totals=sums)
    order = {t.client_thread_id: i for i, t in enumerate(threads)}
    built.sort(key=lambda t: order.get(t["thread_id"], len(order)))
    reminders = active_reminders(list(by_pk))
    pk_of = {t.client_thread_id: t.id for t in threads}
    for thread in built:
        thread["reminders"] = reminders.get(pk_of.get(thread["thread_id"]), [])
    return built


def find_thread(thread_id: str) -> Thread:
    thread = db.session.execute(
        sa.select(Thread).where(Thread.user_id == current_user().id, Thread.client_thread_id == thread_id)
    ).scalar_one_or_none()
    if thread is None:
        raise ApiError(404, "No tracked thread with that id.")
    return thread


@blp.route("/threads", methods=["GET"])
@secured
@blp.arguments(ThreadQuery, location="query")
@blp.response(200, ThreadPage)
def list_threads(args):
    """Threads for the panel, newest activity first, with search, filters and a cursor.

    `category` picks Pinned or Other tracked emails; `cursor` is the `next_cursor`
    of the previous page. Threads outside the display window are left out."""
    user = current_user()
    settings = merged_settings(user.settings)
    now = utcnow()
    try:
        query = PanelQuery(text=args["q"], period=args["period"], domain=args["domain"],
                           sequence=args["sequence"], step=args["step"])
    except InvalidQueryError as err:
        raise ApiError(422, err.message, details={"query": err.fields})
    rows, next_cursor = page_of_threads(user.id, query, args["category"], settings, now,
                                        args["limit"], args["cursor"])
    return {
        "threads": threads_as_data(rows, settings, now),
        "next_cursor": next_cursor,
        "unread": unread_count(user.id, settings, now),
        "hidden_by_window": hidden_by_window(user.id, settings, now) if not args["cursor"] else 0,
    }


@blp.route("/threads", methods=["PATCH"])
@secured
@blp.arguments(ThreadPatch)
@blp.response(200, ThreadStateOut)
def patch_thread(body):
    """Pin (`pinned: true`), unpin (`false`), follow the default (`null`), or mark viewed."""
    thread = find_thread(body["thread_id"])
    if "pinned" in body:
        thread.pinned = body["pinned"]
    if body.get("viewed"):
        thread.viewed_at = utcnow()
    db.session.commit()
    user = current_user()
    return {**thread_state(thread), "unread": unread_count(user.id, merged_settings(user.settings), utcnow())}


@blp.route("/threads/self-view", methods=["POST"])
@secured
@blp.arguments(SelfViewIn)
@blp.response(200, SelfViewOut)
def self_view(body):
    """The sender is viewing this thread in their mail client: image loads through a
    mail proxy around now are theirs, not the recipient's."""
    return {"reclassified": report_self_view(current_user().id, find_thread(body["thread_id"]))}


@blp.route("/counter", methods=["GET"])
@secured
@blp.response(200, CounterOut)
def get_counter():
    """The unread counter shown on the badge and in the panel."""
    user = current_user()
    settings = merged_settings(user.settings)
    return {"unread": unread_count(user.id, settings, utcnow()), "counter_reset_at": settings["counter_reset_at"],
            "reminders_due": due_count(user.id)}


@blp.route("/counter/reset", methods=["POST"])
@secured
@blp.response(200, CounterOut)
def reset_counter():
    """Clear the unread counter (Ctrl+double-click on it in the panel)."""
    user = current_user()
    now = as_dict_time(utcnow())
    user.settings = {**(user.settings or {}), "counter_reset_at": now}
    db.session.commit()
    return {"unread": 0, "counter_reset_at": now}
