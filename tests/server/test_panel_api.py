"""The panel API's SQL applies client_py's rules: for the same data, the threads it
lists (window, category, search, filters) are the ones client_py.panel.build_panel
shows. The rule lives in client_py; this keeps the SQL mirror honest."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from client_py.panel import build_panel

from .helpers import CHROME_DESKTOP, hit_pixel, register, threads
from .test_retention import _age


@pytest.fixture
def varied(app, client, ann):
    specs = [
        ("t-manual", "manual", "Pricing for Zoë", "zoe@alpha.example", None, None, 0),
        ("t-auto", "auto", "Intro", "mia@beta.example", "Q3", 1, 0),
        ("t-auto2", "auto", "Step two", "mia@beta.example", "Q3", 2, 3),
        ("t-old", "manual", "Old news", "old@alpha.example", None, None, 20),
        ("t-sub", "auto", "Subdomain", "x@eu.alpha.example", None, None, 1),
    ]
    for tid, mode, subject, address, seq, step, age in specs:
        msg = register(client, ann, thread_id=tid, mode=mode, subject=subject, sequence=seq, step=step,
                       recipients=[{"name": address.split("@")[0].title() + " Núñez", "address": address}])
        hit_pixel(client, msg, ua=CHROME_DESKTOP)
        if age:
            _age(app, age, tid)
    client.patch("/api/v1/threads", json={"thread_id": "t-auto", "pinned": True}, headers=ann.headers)
    client.patch("/api/v1/threads", json={"thread_id": "t-manual", "pinned": False}, headers=ann.headers)


def _client_py_view(app, query):
    from client_py.model import merged_settings
    from server.extensions import db
    from server.models import Event, Message, Thread, User, utcnow
    from server.serialize import event_data, message_data, thread_state

    with app.app_context():
        ts = db.session.execute(sa.select(Thread)).scalars().all()
        by_id = {t.id: t for t in ts}
        ms = db.session.execute(sa.select(Message)).scalars().all()
        msgs = [message_data(m, by_id[m.thread_id].client_thread_id) for m in ms]
        pub = {m.id: m.public_id for m in ms}
        evs = [event_data(e, pub[e.message_id], None) for e in db.session.execute(sa.select(Event)).scalars()]
        settings = merged_settings(db.session.execute(sa.select(User)).scalar_one().settings)
        panel = build_panel(msgs, evs, [thread_state(t) for t in ts], settings, query, utcnow())
    return ({t["thread_id"] for t in panel["pinned"]}, {t["thread_id"] for t in panel["other"]}, panel["unread"])


@pytest.mark.parametrize("query", [
    {}, {"text": "nunez"}, {"text": "ZOE"}, {"domain": "alpha.example"}, {"sequence": "Q3"},
    {"sequence": "Q3", "step": 2}, {"period": "today"}, {"period": "7d"}, {"text": "intro mia"},
])
def test_sql_and_client_py_agree(app, client, ann, varied, query):
    params = {("q" if k == "text" else k): v for k, v in query.items()}
    pinned = {t["thread_id"] for t in threads(client, ann, category="pinned", **params)["threads"]}
    other = {t["thread_id"] for t in threads(client, ann, category="other", **params)["threads"]}
    unread = threads(client, ann, **params)["unread"]
    assert (pinned, other, unread) == _client_py_view(app, query)


@pytest.mark.parametrize("steps", [
    [{"notify_on_open": True}],
    [{"notify_on_open": True}, "view:t-auto2"],
    [{"notify_on_open": True}, "reset", "hit:t-sub"],
    ["view:t-auto", "hit:t-auto"],
])
def test_counter_agrees_with_client_py_through_views_resets_and_settings(app, client, ann, varied, steps):
    import time

    from .helpers import hit_pixel as hit

    for step in steps:
        time.sleep(0.01)  # distinct millisecond timestamps, as in real use
        if isinstance(step, dict):
            client.patch("/api/v1/settings", json=step, headers=ann.headers)
        elif step == "reset":
            client.post("/api/v1/counter/reset", headers=ann.headers)
        elif step.startswith("view:"):
            client.patch("/api/v1/threads", json={"thread_id": step[5:], "viewed": True}, headers=ann.headers)
        elif step.startswith("hit:"):
            [t] = [t for t in threads(client, ann, limit=100)["threads"] if t["thread_id"] == step[4:]]
            page = client.get(f"/api/v1/messages/{t['latest_message_id']}", headers=ann.headers).get_json()
            hit(client, page, ip="89.160.20.113", ua="Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X)")
    unread = client.get("/api/v1/counter", headers=ann.headers).get_json()["unread"]
    assert unread == _client_py_view(app, {})[2]
