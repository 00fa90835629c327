"""WSGI entry point for granian (``server.wsgi:app``)."""

from . import create_app

app = create_app()
