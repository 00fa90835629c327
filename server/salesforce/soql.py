"""The SOQL queries that find the Salesforce record of a tracked email. Pure: no I/O.

Every value goes through simple-salesforce's ``format_soql``, which quotes and
escapes SOQL string literals (quotes, backslashes, control characters), so a
Message-ID or subject can never change the query's shape.

- EmailMessage: by ``MessageIdentifier``. Mail clients report the Message-ID with
  or without its angle brackets, and integrations store either, so both forms match.
- Task: Salesforce's email logging creates a Task whose Subject is the email's
  subject, often prefixed "Email: ", whose Who (Contact or Lead) has the
  recipient's address, created around the send time. Only external recipients are
  considered: a Task is about a prospect, not a colleague.
"""

from __future__ import annotations

from datetime import datetime, timedelta

SUBJECT_MAX = 255  # Task.Subject's length in Salesforce
TASK_WINDOW_BEFORE = timedelta(minutes=15)  # clocks differ; some tools log just before sending


def message_id_forms(message_id: str) -> list[str]:
    bare = message_id.strip().removeprefix("<").removesuffix(">").strip()
    return [f"<{bare}>", bare]


def format_soql(query: str, **values) -> str:
    """simple-salesforce's quoting, imported on first use (it loads zeep, requests and
    more: a tenth of a second at every process's start otherwise)."""
    from simple_salesforce import format_soql as quote

    return quote(query, **values)


def email_message_query(message_id: str) -> str:
    return format_soql(
        "SELECT Id FROM EmailMessage WHERE MessageIdentifier IN {ids} ORDER BY CreatedDate DESC LIMIT 2",
        ids=message_id_forms(message_id),
    )


def task_query(subject: str, addresses: list[str], sent_at: datetime, window: timedelta) -> str:
    subject = subject.strip()
    subjects = sorted({subject[:SUBJECT_MAX], f"Email: {subject}"[:SUBJECT_MAX]})
    return format_soql(
        "SELECT Id FROM Task WHERE Subject IN {subjects} AND Who.Email IN {addresses}"
        " AND CreatedDate >= {start} AND CreatedDate <= {end} ORDER BY CreatedDate DESC LIMIT 2",
        subjects=subjects,
        addresses=sorted({a.lower() for a in addresses}),
        start=sent_at - TASK_WINDOW_BEFORE,
        end=sent_at + window,
    )
