"""The whole flow on each database: register an email, a recipient opens it, the
panel API shows the open with place, device and verdict, the stream delivers it."""

from __future__ import annotations

import json

from .helpers import click, CHROME_DESKTOP, GOOGLE_PROXY, IPHONE_MAIL, LINKOPING, LONDON, hit_pixel, path_of, register, threads


def test_register_returns_pixel_snippet_and_tracked_links(client, ann):
    msg = register(client, ann, links=["https://a.example/x", "https://b.example/y", "https://a.example/x"])
    assert msg["pixel_url"].startswith("http://engage.test/p/") and msg["pixel_url"].endswith(".gif")
    assert msg["pixel_url"] in msg["snippet"].replace("&amp;", "&")
    assert 'alt=""' in msg["snippet"]
    assert [l["url"] for l in msg["links"]] == ["https://a.example/x", "https://b.example/y"]
    assert all(l["tracked_url"].startswith("http://engage.test/c/") for l in msg["links"])
    assert msg["recipients"] == [{"name": "Carla Díaz", "address": "carla@prospect.example", "kind": "external"}]
    assert msg["external"] is True


def test_a_pixel_token_chosen_by_the_client_is_kept_and_registering_it_again_is_a_retry(client, ann, bob):
    """The Outlook add-in queues the pixel into the email at compose time and registers
    the email when it is sent, with the token it put in the pixel's address."""
    token = "Zq3_x-9" * 4
    msg = register(client, ann, pixel_token=token)
    assert msg["pixel_url"] == f"http://engage.test/p/{token}.gif"
    again = client.post("/api/v1/messages", headers=ann.headers, json={
        "subject": "Proposal for Q3", "recipients": [{"name": "", "address": "carla@prospect.example"}],
        "thread_id": "thread-1", "mode": "auto", "client": "outlook", "pixel_token": token})
    assert again.status_code == 200 and again.get_json()["id"] == msg["id"]
    assert len(threads(client, ann)["threads"][0]["messages"]) == 1
    taken = client.post("/api/v1/messages", headers=bob.headers, json={
        "recipients": [{"name": "", "address": "x@prospect.example"}], "thread_id": "t", "mode": "auto",
        "client": "outlook", "pixel_token": token})
    assert taken.status_code == 409 and "error" in taken.get_json()
    hit_pixel(client, msg)
    assert threads(client, ann)["threads"][0]["opens"] == 1
    assert threads(client, bob)["threads"] == []


def test_a_pixel_token_too_short_or_with_other_characters_is_refused(client, ann):
    for token in ("short", "a/b" * 10, "x" * 65):
        resp = client.post("/api/v1/messages", headers=ann.headers, json={
            "recipients": [{"name": "", "address": "carla@prospect.example"}], "thread_id": "t",
            "mode": "auto", "client": "outlook", "pixel_token": token})
        assert resp.status_code == 422 and resp.get_json()["error"]["code"]


def test_open_shows_in_panel_with_place_device_and_verdict(client, ann):
    msg = register(client, ann)
    hit_pixel(client, msg, ip=LONDON, ua=CHROME_DESKTOP)
    page = threads(client, ann)
    [thread] = page["threads"]
    assert thread["thread_id"] == "thread-1"
    assert thread["category"] == "pinned"  # tracked by hand
    [event] = thread["events"]
    assert event["verdict"] == "human"
    assert (event["city"], event["region"], event["country"]) == ("London", "England", "United Kingdom")
    assert event["device"] == "desktop"
    assert thread["opens"] == 1
    assert page["unread"] == 1


