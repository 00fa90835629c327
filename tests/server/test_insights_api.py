"""GET /api/v1/insights on a fixed data set, on SQLite and PostgreSQL: every figure
against the one computed by hand below; bad periods; the team view's access rules;
the CSV export.

The data set (D is ten days ago, T0 its midnight UTC; places in zones without
daylight saving time, so the local hours below hold on any date):

    A  sent T0+01:00 to acme.com      scanner T0+01:05, human opens from Japan at
                                      T0+02:00 and T0+02:30 (JST 11:00, 11:30), a
                                      human click T0+03:00, a reply at T0+04:00   first open +1 h
    B  sent T0+05:00 to globex.io     gmail_prefetch T0+05:01, a Gmail proxy open
                                      T0+07:00 (no place)             first open +2 h
    C  sent T0+10:00 to acme.com and  apple_mpp T0+10:00:30, self T0+11:00, a human
       globex.io                      open from India T0+20:45 (IST 02:15 on D+1),
                                      duplicate T0+20:46              first open +10 h 45
    D  sent T0+12:00 to acme.com      nothing (from Outlook: whether it got a reply is not known)
    E  sent 30 days before D          a human open 29 days before D: outside the period
    and Bob's email in the period (another user): never counted for Ann.

Email figures are of the emails sent in the period; hits and opens by hour of the
hits answered in it (here the same ones).
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone

import pytest

D = datetime.now(timezone.utc).date() - timedelta(days=10)
T0 = datetime(D.year, D.month, D.day, tzinfo=timezone.utc)
H = timedelta(hours=1)
JAPAN = ("Japan", "Tokyo", "Tokyo")
INDIA = ("India", "Karnataka", "Bengaluru")


def _add(app, user_id, subject, sent, domains, events, recipients=None, replied_at=None, client="gmail"):
    from server.extensions import db
    from server.models import Event, Message, Thread

    with app.app_context():
        t = Thread(user_id=user_id, client_thread_id=f"t-{subject}", client=client, subject=subject,
                   last_sent_at=sent, last_activity_at=sent, first_reply_at=replied_at, last_reply_at=replied_at)
        db.session.add(t)
        db.session.flush()
        m = Message(user_id=user_id, thread_id=t.id, subject=subject, mode="auto", client=client, sent_at=sent,
                    recipients=recipients or [{"name": "", "address": f"x@{d}"} for d in domains],
                    domains="," + ",".join(domains) + ",")
        db.session.add(m)
        db.session.flush()
        for kind, at, verdict, place in events:
            country, region, city = place or (None, None, None)
            db.session.add(Event(user_id=user_id, message_id=m.id, kind=kind, at=at, verdict=verdict,
                                 country=country, region=region, city=city,
                                 device="desktop" if verdict == "human" else "unknown"))
        db.session.commit()
        return m.public_id


@pytest.fixture
def data(app, ann, bob):
    _add(app, ann.user_id, "A", T0 + H, ["acme.com"], [
        ("open", T0 + H + timedelta(minutes=5), "scanner", None),
        ("open", T0 + 2 * H, "human", JAPAN), ("open", T0 + 2.5 * H, "human", JAPAN),
        ("click", T0 + 3 * H, "human", JAPAN)], replied_at=T0 + 4 * H)
    _add(app, ann.user_id, "B", T0 + 5 * H, ["globex.io"], [
        ("open", T0 + 5 * H + timedelta(minutes=1), "gmail_prefetch", None), ("open", T0 + 7 * H, "gmail", None)])
    _add(app, ann.user_id, "C", T0 + 10 * H, ["acme.com", "globex.io"], [
        ("open", T0 + 10 * H + timedelta(seconds=30), "apple_mpp", None), ("open", T0 + 11 * H, "self", None),
        ("open", T0 + 20.75 * H, "human", INDIA), ("open", T0 + 20.75 * H + timedelta(minutes=1), "duplicate", INDIA)])
    _add(app, ann.user_id, "D", T0 + 12 * H, ["acme.com"], [], client="outlook")
    _add(app, ann.user_id, "E", T0 - timedelta(days=30), ["acme.com"], [("open", T0 - timedelta(days=29), "human", JAPAN)])
    _add(app, bob.user_id, "Bob's", T0 + 4 * H, ["acme.com"], [("open", T0 + 6 * H, "human", JAPAN)])
    from server.extensions import db
    from server.insights_rollup import rebuild_all

    with app.app_context():  # stored straight into the tables: the sums as the migration makes them
        rebuild_all(db.session.connection())
        db.session.commit()


def insights(client, account, **params):
    return client.get("/api/v1/insights", query_string=params, headers=account.headers)


def test_the_figures_are_the_hand_computed_ones(client, ann, data):
    resp = insights(client, ann, **{"from": D.isoformat(), "to": (D + timedelta(days=1)).isoformat(), "tz": "UTC"})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    f = body["figures"]
    assert (f["emails"], f["opened"], f["clicked"]) == (4, 3, 1)
    assert (f["replied"], f["replied_known"]) == (1, 3)  # A got a reply; D is Outlook's: not known
    assert f["median_first_open_seconds"] == 7200  # of 1 h, 2 h and 10 h 45
    assert f["domains"] == [{"domain": "acme.com", "emails": 3, "opened": 2, "clicked": 1},
                            {"domain": "globex.io", "emails": 2, "opened": 2, "clicked": 0}]
    assert f["hits"] == {"open": {"human": 3, "scanner": 1, "gmail_prefetch": 1, "gmail": 1, "apple_mpp": 1,
                                  "self": 1, "duplicate": 1}, "click": {"human": 1}}
    wd = D.weekday()
    assert f["heatmap"] == sorted([[wd, 11, 2], [(wd + 1) % 7, 2, 1]])
    assert f["heatmap_unplaced"] == 1  # Gmail's proxy hides the place
    assert f["opens_by_day"] == [[D.isoformat(), 4]]
    assert [e["subject"] for e in f["top_emails"]] == ["A", "B", "C"]
    a = f["top_emails"][0]
    assert a["recipients"] == [{"domain": "acme.com"}] and len(a["hits"]) == 3
    assert body["period"]["first_day"] == D.isoformat() and body["team_available"] is False


def test_the_viewer_zone_moves_days_not_the_recipient_hours(client, ann, data):
    # Days are the viewer's (Tokyo, UTC+9: C's open at T0+20:45 is on D+1 there);
    # the heatmap stays in each recipient's own time.
    resp = insights(client, ann, **{"from": D.isoformat(), "to": (D + timedelta(days=1)).isoformat(),
                                    "tz": "Asia/Tokyo"})
    f = resp.get_json()["figures"]
    assert f["emails"] == 4
    assert f["opens_by_day"] == [[D.isoformat(), 3], [(D + timedelta(days=1)).isoformat(), 1]]
    assert f["heatmap"] == sorted([[D.weekday(), 11, 2], [(D.weekday() + 1) % 7, 2, 1]])



def test_a_day_whose_midnight_is_not_utcs_ends_where_the_viewer_day_ends(client, ann, data):
    # D in India (UTC+5:30) is T0-05:30 to T0+18:30: most of T0's UTC day, which is read
    # as that day's sums minus its last 5 h 30; C's open from India at T0+20:45 and its
    # duplicate fall in them and are not D's (in India they are on D+1).
    from server.insights_query import _plan

    _days, ranges = _plan(T0 - 5.5 * H, T0 + 18.5 * H, datetime.now(timezone.utc))
    assert (T0 + 18.5 * H, T0 + 24 * H, -1) in ranges  # the day minus the part after the period
    f = insights(client, ann, **{"from": D.isoformat(), "to": D.isoformat(), "tz": "Asia/Kolkata"}).get_json()["figures"]
    assert (f["emails"], f["opened"], f["clicked"], f["median_first_open_seconds"]) == (4, 3, 1, 7200)
    assert f["hits"] == {"open": {"human": 2, "scanner": 1, "gmail_prefetch": 1, "gmail": 1, "apple_mpp": 1,
                                  "self": 1}, "click": {"human": 1}}
    assert f["heatmap"] == [[D.weekday(), 11, 2]] and f["heatmap_unplaced"] == 1
    assert f["opens_by_day"] == [[D.isoformat(), 3]]

def test_an_empty_period_is_an_empty_correct_view(client, ann, data):
    day = (D - timedelta(days=5)).isoformat()
    f = insights(client, ann, **{"from": day, "to": day}).get_json()["figures"]
    assert (f["emails"], f["opened"], f["median_first_open_seconds"], f["heatmap"], f["domains"]) == (0, 0, None, [], [])
    assert f["replied"] is None  # no email Engage could know a reply of
    assert f["hits"] == {"open": {}, "click": {}}


@pytest.mark.parametrize("params, field", [
    ({"from": "2026-03-10", "to": "2026-03-01"}, "to"),
    ({"from": (date.today() - timedelta(days=120)).isoformat(), "to": date.today().isoformat()}, "from"),
    ({"from": "2026-03-10"}, "to"),
    ({"from": (date.today() + timedelta(days=3)).isoformat(), "to": (date.today() + timedelta(days=4)).isoformat()}, "from"),
    ({"period": "30d", "tz": "Mars/Olympus_Mons"}, "tz"),
    ({"period": "30d", "tz": "../../etc/passwd"}, "tz"),
    ({"period": "1y"}, "period"),
    ({"from": "yesterday", "to": "2026-03-01"}, "from"),
    ({"scope": "everyone"}, "scope"),
])
def test_bad_periods_are_422_in_the_error_shape(client, ann, params, field):
    resp = insights(client, ann, **params)
    assert resp.status_code == 422, resp.get_json()
    error = resp.get_json()["error"]
    assert error["code"] == "invalid_request" and error["message"]
    assert field in str(error.get("details"))


def test_team_view_is_off_by_default_and_for_admins_only(client, app, make_account, ann, data):
    admin = make_account(email="ada@acme.example", admin=True)
    assert insights(client, ann, scope="team").status_code == 403  # a member, never
    off = insights(client, admin, scope="team")
    assert off.status_code == 403 and off.get_json()["error"]["code"] == "team_view_off"
    put = client.put("/api/v1/insights/team-setting", json={"enabled": True}, headers=ann.headers)
    assert put.status_code == 403  # a member cannot turn it on
    put = client.put("/api/v1/insights/team-setting", json={"enabled": True}, headers=admin.headers)
    assert put.status_code == 200 and put.get_json() == {"enabled": True}
    assert insights(client, ann, scope="team").status_code == 403  # still only admins
    me = insights(client, ann, **{"from": D.isoformat(), "to": D.isoformat()}).get_json()
    assert me["scope"] == "me" and me["team_available"] is False and "members" not in me
    team = insights(client, admin, scope="team", **{"from": D.isoformat(), "to": D.isoformat()}).get_json()
    assert team["scope"] == "team" and team["team_available"] is True
    by_user = {m["user_id"]: m for m in team["members"]}
    assert set(by_user) == {ann.user_id, admin.user_id}  # Bob is in another org
    assert (by_user[ann.user_id]["emails"], by_user[admin.user_id]["emails"]) == (4, 0)
    assert team["figures"]["emails"] == 4
    assert client.put("/api/v1/insights/team-setting", json={"enabled": False}, headers=admin.headers).status_code == 200
    assert insights(client, admin, scope="team").status_code == 403


def test_csv_export_has_emails_and_counted_events_and_no_address(client, app, ann, data):
    _add(app, ann.user_id, "=HYPERLINK(\"http://evil\")", T0 + 13 * H, ["evil.example"], [],
         recipients=[{"name": "Eve", "address": "eve@evil.example"}])
    resp = client.get("/api/v1/insights/export.csv", query_string={"from": D.isoformat(), "to": D.isoformat()},
                      headers=ann.headers)
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    text = resp.get_data(as_text=True)
    assert "@" not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    emails = [r for r in rows if r["record"] == "email"]
    events = [r for r in rows if r["record"] == "event"]
    assert sorted(r["subject"] for r in emails) == ["'=HYPERLINK(\"http://evil\")", "A", "B", "C", "D"]
    assert len(events) == 5 and {r["verdict"] for r in events} == {"human", "gmail"}  # counted only
    assert {r["recipient_domains"] for r in emails if r["subject"] == "C"} == {"acme.com globex.io"}
    assert client.get("/api/v1/insights/export.csv", query_string={"from": "2026-03-10", "to": "2026-03-01"},
                      headers=ann.headers).status_code == 422


@pytest.mark.parametrize("delays, median", [
    ([30, 100, 4000, 90000], 2050),  # even: the two middle ones, in two buckets
    ([5, 7, 9], 7), ([600, 600], 600), ([2_000_000], 2_000_000),  # beyond the last bucket bound
])
def test_the_median_is_exact_whatever_the_buckets(app, client, ann, delays, median):
    from server.extensions import db
    from server.insights_rollup import rebuild_all

    for i, seconds in enumerate(delays):
        _add(app, ann.user_id, f"m{i}", T0, ["acme.com"], [("open", T0 + timedelta(seconds=seconds), "human", JAPAN)])
    with app.app_context():
        rebuild_all(db.session.connection())
        db.session.commit()
    f = insights(client, ann, **{"from": D.isoformat(), "to": D.isoformat()}).get_json()["figures"]
    assert f["median_first_open_seconds"] == median
