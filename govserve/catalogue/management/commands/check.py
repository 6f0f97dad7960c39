"""``govserve check PATH...``: check service definition files; without paths, Django's checks.

With paths (files or directories), every definition and catalogue file is
loaded and checked without touching the database, and each problem printed as
``file:line:col: error CODE path: message (suggestion)``, then a summary.
Exit status: 0 without errors (warnings allowed), 1 with errors, 2 for a
usage error (a path that does not exist). ``--format json`` prints one JSON
document instead.

With no path, with ``--deploy`` or with Django's own options (``--tag``,
``--list-tags``, ``--database``), or when every argument is an installed app
label, this is Django's ``check`` command, unchanged: ``govserve check
--deploy`` runs the deployment checks.

``govserve.cli`` answers a definition check before setting Django up
(:func:`govserve.catalogue.definitions.command.fast_check`); this command is
the same check for ``call_command`` and ``manage.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.apps import apps
from django.core.management.base import CommandError, CommandParser
from django.core.management.commands.check import Command as DjangoCheckCommand

from govserve.catalogue.definitions.command import EXIT_OK, EXIT_USAGE, run_check


class Command(DjangoCheckCommand):
    """Check definition files (no database), or run Django's system checks."""

    help = (
        "Check service definition files: govserve check PATH... (files or directories; no database needed). "
        "Without a path, or with --deploy, run Django's system checks."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """Add Django's options, then ``--format``."""
        super().add_arguments(parser)
        for action in parser._actions:
            if action.dest == "args":
                action.metavar = "PATH_OR_APP_LABEL"
                action.help = "Definition files or directories to check (or app labels for Django's checks)."
        parser.add_argument(
            "--format",
            choices=["text", "json"],
            default="text",
            help="How to print the problems of definition files (default: text).",
        )

    def handle(self, *app_labels: Any, **options: Any) -> None:
        """Check the definition files given, or hand over to Django's check."""
        arguments = tuple(str(argument) for argument in app_labels)
        if not _checks_definitions(arguments, options):
            super().handle(*app_labels, **options)
            return
        status = run_check(arguments, output_format=options["format"], stdout=self.stdout, stderr=self.stderr)  # type: ignore[arg-type]
        if status == EXIT_USAGE:
            raise CommandError("a path to check does not exist", returncode=EXIT_USAGE)
        if status != EXIT_OK:
            raise SystemExit(status)


def _checks_definitions(arguments: tuple[str, ...], options: dict[str, Any]) -> bool:
    """Return whether this run checks definition files rather than the Django project."""
    if options.get("deploy") or options.get("list_tags") or options.get("tags") or options.get("databases"):
        return False
    if not arguments:
        return False
    labels = {config.label for config in apps.get_app_configs()}
    return not all(argument in labels and not Path(argument).exists() for argument in arguments)
