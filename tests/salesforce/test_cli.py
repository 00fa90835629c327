"""``engage salesforce configure|status|retry|deliver`` through Flask's CLI runner."""

from __future__ import annotations

from tests.server.helpers import hit_pixel

from .conftest import CLIENT_ID, CLIENT_SECRET, PASSWORD, SECURITY_TOKEN, USERNAME
from .helpers import linked_task


def test_configure_from_the_command_line_with_secrets_from_the_environment(sf_app, make_account, standin):
    make_account(email="ann@acme.example", admin=True)
    runner = sf_app.test_cli_runner()
    result = runner.invoke(args=[
        "salesforce", "configure", "Acme", "--instance-url", standin.url, "--flow", "password",
        "--client-id", CLIENT_ID, "--username", USERNAME, "--on"],
        env={"SALESFORCE_CLIENT_SECRET": CLIENT_SECRET, "SALESFORCE_PASSWORD": PASSWORD,
             "SALESFORCE_SECURITY_TOKEN": SECURITY_TOKEN})
    assert result.exit_code == 0, result.output
    assert "on, password flow" in result.output and "Task.First_Open__c" in result.output
    assert "secrets set: client_secret, password, security_token" in result.output
    assert PASSWORD not in result.output and CLIENT_SECRET not in result.output


def test_configure_refuses_what_cannot_work(sf_app, make_account, standin):
    make_account(email="ann@acme.example", admin=True)
    runner = sf_app.test_cli_runner()
    result = runner.invoke(args=["salesforce", "configure", "Acme", "--instance-url", standin.url,
                                 "--flow", "password", "--client-id", CLIENT_ID, "--username", USERNAME])
    assert result.exit_code != 0 and "the password flow needs client_secret" in result.output
    assert runner.invoke(args=["salesforce", "configure", "Nope"]).exit_code != 0


def test_status_shows_reasons_and_retry_and_deliver_work(synced, client):
    s = synced
    message, task = linked_task(s, client, subject="Quote")
    s.standin.readonly.add(task)
    hit_pixel(client, message)
    runner = s.app.test_cli_runner()
    assert runner.invoke(args=["salesforce", "deliver"]).output.strip() == "failed 1"
    out = runner.invoke(args=["salesforce", "status", "Acme"]).output
    assert "pending 0, delivered 0, failed 1" in out
    assert f"failed    Task {task} 'Quote'" in out
    assert "reason=INSUFFICIENT_ACCESS_OR_READONLY: insufficient access rights on object id" in out

    s.standin.readonly.discard(task)
    assert runner.invoke(args=["salesforce", "retry", "Acme"]).output.strip() == "requeued 1 failed updates"
    assert runner.invoke(args=["salesforce", "deliver"]).output.strip() == "delivered 1"
    out = runner.invoke(args=["salesforce", "status", "Acme", "--status", "delivered"]).output
    assert "pending 0, delivered 1, failed 0" in out and "first=" in out
    assert runner.invoke(args=["salesforce", "deliver"]).output.strip() == "nothing due"


def test_the_jwt_key_file_is_given_by_the_operator(sf_app, make_account, standin, jwt_keys, tmp_path):
    make_account(email="ann@acme.example", admin=True)
    key_file = tmp_path / "salesforce.pem"
    key_file.write_text(jwt_keys[0])
    runner = sf_app.test_cli_runner()
    base = ["salesforce", "configure", "Acme", "--instance-url", standin.url, "--flow", "jwt",
            "--client-id", CLIENT_ID, "--username", USERNAME, "--private-key-file", str(key_file), "--on"]
    result = runner.invoke(args=base)
    assert result.exit_code == 0 and "secrets set: none" in result.output, result.output
    result = runner.invoke(args=[*base, "--store-private-key"])
    assert result.exit_code == 0 and "secrets set: private_key" in result.output, result.output
    assert "PRIVATE KEY" not in result.output
