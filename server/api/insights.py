"""Insights: a period's figures for the signed-in user (``scope=me``), or for each
member and the whole org (``scope=team``: admins only, and only once an admin turned
the org's team view on, which is off by default); and the period's emails and
counted events as CSV, without any address.

The period is ``period`` (``today``, ``7d``, ``30d``, ``90d``) or ``from``/``to``
(days, both included), in ``tz`` (an IANA zone; the user's setting by default). A
period reversed, longer than the retention or in an unknown zone is a 422 in the
API's error shape; a period without emails is an empty, correct view."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import marshmallow as ma
import sqlalchemy as sa
from flask import Response, current_app, stream_with_context
from flask_smorest import Blueprint
from marshmallow import fields, validate

from client_py.model import merged_settings
from client_py.search import period_start

from ..errors import ApiError
from ..extensions import db
from ..insights_query import COUNTED, Period, figures, member_figures
from ..models import Event, Message, Org, User, as_dict_time, utcnow
from .auth import current_admin, current_user
from .base import secured
from .schemas import Bool, _time_zone

blp = Blueprint("insights", __name__, url_prefix="/api/v1", description="Insights: readers, timing, machines")

INSIGHT_PERIODS = ("today", "7d", "30d", "90d")


class InsightsQuery(ma.Schema):
    period = fields.String(load_default=None, validate=validate.OneOf(INSIGHT_PERIODS))
    from_ = fields.Date(data_key="from", load_default=None)
    to = fields.Date(load_default=None)
    tz = fields.String(load_default=None, validate=[validate.Length(min=1, max=64), _time_zone])
    scope = fields.String(load_default="me", validate=validate.OneOf(["me", "team"]))


class InsightsOut(ma.Schema):
    scope = fields.String(required=True)
    period = fields.Dict(required=True)
    figures = fields.Dict(required=True)
    members = fields.List(fields.Dict())
    team_available = fields.Boolean(required=True)


class TeamSettingIn(ma.Schema):
    enabled = Bool(required=True)


class TeamSettingOut(ma.Schema):
    enabled = fields.Boolean(required=True)


def resolve_period(args: dict, user: User) -> tuple[Period, date, date]:
    """The period asked for, checked; (period, first day, last day) in the zone."""
    tz_name = args["tz"] or merged_settings(user.settings).get("time_zone") or "UTC"
    try:
        zone = ZoneInfo(tz_name)
    except Exception:
        tz_name, zone = "UTC", ZoneInfo("UTC")  # a stored setting the server cannot read: UTC
    now = utcnow()
    today = now.astimezone(zone).date()
    first, last = args["from_"], args["to"]
    if (first is None) != (last is None):
        raise ApiError(422, "Give both `from` and `to` (days, both included), or a `period`.",
                       details={"query": {"from" if first is None else "to": ["Missing."]}})
    if first is not None and args["period"]:
        raise ApiError(422, "Give either a `period` or `from` and `to`, not both.",
                       details={"query": {"period": ["Not with from/to."]}})
    if first is None:
        start = period_start(args["period"] or "30d", now, tz_name)
        first = start.astimezone(zone).date()
        last = today
        period = Period(start=start, end=now, time_zone=tz_name)
    else:
        if last < first:
            raise ApiError(422, "The period ends before it starts: `to` is before `from`.",
                           details={"query": {"to": ["Before from."]}})
        if first > today:
            raise ApiError(422, "The period starts in the future.", details={"query": {"from": ["In the future."]}})
        retention = int(current_app.config["RETENTION_DAYS"])
        if (last - first).days + 1 > retention:
            raise ApiError(422, f"The period is longer than the {retention} days Engage keeps events.",
                           details={"query": {"from": [f"At most {retention} days."]}})
        start = datetime.combine(first, time.min, tzinfo=zone)
        end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
        period = Period(start=start, end=min(end, now), time_zone=tz_name)
    return period, first, last


def _team_members() -> list[User]:
    user = current_admin("Only an org admin sees the team's figures; members see their own.")
    org = db.session.get(Org, user.org_id)
    if not org.team_insights:
        raise ApiError(403, "The team view is off for this org; an admin can turn it on.",
                       code="team_view_off")
    return db.session.execute(sa.select(User).where(User.org_id == user.org_id).order_by(User.id)).scalars().all()


def _team_available(user: User) -> bool:
    return bool(user.is_admin and db.session.get(Org, user.org_id).team_insights)


@blp.route("/insights", methods=["GET"])
@secured
@blp.arguments(InsightsQuery, location="query")
@blp.response(200, InsightsOut)
def get_insights(args):
    """The period's figures: tracked, opened, clicked, replied where known, the median
    time to the first open, opens by the recipient's local weekday and hour, engagement
    by domain, every hit by verdict, and the most-opened emails' readers' evidence."""
    user = current_user()
    period, first, last = resolve_period(args, user)
    shown = {"name": args["period"] or ("custom" if args["from_"] else "30d"), "first_day": first.isoformat(),
             "last_day": last.isoformat(), "time_zone": period.time_zone,
             "start": as_dict_time(period.start), "end": as_dict_time(period.end)}
    if args["scope"] == "team":
        members = _team_members()
        ids = [m.id for m in members]
        out = {"scope": "team", "period": shown, "figures": figures(ids, period),
               "members": member_figures(members, period), "team_available": True}
    else:
        out = {"scope": "me", "period": shown, "figures": figures([user.id], period),
               "team_available": _team_available(user)}
    db.session.rollback()  # read only
    return out


@blp.route("/insights/team-setting", methods=["PUT"])
@secured
@blp.arguments(TeamSettingIn)
@blp.response(200, TeamSettingOut)
def put_team_setting(body):
    """Turn the org's team view on or off (admins only; off by default)."""
    user = current_admin("Only an org admin can change the team view.")
    org = db.session.get(Org, user.org_id)
    org.team_insights = body["enabled"]
    db.session.commit()
    return {"enabled": org.team_insights}


