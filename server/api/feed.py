"""``GET /api/v1/feed``: the activity feed across all of the user's tracked emails."""

from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint
from marshmallow import fields, validate

from ..feed import CURSOR as FEED_CURSOR, page_of_feed
from .auth import current_user
from .base import secured
from .openapi_rules import MAX_ID, Pattern, at_most
from .schemas import CURSOR_ERROR

blp = Blueprint("feed", __name__, url_prefix="/api/v1", description="The Engagement panel")


class FeedQuery(ma.Schema):
    limit = fields.Integer(load_default=30, validate=validate.Range(min=1, max=100))
    cursor = fields.String(load_default=None, validate=Pattern(FEED_CURSOR.replace("{id}", at_most(MAX_ID)),
                                                               error=CURSOR_ERROR),
                           metadata={"description": "The `next_cursor` of the previous page"})
    since = fields.AwareDateTime(load_default=None, format="iso")


class FeedPage(ma.Schema):
    items = fields.List(fields.Dict(), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


@blp.route("/feed", methods=["GET"])
@secured
@blp.arguments(FeedQuery, location="query")
@blp.response(200, FeedPage)
def feed(args):
    """Opens, clicks, machine opens and replies on every tracked email, newest first;
    `since` keeps only what happened after a time (the daily digest)."""
    items, next_cursor = page_of_feed(current_user().id, args["limit"], args["cursor"], args["since"])
    return {"items": items, "next_cursor": next_cursor}
