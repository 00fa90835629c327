"""WSGI entry point for granian (``server.wsgi:app``).

Server processes run the background threads (spool drainer, retention, CRM
delivery) unless ENGAGE_BACKGROUND_THREADS=0 says a separate writer process does
(``engage serve`` runs one)."""

import os

from . import create_app
from .granian_run import stop_if_told_while_starting

stop_if_told_while_starting()  # a granian worker told to stop while it builds the app

app = create_app({"BACKGROUND_THREADS": os.environ.get("ENGAGE_BACKGROUND_THREADS", "1").strip().lower()
                  not in ("0", "false", "no", "off")})
