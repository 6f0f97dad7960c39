"""Problems found in service definition files, and their stable codes.

Every problem ``govserve check`` reports carries a :class:`ProblemCode`. The
codes are part of govserve's public interface: CI pipelines, editors and the
tests match on them, so a code is never renamed or reused for another meaning.
``docs/definition-check.md`` documents each one (a test keeps the two in step).

The scheme is ``<area>.<what>``: ``file`` (reading bytes), ``yaml`` (syntax and
the YAML features we refuse), ``schema`` (shape and types), ``definition``
(identifiers), ``cel`` (expressions), ``graph`` (the page graph), ``field``,
``registration``, ``flow``, ``notification`` and ``text``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from govserve.core.errors import ApplicationError

Severity = Literal["error", "warning"]


class ProblemCode(enum.StrEnum):
    """The stable code of every problem the loader and the validator report."""

    # Reading the file.
    FILE_NOT_FOUND = "file.not_found"
    FILE_UNREADABLE = "file.unreadable"
    FILE_TOO_LARGE = "file.too_large"
    FILE_NOT_UTF8 = "file.not_utf8"
    FILE_EMPTY = "file.empty"
    FILE_TOO_MANY_PROBLEMS = "file.too_many_problems"
    # YAML syntax and the YAML features definitions may not use.
    YAML_SYNTAX = "yaml.syntax"
    YAML_DUPLICATE_KEY = "yaml.duplicate_key"
    YAML_ANCHOR = "yaml.anchor"
    YAML_ALIAS = "yaml.alias"
    YAML_EXPLICIT_TAG = "yaml.explicit_tag"
    YAML_TOO_DEEP = "yaml.too_deep"
    YAML_TOO_MANY_VALUES = "yaml.too_many_values"
    YAML_NON_STRING_KEY = "yaml.non_string_key"
    YAML_MULTIPLE_DOCUMENTS = "yaml.multiple_documents"
    # The shape of the document (pydantic models in schema.py).
    SCHEMA_UNSUPPORTED_VERSION = "schema.unsupported_version"
    SCHEMA_UNKNOWN_KEY = "schema.unknown_key"
    SCHEMA_MISSING_KEY = "schema.missing_key"
    SCHEMA_EXPECTED_MAPPING = "schema.expected_mapping"
    SCHEMA_EXPECTED_LIST = "schema.expected_list"
    SCHEMA_WRONG_TYPE = "schema.wrong_type"
    SCHEMA_INVALID_VALUE = "schema.invalid_value"
    SCHEMA_UNKNOWN_FIELD_TYPE = "schema.unknown_field_type"
    SCHEMA_RESERVED_KEY = "schema.reserved_key"
    # Identifiers and references between parts of a definition.
    DEFINITION_DUPLICATE_ID = "definition.duplicate_id"
    DEFINITION_RESERVED_NAME = "definition.reserved_name"
    DEFINITION_UNKNOWN_PAGE = "definition.unknown_page"
    DEFINITION_UNKNOWN_FIELD = "definition.unknown_field"
    DEFINITION_UNKNOWN_CATALOGUE = "definition.unknown_catalogue"
    # CEL expressions.
    CEL_SYNTAX = "cel.syntax"
    CEL_UNKNOWN_NAME = "cel.unknown_name"
    CEL_UNKNOWN_FUNCTION = "cel.unknown_function"
    CEL_TYPE_ERROR = "cel.type_error"
    CEL_DETERMINANT_CYCLE = "cel.determinant_cycle"
    CEL_TOO_COMPLEX = "cel.too_complex"
    # The page graph.
    GRAPH_UNREACHABLE_PAGE = "graph.unreachable_page"
    GRAPH_DEAD_END = "graph.dead_end"
    GRAPH_ROUTING_LOOP = "graph.routing_loop"
    GRAPH_CONSTANT_CONDITION = "graph.constant_condition"
    GRAPH_UNREACHABLE_ROUTE = "graph.unreachable_route"
    GRAPH_FORWARD_REFERENCE = "graph.forward_reference"
    GRAPH_INVALID_EXIT_PAGE = "graph.invalid_exit_page"
    # Fields and their validation.
    FIELD_OPTIONS = "field.options"
    FIELD_INVALID_PATTERN = "field.invalid_pattern"
    FIELD_INVALID_RANGE = "field.invalid_range"
    FIELD_DUPLICATE_OPTION = "field.duplicate_option"
    FIELD_UNUSED_MESSAGE = "field.unused_message"
    FIELD_NESTED_GROUP = "field.nested_group"
    # Registrations: documents, fees, results.
    REGISTRATION_FEE_AMOUNT = "registration.fee_amount"
    REGISTRATION_RESULT_WITHOUT_TEMPLATE = "registration.result_without_template"
    REGISTRATION_DOCUMENT_CONFLICT = "registration.document_conflict"
    # Result templates named by the definition (read beside the file).
    TEMPLATE_UNUSABLE = "template.unusable"
    TEMPLATE_SYNTAX = "template.syntax"
    # The processing flow.
    FLOW_UNKNOWN_ROLE = "flow.unknown_role"
    FLOW_LOOP = "flow.loop"
    FLOW_NO_END = "flow.no_end"
    FLOW_UNREACHABLE_ROLE = "flow.unreachable_role"
    FLOW_BOT_RULE = "flow.bot_rule"
    FLOW_UNKNOWN_DECISION = "flow.unknown_decision"
    # Notifications.
    NOTIFICATION_UNKNOWN_PLACEHOLDER = "notification.unknown_placeholder"
    NOTIFICATION_MALFORMED_PLACEHOLDER = "notification.malformed_placeholder"
    NOTIFICATION_SPECIAL_CATEGORY = "notification.special_category"
    # Text in several languages.
    TEXT_MISSING_TRANSLATION = "text.missing_translation"
    # Data protection.
    DATA_PROTECTION_NO_CONDITION = "data_protection.no_condition"


PathElement = str | int
Path = tuple[PathElement, ...]


def format_path(path: Iterable[PathElement]) -> str:
    """Return the dotted path of ``path``: ``("pages", 3, "fields")`` -> ``"pages[3].fields"``."""
    text = ""
    for element in path:
        if isinstance(element, int):
            text += f"[{element}]"
        else:
            text += f".{element}" if text else element
    return text


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong (``error``) or suspicious (``warning``) in a definition file.

    ``line`` and ``column`` are 1-based and ``None`` only when the problem is
    about the file as a whole (too large, unreadable). ``path`` is the dotted
    path inside the definition (``pages[3].fields[2].validation.pattern``),
    empty for the document itself. ``suggestion`` is a fix the author can apply
    ("Did you mean `date_of_birth`?"), when one is known.
    """

    code: ProblemCode
    severity: Severity
    message: str
    file: str
    line: int | None
    column: int | None
    path: str
    suggestion: str | None = None

    @property
    def is_error(self) -> bool:
        """Return whether this problem blocks publishing (warnings do not)."""
        return self.severity == "error"

    def format(self) -> str:
        """Return the one-line form ``file:line:col: error CODE path: message (suggestion)``."""
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        subject = f"{self.code} {self.path}" if self.path else str(self.code)
        text = f"{where}: {self.severity} {subject}: {self.message}"
        if self.suggestion:
            text += f" ({self.suggestion})"
        return text

    def as_dict(self) -> dict[str, Any]:
        """Return the JSON form used by ``govserve check --format json``."""
        return {
            "code": str(self.code),
            "severity": self.severity,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "suggestion": self.suggestion,
        }


class DefinitionInvalidError(ApplicationError):
    """A definition has errors and cannot be used (published, imported, previewed).

    ``problems`` lists every problem found (errors and warnings), in file order.
    """

    code = "definition_invalid"
    status = 422

    def __init__(self, problems: list[Problem]) -> None:
        errors = [problem for problem in problems if problem.is_error]
        first = errors[0].format() if errors else "no details"
        super().__init__(f"The service definition has {len(errors)} error(s); the first: {first}")
        self.problems = problems
