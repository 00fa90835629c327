"""Which Salesforce errors are retried and which set an update aside (pure)."""

from __future__ import annotations

import json

import pytest
import requests
from simple_salesforce.exceptions import SalesforceMalformedRequest

from server.salesforce.failures import Failure, auth_failure, from_exception, from_response


def sf_body(code: str, message: str = "m") -> str:
    return json.dumps([{"message": message, "errorCode": code, "fields": []}])


@pytest.mark.parametrize("status, body, code, retryable", [
    (400, sf_body("INVALID_FIELD"), "INVALID_FIELD", False),
    (404, sf_body("ENTITY_IS_DELETED"), "ENTITY_IS_DELETED", False),
    (400, sf_body("INSUFFICIENT_ACCESS_OR_READONLY"), "INSUFFICIENT_ACCESS_OR_READONLY", False),
    (404, sf_body("NOT_FOUND"), "NOT_FOUND", False),
    (400, sf_body("MALFORMED_ID"), "MALFORMED_ID", False),
    (400, sf_body("SOME_NEW_CODE"), "SOME_NEW_CODE", False),  # an unknown 4xx: the request is wrong
    (401, sf_body("INVALID_SESSION_ID"), "INVALID_SESSION_ID", True),
    (403, sf_body("REQUEST_LIMIT_EXCEEDED"), "REQUEST_LIMIT_EXCEEDED", True),
    (400, sf_body("UNABLE_TO_LOCK_ROW"), "UNABLE_TO_LOCK_ROW", True),
    (503, sf_body("SERVER_UNAVAILABLE"), "SERVER_UNAVAILABLE", True),
    (500, sf_body("UNKNOWN_EXCEPTION"), "UNKNOWN_EXCEPTION", True),
    (503, "<html><title>Down for Maintenance</title><body>...</body></html>", "HTTP_5XX", True),
    (502, "", "HTTP_5XX", True),
    (429, "slow down", "HTTP_429", True),
    (418, "teapot", "HTTP_418", False),
])
def test_classification(status, body, code, retryable):
    failure = from_response(status, body)
    assert (failure.code, failure.retryable, failure.status) == (code, retryable, status)


def test_an_outage_page_is_summarised_by_its_title():
    failure = from_response(503, "<html><head><title> Down for\nMaintenance </title></head><body>x</body></html>")
    assert failure.message == "HTTP 503: Down for Maintenance"


def test_salesforce_messages_are_kept_whole_but_bounded():
    failure = from_response(400, sf_body("INVALID_FIELD", "No such column 'X__c' on sobject of type Task"))
    assert failure.message == "No such column 'X__c' on sobject of type Task"
    assert len(from_response(400, sf_body("INVALID_FIELD", "x" * 5000)).message) == 1000


@pytest.mark.parametrize("body, code", [
    ({"error": "invalid_grant", "error_description": "authentication failure"}, "AUTH_INVALID_GRANT"),
    ({"error": "invalid_client_id", "error_description": "client identifier invalid"}, "AUTH_INVALID_CLIENT_ID"),
    ("<html><title>Service Unavailable</title></html>", "AUTH_HTTP_5XX"),
])
def test_refused_sign_ins_wait_for_the_admin_rather_than_fail(body, code):
    failure = auth_failure(400 if isinstance(body, dict) else 503, json.dumps(body) if isinstance(body, dict) else body)
    assert (failure.code, failure.retryable) == (code, True)


@pytest.mark.parametrize("exc, code, retryable", [
    (requests.ConnectTimeout(), "TIMEOUT", True),
    (requests.ReadTimeout(), "TIMEOUT", True),
    (requests.ConnectionError(), "CONNECTION", True),
    (SalesforceMalformedRequest("u", 400, "Task", [{"errorCode": "INVALID_FIELD", "message": "m"}]),
     "INVALID_FIELD", False),
])
def test_exceptions(exc, code, retryable):
    failure = from_exception(exc)
    assert (failure.code, failure.retryable) == (code, retryable)


def test_a_bug_is_not_disguised_as_a_salesforce_failure():
    with pytest.raises(KeyError):
        from_exception(KeyError("x"))
    assert isinstance(from_exception(Failure("X", "y", True)), Failure)