def test_several_recipients_one_of_n_and_distinct_devices_and_places(client, ann):
    msg = register(client, ann, recipients=[
        {"name": "A", "address": "a@prospect.example"},
        {"name": "B", "address": "b@prospect.example"},
        {"name": "C", "address": "c@other.example"},
    ])
    hit_pixel(client, msg, ip=LONDON, ua=CHROME_DESKTOP)
    hit_pixel(client, msg, ip=LINKOPING, ua=IPHONE_MAIL)
    [thread] = threads(client, ann)["threads"]
    assert thread["recipients_count"] == 3
    assert thread["opens"] == 2
    assert sorted(thread["devices"]) == ["desktop", "mobile"]
    assert len(thread["places"]) == 2
    assert "of 3 recipients" in thread["summary"]  # an open belongs to the email, not a person


def test_gmail_proxy_open_counts_and_is_located_as_gmail(client, ann):
    msg = register(client, ann)
    hit_pixel(client, msg, ip="66.249.84.1", ua=GOOGLE_PROXY)
    [thread] = threads(client, ann)["threads"]
    [event] = thread["events"]
    assert event["verdict"] == "gmail"
    assert event["city"] is None and event["device"] == "unknown"
    assert thread["opens"] == 1


def test_stream_delivers_the_open(app, client, ann):
    msg = register(client, ann)
    resp = client.get("/api/v1/stream", headers=ann.headers, buffered=False)
    assert resp.status_code == 200 and resp.mimetype == "text/event-stream"
    chunks = iter(resp.response)
    assert "connected" in next(chunks).decode()
    hit_pixel(app.test_client(), msg, ip=LONDON)
    text = next(chunks).decode()
    assert "event: engagement" in text
    data = json.loads(text.split("data: ", 1)[1])
    assert data["thread_id"] == "thread-1" and data["verdict"] == "human"
    assert data["location"] == "London, England, United Kingdom"
    assert data["unread"] == 1
    resp.close()


def test_stream_ticket_opens_the_stream_once_valid(client, ann):
    ticket = client.post("/api/v1/stream/tickets", headers=ann.headers).get_json()["ticket"]
    resp = client.get("/api/v1/stream", query_string={"ticket": ticket}, buffered=False)
    assert resp.status_code == 200
    resp.close()
    bad = client.get("/api/v1/stream", query_string={"ticket": ticket + "x"})
    assert bad.status_code == 401 and bad.get_json()["error"]["code"] == "unauthorized"


def test_pin_unpin_view_and_counter(client, ann):
    msg = register(client, ann, mode="auto")
    hit_pixel(client, msg)
    page = threads(client, ann)
    assert page["threads"][0]["category"] == "other" and page["unread"] == 0
    r = client.patch("/api/v1/threads", json={"thread_id": "thread-1", "pinned": True}, headers=ann.headers)
    assert r.status_code == 200 and r.get_json()["unread"] == 1
    assert threads(client, ann, category="pinned")["threads"][0]["thread_id"] == "thread-1"
    assert threads(client, ann, category="other")["threads"] == []
    r = client.patch("/api/v1/threads", json={"thread_id": "thread-1", "viewed": True}, headers=ann.headers)
    assert r.get_json()["unread"] == 0
    hit_pixel(client, msg, ip=LINKOPING, ua=IPHONE_MAIL)
    assert client.get("/api/v1/counter", headers=ann.headers).get_json()["unread"] == 1
    hit_pixel(client, msg, ip="89.160.20.113", ua=CHROME_DESKTOP)  # more opens: still one thread
    assert client.get("/api/v1/counter", headers=ann.headers).get_json()["unread"] == 1
    assert client.post("/api/v1/counter/reset", headers=ann.headers).get_json()["unread"] == 0
    assert client.get("/api/v1/counter", headers=ann.headers).get_json()["unread"] == 0


