"""A thread's events page by page: ``GET /api/v1/threads`` carries only each thread's
latest few (``events_total`` says how many there are); this lists the rest."""

from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint
from marshmallow import fields, validate

from ..thread_events import page_of_events
from .base import secured
from .openapi_rules import CURSOR, Pattern
from .schemas import CURSOR_ERROR
from .threads import find_thread

blp = Blueprint("thread_events", __name__, url_prefix="/api/v1", description="The Engagement panel")


class EventPageQuery(ma.Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(load_default=None, validate=Pattern(CURSOR, error=CURSOR_ERROR),
                           metadata={"description": "The `next_cursor` of the previous page"})


class EventPage(ma.Schema):
    events = fields.List(fields.Dict(), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


@blp.route("/threads/<string:thread_id>/events", methods=["GET"])
@secured
@blp.arguments(EventPageQuery, location="query")
@blp.response(200, EventPage)
def thread_events(args, thread_id: str):
    """A thread's events, newest first; pass `next_cursor` back as `cursor` for older ones."""
    thread = find_thread(thread_id)
    events, next_cursor = page_of_events(thread.id, args["limit"], args["cursor"])
    return {"events": events, "next_cursor": next_cursor}
