"""Follow-up reminders: "remind me in 3 days if nobody opens (or replies)".

Set on one of the user's threads (404 for another user's or a deleted thread), due
at least a minute and at most a year ahead (422 otherwise: client_py.reminders); one
active reminder per thread and condition (setting it again moves it). The scheduler
(server/reminders.py) settles or fires it; the panel lists what is due, and the user
snoozes it, marks it done or cancels it. Nothing is stored for a refused request."""

from __future__ import annotations

import marshmallow as ma
import sqlalchemy as sa
from flask_smorest import Blueprint
from marshmallow import fields, validate

from client_py.model import merged_settings
from client_py.reminders import CONDITIONS, MAX_DAYS, ReminderError, due_time
from client_py.times import parse_time

from ..errors import ApiError
from ..extensions import db
from ..models import Message, Reminder, Thread, as_dict_time, utcnow
from ..reminders import ACTIVE, condition_settled
from .auth import current_user
from .base import secured
from .threads import find_thread

blp = Blueprint("reminders", __name__, url_prefix="/api/v1", description="Follow-up reminders")


class WhenIn(ma.Schema):
    in_days = fields.Integer(load_default=None, allow_none=True, strict=True,
                             validate=validate.Range(min=1, max=MAX_DAYS))
    on_date = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=10))
    due_at = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))


class ReminderIn(WhenIn):
    thread_id = fields.String(required=True, validate=validate.Length(min=1, max=300))
    condition = fields.String(required=True, validate=validate.OneOf(CONDITIONS))


class ReminderOut(ma.Schema):
    id = fields.String()
    thread_id = fields.String()
    subject = fields.String()
    recipients = fields.List(fields.Dict())
    condition = fields.String()
    status = fields.String()
    since = fields.String()
    due_at = fields.String()
    fired_at = fields.String(allow_none=True)
    notified_at = fields.String(allow_none=True)


class ReminderList(ma.Schema):
    reminders = fields.List(fields.Nested(ReminderOut), required=True)
    due = fields.Integer()


class ReminderQuery(ma.Schema):
    status = fields.String(load_default="active", validate=validate.OneOf(["active", "due", "pending"]))
    thread_id = fields.String(load_default=None, validate=validate.Length(max=300))


class NotifiedOut(ma.Schema):
    first = fields.Boolean()


def _due(body: dict, now) -> object:
    settings = merged_settings(current_user().settings)
    try:
        return parse_time(due_time(now, in_days=body.get("in_days"), on_date=body.get("on_date"),
                                   due_at=body.get("due_at"), time_zone=settings["time_zone"]))
    except ReminderError as err:
        raise ApiError(422, err.message, details={"json": {err.field: [err.message]}})


def reminder_out(reminder: Reminder, thread: Thread, recipients: list | None = None) -> dict:
    return {"id": reminder.public_id, "thread_id": thread.client_thread_id, "subject": thread.subject,
            "recipients": recipients if recipients is not None else _recipients([thread.id]).get(thread.id, []),
            "condition": reminder.condition, "status": reminder.status, "since": as_dict_time(reminder.since),
            "due_at": as_dict_time(reminder.due_at), "fired_at": as_dict_time(reminder.fired_at),
            "notified_at": as_dict_time(reminder.notified_at)}


def _recipients(thread_pks: list[int]) -> dict[int, list]:
    out: dict[int, list] = {}
    for pk, recipients in db.session.execute(
            sa.select(Message.thread_id, Message.recipients).where(Message.thread_id.in_(thread_pks))
            .order_by(Message.sent_at)):
        seen = out.setdefault(pk, [])
        for r in recipients or ():
            if all(r["address"] != s["address"] for s in seen):
                seen.append({"name": r.get("name", ""), "address": r["address"]})
    return out


def find_reminder(reminder_id: str) -> Reminder:
    reminder = db.session.execute(sa.select(Reminder).where(
        Reminder.public_id == reminder_id, Reminder.user_id == current_user().id)).scalar_one_or_none()
    if reminder is None:
        raise ApiError(404, "No reminder with that id.")
    return reminder


