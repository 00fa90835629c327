"""Schemathesis, the command line, with every check it has (``--checks all``), against a
live ``engage serve`` and the whole of its own ``/api/openapi.json``.

Beyond "no 5xx, every answer as documented", ``--checks all`` holds the document to its
word both ways: a request it allows must not be refused with a 4xx other than 401, 403,
404, 409 or 429 (``positive_data_acceptance``), and one it forbids must be refused
(``negative_data_rejection``: a missing body, a string with a NUL, a link too many).
So every rule the API enforces has to be in the document.

Every operation the document lists is run, endpoints added later included, except the
live stream (it never ends; test_stream_tickets.py covers it). Sign-out and token
revocation are run too: the hooks sign in again when the token stops working.
Deterministic (a fixed seed, no example database), and bounded: a few examples per
operation, which took about a minute here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.addresses import PASSWORD, USER
from tests.live_server import ROOT, TRUST_LOCAL_PROXY, LiveServer

SEED = "20261201"
EXAMPLES = "12"  # per operation and phase; with the stateful phase ~2,000 requests


@pytest.fixture(scope="module")
def live(tmp_path_factory, geo_db):
    instance = tmp_path_factory.mktemp("openapi-live")
    server = LiveServer(instance=instance, database_url=f"sqlite:///{instance / 'engage.db'}", geo_db=geo_db,
                        mode="serve", workers=1, extra_env=dict(TRUST_LOCAL_PROXY))
    server.migrate()
    token = server.create_user(admin=True)
    server.start()
    # Something for the reading operations to find.
    status, _, _ = server.request("POST", "/api/v1/messages", token=token, body={
        "subject": "Proposal", "recipients": [{"address": "carla@prospect.example"}], "thread_id": "t-1",
        "mode": "manual", "client": "gmail", "links": ["https://prospect.example/offer"]})
    assert status == 201
    yield server
    server.stop()


def test_schemathesis_with_every_check_passes_against_engage_serve(live, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SCHEMATHESIS_HOOKS": "tests.hostile.schemathesis_auth",
           "ENGAGE_FUZZ_URL": live.url, "ENGAGE_FUZZ_EMAIL": USER, "ENGAGE_FUZZ_PASSWORD": PASSWORD}
    command = [str(Path(sys.executable).parent / "st"), "--config-file", str(Path(__file__).with_name("schemathesis.toml")),
               "run", f"{live.url}/api/openapi.json",
               "--checks", "all", "--exclude-path", "/api/v1/stream",
               "--max-examples", EXAMPLES, "--seed", SEED, "--generation-deterministic", "--workers", "1", "--request-timeout", "30", "--no-color"]
    # Run elsewhere than the repository: schemathesis keeps a cache folder in its cwd.
    run = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-20000:]
    # It ran the operations (not, say, none of an unreadable document).
    tested = re.search(r"Tested:\s+(\d+)", out)
    assert tested and int(tested.group(1)) >= 28, out[-5000:]
    log = live.log_path.read_text()
    assert "Traceback" not in log, log[-5000:]
