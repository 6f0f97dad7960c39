"""Typed errors of the catalogue, each with a stable code.

The command line prints ``message`` (and every problem in ``problems``) and
exits 1; the API maps them to problem+json with ``status``. A definition that
fails ``govserve check`` raises the loader's
:class:`govserve.catalogue.definitions.errors.DefinitionInvalidError`
(``definition_invalid``), carrying every problem.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from govserve.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError


@dataclass(frozen=True)
class ReferenceProblem:
    """Something a definition names that only the database can confirm (an institution, a catalogue).

    Shaped like the loader's problems (file, 1-based line and column, path
    inside the definition) so the command line prints both the same way.
    ``code`` is stable: ``publish.unknown_institution``,
    ``publish.inactive_institution``, ``publish.unknown_catalogue``.
    """

    code: str
    message: str
    file: str
    line: int | None
    column: int | None
    path: str
    suggestion: str | None = None
    severity: str = "error"

    def format(self) -> str:
        """Return ``file:line:col: error CODE path: message (suggestion)``, like the loader's problems."""
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        subject = f"{self.code} {self.path}" if self.path else self.code
        text = f"{where}: {self.severity} {subject}: {self.message}"
        if self.suggestion:
            text += f" ({self.suggestion})"
        return text


class DefinitionReferenceError(ValidationError):
    """The definition names institutions or catalogues this database does not have: nothing was saved."""

    code = "definition_reference_missing"

    def __init__(self, message: str, *, problems: Sequence[ReferenceProblem]) -> None:
        super().__init__(message, problems=list(problems))
        self.problems = list(problems)


class ResultTemplateError(ValidationError):
    """A result template the definition names cannot be used (missing, outside its folder, too large, not text, broken).

    ``problems`` are :class:`ReferenceProblem` located at each ``template:``
    key, with the codes ``publish.template_missing``,
    ``publish.template_path_invalid``, ``publish.template_outside``,
    ``publish.template_too_large``, ``publish.template_not_text`` and
    ``publish.template_syntax`` (it does not compile). Nothing was saved.
    """

    code = "result_template_invalid"

    def __init__(self, message: str, *, problems: Sequence[ReferenceProblem]) -> None:
        super().__init__(message, problems=list(problems))
        self.problems = list(problems)


class DefinitionKindError(ValidationError):
    """The file is not what the operation needs (a catalogue file for a service, another service's text)."""

    code = "definition_wrong_kind"


class BundleInvalidError(ValidationError):
    """An import file is not a govserve definition bundle, or does not match its own hashes."""

    code = "bundle_invalid"


class ServiceNotFoundError(NotFoundError):
    code = "service_not_found"


class VersionNotFoundError(NotFoundError):
    code = "version_not_found"


class DraftNotFoundError(NotFoundError):
    code = "draft_not_found"


class VersionUnchangedError(ConflictError):
    """Publishing content identical to the latest published version would make a pointless version."""

    code = "version_unchanged"


class VersionImmutableError(ConflictError):
    """A published or retired version never changes: save a draft and publish the next version."""

    code = "version_immutable"


class ServiceRetiredError(ConflictError):
    """The service is retired: it takes no new applications and no new versions."""

    code = "service_retired"


class PreviewNotAllowedError(PermissionDeniedError):
    code = "preview_not_allowed"
