"""``govserve dp_report SERVICE_ID | --file PATH [--json] [--language cy]``: a service's data-protection report.

What personal and special category fields the service collects, why (its
definition's ``data_protection`` section), its retention and its processors,
the platform's own included. See docs/privacy.md, "Data-protection report".
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from govserve.catalogue.definitions.loader import load_definition_file
from govserve.core.errors import ApplicationError
from govserve.privacy.dp_report import DataProtectionReport, dp_report, dp_report_build


class Command(BaseCommand):
    help = "Print the data-protection report of a published service (or of a definition file)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("service_id", nargs="?", help="A published service's id.")
        parser.add_argument("--file", help="A service definition file instead (need not be published).")
        parser.add_argument("--json", action="store_true", help="Print the report as one JSON object.")
        parser.add_argument("--language", choices=["en", "cy"], default="en")

    def handle(self, *args: Any, **options: Any) -> None:
        language = options["language"]
        if bool(options["service_id"]) == bool(options["file"]):
            msg = "give either a service id or --file PATH"
            raise CommandError(msg)
        with translation.override(language):
            if options["file"]:
                loaded = load_definition_file(options["file"])
                if loaded.definition is None or not loaded.ok:
                    problems = "\n".join(problem.format() for problem in loaded.problems if problem.is_error)
                    msg = f"{options['file']} is not a valid service definition:\n{problems}"
                    raise CommandError(msg)
                report = dp_report_build(loaded.definition, language=language)
            else:
                try:
                    report = dp_report(service_id=options["service_id"], language=language)
                except ApplicationError as error:
                    raise CommandError(error.message) from None
            if options["json"]:
                self.stdout.write(json.dumps(report.as_json(), indent=2, ensure_ascii=False))
            else:
                self._text(report)

    def _text(self, report: DataProtectionReport) -> None:
        write = self.stdout.write
        version = f" version {report.version}" if report.version is not None else ""
        write(f"Data-protection report: {report.title} ({report.service_id}{version}), {report.institution}")
        if not report.declared:
            write("WARNING: the definition has no data_protection section (purpose, lawful basis, processors).")
        else:
            write(f"Purpose: {report.purpose}")
            write(f"Lawful basis: {report.lawful_basis_label}")
            if report.special_category_condition:
                write(f"Special category condition: {report.special_category_condition}")
        if report.has_special_category and not report.special_category_condition:
            write("WARNING: special category fields are collected but no article 9 condition is given.")
        action = f", then {report.retention_action}" if report.retention_action else ""
        write(f"Retention: {report.retention_text} ({report.retention}) after the file is closed{action}")
        write(f"Personal data collected ({len(report.fields)} fields):")
        for row in report.fields:
            write(f"  {row.field_id:<32} {row.classification:<17} {row.label} [{row.asked_on}]")
        if report.documents:
            write("Documents collected: " + "; ".join(report.documents))
        write("Processors:")
        for processor in report.processors:
            origin = "platform" if processor.platform else "service"
            write(f"  {processor.name} ({origin}): {processor.purpose}; {processor.location}")
        if not report.processors:
            write("  none besides the institution itself")
