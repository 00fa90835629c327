"""The JSON API (``/api/v1``), documented at ``/api/openapi.json`` from the same code."""

from __future__ import annotations


def register_api(api) -> None:
    from . import account, admin, feed, insights, marks, messages, reminders, replies, stream, thread_events, threads
    from ..salesforce import api as salesforce

    for module in (account, messages, threads, marks, thread_events, replies, reminders, feed, stream, admin, insights,
                   salesforce):
        api.register_blueprint(module.blp)
