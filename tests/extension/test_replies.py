"""Replies: a recipient's message arriving in a tracked Gmail conversation reaches the
server once, and the thread then knows when it was answered."""

from __future__ import annotations

import pytest

from . import harness

pytestmark = pytest.mark.browser


def test_a_reply_arriving_in_an_open_conversation_is_reported_once(ext):
    compose = harness.Compose.new(ext, to=[harness.RAE], subject="Shall we talk?")
    compose.wait_toggle(tracked=True)
    sent, outcome = compose.send()
    message = harness.registered(ext, outcome["messageId"])
    ext.gmail.evaluate("(id) => fakeGmail.show('#sent/' + id)", sent["threadId"])
    ext.gmail.wait_for_timeout(300)  # the conversation shows only the user's email: no reply
    assert ext.thread(message["thread_id"])["first_reply_at"] is None

    # Someone not on the email writes in: not a reply. Then Rae answers.
    ext.gmail.evaluate("(id) => fakeGmail.receive(id, {name: 'Eve', address: 'eve@else.example'}, 'Hi')",
                       sent["threadId"])
    gmail_id = ext.gmail.evaluate("([id, rae]) => fakeGmail.receive(id, rae, 'Yes, Tuesday works.')",
                                  [sent["threadId"], harness.RAE])
    harness.wait_until(ext.gmail, lambda: ext.thread(message["thread_id"])["first_reply_at"], 5, 50,
                       "the reply to reach the server")
    first = ext.thread(message["thread_id"])["first_reply_at"]
    last = harness.diagnostics(ext.context)["lastReplies"]
    assert last["reported"] == [gmail_id]

    # Opening the conversation again shows the same messages: nothing new is stored.
    ext.gmail.evaluate("() => fakeGmail.show('#inbox')")
    ext.gmail.evaluate("(id) => fakeGmail.show('#sent/' + id)", sent["threadId"])
    ext.gmail.wait_for_timeout(300)
    thread = ext.thread(message["thread_id"])
    assert thread["first_reply_at"] == thread["last_reply_at"] == first
