"""The activity feed: events and replies of every tracked email in one list, newest
first, paged without gaps or repeats, only the user's own."""

from __future__ import annotations

from .helpers import CHROME_DESKTOP, IPHONE_MAIL, click, hit_pixel, register
from .test_verdicts import APPLE_V4


def feed(client, account, **params):
    resp = client.get("/api/v1/feed", query_string=params, headers=account.headers)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_one_stream_newest_first_with_who_where_and_machines(client, ann, bob):
    solo = register(client, ann, thread_id="t-solo", subject="Intro",
                    recipients=[{"name": "Carol Buyer", "address": "carol@buyer.example"}])
    group = register(client, ann, thread_id="t-group", subject="Offsite",
                     recipients=[{"name": "Carol Buyer", "address": "carol@buyer.example"},
                                 {"name": "Dan", "address": "dan@buyer.example"}])
    hit_pixel(client, solo, ua=CHROME_DESKTOP)
    hit_pixel(client, group, ip=APPLE_V4, ua="Mozilla/5.0")  # Apple MPP: a machine
    click(client, solo["links"][0]["tracked_url"], ua=IPHONE_MAIL)
    assert client.post("/api/v1/threads/replies", json={"thread_id": "t-group", "message_id": "18c0ffee0000000a",
                                                        "from": "dan@buyer.example", "from_name": "Dan"},
                       headers=ann.headers).status_code == 201
    items = feed(client, ann)["items"]
    assert [(i["kind"], i["subject"]) for i in items] == [
        ("reply", "Offsite"), ("click", "Intro"), ("machine", "Offsite"), ("open", "Intro")]
    reply, clicked, machine, opened = items
    assert reply["who"] == {"name": "Dan", "address": "dan@buyer.example"}
    assert opened["who"]["name"] == "Carol Buyer" and opened["location"] == "London, England, United Kingdom"
    assert machine["who"] is None and machine["verdict"] == "apple_mpp"  # two recipients: nobody knows who
    assert clicked["url"] == "https://prospect.example/pricing?a=1&b=2" and clicked["thread_id"] == "t-solo"
    assert feed(client, bob)["items"] == []


def test_pages_have_no_gaps_or_repeats(client, ann):
    message = register(client, ann)
    for _ in range(5):
        hit_pixel(client, message, ua=CHROME_DESKTOP)
    for n in range(3):
        client.post("/api/v1/threads/replies", json={"thread_id": "thread-1", "message_id": f"18c0ffee0000010{n}",
                                                     "from": "carla@prospect.example"}, headers=ann.headers)
    whole = [i["id"] for i in feed(client, ann, limit=100)["items"]]
    seen, cursor = [], None
    while True:
        page = feed(client, ann, limit=3, **({"cursor": cursor} if cursor else {}))
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == whole and len(whole) == len(set(whole))
    bad = client.get("/api/v1/feed?cursor=not-a-cursor", headers=ann.headers)
    assert bad.status_code == 422 and "cursor" in bad.get_json()["error"]["details"]["query"]