def test_search_and_filters(client, ann):
    register(client, ann, thread_id="t1", subject="Renewal", recipients=[{"name": "José Núñez", "address": "jose@alpha.example"}],
             sequence="Q3 outreach", step=2)
    register(client, ann, thread_id="t2", subject="Intro", recipients=[{"name": "Mia Wong", "address": "mia@beta.example"}])
    ids = lambda **q: [t["thread_id"] for t in threads(client, ann, **q)["threads"]]
    assert ids(q="jose") == ["t1"]
    assert ids(q="NUNEZ") == ["t1"]
    assert ids(q="intro") == ["t2"]
    assert ids(domain="beta.example") == ["t2"]
    assert ids(sequence="Q3 outreach", step=2) == ["t1"]
    assert ids(sequence="Q3 outreach", step=3) == []
    assert sorted(ids(period="today")) == ["t1", "t2"]
    bad = client.get("/api/v1/threads", query_string={"period": "fortnight"}, headers=ann.headers)
    assert bad.status_code == 422 and "period" in bad.get_json()["error"]["message"]


def test_pagination_newest_activity_first(client, ann):
    for i in range(5):
        register(client, ann, thread_id=f"t{i}")
    first = threads(client, ann, limit=2)
    assert [t["thread_id"] for t in first["threads"]] == ["t4", "t3"]
    second = threads(client, ann, limit=2, cursor=first["next_cursor"])
    assert [t["thread_id"] for t in second["threads"]] == ["t2", "t1"]
    third = threads(client, ann, limit=2, cursor=second["next_cursor"])
    assert [t["thread_id"] for t in third["threads"]] == ["t0"] and third["next_cursor"] is None


def test_settings_read_and_write(client, ann):
    s = client.get("/api/v1/settings", headers=ann.headers).get_json()
    assert s["display_window_days"] == 14 and s["insert_at"] in ("first", "last")
    r = client.patch("/api/v1/settings", json={"time_zone": "Europe/Paris", "blocklist": ["Boss@Partner.example", "rival.example"],
                                                "insert_at": "first", "notify_on_open": True}, headers=ann.headers)
    assert r.status_code == 200
    s = r.get_json()
    assert s["time_zone"] == "Europe/Paris" and s["blocklist"] == ["boss@partner.example", "rival.example"]
    bad = client.patch("/api/v1/settings", json={"time_zone": "Mars/Olympus"}, headers=ann.headers)
    assert bad.status_code == 422 and "time zone" in json.dumps(bad.get_json())


def test_blocklisted_and_internal_recipients_are_classified(client, ann):
    client.patch("/api/v1/settings", json={"blocklist": ["rival.example"]}, headers=ann.headers)
    msg = register(client, ann, recipients=[{"name": "", "address": "x@rival.example"},
                                            {"name": "", "address": "colleague@sales.acme.example"}])
    assert [r["kind"] for r in msg["recipients"]] == ["blocklisted", "internal"]
    assert msg["external"] is False


def test_sender_viewing_their_email_in_gmail_is_self(client, ann):
    msg = register(client, ann)
    hit_pixel(client, msg, ip="66.249.84.1", ua=GOOGLE_PROXY)
    r = client.post("/api/v1/threads/self-view", json={"thread_id": "thread-1"}, headers=ann.headers)
    assert r.get_json()["reclassified"] == 1
    hit_pixel(client, msg, ip="66.249.84.2", ua=GOOGLE_PROXY)
    [thread] = threads(client, ann)["threads"]
    assert [e["verdict"] for e in thread["events"]] == ["self", "self"]
    assert thread["opens"] == 0


def test_hit_from_the_senders_own_address_is_self(client, ann):
    resp = client.post("/api/v1/messages", headers=ann.headers, environ_base={"REMOTE_ADDR": LINKOPING}, json={
        "subject": "s", "recipients": [{"name": "", "address": "x@prospect.example"}],
        "thread_id": "t", "mode": "manual", "client": "gmail"})
    msg = resp.get_json()
    hit_pixel(client, msg, ip=LINKOPING, ua=CHROME_DESKTOP)
    [thread] = threads(client, ann)["threads"]
    assert thread["events"][0]["verdict"] == "self"


def test_org_office_range_is_self(client, make_account):
    carol = make_account(email="carol@initech.example", org="Initech", domains=("initech.example",),
                         ranges=("89.160.20.0/24",))
    msg = register(client, carol)
    hit_pixel(client, msg, ip=LINKOPING)
    [thread] = threads(client, carol)["threads"]
    assert thread["events"][0]["verdict"] == "self"


