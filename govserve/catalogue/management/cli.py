"""What the catalogue's operator verbs share: exit codes and how refusals are printed.

Exit status of ``govserve publish|retire|export|import|diff|demo|serve``:

* ``0`` — done;
* ``1`` — refused or invalid: a typed :class:`ApplicationError` (the
  definition has errors, the content is unchanged, the service is unknown
  or retired...), printed as its code, its message and every problem;
* ``2`` — usage error (unknown option, missing argument), from argparse.

Anything else is a bug and ends with a traceback, never a tidy message.
"""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from govserve.core.errors import ApplicationError

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2


class CatalogueCommand(BaseCommand):
    """A verb whose typed refusals exit 1 with every problem printed on stderr."""

    requires_system_checks: list[str] = []

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        """Let a verb define its own ``--version`` (a version number) in place of Django's."""
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def execute(self, *args: Any, **options: Any) -> Any:
        """Run the verb; turn an ApplicationError into its printed problems and exit status 1."""
        try:
            return super().execute(*args, **options)
        except ApplicationError as error:
            self.refusal_print(error)
            raise CommandError(f"refused ({error.code})", returncode=EXIT_REFUSED) from error

    def refusal_print(self, error: ApplicationError) -> None:
        """Print ``error``'s problems (if any), then its message, on stderr."""
        for problem in getattr(error, "problems", None) or []:
            self.stderr.write(problem.format())
        self.stderr.write(f"{error.code}: {error.message}")


def version_number(text: str) -> int:
    """Parse a version number argument (1, 2, ...); a usage error (exit 2) otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a version number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("version numbers start at 1")
    return value