CSV_COLUMNS = ("record", "email_id", "sent_at", "subject", "recipient_domains", "mode", "event_kind", "event_at",
               "verdict", "device", "country", "region", "city")


def _cell(value) -> str:
    """A CSV cell a spreadsheet shows as text: a leading = + - @ would run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@blp.route("/insights/export.csv", methods=["GET"])
@secured
@blp.arguments(InsightsQuery, location="query")
@blp.response(200, content_type="text/csv")
def export_csv(args):
    """The period's emails (one `email` row each) and their counted events (`event`
    rows): subjects and recipient domains, never an address."""
    user = current_user()
    if args["scope"] == "team":
        ids = [m.id for m in _team_members()]
    else:
        ids = [user.id]
    period, first, last = resolve_period(args, user)
    where = sa.and_(Message.user_id.in_(ids), Message.sent_at >= period.start, Message.sent_at < period.end)
    emails = sa.select(Message.id, Message.public_id, Message.sent_at, Message.subject, Message.domains,
                       Message.mode).where(where).order_by(Message.sent_at, Message.id)
    events = (sa.select(Event.message_id, Event.kind, Event.at, Event.verdict, Event.device, Event.country,
                        Event.region, Event.city).join(Message, Message.id == Event.message_id)
              .where(where, Event.verdict.in_(COUNTED)).order_by(Message.sent_at, Message.id, Event.at, Event.id))

    def rows():
        buf = io.StringIO()
        out = csv.writer(buf)

        def flush():
            data = buf.getvalue()
            buf.seek(0)
            buf.truncate()
            return data

        out.writerow(CSV_COLUMNS)
        yield flush()
        public = {}
        for mid, pid, sent, subject, domains, mode in db.session.execute(emails).yield_per(1000):
            public[mid] = pid
            out.writerow(["email", pid, as_dict_time(sent), _cell(subject), _cell(" ".join(
                d for d in (domains or "").split(",") if d)), mode, "", "", "", "", "", "", ""])
            if len(public) % 500 == 0:
                yield flush()
        yield flush()
        for mid, kind, at, verdict, device, country, region, city in db.session.execute(events).yield_per(1000):
            out.writerow(["event", public.get(mid, ""), "", "", "", "", kind, as_dict_time(at), verdict, device,
                          _cell(country), _cell(region), _cell(city)])
            if buf.tell() > 64_000:
                yield flush()
        yield flush()
        db.session.rollback()

    name = f"engage-insights-{first.isoformat()}-{last.isoformat()}.csv"
    return Response(stream_with_context(rows()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
