"""``govserve demo [--host H] [--port N]``: the example services, demo accounts, a server and a worker.

What it does, step by step: :mod:`govserve.catalogue.demo`. ``make run`` calls
it on 127.0.0.1:8000. Re-running it is quick: migrations already applied and
unchanged examples are skipped. ``--prepare-only`` sets everything up and
exits without serving. Exit status: 0 after Ctrl-C/SIGTERM (or after
``--prepare-only``), 1 when an example is refused, the server does not become
ready, or the server or worker stops on its own; 2 for a usage error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser

from govserve.catalogue.demo import (
    DemoProcesses,
    child_environment,
    demo_prepare,
    demo_url,
    port_in_use,
    worker_command,
)
from govserve.catalogue.management.cli import EXIT_REFUSED, EXIT_USAGE, CatalogueCommand
from govserve.catalogue.management.commands.serve import DEFAULT_HOST, DEFAULT_PORT, gunicorn_command, port_number

DEMO_WEB_WORKERS = 2


class Command(CatalogueCommand):
    help = (
        "Start the demo: migrate, create the demo accounts, publish the example services, then serve them "
        "with a background worker and print the URL and the demo sign-ins. Ctrl-C stops everything."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=DEFAULT_HOST, help=f"Address to listen on (default {DEFAULT_HOST}).")
        parser.add_argument("--port", type=port_number, default=DEFAULT_PORT, help=f"Port (default {DEFAULT_PORT}).")
        parser.add_argument(
            "--examples",
            type=Path,
            default=None,
            metavar="DIR",
            help="Directory with catalogues/ and services/ (default: the project's examples/).",
        )
        parser.add_argument(
            "--prepare-only", action="store_true", help="Migrate, create accounts and publish, then exit."
        )

    def say(self, message: str) -> None:
        """Print a progress line."""
        self.stdout.write(f"govserve demo: {message}")
        self.stdout.flush()

    def handle(self, *args: Any, **options: Any) -> None:
        examples: Path = options["examples"] or Path(settings.BASE_DIR) / "examples"
        if not examples.is_dir():
            raise CommandError(f"no examples directory at {examples}", returncode=EXIT_USAGE)
        report = demo_prepare(examples=examples, say=self.say)
        if report.refused:
            for path, _kind, detail in report.refused:
                self.stderr.write(f"{path}: refused\n{detail}")
            raise CommandError(
                f"{len(report.refused)} example(s) could not be published: fix them (govserve check {examples})",
                returncode=EXIT_REFUSED,
            )
        if options["prepare_only"]:
            self.stdout.write(report.sign_ins)
            return
        if port_in_use(options["host"], options["port"]):
            raise CommandError(
                f"port {options['port']} on {options['host']} is in use: stop what listens there or use --port",
                returncode=EXIT_REFUSED,
            )
        url = demo_url(options["host"], options["port"])
        processes = DemoProcesses(
            server_command=gunicorn_command(host=options["host"], port=options["port"], workers=DEMO_WEB_WORKERS),
            worker_command=worker_command(),
            env=child_environment(url=url),
        )
        self.say("Starting the web server and the background worker")
        processes.start()
        not_ready = processes.wait_ready(f"{url}readyz")
        if not_ready is not None:
            processes.stop()
            raise CommandError(
                f"the demo did not start: {not_ready} (is the port in use? see the messages above)",
                returncode=EXIT_REFUSED,
            )
        self.stdout.write("")
        self.stdout.write(f"govserve is running at {url}")
        self.stdout.write(f"Staff sign-in: {url}staff/sign-in")
        self.stdout.write(f"Web server pid {processes.pids[0]}, worker pid {processes.pids[1]}")
        self.stdout.write("")
        self.stdout.write(report.sign_ins)
        self.stdout.write("")
        self.stdout.write("Press Ctrl-C to stop the server and the worker.")
        self.stdout.flush()
        status = processes.run_until_stopped()
        if status != 0:
            raise CommandError("the web server or the worker stopped unexpectedly", returncode=EXIT_REFUSED)
        self.say("stopped")
