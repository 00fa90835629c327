"""Signals other parts of the server subscribe to (blinker, as Flask uses).

``hit_recorded`` is sent inside the hit's transaction, before commit, so a
subscriber that adds rows (an outbox entry for a CRM, say) commits atomically with
the event: either both are stored or neither."""

from blinker import Namespace

_signals = Namespace()

#: sender: the Flask app; kwargs: session, message (models.Message), events (list of
#: models.Event just added, flushed so they have ids; an implied open comes second).
hit_recorded = _signals.signal("hit-recorded")
