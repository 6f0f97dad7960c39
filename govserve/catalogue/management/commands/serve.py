"""``govserve serve [--host H] [--port N] [--workers N] [--govstack]``: the production web server.

``--govstack`` serves only the GovStack Registration BB API, at ``/`` of its
own port (``config.wsgi_govstack``; ``govserve serve --govstack --port 3333``
for conformance runs); the main port serves it under ``/govstack/``.

Runs gunicorn on ``config.wsgi`` with the settings of this environment
(``DJANGO_SETTINGS_MODULE``; production sets ``config.settings.production``).
The process replaces itself with gunicorn, so the process manager's signals
(SIGTERM: graceful stop) reach gunicorn directly. Before that it runs
Django's system checks, and the deployment checks unless this is the demo
(``GOVSERVE_DEMO``): unsafe production settings stop the start with exit 1.
Background jobs run in separate ``govserve worker`` processes. ``govserve
demo`` serves through the same :func:`gunicorn_command`.

Exit status: does not return when the server starts; 1 when a check fails;
2 for a usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser

from govserve.catalogue.management.cli import CatalogueCommand

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def port_number(text: str) -> int:
    """Parse a TCP port (1-65535); a usage error otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError("a port is between 1 and 65535")
    return value


def worker_count(text: str) -> int:
    """Parse a number of web worker processes (1-64); a usage error otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of workers") from None
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError("between 1 and 64 workers")
    return value


def default_workers() -> int:
    """Return gunicorn's usual default for sync workers: two per core plus one, at most 17."""
    return min(2 * (os.cpu_count() or 1) + 1, 17)


def gunicorn_command(*, host: str, port: int, workers: int, govstack: bool = False) -> list[str]:
    """Return the argv that runs gunicorn on ``config.wsgi`` (``config.wsgi_govstack``) with this interpreter.

    Sync workers (requests are short; slow clients are the TLS proxy's job),
    recycled after about 2,000 requests to bound memory growth, a 60 s
    request timeout and a 30 s graceful stop. The application is loaded once
    in gunicorn's master before the workers fork (``--preload``): workers
    share its code pages, and a recycled worker starts by forking rather than
    importing Django and govserve again (nothing opens a database connection
    or starts a thread at import). The master also warms the caches every
    worker would otherwise build on its first requests (``config/gunicorn.py``
    ``when_ready``: the URLconf, the templates, the translations, the
    published definitions; :mod:`govserve.web.prefork`) and closes the
    database connections it used before forking. gunicorn's control socket is
    off: its default path is shared by every gunicorn of the user.
    """
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi_govstack:application" if govstack else "config.wsgi:application",
        "--bind",
        bind,
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--timeout",
        "60",
        "--graceful-timeout",
        "30",
        "--max-requests",
        "2000",
        "--max-requests-jitter",
        "200",
        "--preload",
        "--config",
        "python:config.gunicorn",
        "--no-control-socket",
    ]


class Command(CatalogueCommand):
    help = "Run the production web server (gunicorn on config.wsgi). Run `govserve worker` alongside."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=DEFAULT_HOST, help=f"Address to listen on (default {DEFAULT_HOST}).")
        parser.add_argument("--port", type=port_number, default=DEFAULT_PORT, help=f"Port (default {DEFAULT_PORT}).")
        parser.add_argument(
            "--workers", type=worker_count, default=None, help="Web worker processes (default: 2 per core + 1)."
        )
        parser.add_argument(
            "--govstack", action="store_true", help="Serve only the GovStack Registration BB API, at / of this port."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.check(include_deployment_checks=not getattr(settings, "GOVSERVE_DEMO", False))
        command = gunicorn_command(
            host=options["host"],
            port=options["port"],
            workers=options["workers"] or default_workers(),
            govstack=options["govstack"],
        )
        what = "the GovStack API" if options["govstack"] else "gunicorn"
        self.stderr.write(f"govserve serve: {what} on http://{options['host']}:{options['port']}/")
        self.stderr.flush()
        os.execv(command[0], command)  # noqa: S606 - our own interpreter, fixed arguments
