"""``govserve publish PATH... [--reason TEXT]``: publish service definitions and catalogue files.

A PATH may be a directory: every ``*.yaml``/``*.yml`` file under it is published.

Catalogue files are published before service definitions, whatever the
order of the paths, so a service can use a catalogue published in the same
run. Each file is published in its own transaction: a refused file changes
nothing and the others still publish. Exit status: 0 when every file was
published, 1 when any was refused (printed with its problems), 2 for a usage
error (see govserve.catalogue.management.cli).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from govserve.catalogue.definitions.loader import load_definition_file
from govserve.catalogue.management.cli import EXIT_REFUSED, EXIT_USAGE, CatalogueCommand
from govserve.catalogue.services import DefinitionSource, PublishOutcome, definition_publish
from govserve.core.errors import ApplicationError


def _is_catalogue_file(path: Path) -> bool:
    result = load_definition_file(path, validate=False)
    return result.definition is None and bool(result.catalogues)


def expand_paths(paths: list[Path]) -> list[Path]:
    """Return the files named, with each directory replaced by the ``*.yaml``/``*.yml`` files under it.

    Raise a usage error (exit 2) for a path that does not exist or a directory without definition files.
    """
    files: list[Path] = []
    for path in paths:
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            found = sorted(found for pattern in ("*.yaml", "*.yml") for found in path.rglob(pattern) if found.is_file())
            if not found:
                raise CommandError(f"no definition files (*.yaml, *.yml) under {path}", returncode=EXIT_USAGE)
            files.extend(found)
        else:
            raise CommandError(f"no such file or directory: {path}", returncode=EXIT_USAGE)
    return list(dict.fromkeys(files))


def publish_order(paths: list[Path]) -> list[Path]:
    """Return ``paths`` with catalogue files first, each group in the order given."""
    catalogues = [path for path in paths if _is_catalogue_file(path)]
    return catalogues + [path for path in paths if path not in catalogues]


def outcome_lines(outcome: PublishOutcome) -> list[str]:
    """Describe what publishing one file did, one line per version published (warnings: see ``handle``)."""
    lines: list[str] = []
    if outcome.service_version is not None:
        version = outcome.service_version
        lines.append(f"Published {version.service_id} version {version.number} (content {version.content_hash[:12]})")
    lines += [
        f"Published catalogue {version.catalogue_id} version {version.number} (content {version.content_hash[:12]})"
        for version in outcome.catalogue_versions
    ]
    lines += [f"Catalogue {catalogue_id} unchanged" for catalogue_id in outcome.unchanged_catalogues]
    return lines


class Command(CatalogueCommand):
    help = "Publish service definition and catalogue files as new immutable versions (catalogues first)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "paths", nargs="+", metavar="PATH", help="Definition or catalogue files (YAML), or directories of them."
        )
        parser.add_argument("--reason", default="", help="Why this version is published (recorded with it).")

    def handle(self, *args: Any, **options: Any) -> None:
        paths = expand_paths([Path(path) for path in options["paths"]])
        refused = 0
        for path in publish_order(paths):
            reason = options["reason"] or f"Published from {path.name} with govserve publish"
            try:
                outcome = definition_publish(source=DefinitionSource.from_path(path), actor=None, reason=reason)
            except ApplicationError as error:
                refused += 1
                self.stderr.write(f"{path}: refused")
                self.refusal_print(error)
                continue
            for problem in outcome.warnings:
                self.stderr.write(problem.format())
            for line in outcome_lines(outcome):
                self.stdout.write(line)
        if refused:
            raise CommandError(f"{refused} of {len(paths)} file(s) refused", returncode=EXIT_REFUSED)
