"""The live stream (left out of the schemathesis run because it never ends) refuses every
ticket it did not just hand out to a signed-in user, in the API's one error shape, and
takes any ``Last-Event-ID`` header without failing."""

from __future__ import annotations

import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from server.api.stream import TICKET_SECONDS, _serializer, resume_id
from tests.fixtures.api import assert_api_error
from tests.server.helpers import LONDON, hit_pixel, register

STREAM = "/api/v1/stream"
# A stream that never yields would hang the run: fail with a traceback instead.
pytestmark = pytest.mark.timeout(60)


def new_ticket(client, account) -> str:
    resp = client.post("/api/v1/stream/tickets", headers=account.headers)
    assert resp.status_code == 201
    return resp.get_json()["ticket"]


def first_chunk(resp) -> str:
    try:
        return next(iter(resp.response)).decode()
    finally:
        resp.close()


def ticket_from_another_server(user_id: int) -> str:
    return URLSafeTimedSerializer("some other installation's key", salt="engage-stream-ticket").dumps(user_id)


@pytest.mark.parametrize("make_bad", [
    pytest.param(lambda good: "garbage", id="garbage"),
    # Not the last character: in unpadded base64 its low bits are padding, so some
    # changes there decode to the very same signature (the same ticket, rightly accepted).
    pytest.param(lambda good: good[:-5] + ("A" if good[-5] != "A" else "B") + good[-4:], id="signature-char-changed"),
    pytest.param(lambda good: good + "x", id="extra-char"),
    pytest.param(lambda good: good.split(".")[0], id="payload-without-signature"),
    pytest.param(lambda good: "." * 3, id="dots"),
    pytest.param(lambda good: good.swapcase(), id="swapped-case"),
    pytest.param(lambda good: ticket_from_another_server(1), id="signed-with-another-key"),
    pytest.param(lambda good: "%00" + good, id="leading-percent-junk"),
])
def test_a_ticket_that_was_not_handed_out_is_refused(client, ann, make_bad):
    bad = make_bad(new_ticket(client, ann))
    err = assert_api_error(client.get(STREAM, query_string={"ticket": bad}), 401)
    assert err["code"] == "unauthorized" and "ticket" in err["message"]


def test_an_expired_ticket_is_refused_and_says_so(app, client, ann, monkeypatch):
    real_time = time.time
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(real_time()) - TICKET_SECONDS - 5)
    with app.test_request_context():
        old = _serializer().dumps(ann.user_id)
    monkeypatch.undo()
    err = assert_api_error(client.get(STREAM, query_string={"ticket": old}), 401)
    assert "expired" in err["message"]


def test_a_genuine_ticket_for_a_user_who_no_longer_exists_is_refused(app, client):
    with app.test_request_context():
        ticket = _serializer().dumps(987654)
    assert_api_error(client.get(STREAM, query_string={"ticket": ticket}), 401)


def test_an_oversized_ticket_is_a_422_not_a_signature_check(client):
    err = assert_api_error(client.get(STREAM, query_string={"ticket": "a" * 5000}), 422)
    assert "ticket" in err["message"]


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer not-a-token"},
    {"Authorization": "Basic YW5uOnBhc3M="},
])
def test_without_ticket_or_valid_token_the_stream_does_not_open(client, headers):
    assert_api_error(client.get(STREAM, headers=headers), 401)


def test_an_empty_ticket_falls_back_to_the_bearer_token(client, ann):
    assert_api_error(client.get(STREAM, query_string={"ticket": ""}), 401)
    resp = client.get(STREAM, query_string={"ticket": ""}, headers=ann.headers, buffered=False)
    assert resp.status_code == 200 and "connected" in first_chunk(resp)


def test_a_genuine_ticket_opens_the_stream(client, ann):
    resp = client.get(STREAM, query_string={"ticket": new_ticket(client, ann)}, buffered=False)
    assert resp.status_code == 200 and resp.mimetype == "text/event-stream"
    assert "connected" in first_chunk(resp)


@pytest.mark.parametrize("header", [
    "²",  # str.isdigit() says yes, int() says no
    "٣",  # Arabic-Indic three: a digit to Python, not an id we sent
    "9" * 5000,  # longer than int() converts
    "9" * 30,  # beyond a 64-bit id
    "-1", "1e3", "0x10", "", " ",
])
def test_any_last_event_id_starts_a_stream_from_now(app, client, ann, header):
    hit_pixel(app.test_client(), register(client, ann), ip=LONDON)
    resp = client.get(STREAM, headers={**ann.headers, "Last-Event-ID": header}, buffered=False)
    assert resp.status_code == 200
    assert "connected" in first_chunk(resp)


def test_a_last_event_id_we_sent_still_resumes_after_it(app, client, ann):
    hit_pixel(app.test_client(), register(client, ann), ip=LONDON)
    resp = client.get(STREAM, headers={**ann.headers, "Last-Event-ID": "0"}, buffered=False)
    chunks = iter(resp.response)
    try:
        assert "connected" in next(chunks).decode()
        assert "event: engagement" in next(chunks).decode()  # the hit before we connected
    finally:
        resp.close()


@pytest.mark.parametrize("header,expected", [
    ("17", 17), (" 17 ", 17), ("9" * 18, int("9" * 18)),
    ("9" * 19, None), ("²", None), ("١٢", None), ("-3", None), ("", None),
])
def test_resume_id_reads_only_ids_this_server_sends(header, expected):
    assert resume_id(header) == expected


# -- the holes found by probing (issue 11, section 3) ----------------------------------------


def test_a_ticket_opens_one_stream_once(client, ann):
    ticket = new_ticket(client, ann)
    first = client.get(STREAM, query_string={"ticket": ticket}, buffered=False)
    assert first.status_code == 200
    first.close()
    err = assert_api_error(client.get(STREAM, query_string={"ticket": ticket}), 401)
    assert "used already" in err["message"]


def test_a_ticket_stops_working_when_its_sign_in_ends(client, ann):
    ticket = new_ticket(client, ann)
    assert client.post("/api/v1/auth/signout", headers=ann.headers).status_code in (200, 204)
    err = assert_api_error(client.get(STREAM, query_string={"ticket": ticket}), 401)
    assert "sign in again" in err["message"]


def test_an_open_stream_ends_at_sign_out_and_delivers_nothing_after_it(app, client, ann):
    msg = register(client, ann)
    resp = client.get(STREAM, headers=ann.headers, buffered=False)
    chunks = iter(resp.response)
    try:
        assert "connected" in next(chunks).decode()
        assert client.post("/api/v1/auth/signout", headers=ann.headers).status_code in (200, 204)
        hit_pixel(app.test_client(), msg, ip=LONDON)  # wakes the stream
        rest = "".join(chunk.decode() for chunk in chunks)  # the stream ends by itself
    finally:
        resp.close()
    assert "signed-out" in rest and "engagement" not in rest


def test_one_user_cannot_take_every_stream(app, client, ann, bob):
    app.config["STREAMS_PER_USER"] = 2
    held = [client.get(STREAM, headers=ann.headers, buffered=False) for _ in range(2)]
    try:
        assert [r.status_code for r in held] == [200, 200]
        err = assert_api_error(client.get(STREAM, headers=ann.headers), 429)
        assert "this user" in err["message"]
        other = client.get(STREAM, headers=bob.headers, buffered=False)
        assert other.status_code == 200
        other.close()
    finally:
        for r in reversed(held):  # the test client's request contexts unwind last-in, first-out
            r.close()
