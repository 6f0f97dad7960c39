"""``govserve check``: check definition and catalogue files, with no database.

:func:`check_paths` loads every file given (directories are searched for
``*.yaml`` and ``*.yml``), then checks what spans files: two files defining
the same service or catalogue, and ``options_from`` naming a catalogue that
one of the checked files defines with a different id spelling. A catalogue no
checked file defines is not an error here: it may exist in the database,
which ``publish`` verifies.

Result templates a definition names are read beside its file, with the rules
``publish`` applies (:mod:`govserve.catalogue.templates`): ``template.unusable``
when one cannot be read as a template file, ``template.syntax`` when it does
not compile.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from govserve.catalogue.definitions.errors import Problem, ProblemCode, format_path
from govserve.catalogue.definitions.loader import LoadResult, load_definition_file
from govserve.catalogue.templates import (
    TemplateReadError,
    template_path_problem,
    template_read,
    template_references,
    template_syntax_problem,
)

DEFINITION_SUFFIXES = (".yaml", ".yml")


class MissingPathError(Exception):
    """A path given to :func:`check_paths` does not exist (a usage error, not a problem of a file)."""

    def __init__(self, path: str) -> None:
        super().__init__(f"No such file or directory: {path}")
        self.path = path


@dataclass(slots=True)
class CheckReport:
    """The outcome of checking some files: every load result, and problems across files."""

    results: list[LoadResult] = field(default_factory=list)
    cross_file_problems: list[Problem] = field(default_factory=list)

    @property
    def problems(self) -> list[Problem]:
        """Return every problem, file by file in the order checked, cross-file ones last."""
        return [problem for result in self.results for problem in result.problems] + self.cross_file_problems

    @property
    def error_count(self) -> int:
        """Return how many problems are errors."""
        return sum(1 for problem in self.problems if problem.is_error)

    @property
    def warning_count(self) -> int:
        """Return how many problems are warnings."""
        return sum(1 for problem in self.problems if not problem.is_error)

    @property
    def ok(self) -> bool:
        """Return whether no file has an error (warnings allowed)."""
        return self.error_count == 0

    @property
    def files(self) -> list[str]:
        """Return the files checked, in order."""
        return [result.filename for result in self.results]

    def summary(self) -> str:
        """Return one line: ``2 errors, 1 warning in 3 files`` or ``No problems in 3 files``."""
        files = _plural(len(self.results), "file")
        if not self.problems:
            return f"No problems in {files}"
        return f"{_plural(self.error_count, 'error')}, {_plural(self.warning_count, 'warning')} in {files}"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def definition_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Return the files to check: each file given, and the YAML files under each directory, sorted.

    Raise MissingPathError for a path that does not exist.
    """
    files: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            files.extend(
                sorted(
                    candidate
                    for candidate in path.rglob("*")
                    if candidate.suffix in DEFINITION_SUFFIXES and candidate.is_file()
                )
            )
        elif path.exists():
            files.append(path)
        else:
            raise MissingPathError(os.fspath(given))
    return list(dict.fromkeys(files))


def check_paths(paths: Sequence[str | os.PathLike[str]]) -> CheckReport:
    """Load and check every definition and catalogue file in ``paths``.

    Raise MissingPathError when a path does not exist. Needs no database.
    """
    report = CheckReport()
    for path in definition_files(paths):
        result = load_definition_file(path)
        template_problems = _template_problems(result, path.parent)
        if template_problems:
            result.problems = sorted([*result.problems, *template_problems], key=lambda found: found.line or 0)
        report.results.append(result)
    report.cross_file_problems = _cross_file_problems(report.results)
    return report


def _template_problems(result: LoadResult, directory: Path) -> list[Problem]:
    """Return the problems of the result templates ``result``'s definition names (read from ``directory``)."""
    if result.definition is None:
        return []
    problems: list[Problem] = []
    seen: set[str] = set()
    for path, template in template_references(result.definition):
        if template in seen:
            continue
        seen.add(template)
        problem = template_path_problem(template)
        if problem is not None:
            problems.append(
                _problem(
                    result,
                    path,
                    ProblemCode.TEMPLATE_UNUSABLE,
                    f"Template path `{template}` {problem}",
                    "Write a relative path like templates/licence.html",
                )
            )
            continue
        try:
            text = template_read(directory, template)
        except TemplateReadError as error:
            problems.append(_problem(result, path, ProblemCode.TEMPLATE_UNUSABLE, error.message))
            continue
        problem = template_syntax_problem(text)
        if problem is not None:
            problems.append(
                _problem(
                    result,
                    path,
                    ProblemCode.TEMPLATE_SYNTAX,
                    f"Template `{template}` {problem}",
                    "Fix the template's Jinja2 syntax (docs/results.md lists what a template can use)",
                )
            )
    return problems


def _cross_file_problems(results: list[LoadResult]) -> list[Problem]:
    problems: list[Problem] = []
    services: dict[str, LoadResult] = {}
    catalogues: dict[str, LoadResult] = {}
    for result in results:
        if result.definition is not None:
            service_id = result.definition.id
            if service_id in services:
                problems.append(
                    _problem(
                        result,
                        ("id",),
                        ProblemCode.DEFINITION_DUPLICATE_ID,
                        f"Service `{service_id}` is also defined in {services[service_id].filename}",
                    )
                )
            services.setdefault(service_id, result)
        for index, catalogue in enumerate(result.catalogues):
            if catalogue.id in catalogues and catalogues[catalogue.id] is not result:
                problems.append(
                    _problem(
                        result,
                        ("catalogues", index, "id"),
                        ProblemCode.DEFINITION_DUPLICATE_ID,
                        f"Catalogue `{catalogue.id}` is also defined in {catalogues[catalogue.id].filename}",
                    )
                )
            catalogues.setdefault(catalogue.id, result)
    if not catalogues:
        return problems
    for result in results:
        if result.definition is None:
            continue
        for path, item in result.definition.iter_fields():
            catalogue_id = getattr(item, "options_from", None)
            if catalogue_id is None or catalogue_id in catalogues:
                continue
            matches = difflib.get_close_matches(catalogue_id, sorted(catalogues), n=1, cutoff=0.8)
            if matches:
                problems.append(
                    _problem(
                        result,
                        (*path, "options_from"),
                        ProblemCode.DEFINITION_UNKNOWN_CATALOGUE,
                        f"No checked file defines catalogue `{catalogue_id}`",
                        f"Did you mean `{matches[0]}`?",
                    )
                )
    return problems


def _problem(
    result: LoadResult, path: tuple[str | int, ...], code: ProblemCode, message: str, suggestion: str | None = None
) -> Problem:
    line, column = result.source.position(path)
    return Problem(code, "error", message, result.filename, line, column, format_path(path), suggestion)
