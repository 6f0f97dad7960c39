"""``govserve subject_access --email X [--out DIR]``: export everything held about one person.

Writes ``subject-access-<timestamp>.zip`` (``export.json``, ``export.pdf``, the
documents and result PDFs) into ``--out`` (default: the current directory).
The bundle holds personal data in clear: hand it over by a secure route and
delete it afterwards. Audited (``privacy.subject_access.exported``). See
docs/privacy.md, "Subject access".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from govserve.audit.actors import Actor
from govserve.core import clock
from govserve.privacy.errors import PrivacyError
from govserve.privacy.subject_access import subject_access_export


class Command(BaseCommand):
    help = "Export everything held about a person (JSON, PDF and their files, in one zip); audited."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True, help="The person's email address (account or contact).")
        parser.add_argument("--out", default=".", help="The directory to write the zip into (default: here).")
        parser.add_argument(
            "--institution",
            action="append",
            default=None,
            metavar="CODE",
            help="Only the applications of services owned by this institution (repeatable); default: all.",
        )
        parser.add_argument("--language", choices=["en", "cy"], default="en", help="Language of the labels and PDF.")
        parser.add_argument("--no-pdf", action="store_true", help="Leave the PDF out (faster for large exports).")

    def handle(self, *args: Any, **options: Any) -> None:
        out = Path(options["out"])
        if not out.is_dir():
            msg = f"--out {out} is not a directory"
            raise CommandError(msg)
        institutions = frozenset(options["institution"]) if options["institution"] else None
        try:
            export = subject_access_export(
                email=options["email"],
                actor=Actor.system("cli"),
                institutions=institutions,
                language=options["language"],
                with_pdf=not options["no_pdf"],
            )
        except PrivacyError as error:
            raise CommandError(error.message) from None
        path = out / f"subject-access-{clock.now().strftime('%Y%m%dT%H%M%SZ')}.zip"
        with path.open("xb") as handle:
            handle.write(export.zip_bytes())
        path.chmod(0o600)
        data = export.data
        self.stdout.write(
            f"Wrote {path}: account {'found' if data['account'] else 'not found'}, "
            f"{len(data['applications'])} applications, {len(export.files)} files, "
            f"{len(data['notifications']['emails']) + len(data['notifications']['text_messages'])} notifications, "
            f"{len(data['accesses'])} staff accesses."
        )
