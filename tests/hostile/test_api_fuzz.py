"""Schemathesis against the real app's own ``/api/openapi.json``.

Every operation gets generated valid requests (positive) and requests that break the
document (negative), signed in as an org admin who already has a tracked email. Whatever
comes in, the answer is no 5xx, a documented status code, the documented content type,
and a body that matches the documented schema (the one error shape for every error).

The live stream (``GET /api/v1/stream``) never ends, so it is left out here and tested
for bad tickets in ``test_stream_tickets.py``. Runs in-process over WSGI on SQLite and on
PostgreSQL (whose text columns refuse NUL characters, which SQLite stores happily).
Reproducible: Hypothesis is derandomized and keeps no example database.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from client_py.recipients import is_valid_address
from tests.server.helpers import register

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
EXAMPLES_PER_MODE = 30
STREAM = "/api/v1/stream"
# Each operation documents its success code and 422; every other error comes through its
# documented `default` response (the one error shape). These are the ones the API means
# to send that way; anything else (409, 418, 502, ...) would be undocumented.
GENERAL_ERRORS = {400, 401, 403, 404, 405, 413, 415, 422, 429}
FUZZ = settings(
    max_examples=EXAMPLES_PER_MODE, deadline=None, derandomize=True, database=None,
    # Every call goes through the app and a database: slow next to plain Hypothesis tests.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


@pytest.fixture
def admin(client, make_account):
    account = make_account(admin=True)
    register(client, account)  # so lists, pins and reads have something to work on
    return account


def registrable(case):
    """A generated ``POST /messages`` body with plain recipient addresses and links, so
    that positive cases reach the database with every other generated value intact (the
    document states those rules now: test_openapi_live.py checks generated ones too)."""
    body = case.body
    if case.operation.label == "POST /api/v1/messages" and isinstance(body, dict):
        for n, recipient in enumerate(body.get("recipients") or ()):
            if isinstance(recipient, dict) and not is_valid_address(str(recipient.get("address", ""))):
                recipient["address"] = f"r{n}@prospect.example"
        if isinstance(body.get("links"), list):
            body["links"] = [f"https://prospect.example/{n}?q={link!s:.50}"
                             for n, link in enumerate(body["links"])]
    return case


def has_inputs(operation) -> bool:
    return bool(len(operation.body) or len(operation.query) or len(operation.path_parameters))


def test_every_operation_answers_within_its_document(app, admin, subtests):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app).exclude(path=STREAM, method="GET")
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = {op.label for op in operations}
    assert {"POST /api/v1/messages", "GET /api/v1/threads", "PATCH /api/v1/settings"} <= labels
    assert f"GET {STREAM}" not in labels
    for operation in operations:
        documented = {int(code) for code in operation.definition.raw["responses"] if code.isdigit()}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            if mode is GenerationMode.NEGATIVE and not has_inputs(operation):
                continue  # only the (fixed) Authorization header to break

            cases = operation.as_strategy(generation_mode=mode, headers=admin.headers)

            @FUZZ
            @given(case=cases.map(registrable) if mode is GenerationMode.POSITIVE else cases)
            def call(case):
                response = case.call_and_validate(checks=CHECKS)
                assert response.status_code in documented | GENERAL_ERRORS, (
                    f"{operation.label} answered an undocumented {response.status_code}")

            with subtests.test(msg=f"{operation.label} {mode.value}"):
                try:
                    call()
                except Unsatisfiable:
                    # A negative strategy with nothing it can break (say, a free-form
                    # string path parameter) generates nothing; positive ones always do.
                    if mode is GenerationMode.POSITIVE:
                        raise
