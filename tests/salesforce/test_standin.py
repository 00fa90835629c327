"""The stand-in answers simple-salesforce's own calls the way Salesforce does: if
these pass, the delivery tests exercise the same client code paths as production."""

from __future__ import annotations

import pytest
from simple_salesforce import Salesforce, format_soql
from simple_salesforce.exceptions import (SalesforceExpiredSession, SalesforceGeneralError,
                                          SalesforceMalformedRequest, SalesforceResourceNotFound)

from .conftest import CLIENT_ID, CLIENT_SECRET, PASSWORD, SECURITY_TOKEN, USERNAME


@pytest.fixture
def http(tls):
    from server.salesforce.client import TimeoutSession

    return TimeoutSession(5.0, tls["ca"])


def sign_in(standin, http) -> Salesforce:
    r = http.post(standin.url + "/services/oauth2/token", data={
        "grant_type": "password", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
        "username": USERNAME, "password": PASSWORD + SECURITY_TOKEN})
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) >= {"access_token", "instance_url", "id", "token_type", "issued_at", "signature"}
    return Salesforce(instance_url=body["instance_url"], session_id=body["access_token"], session=http)


def test_update_then_get_round_trips_through_simple_salesforce(standin, http):
    task = standin.add_record("Task", Subject="Email: Proposal")
    sf = sign_in(standin, http)
    assert sf.Task.update(task, {"First_Open__c": "2026-11-27T10:00:00.000+0000"}) == 204
    got = sf.Task.get(task, params={"fields": "First_Open__c,Last_Open__c"})
    assert got["First_Open__c"] == "2026-11-27T10:00:00.000+0000" and got["Last_Open__c"] is None
    assert got["attributes"] == {"type": "Task", "url": f"/services/data/v59.0/sobjects/Task/{task}"}
    assert standin.patches(task) == [("Task", task, {"First_Open__c": "2026-11-27T10:00:00.000+0000"})]


@pytest.mark.parametrize("arrange, exc, code, message", [
    (lambda sf, t: sf.schema["Task"].discard("First_Open__c"), SalesforceMalformedRequest, "INVALID_FIELD",
     "No such column 'First_Open__c' on sobject of type Task"),
    (lambda sf, t: sf.deleted.add(t), SalesforceResourceNotFound, "ENTITY_IS_DELETED", "entity is deleted"),
    (lambda sf, t: sf.readonly.add(t), SalesforceMalformedRequest, "INSUFFICIENT_ACCESS_OR_READONLY",
     "insufficient access rights on object id"),
    (lambda sf, t: sf.expire_sessions(), SalesforceExpiredSession, "INVALID_SESSION_ID", "Session expired or invalid"),
])
def test_errors_come_back_as_simple_salesforce_exceptions(standin, http, arrange, exc, code, message):
    task = standin.add_record("Task")
    sf = sign_in(standin, http)
    arrange(standin, task)
    with pytest.raises(exc) as caught:
        sf.Task.update(task, {"First_Open__c": "2026-11-27T10:00:00.000+0000"})
    assert caught.value.content == [{"message": message, "errorCode": code, "fields": []}]
    assert standin.patches() == []


def test_outage_is_a_503_html_page(standin, http, clock):
    sf = sign_in(standin, http)
    task = standin.add_record("Task")
    standin.outage_for(60)
    with pytest.raises(SalesforceGeneralError) as caught:
        sf.Task.update(task, {"Last_Open__c": "2026-11-27T10:00:00.000+0000"})
    assert caught.value.status == 503 and "Service Unavailable" in caught.value.content
    clock.advance(61)
    assert sf.Task.update(task, {"Last_Open__c": "2026-11-27T10:00:00.000+0000"}) == 204


def test_soql_query_shape_and_escaping(standin, http):
    tricky = "<it's\\a \"quote\"@mail.example>"
    wanted = standin.add_record("EmailMessage", MessageIdentifier=tricky)
    standin.add_record("EmailMessage", MessageIdentifier="<other@mail.example>")
    sf = sign_in(standin, http)
    result = sf.query(format_soql("SELECT Id FROM EmailMessage WHERE MessageIdentifier = {m}", m=tricky))
    assert result == {"totalSize": 1, "done": True, "records": [
        {"attributes": {"type": "EmailMessage", "url": f"/services/data/v59.0/sobjects/EmailMessage/{wanted}"},
         "Id": wanted}]}


@pytest.mark.parametrize("soql, code, words", [
    ("SELECT Id, Bogus__c FROM Task", "INVALID_FIELD", "No such column 'Bogus__c' on entity 'Task'"),
    ("SELECT Id FROM Nope", "INVALID_TYPE", "sObject type 'Nope' is not supported"),
    ("SELECT Id FROM Task WHERE Subject = 'unterminated", "MALFORMED_QUERY", "unexpected token"),
    ("SELECT Id FROM Task WHERE Subject = 'bad \\q escape'", "MALFORMED_QUERY", "Illegal escape sequence"),
])
def test_soql_errors(standin, http, soql, code, words):
    sf = sign_in(standin, http)
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.query(soql)
    [err] = caught.value.content
    assert err["errorCode"] == code and words in err["message"]


def test_jwt_bearer_grant_checks_signature_audience_and_user(standin, http, jwt_keys):
    import time

    import jwt as pyjwt

    from .standin import rsa_keypair

    def token(key, **claims):
        body = {"iss": CLIENT_ID, "sub": USERNAME, "aud": "https://login.salesforce.com",
                "exp": int(time.time()) + 180, **claims}
        return http.post(standin.url + "/services/oauth2/token", data={
            "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "assertion": pyjwt.encode(body, key, algorithm="RS256")})

    ok = token(jwt_keys[0])
    assert ok.status_code == 200 and ok.json()["instance_url"] == standin.url
    other_key = rsa_keypair()[0]
    assert token(other_key).json() == {"error": "invalid_grant", "error_description": "invalid assertion"}
    assert token(jwt_keys[0], aud="https://evil.example").json()["error_description"] == "audience is invalid"
    assert token(jwt_keys[0], sub="nobody@acme.example").json()["error_description"] == \
        "user hasn't approved this consumer"
    assert token(jwt_keys[0], exp=int(time.time()) - 10).status_code == 400


def test_password_grant_refuses_wrong_password(standin, http):
    r = http.post(standin.url + "/services/oauth2/token", data={
        "grant_type": "password", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
        "username": USERNAME, "password": PASSWORD})  # security token missing
    assert r.status_code == 400 and r.json() == {"error": "invalid_grant", "error_description": "authentication failure"}