def test_open_then_click_then_other_link_are_not_duplicates(client, ann):
    msg = register(client, ann, links=["https://a.example/1", "https://a.example/2"])
    hit_pixel(client, msg, ip=LONDON)
    for link in msg["links"]:
        click(client, link["tracked_url"])
    hit_pixel(client, msg, ip=LONDON)  # the same open again within 30 s is a duplicate
    [thread] = threads(client, ann)["threads"]
    verdicts = sorted((e["kind"], e["verdict"]) for e in thread["events"])
    assert verdicts == [("click", "human"), ("click", "human"), ("open", "duplicate"), ("open", "human")]


def test_self_view_reported_before_the_proxy_hit_is_stored_still_wins(client, ann):
    """The hit is answered (in the spool) when the sender's report arrives; it is
    stored afterwards and must still be the sender's, and the counter must agree."""
    from .helpers import drain

    msg = register(client, ann)
    client.get(path_of(msg["pixel_url"]), headers={"User-Agent": GOOGLE_PROXY},
               environ_base={"REMOTE_ADDR": "66.249.84.1"})  # answered, not stored yet
    r = client.post("/api/v1/threads/self-view", json={"thread_id": "thread-1"}, headers=ann.headers)
    assert r.status_code == 200
    drain(client)
    [thread] = threads(client, ann)["threads"]
    assert [e["verdict"] for e in thread["events"]] == ["self"]
    assert client.get("/api/v1/counter", headers=ann.headers).get_json()["unread"] == 0


def test_counter_follows_a_refiled_open(client, ann):
    msg = register(client, ann)
    hit_pixel(client, msg, ip="66.249.84.1", ua=GOOGLE_PROXY)
    assert client.get("/api/v1/counter", headers=ann.headers).get_json()["unread"] == 1
    client.post("/api/v1/threads/self-view", json={"thread_id": "thread-1"}, headers=ann.headers)
    assert client.get("/api/v1/counter", headers=ann.headers).get_json()["unread"] == 0


def test_sign_out_revokes_the_token(client, ann):
    token = client.post("/api/v1/auth/signin", json={"email": ann.email, "password": ann.password}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.post("/api/v1/auth/signout", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert client.get("/api/v1/me", headers=ann.headers).status_code == 200  # other tokens live on


def test_an_email_sent_without_its_pixel_can_be_forgotten_until_opened(client, ann):
    kept = register(client, ann, thread_id="t")
    dropped = register(client, ann, thread_id="t", subject="Second")
    assert client.delete(f"/api/v1/messages/{dropped['id']}", headers=ann.headers).status_code == 204
    [thread] = threads(client, ann)["threads"]
    assert [m["id"] for m in thread["messages"]] == [kept["id"]]
    hit_pixel(client, kept)
    r = client.delete(f"/api/v1/messages/{kept['id']}", headers=ann.headers)
    assert r.status_code == 409 and "opened" in r.get_json()["error"]["message"]
    only = register(client, ann, thread_id="solo")
    client.delete(f"/api/v1/messages/{only['id']}", headers=ann.headers)
    assert [t["thread_id"] for t in threads(client, ann)["threads"]] == ["t"]


def test_streams_are_capped_per_process_so_pixels_always_find_a_thread(app, client, ann):
    app.config["STREAMS_PER_PROCESS"] = 1
    first = client.get("/api/v1/stream", headers=ann.headers, buffered=False)
    assert first.status_code == 200
    second = client.get("/api/v1/stream", headers=ann.headers)
    assert second.status_code == 503 and int(second.headers["Retry-After"]) > 0
    assert "polling" in second.get_json()["error"]["message"]
    first.close()  # closing the first frees its place
    third = client.get("/api/v1/stream", headers=ann.headers, buffered=False)
    assert third.status_code == 200
    third.close()
