"""Signals other parts of the server subscribe to (blinker, as Flask uses).

``opens_changed`` is sent inside the writer's transaction, before commit, so a
subscriber that adds rows (an outbox entry for a CRM, say) commits atomically with
the verdicts: either both are stored or neither."""

from blinker import Namespace

_signals = Namespace()

#: The opens that count of one email changed (new ones, or re-filed ones).
#: sender: the Flask app; kwargs: session, message_id, user_id, external (bool),
#: first, last (aware datetimes of the first and last open that counts; both None
#: when none counts any more), proxied (the last one came through a mail proxy, so
#: a self-view report may still re-file it for SELF_VIEW_SECONDS).
opens_changed = _signals.signal("opens-changed")
