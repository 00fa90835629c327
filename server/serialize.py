"""Database rows to the plain data client_py's panel model reads (client_py/model.py)."""

from __future__ import annotations

from .models import Event, Message, Thread, as_dict_time


def message_data(m: Message, client_thread_id: str) -> dict:
    return {
        "id": m.public_id,
        "thread_id": client_thread_id,
        "subject": m.subject,
        "recipients": [{"name": r.get("name", ""), "address": r["address"]} for r in m.recipients],
        "mode": m.mode,
        "client": m.client,
        "kind": m.kind,
        "sequence": m.sequence,
        "step": m.step,
        "sent_at": as_dict_time(m.sent_at),
        "external": m.external,
        "client_message_id": m.client_message_id,  # the mail client's id, to open the email there
    }


def event_data(e: Event, message_public_id: str, link_url: str | None) -> dict:
    return {
        "id": str(e.id),
        "message_id": message_public_id,
        "kind": e.kind,
        "at": as_dict_time(e.at),
        "verdict": e.verdict,
        "reason": e.reason,
        "country": e.country,
        "region": e.region,
        "city": e.city,
        "device": e.device,
        "url": link_url,
        "implied": e.implied,
    }


def thread_state(t: Thread) -> dict:
    return {"thread_id": t.client_thread_id, "pinned": t.pinned, "viewed_at": as_dict_time(t.viewed_at),
            "first_reply_at": as_dict_time(t.first_reply_at), "last_reply_at": as_dict_time(t.last_reply_at)}
