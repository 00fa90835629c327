"""``engage <command>`` (also ``python -m server`` and ``python -m server.cli``): Flask's
command line around ``create_app``. The commands are server/cli.py's, which
``create_app`` registers on every app; this entry point sits above the factory, and
nothing of the app imports it."""

from __future__ import annotations

from flask.cli import FlaskGroup

from . import create_app


def command_line() -> FlaskGroup:
    """The ``engage`` command group (tests/engage_batch.py runs several commands of it
    in one process)."""
    return FlaskGroup(create_app=create_app, add_default_commands=True)


def main() -> None:
    command_line()(prog_name="engage")


if __name__ == "__main__":
    main()
