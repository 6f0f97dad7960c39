"""Typed errors of the rules engine.

Every failure the CEL library can raise while compiling or evaluating an
expression is turned into one of these, carrying the expression and, where the
caller gave one, the location of the expression in its definition file
(``"file:line:col"``). Anything else that escapes the engine is a bug.
"""

from __future__ import annotations

from typing import Any

from govserve.core.errors import ApplicationError


def _where(expression: str, location: str | None) -> str:
    return f"`{expression}` at {location}" if location else f"`{expression}`"


class RulesError(ApplicationError):
    """The root of the rules engine's errors.

    Rules errors are faults of a service definition (its author can fix them),
    so they answer 422 when they reach the API, e.g. from ``check`` or preview.
    """

    code = "rules_error"
    status = 422


class ExpressionSyntaxError(RulesError):
    """A CEL expression does not parse.

    ``column`` is 1-based within ``line`` of the expression (``line`` is 1 for a
    one-line expression); ``offset`` is the 0-based character offset of the
    same position in ``expression``, which is what a caller needs to map the
    position back into a YAML file. ``message`` says what is wrong, without
    the expression or location (``str(error)`` adds both).
    """

    code = "expression_syntax_error"

    def __init__(
        self,
        message: str,
        *,
        expression: str,
        line: int,
        column: int,
        location: str | None = None,
        detail: str = "",
    ) -> None:
        self.expression = expression
        self.line = line
        self.column = column
        self.location = location
        self.offset = _offset_of(expression, line, column)
        self.detail = detail
        super().__init__(
            message,
            expression=expression,
            line=line,
            column=column,
            location=location,
        )

    def __str__(self) -> str:
        return f"{self.message} (line {self.line}, column {self.column} of {_where(self.expression, self.location)})"


class ExpressionEvaluationError(RulesError):
    """A CEL expression failed while it was evaluated.

    ``kind`` classifies the failure (stable values: ``type_mismatch``,
    ``undefined_name``, ``missing_key``, ``index_out_of_range``,
    ``division_by_zero``, ``overflow``, ``null_value``, ``invalid_argument``,
    ``wrong_result_type``, ``evaluation_failed``), so callers such as the type
    checker can tell a type fault from a fault of the values used.
    """

    code = "expression_evaluation_error"

    def __init__(
        self,
        message: str,
        *,
        expression: str,
        location: str | None = None,
        kind: str = "evaluation_failed",
        **extra: Any,
    ) -> None:
        self.expression = expression
        self.location = location
        self.kind = kind
        super().__init__(message, expression=expression, location=location, kind=kind, **extra)

    def __str__(self) -> str:
        return f"{self.message} (in {_where(self.expression, self.location)})"


class ExpressionTypeError(RulesError):
    """An expression is ill-typed for the values its fields can hold.

    Raised by callers of :func:`govserve.rules.typecheck.check_expression_types`
    that want an exception rather than a message.
    """

    code = "expression_type_error"

    def __init__(self, message: str, *, expression: str, location: str | None = None) -> None:
        self.expression = expression
        self.location = location
        super().__init__(message, expression=expression, location=location)

    def __str__(self) -> str:
        return f"{self.message} (in {_where(self.expression, self.location)})"


class DeterminantCycleError(RulesError):
    """Determinants refer to each other in a cycle; ``cycle`` lists it, first name repeated last."""

    code = "determinant_cycle"

    def __init__(self, cycle: list[str]) -> None:
        self.cycle = cycle
        super().__init__(
            "Determinants refer to each other in a cycle: " + " -> ".join(cycle),
            cycle=cycle,
        )


class ValueConversionError(RulesError):
    """A Python answer value cannot be represented as a CEL value (``name`` says which)."""

    code = "value_not_representable"

    def __init__(self, message: str, *, name: str) -> None:
        self.name = name
        super().__init__(message, name=name)


class UnknownTimeZoneError(RulesError):
    """The service's time zone is not an IANA zone name."""

    code = "unknown_time_zone"


def _offset_of(expression: str, line: int, column: int) -> int:
    """Return the 0-based character offset of 1-based (line, column) in ``expression``."""
    lines = expression.split("\n")
    line_index = min(max(line, 1), len(lines)) - 1
    offset = sum(len(text) + 1 for text in lines[:line_index])
    return offset + max(column, 1) - 1
