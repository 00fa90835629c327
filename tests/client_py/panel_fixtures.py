"""Builders for the panel tests: tracked emails and events as the server's API sends them.

Standard library only, so the same files run under Pyodide.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

NOW = "2026-11-27T12:00:00Z"
_event_ids = itertools.count(1)


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def ago(now: str = NOW, **delta: float) -> str:
    """An ISO time ``delta`` (days=, hours=, seconds=…) before ``now``."""
    base = datetime.fromisoformat(now.replace("Z", "+00:00"))
    return iso(base - timedelta(**delta))


def message(
    id: str = "m1",
    thread_id: str = "t1",
    subject: str = "Proposal",
    recipients: tuple = (("Jane Doe", "jane@client.com"),),
    mode: str = "auto",
    client: str = "gmail",
    sent_at: str = "2026-11-20T09:00:00Z",
    external: bool = True,
    sequence: str | None = None,
    step: int | None = None,
) -> dict:
    return {
        "id": id,
        "thread_id": thread_id,
        "subject": subject,
        "recipients": [{"name": name, "address": address} for name, address in recipients],
        "mode": mode,
        "client": client,
        "sequence": sequence,
        "step": step,
        "sent_at": sent_at,
        "external": external,
    }


def event(
    message_id: str = "m1",
    at: str = "2026-11-21T09:00:00Z",
    kind: str = "open",
    verdict: str = "human",
    device: str = "desktop",
    city: str | None = "Paris",
    region: str | None = "Île-de-France",
    country: str | None = "France",
    url: str | None = None,
    reason: str = "",
    id: str | None = None,
) -> dict:
    return {
        "id": id or f"e{next(_event_ids)}",
        "message_id": message_id,
        "kind": kind,
        "at": at,
        "verdict": verdict,
        "reason": reason,
        "country": country,
        "region": region,
        "city": city,
        "device": device,
        "url": url,
        "implied": False,
    }
