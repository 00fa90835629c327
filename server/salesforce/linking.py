"""Finding the Salesforce record of a tracked email when nobody attached one.

EmailMessage: by the Message-ID the extension or add-in reported after sending.
Task: by subject, external recipient and a time window around the send.
Exactly one match links; none means "not logged yet" (tried again later, until
the linking window closes); two or more are not guessed between."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .client import SalesforceApi
from .failures import Failure
from .soql import email_message_query, task_query

#: Salesforce record id prefixes: a record id attached without an object says which it is.
PREFIXES = {"00T": "Task", "02s": "EmailMessage"}


@dataclass(frozen=True)
class Found:
    sobject: str
    record_id: str
    source: str  # api | message_id | task_match


class NotLinkedYet(Failure):
    """No record to write to yet; ``query`` says whether asking Salesforce again may help."""

    def __init__(self, message: str, query: bool):
        super().__init__("WAITING_FOR_RECORD" if not query else "RECORD_NOT_FOUND_YET", message, True)
        self.query = query


def object_for(record_id: str, default: str) -> str:
    return PREFIXES.get(record_id[:3], default)


def find_record(api: SalesforceApi, sobject: str, *, client_message_id: str | None, subject: str,
                external_addresses: list[str], sent_at: datetime, task_window: timedelta) -> Found:
    if sobject == "EmailMessage":
        if not client_message_id:
            raise NotLinkedYet("no Message-ID reported and no record attached to this email", query=False)
        soql, source = email_message_query(client_message_id), "message_id"
    else:
        if not external_addresses:
            raise NotLinkedYet("no external recipient to match a Task by", query=False)
        soql, source = task_query(subject, external_addresses, sent_at, task_window), "task_match"
    records = api.query(soql)
    if not records:
        raise NotLinkedYet(f"no {sobject} matches this email yet", query=True)
    if len(records) > 1:
        raise Failure("AMBIGUOUS_MATCH",
                      f"several {sobject} records match this email; attach the right one by its id", False)
    return Found(sobject, records[0]["Id"], source)
