"""The command line an admin uses: orgs, users, tokens shown once and stored hashed."""

from __future__ import annotations

import sqlalchemy as sa


def test_create_org_user_token_and_sign_in(app, client):
    runner = app.test_cli_runner()
    r = runner.invoke(args=["create-org", "Acme", "--domain", "Acme.example", "--range", "203.0.113.7/24"])
    assert r.exit_code == 0 and "203.0.113.0/24" in r.output
    r = runner.invoke(args=["create-user", "Ann@Acme.example", "--org", "Acme", "--admin"],
                      env={"ENGAGE_PASSWORD": "long enough pw"})
    assert r.exit_code == 0, r.output
    r = runner.invoke(args=["token", "ann@acme.example"])
    token = r.output.strip()
    assert r.exit_code == 0 and len(token) >= 40
    from server.extensions import db
    from server.models import ApiToken

    with app.app_context():
        stored = db.session.execute(sa.select(ApiToken.token_hash)).scalars().all()
    assert token not in stored and len(stored) == 1  # only its hash is kept
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert me["user"] == {"email": "ann@acme.example", "name": "", "is_admin": True}
    assert me["org"]["internal_domains"] == ["acme.example"]
    signin = client.post("/api/v1/auth/signin", json={"email": "ANN@acme.example", "password": "long enough pw"})
    assert signin.status_code == 200


def test_cli_refuses_bad_input_clearly(app):
    runner = app.test_cli_runner()
    r = runner.invoke(args=["create-org", "Acme", "--range", "not-a-range"])
    assert r.exit_code != 0 and "not-a-range" in r.output
    r = runner.invoke(args=["create-user", "x@y.example", "--org", "Nope"], env={"ENGAGE_PASSWORD": "long enough pw"})
    assert r.exit_code != 0 and "No org named 'Nope'" in r.output
    runner.invoke(args=["create-org", "Acme"])
    r = runner.invoke(args=["create-user", "x@y.example", "--org", "Acme"], env={"ENGAGE_PASSWORD": "short"})
    assert r.exit_code != 0 and "8 characters" in r.output
    r = runner.invoke(args=["token", "ghost@y.example"])
    assert r.exit_code != 0 and "No user" in r.output


def test_serve_s_web_workers_give_freed_memory_back_sooner_unless_the_operator_chose():
    """`engage serve` sets granian's allocator to return freed pages after 1 s (held
    streams cost less after a storm of opens); an operator's own setting is kept."""
    from server.cli import web_environment

    env = web_environment({"PATH": "/usr/bin"}, 32)
    assert env["_RJEM_MALLOC_CONF"] == "dirty_decay_ms:1000"
    assert env["PATH"] == "/usr/bin" and env["ENGAGE_WSGI_THREADS"] == "32"
    assert env["ENGAGE_BACKGROUND_THREADS"] == "0"
    assert web_environment({"_RJEM_MALLOC_CONF": "dirty_decay_ms:0"}, 8)["_RJEM_MALLOC_CONF"] == "dirty_decay_ms:0"


def test_the_granian_engage_serve_runs_reads_that_allocator_setting():
    """The variable is the one granian's bundled jemalloc reads (a granian built with
    another allocator would silently ignore it): jemalloc echoes its settings."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", "import granian._granian"], capture_output=True, text=True,
                         env={"_RJEM_MALLOC_CONF": "dirty_decay_ms:1000,stats_print:true"}, timeout=60)
    assert "opt.dirty_decay_ms: 1000" in out.stderr
