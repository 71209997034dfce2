"""WSGI entry point: ``gunicorn wsgi:app`` (``inspect-app serve`` runs exactly this app)."""

import sys

from inspect_app import create_app
from inspect_app.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:
    print(f"inspect-app: {exc}", file=sys.stderr)
    raise SystemExit(1) from None
