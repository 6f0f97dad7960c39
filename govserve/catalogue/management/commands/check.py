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
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.apps import apps
from django.core.management.base import CommandError, CommandParser
from django.core.management.commands.check import Command as DjangoCheckCommand

from govserve.catalogue.definitions.check import MissingPathError, check_paths

USAGE_ERROR = 2


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
        args = tuple(str(arg) for arg in app_labels)
        if not _checks_definitions(args, options):
            super().handle(*app_labels, **options)
            return
        try:
            report = check_paths(args)
        except MissingPathError as error:
            raise CommandError(str(error), returncode=USAGE_ERROR) from error
        if options["format"] == "json":
            document = {
                "ok": report.ok,
                "files": report.files,
                "errors": report.error_count,
                "warnings": report.warning_count,
                "problems": [problem.as_dict() for problem in report.problems],
            }
            self.stdout.write(json.dumps(document, indent=2, ensure_ascii=False))
        else:
            for problem in report.problems:
                self.stdout.write(problem.format())
            self.stdout.write(report.summary())
        if not report.ok:
            raise SystemExit(1)


def _checks_definitions(args: tuple[str, ...], options: dict[str, Any]) -> bool:
    """Return whether this run checks definition files rather than the Django project."""
    if not args or options.get("deploy") or options.get("list_tags") or options.get("tags") or options.get("databases"):
        return False
    labels = {config.label for config in apps.get_app_configs()}
    return not all(arg in labels and not Path(arg).exists() for arg in args)
