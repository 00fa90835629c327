"""``engage salesforce ...``: configure an org's Salesforce sync, see the outbox,
retry failed updates, deliver now.

    engage salesforce configure Acme --instance-url https://acme.my.salesforce.com \\
        --flow jwt --client-id 3MVG... --username sync@acme.com --private-key-file /etc/engage/sf.pem --on
    engage salesforce status Acme [--status failed] [--limit 20]
    engage salesforce retry Acme [--id 12 ...]
    engage salesforce deliver            (one delivery pass now; the server does it by itself)

Secrets are taken from options or, better (no shell history), environment
variables: SALESFORCE_CLIENT_SECRET, SALESFORCE_PASSWORD, SALESFORCE_SECURITY_TOKEN."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from ..extensions import db
from ..models import Org
from . import admin
from .models import FLOWS, OBJECTS, STATUSES, SalesforceConfig


def _org(name: str) -> Org:
    org = db.session.execute(sa.select(Org).where(Org.name == name)).scalar_one_or_none()
    if org is None:
        raise click.ClickException(f"No org named {name!r}; create it with `engage create-org`.")
    return org


@click.group("salesforce")
def salesforce_group():
    """Salesforce sync of First Open / Last Open."""


@salesforce_group.command("configure")
@click.argument("org_name")
@click.option("--instance-url", help="https://<my-domain>.my.salesforce.com")
@click.option("--login-url", help="Token endpoint host, when not the instance (e.g. https://test.salesforce.com).")
@click.option("--flow", "auth_flow", type=click.Choice(FLOWS), help="OAuth 2.0 JWT bearer or username-password.")
@click.option("--client-id", help="The connected app's consumer key.")
@click.option("--username", help="The integration user.")
@click.option("--client-secret", envvar="SALESFORCE_CLIENT_SECRET", help="Password flow. Or SALESFORCE_CLIENT_SECRET.")
@click.option("--password", envvar="SALESFORCE_PASSWORD", help="Password flow. Or SALESFORCE_PASSWORD.")
@click.option("--security-token", envvar="SALESFORCE_SECURITY_TOKEN", help="Or SALESFORCE_SECURITY_TOKEN.")
@click.option("--private-key-file", "private_key_path", type=click.Path(exists=True, dir_okay=False),
              help="JWT flow: PEM file, read by the server when it signs in (not copied).")
@click.option("--store-private-key", is_flag=True, help="Copy the key file's content into the database, encrypted.")
@click.option("--jwt-audience", help="JWT 'aud' (default https://login.salesforce.com).")
@click.option("--object", "sobject", type=click.Choice(OBJECTS))
@click.option("--first-field", "first_open_field", help="Default First_Open__c.")
@click.option("--last-field", "last_open_field", help="Default Last_Open__c.")
@click.option("--api-version", help="Default 59.0.")
@click.option("--on/--off", "enabled", default=None, help="Turn the sync on or off.")
@with_appcontext
def configure(org_name, store_private_key, **options):
    """Create or change ORG_NAME's Salesforce configuration (options not given are kept)."""
    org = _org(org_name)
    changes = {k: v for k, v in options.items() if v is not None}
    if store_private_key:
        if not options.get("private_key_path"):
            raise click.BadParameter("needs --private-key-file", param_hint="--store-private-key")
        with open(options["private_key_path"]) as f:
            changes["private_key"] = f.read()
        changes["private_key_path"] = ""
    try:
        cfg = admin.apply_config(org.id, changes, current_app.config["SECRET_KEY"])
    except admin.ConfigError as err:
        raise click.ClickException(str(err))
    view = admin.config_view(cfg, current_app.config["SECRET_KEY"])
    held = [k[4:] for k, v in view.items() if k.startswith("has_") and v]
    click.echo(f"Salesforce for {org_name!r}: {'on' if cfg.enabled else 'off'}, {cfg.auth_flow} flow as "
               f"{cfg.username} at {cfg.instance_url}; {cfg.sobject}.{cfg.first_open_field} / "
               f"{cfg.sobject}.{cfg.last_open_field}; secrets set: {', '.join(held) or 'none'}")


@salesforce_group.command("status")
@click.argument("org_name")
@click.option("--status", type=click.Choice(STATUSES), default=None, help="Only rows in this state.")
@click.option("--limit", type=int, default=20, show_default=True)
@with_appcontext
def status(org_name, status, limit):
    """Show ORG_NAME's configuration, outbox counts and latest updates with reasons."""
    org = _org(org_name)
    view = admin.config_view(db.session.get(SalesforceConfig, org.id), current_app.config["SECRET_KEY"])
    if not view["configured"]:
        click.echo(f"Salesforce is not configured for {org_name!r}.")
    else:
        click.echo(f"Salesforce for {org_name!r}: {'on' if view['enabled'] else 'off'} "
                   f"({view['object']}.{view['first_open_field']} / {view['last_open_field']})")
    page = admin.outbox_page(org.id, status, limit, None)
    click.echo("pending {pending}, delivered {delivered}, failed {failed}".format(**page["counts"]))
    for item in page["items"]:
        target = f"{item['object']} {item['record_id']}" if item["record_id"] else "(not linked)"
        line = f"#{item['id']} {item['status']:<9} {target} {item['subject']!r} attempts={item['attempts']}"
        if item["status"] == "delivered":
            line += f" first={item['delivered_first_open']} last={item['delivered_last_open']}"
        if item["status"] == "pending":
            line += f" next={item['next_attempt_at']}"
        if item["reason"]:
            line += f" reason={item['reason']}: {item['last_error']}"
        click.echo(line)


@salesforce_group.command("retry")
@click.argument("org_name")
@click.option("--id", "ids", type=int, multiple=True, help="An outbox id (repeatable); default: every failed one.")
@with_appcontext
def retry(org_name, ids):
    """Try ORG_NAME's failed updates again."""
    org = _org(org_name)
    click.echo(f"requeued {admin.retry_failed(org.id, list(ids) or None)} failed updates")


@salesforce_group.command("deliver")
@click.option("--limit", type=int, default=500, show_default=True)
@with_appcontext
def deliver(limit):
    """Deliver due updates now, once (the running server does this every few seconds)."""
    from .delivery import Deliverer

    outcomes = Deliverer(current_app._get_current_object()).run_due(limit)
    click.echo(", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())) or "nothing due")
