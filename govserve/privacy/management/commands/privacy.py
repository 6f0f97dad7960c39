"""``govserve privacy retention|erase|hold|release``: retention, erasure and legal holds.

See docs/privacy.md, "Retention" and "Erasure". The subcommands live in
``govserve.privacy.retention_command`` (this file only dispatches, so other
privacy operations can add theirs).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from govserve.privacy import retention_command


class Command(BaseCommand):
    help = "Privacy operations: retention (dry run or run), erasure of a person's data, legal holds."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        retention_command.add_subcommands(actions)

    def handle(self, *args: Any, **options: Any) -> None:
        retention_command.handle(self, options)
