"""The real thing end to end: a granian-served Engage process whose own delivery
thread talks to the stand-in, killed with SIGKILL while Salesforce is down and
updates are queued, then started again: every update arrives, once."""

from __future__ import annotations

import time
import urllib.request

from tests.live_server import TRUST_LOCAL_PROXY, LiveServer
from tests.server.helpers import CHROME_DESKTOP, LONDON, path_of

from .conftest import CLIENT_ID, CLIENT_SECRET, PASSWORD, SECURITY_TOKEN, USERNAME


def wait_for(check, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_killed_server_delivers_every_queued_update_once_after_restart(tmp_path, geo_db, tls, standin):
    live = LiveServer(instance=tmp_path / "instance", database_url=f"sqlite:///{tmp_path / 'engage.db'}",
                      geo_db=geo_db, extra_env={"REQUESTS_CA_BUNDLE": tls["ca"], "ENGAGE_SALESFORCE_HOSTS": "127.0.0.1",
                                                **TRUST_LOCAL_PROXY})
    live.migrate()
    token = live.create_user(admin=True)
    live.cli("salesforce", "configure", "Acme", "--instance-url", standin.url, "--flow", "password",
             "--client-id", CLIENT_ID, "--username", USERNAME, "--on",
             env={"SALESFORCE_CLIENT_SECRET": CLIENT_SECRET, "SALESFORCE_PASSWORD": PASSWORD,
                  "SALESFORCE_SECURITY_TOKEN": SECURITY_TOKEN})
    standin.outage_for(3600)
    live.start()
    try:
        tasks = []
        for i in range(4):
            status, msg, _ = live.request("POST", "/api/v1/messages", {
                "subject": f"Offer {i}", "recipients": [{"name": "", "address": "carla@prospect.example"}],
                "thread_id": f"t{i}", "mode": "manual", "client": "gmail"}, token)
            assert status == 201, msg
            tasks.append(standin.add_record("Task"))
            status, _, _ = live.request("PUT", f"/api/v1/messages/{msg['id']}/salesforce",
                                        {"record_id": tasks[-1]}, token)
            assert status == 200
            req = urllib.request.Request(live.url + path_of(msg["pixel_url"]),
                                         headers={"User-Agent": CHROME_DESKTOP, "X-Forwarded-For": LONDON})
            with urllib.request.urlopen(req, timeout=10) as r:
                assert r.status == 200
        wait_for(lambda: standin.count("/sobjects/", status=503) + standin.count("/oauth2/", status=503) >= 4,
                 30, "the worker to try during the outage")
        live.kill9()
        assert standin.applied == []
        standin.outage_until = None
        live.start()
        try:
            wait_for(lambda: len(standin.applied) >= 4, 60, "every update to arrive after the restart")
        except AssertionError:
            raise AssertionError(f"{live.cli('salesforce', 'status', 'Acme')}\n{standin.calls[-8:]}\n"
                                 f"{live.log_path.read_text()[-3000:]}") from None
        time.sleep(3)  # a few more delivery passes: nothing more may arrive
        assert sorted(rid for _, rid, _ in standin.applied) == sorted(tasks)
        assert "pending 0, delivered 4, failed 0" in live.cli("salesforce", "status", "Acme")
    finally:
        live.stop()
