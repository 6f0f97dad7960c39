"""``govserve documents scanner|orphans``: check the malware scanner; find and delete orphaned stored objects.

See docs/operations.md, "Uploads and malware scanning".
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from govserve.audit.actors import Actor
from govserve.documents.errors import ScannerError
from govserve.documents.scanning import Verdict, scanner_from_settings
from govserve.documents.scanning.test_scanner import EICAR
from govserve.documents.selectors import storage_orphans_find
from govserve.documents.services import storage_orphans_delete


class Command(BaseCommand):
    help = "Uploads: check the configured malware scanner; list or delete stored objects without a document."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{scanner,orphans}")
        actions.add_parser("scanner", help="Show the scanner and prove it detects the EICAR test string.")
        orphans = actions.add_parser("orphans", help="List stored objects that no document row names.")
        orphans.add_argument("--older-than-minutes", type=int, default=60, help="Ignore newer objects (in flight).")
        orphans.add_argument("--delete", action="store_true", help="Delete them (audited).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "scanner":
            self._scanner()
        else:
            self._orphans(older_than=dt.timedelta(minutes=options["older_than_minutes"]), delete=options["delete"])

    def _scanner(self) -> None:
        scanner = scanner_from_settings()
        self.stdout.write(f"Scanner: {scanner.label}")
        try:
            result = scanner.scan([EICAR], timeout=10)
        except ScannerError as error:
            msg = f"The scanner gave no verdict: {error}"
            raise CommandError(msg) from error
        if result.verdict is not Verdict.INFECTED:
            msg = "The scanner did not detect the EICAR test string: uploads are not being checked"
            raise CommandError(msg)
        self.stdout.write(f"EICAR test string detected as {result.signature!r}: the scanner answers.")
        if scanner.is_test:
            self.stdout.write(self.style.WARNING("This is the test scanner, not malware protection."))

    def _orphans(self, *, older_than: dt.timedelta, delete: bool) -> None:
        if older_than < dt.timedelta(minutes=1):
            msg = "--older-than-minutes must be at least 1: newer objects may belong to uploads in flight"
            raise CommandError(msg)
        names = storage_orphans_find(older_than=older_than)
        for name in names:
            self.stdout.write(name)
        if delete:
            deleted = storage_orphans_delete(names=names, actor=Actor.system("cli"))
            self.stdout.write(f"Deleted {deleted} orphaned object(s).")
        else:
            self.stdout.write(f"{len(names)} orphaned object(s); --delete removes them.")