@blp.route("/reminders", methods=["POST"])
@secured
@blp.arguments(ReminderIn)
@blp.response(201, ReminderOut)
def create_reminder(body):
    """Remind me on a thread: `in_days` (1, 3, 7, ...), `on_date` (YYYY-MM-DD, 9:00 in my
    time zone) or `due_at` (ISO 8601), if nobody opens (`condition: open`) or replies
    (`reply`) from now on. Replaces the thread's active reminder of that condition."""
    now = utcnow()
    due = _due(body, now)
    thread = find_thread(body["thread_id"])
    user = current_user()
    for old in db.session.execute(sa.select(Reminder).where(
            Reminder.thread_id == thread.id, Reminder.condition == body["condition"],
            Reminder.status.in_(ACTIVE))).scalars():
        old.status, old.updated_at = "cancelled", now
    reminder = Reminder(user_id=user.id, thread_id=thread.id, condition=body["condition"], since=now,
                        due_at=due, status="pending", created_at=now, updated_at=now)
    db.session.add(reminder)
    db.session.commit()
    return reminder_out(reminder, thread)


@blp.route("/reminders", methods=["GET"])
@secured
@blp.arguments(ReminderQuery, location="query")
@blp.response(200, ReminderList)
def list_reminders(args):
    """The user's active reminders (`status=active`), or only the due or pending ones,
    soonest first. A due reminder whose thread got its open or reply since is settled
    here and left out."""
    user = current_user()
    statuses = ACTIVE if args["status"] == "active" else (args["status"],)
    stmt = (sa.select(Reminder, Thread).join(Thread, Thread.id == Reminder.thread_id)
            .where(Reminder.user_id == user.id, Reminder.status.in_(statuses)))
    if args["thread_id"]:
        stmt = stmt.where(Thread.client_thread_id == args["thread_id"])
    rows = db.session.execute(stmt.order_by(Reminder.due_at, Reminder.id).limit(200)).all()
    now = utcnow()
    kept = []
    for reminder, thread in rows:
        if reminder.status == "due" and condition_settled(thread.id, reminder.condition, reminder.since):
            reminder.status, reminder.updated_at = "settled", now
            continue
        kept.append((reminder, thread))
    db.session.commit()
    people = _recipients([t.id for _, t in kept])
    out = [reminder_out(r, t, people.get(t.id, [])) for r, t in kept]
    return {"reminders": out, "due": sum(1 for r in out if r["status"] == "due")}


@blp.route("/reminders/<string:reminder_id>/snooze", methods=["POST"])
@secured
@blp.arguments(WhenIn)
@blp.response(200, ReminderOut)
def snooze_reminder(body, reminder_id: str):
    """Ask again later (`in_days`, `on_date` or `due_at`); the watch goes on from when it was set."""
    reminder = find_reminder(reminder_id)
    if reminder.status not in ACTIVE:
        raise ApiError(409, f"This reminder is {reminder.status}; set a new one instead.")
    now = utcnow()
    reminder.due_at, reminder.status, reminder.fired_at, reminder.fired_by = _due(body, now), "pending", None, None
    reminder.notified_at, reminder.updated_at = None, now
    db.session.commit()
    return reminder_out(reminder, reminder.thread)


@blp.route("/reminders/<string:reminder_id>/done", methods=["POST"])
@secured
@blp.response(200, ReminderOut)
def finish_reminder(reminder_id: str):
    """I followed up: the reminder is done."""
    reminder = find_reminder(reminder_id)
    if reminder.status not in ACTIVE:
        raise ApiError(409, f"This reminder is {reminder.status} already.")
    reminder.status, reminder.updated_at = "done", utcnow()
    db.session.commit()
    return reminder_out(reminder, reminder.thread)


@blp.route("/reminders/<string:reminder_id>", methods=["DELETE"])
@secured
@blp.response(204)
def cancel_reminder(reminder_id: str):
    """Never mind: cancel the reminder (a cancelled one stays cancelled)."""
    reminder = find_reminder(reminder_id)
    if reminder.status in ACTIVE:
        reminder.status, reminder.updated_at = "cancelled", utcnow()
        db.session.commit()
    return None


@blp.route("/reminders/<string:reminder_id>/notified", methods=["POST"])
@secured
@blp.response(200, NotifiedOut)
def reminder_notified(reminder_id: str):
    """A browser is about to show this due reminder: `first` is true for exactly one
    caller, so the user gets one desktop notification however many browsers they use."""
    reminder = find_reminder(reminder_id)
    if reminder.status != "due":
        return {"first": False}
    first = db.session.execute(sa.update(Reminder.__table__).where(
        Reminder.__table__.c.id == reminder.id, Reminder.__table__.c.notified_at.is_(None))
        .values(notified_at=utcnow())).rowcount
    db.session.commit()
    return {"first": bool(first)}

