"""The OpenAPI document states the rules the API enforces (issue 17, part 5), checked
fast and in-process; test_openapi_live.py runs schemathesis against ``engage serve``."""

from __future__ import annotations

import ipaddress
import re
import types

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from client_py.recipients import is_valid_address
from server.api.openapi_rules import CIDR, CURSOR, HTTP_URL, Address
from tests.fixtures.api import assert_api_error
from tests.server.helpers import register

RULES = settings(max_examples=150, deadline=None, database=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow])


def document(client) -> dict:
    return client.get("/api/openapi.json").get_json()


def operations_with_a_body(spec: dict):
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and op.get("requestBody", {}).get("required"):
                yield method.upper(), re.sub(r"\{[^}]+\}", "1", path)


def test_every_operation_with_a_body_refuses_none_and_non_json(client, ann):
    """Whatever the blueprint: the list comes from the document, so endpoints added later
    are held to it too."""
    found = list(operations_with_a_body(document(client)))
    assert ("PATCH", "/api/v1/org") in found and ("POST", "/api/v1/salesforce/outbox/retry") in found
    for method, path in found:
        err = assert_api_error(client.open(path, method=method, headers=ann.headers), 400)
        assert "JSON body" in err["message"], (method, path)
        assert_api_error(client.open(path, method=method, headers=ann.headers, data="{}",
                                     content_type="text/plain"), 415)


@pytest.mark.parametrize("path", ["/api/v1/org", "/api/v1/settings"])
def test_an_empty_object_still_changes_nothing(client, ann, path):
    assert client.patch(path, json={}, headers=ann.headers).status_code in (200, 403)


def test_one_link_too_many_is_a_422_naming_the_limit_even_at_full_length(client, ann):
    links = [f"https://prospect.example/{n}/" + "a" * 3970 for n in range(301)]  # 1.2 MB of JSON
    r = client.post("/api/v1/messages", headers=ann.headers, json={
        "recipients": [{"address": "carla@prospect.example"}], "thread_id": "t", "mode": "manual",
        "client": "gmail", "links": links})
    err = assert_api_error(r, 422)
    assert "At most 300 links" in err["message"] and "links" in err["details"]["json"]
    assert register(client, ann, links=links[:300])["links"][299]["url"] == links[299]


@pytest.mark.parametrize("path, body", [
    ("/api/v1/settings", {"auto_insert": 1}),
    ("/api/v1/settings", {"display_window_days": "14"}),
    ("/api/v1/settings", {"display_window_days": True}),
    ("/api/v1/threads", {"thread_id": "thread-1", "viewed": "yes"}),
])
def test_json_types_are_taken_as_the_document_says(client, ann, path, body):
    register(client, ann)
    assert_api_error(client.patch(path, json=body, headers=ann.headers), 422)


def test_every_string_the_document_describes_has_a_rule_that_refuses_nul(client):
    strings = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "string":
                strings.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    spec = document(client)
    walk(spec["components"])
    walk(spec["paths"])
    assert len(strings) > 100
    for node in strings:
        if "enum" in node or "format" in node:  # a date, a date-time: no NUL in those
            continue
        assert "pattern" in node, node
        assert re.search(node["pattern"], "a\x00b") is None, node["pattern"][:200]


def _props(spec, name):
    return spec["components"]["schemas"][name]["properties"]


def test_the_documented_patterns_are_the_ones_checked(client):
    spec = document(client)
    assert _props(spec, "RecipientIn")["address"]["pattern"] == Address().regex.pattern
    query = {p["name"]: p["schema"] for p in spec["paths"]["/api/v1/threads"]["get"]["parameters"]}
    assert query["cursor"]["pattern"] == f"^(?:{CURSOR})$"
    assert _props(spec, "OrgPatch")["office_ranges"]["items"]["pattern"] == f"^(?:{CIDR})$"
    assert _props(spec, "MessageIn")["links"]["items"]["pattern"] == f"^(?:{HTTP_URL})$"
    assert _props(spec, "Settings")["time_zone"]["enum"][:2] == ["Africa/Abidjan", "Africa/Accra"]
    assert _props(spec, "LinkIn")["record_id"]["pattern"].startswith("^(?:[A-Za-z0-9]{15}")
    assert spec["components"]["schemas"]["LinkIn"]["minProperties"] == 1
    assert "unpaired" in spec["info"]["description"]


@RULES
@given(st.from_regex(Address().whole, fullmatch=True))
def test_an_address_the_document_allows_is_one_client_py_accepts_but_for_unprintable_characters(address):
    """The document leaves out only the controls, spaces and invisible characters
    (openapi_rules.INVISIBLE); client_py also refuses unassigned code points."""
    assert (len(address) > 320 or is_valid_address(address)
            or not all(ch.isprintable() for ch in address)), address


@RULES
@given(st.from_regex(re.compile(CIDR), fullmatch=True))
def test_an_address_range_the_document_allows_is_one_ipaddress_reads(text):
    ipaddress.ip_network(text, strict=False)


@pytest.mark.parametrize("address", ["carla@prospect.example", "ça@bücher.example", "a.b+c@x.y.z.", "x@y.co"])
def test_client_pys_addresses_are_the_documents(address):
    assert is_valid_address(address) and Address().whole.fullmatch(address)


def test_the_rsgi_adapter_hands_flask_the_path_once_decoded():
    """granian gives the path percent-decoded already; decoding it again made %2541 an
    "A", and a character beyond latin-1 in PATH_INFO was a 500 in Werkzeug."""
    from server.rsgi import WsgiOnRsgi

    adapter = WsgiOnRsgi(lambda env, start: [], threads=1, max_body=10)
    scope = types.SimpleNamespace(server="127.0.0.1:80", client="127.0.0.1:5", method="GET", query_string="",
                                  http_version="1.1", scheme="http", headers={}, path="/api/v1/messages/%41\U000269c8")
    path = adapter.environ(scope, b"")["PATH_INFO"]
    assert path.encode("latin-1").decode("utf-8") == "/api/v1/messages/%41\U000269c8"
    adapter.pool.shutdown()


@pytest.mark.parametrize("path", ["/api/v1/admin/users/2394159376503201071104/tokens/10",
                                  "/api/v1/admin/users/9223372036854775808"])
def test_an_id_beyond_64_bits_is_a_404(client, make_account, path):
    admin = make_account(email="dee@acme.example", admin=True)
    assert_api_error(client.open(path, method="DELETE" if "tokens" in path else "PATCH", headers=admin.headers,
                                 json={"disabled": False}), 404)
