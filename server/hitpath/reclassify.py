"""``engage reclassify [--since DAYS]``: decide every stored hit's verdict again.

Run it after ``server/data/*.json`` (or ENGAGE_RULES_DIR) changed: each email's
history is decided again with the current rules, exactly as the writer does for a
new hit (drain.refile: the email's lock, its whole history, only what changed
written), so it is safe on a live server; an email the writer is storing a hit on
waits for it, or the other way round. Reports how many verdicts changed and why.
Hits stored before their network was kept (migration 0005) keep their verdicts."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from ..extensions import db
from ..models import Event, utcnow
from .drain import refile

CHUNK = 100  # emails per transaction: short locks, steady progress


def reclassify(days: int | None = None, echo=lambda line: None) -> Counter:
    """(old verdict, new verdict) -> how many, over the emails with hits in the last
    ``days`` days (all when None)."""
    query = sa.select(Event.message_id).distinct()
    if days is not None:
        query = query.where(Event.at >= utcnow() - timedelta(days=days))
    ids = sorted(db.session.execute(query).scalars())
    db.session.rollback()
    moved: Counter = Counter()
    examples: dict[tuple, str] = {}
    for i in range(0, len(ids), CHUNK):
        changes = refile(ids[i:i + CHUNK])
        for old, new, reason in changes.refiled:
            moved[(old, new)] += 1
            examples.setdefault((old, new), reason)
    echo(f"{len(ids)} emails decided again; {sum(moved.values())} verdicts changed")
    for (old, new), n in moved.most_common():
        echo(f"  {n:6d}  {old or '(none)'} -> {new}: e.g. \u201c{examples[(old, new)]}\u201d")
    return moved


@click.command("reclassify")
@click.option("--since", "days", type=click.IntRange(min=1), default=None,
              help="Only emails with hits in the last DAYS days (default: all).")
@with_appcontext
def reclassify_command(days):
    """Decide stored hits' verdicts again with the current rules; reports what changed."""
    reclassify(days, echo=click.echo)
