"""Marks for the mail client's own lists: which of these conversations (and which of
these shown emails) are tracked, and how far they got, in one request.

The extension asks for every thread row Gmail shows at once (one request per visible
page of the list) and for the pixels of the emails an open conversation shows; the
add-in asks for the selected item. Ids the user never tracked are simply absent from
the answer: Gmail lists everything, most of it untracked, so "unknown" is not an
error. The states and the hover text come from client_py.marks (the panel's rules and
words)."""

from __future__ import annotations

import sqlalchemy as sa
from flask_smorest import Blueprint

from client_py.marks import thread_mark
from client_py.model import merged_settings
from client_py.panel import build_threads

from ..extensions import db
from ..models import Event, Link, Message, Thread, utcnow
from ..serialize import event_data, message_data
from ..thread_events import EVENTS_PER_THREAD
from .auth import current_user
from .base import secured
from .schemas import MarksIn, MarksOut
from .threads import threads_as_data

blp = Blueprint("marks", __name__, url_prefix="/api/v1", description="Marks in the mail client's lists")


def _thread_marks(user_id: int, ids: list[str], settings: dict, lang: str, now) -> dict:
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(Thread).where(Thread.user_id == user_id, Thread.client_thread_id.in_(set(ids)))
    ).scalars().all()
    return {t["thread_id"]: thread_mark(t, lang, now) for t in threads_as_data(rows, settings, now)}


def _pixel_marks(user_id: int, tokens: list[str], settings: dict, lang: str, now) -> dict:
    """One mark per tracked email, named by its pixel token (what a shown email holds)."""
    if not tokens:
        return {}
    rows = db.session.execute(
        sa.select(Message, Thread.client_thread_id).join(Thread, Thread.id == Message.thread_id)
        .where(Message.user_id == user_id, Message.pixel_token.in_(set(tokens)))
    ).all()
    out = {}
    for message, client_thread_id in rows:
        events = db.session.execute(
            sa.select(Event, Link.url).outerjoin(Link, Link.id == Event.link_id)
            .where(Event.message_id == message.id).order_by(Event.at.desc(), Event.id.desc())
            .limit(EVENTS_PER_THREAD * 5)
        ).all()
        built = build_threads([message_data(message, client_thread_id)],
                              [event_data(e, message.public_id, url) for e, url in events], None, settings, now)
        out[message.pixel_token] = {**thread_mark(built[0], lang, now), "thread_id": client_thread_id}
    return out


@blp.route("/threads/marks", methods=["POST"])
@secured
@blp.arguments(MarksIn)
@blp.response(200, MarksOut)
def marks(body):
    """Marks for up to 200 thread ids and 50 pixel tokens; unknown ones are left out.

    `threads` maps a thread id to `{state, title}`; `pixels` maps a pixel token to
    `{state, title, thread_id}`. `state` is `sent` (tracked, not opened), `opened`
    (a counted open or click) or `machine` (only machines fetched it); `title` is
    the hover text in `lang` (en, de, fr, es)."""
    user = current_user()
    settings = merged_settings(user.settings)
    now = utcnow()
    return {
        "threads": _thread_marks(user.id, body["thread_ids"], settings, body["lang"], now),
        "pixels": _pixel_marks(user.id, body["pixel_tokens"], settings, body["lang"], now),
    }
