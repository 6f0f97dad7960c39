"""What ``govserve check PATH...`` prints and exits with, shared by its two entry points.

``govserve check`` is a Django management command (so ``call_command`` and
``manage.py check`` work), but starting Django costs more than checking a
200-page definition. :func:`fast_check` lets ``govserve.cli`` answer a
definition check before Django is set up: it decides from the arguments alone
whether this is a definition check (some argument is an existing path, or
looks like one) and otherwise leaves the command line to Django (its system
checks, ``--deploy``, app labels). Both paths run :func:`run_check`.
"""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

EXIT_OK = 0
EXIT_ERRORS = 1
EXIT_USAGE = 2

_DJANGO_OPTIONS = frozenset({"--deploy", "--list-tags", "--tag", "-t", "--database", "--fail-level"})
_OPTIONS = frozenset({"--format"})


def run_check(paths: Sequence[str], *, output_format: str, stdout: TextIO, stderr: TextIO) -> int:
    """Check ``paths``, print the problems and a summary (or JSON), and return the exit status."""
    from govserve.catalogue.definitions.check import MissingPathError, check_paths  # noqa: PLC0415 - see fast_check

    try:
        report = check_paths(paths)
    except MissingPathError as error:
        stderr.write(f"govserve check: {error}\n")
        return EXIT_USAGE
    if output_format == "json":
        document = {
            "ok": report.ok,
            "files": report.files,
            "errors": report.error_count,
            "warnings": report.warning_count,
            "problems": [problem.as_dict() for problem in report.problems],
        }
        stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    else:
        for problem in report.problems:
            stdout.write(problem.format() + "\n")
        stdout.write(report.summary() + "\n")
    return EXIT_OK if report.ok else EXIT_ERRORS


def looks_like_paths(arguments: Sequence[str]) -> bool:
    """Return whether positional ``arguments`` name files rather than Django app labels."""
    return any(
        Path(argument).exists() or "/" in argument or argument.endswith((".yaml", ".yml")) for argument in arguments
    )


def fast_check(arguments: Sequence[str]) -> int | None:
    """Run ``govserve check ARGUMENTS`` without Django when it is a definition check.

    Return the exit status, or None when the command line is for Django
    (no path, Django's options, ``--help``, or arguments this parser does not
    know): the caller then runs the management command as usual.
    """
    positional: list[str] = []
    output_format = "text"
    items = list(arguments)
    while items:
        item = items.pop(0)
        if item == "--format" and items:
            output_format = items.pop(0)
        elif item.startswith("--format="):
            output_format = item.removeprefix("--format=")
        elif item.startswith("-"):
            return None  # Django's options, --help, --settings...: Django parses them
        else:
            positional.append(item)
    if output_format not in {"text", "json"} or not positional or not looks_like_paths(positional):
        return None
    # The CEL library imports its interactive shell (and prompt_toolkit, ~0.5 s)
    # on import; a check never uses it, so it is not loaded in this process.
    sys.modules.setdefault("cel.cli", types.ModuleType("cel.cli"))
    return run_check(positional, output_format=output_format, stdout=sys.stdout, stderr=sys.stderr)
