"""Schemathesis hooks for test_openapi_live.py (loaded with ``SCHEMATHESIS_HOOKS``).

The run signs in like the extension does and signs in again whenever its token stops
working: sign-out and ``DELETE /api/v1/admin/users/{id}/tokens/{id}`` are fuzzed like
every other operation, and may well revoke the very token the run is using. The
fuzzed sign-ins (wrong passwords, all from 127.0.0.1) soon reach the per-address limit,
so this one signs in from an address of its own (the server trusts X-Forwarded-For
from 127.0.0.1 for this run)."""

from __future__ import annotations

import json
import os
import urllib.request

import schemathesis


SIGN_IN_FROM = "198.51.100.7"


@schemathesis.auth()
class SignIn:
    def get(self, case, ctx):
        body = json.dumps({"email": os.environ["ENGAGE_FUZZ_EMAIL"], "password": os.environ["ENGAGE_FUZZ_PASSWORD"],
                           "label": "schemathesis"}).encode()
        request = urllib.request.Request(os.environ["ENGAGE_FUZZ_URL"] + "/api/v1/auth/signin", data=body,
                                         headers={"Content-Type": "application/json", "X-Forwarded-For": SIGN_IN_FROM},
                                         method="POST")
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)["token"]

    def set(self, case, data, ctx):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
