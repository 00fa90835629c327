"""Several ``engage`` commands in one process, for the test servers' set-up:

    echo '[["create-org", "Acme", "--domain", "acme.example"],
           ["create-user", "ann@acme.example", "--org", "Acme"], ...]' | python -m tests.engage_batch

Each argument list goes through the real command line (server/__main__.py's
``command_line``, a fresh app each time) in order, exactly as a separate ``engage ...``
run would, printing what it prints; the first that fails stops the batch with its
message and exit status 1. An ``{"env": {...}}`` item sets environment variables for
the command after it only (the password of ``create-user``). The list comes on
standard input, so that a password never shows in the process list.

Why: starting Python and importing the server costs about 1.5 s a process, and every
browser suite, live-server test and fault test made a user with three of them."""

from __future__ import annotations

import json
import os
import sys


def main(commands: str) -> int:
    import click

    from server.__main__ import command_line

    env: dict = {}
    for item in json.loads(commands):
        if isinstance(item, dict):
            env = item.get("env", {})
            continue
        saved = {key: os.environ.get(key) for key in env}
        os.environ.update(env)
        try:
            command_line().main(item, prog_name="engage", standalone_mode=False)
        except click.ClickException as error:
            sys.stderr.write(f"engage {' '.join(item)}: {error.format_message()}\n")
            return 1
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            env = {}
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.stdin.read()))
