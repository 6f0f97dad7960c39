"""Compile and evaluate CEL expressions: the rules engine's core.

Life cycle: a definition's expressions are compiled once when a version is
loaded (:func:`compile_expression`, cached per source and location); each
request builds one :class:`EvaluationContext` from the application's answers
(:func:`build_context`) and evaluates as many expressions against it as it
needs (:func:`evaluate`, :func:`evaluate_bool`). Evaluation is the hot path:
it adds one ``try`` and two attribute reads to the CEL library's own call.

Every failure of the CEL library is turned into an
:class:`~govserve.rules.errors.ExpressionSyntaxError` or
:class:`~govserve.rules.errors.ExpressionEvaluationError` carrying the
expression and its location. A platform function that fails for any reason
other than its arguments (a bug) is re-raised as it is, never tidied.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import cel

from govserve.core import clock
from govserve.rules.diagnose import diagnose
from govserve.rules.errors import ExpressionEvaluationError, ExpressionSyntaxError, UnknownTimeZoneError
from govserve.rules.functions import CEL_BUILTIN_FUNCTIONS, FunctionArgumentError, FunctionState, make_functions
from govserve.rules.names import TODAY_VARIABLE, free_identifiers, inline_today
from govserve.rules.values import cel_type_name, start_of_day, to_cel

DEFAULT_TIME_ZONE = "Europe/London"
_COMPILED_CACHE_SIZE = 16384
_COMPILE_LOCK = threading.Lock()

# The exceptions the CEL library raises for a failed evaluation.
_CEL_FAILURES = (RuntimeError, TypeError, ValueError, ArithmeticError, LookupError)

_FUNCTION_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, slots=True)
class CompiledExpression:
    """A compiled CEL expression, ready to evaluate many times.

    ``references`` are the names the expression reads (fields, determinants),
    excluding comprehension variables and function names; ``functions`` are the
    functions it calls (operators excluded); ``location`` is ``"file:line:col"``
    of the expression in its definition, quoted in errors.
    """

    source: str
    references: frozenset[str]
    functions: frozenset[str]
    location: str | None
    execute: Callable[[Any], Any] = field(repr=False, compare=False, kw_only=True)


class EvaluationContext:
    """The answers of one application (and determinants as they are evaluated), as CEL sees them.

    Build it with :func:`build_context` once per request and reuse it for every
    expression; it is not shared between threads (each request builds its own).
    """

    __slots__ = ("_function_state", "_names", "cel_context", "time_zone", "today")

    def __init__(
        self, *, cel_context: cel.Context, time_zone: ZoneInfo, today: dt.date, function_state: FunctionState
    ) -> None:
        self.cel_context = cel_context
        self.time_zone = time_zone
        self.today = today
        self._function_state = function_state
        self._names: set[str] = set()

    @property
    def names(self) -> frozenset[str]:
        """Return the names of the values in the context."""
        return frozenset(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def set_value(self, name: str, value: Any) -> None:
        """Add or replace the value ``name`` (a Python value, converted as in :func:`build_context`)."""
        self.cel_context.add_variable(name, to_cel(value, self.time_zone, name=name))
        self._names.add(name)

    def set_values(self, values: Mapping[str, Any]) -> None:
        """Add or replace several values at once."""
        converted = {name: to_cel(value, self.time_zone, name=name) for name, value in values.items()}
        self.cel_context.update(converted)
        self._names.update(converted)


def build_context(
    values: Mapping[str, Any], *, time_zone: str = DEFAULT_TIME_ZONE, today: dt.date | None = None
) -> EvaluationContext:
    """Return an evaluation context holding ``values`` and the platform functions.

    ``values`` maps each declared field id to its Python answer value, ``None``
    for an unanswered field (CEL cannot test whether a top-level name exists,
    so every declared field must be present). Values are converted: ``date``
    to a timestamp at the start of that day in ``time_zone``, aware
    ``datetime`` to the same instant with the zone's offset, ``Decimal`` to a
    double, lists and mappings recursively. ``today`` defaults to today's date
    in ``time_zone``. Raise UnknownTimeZoneError for an unknown zone and
    ValueConversionError for a value CEL cannot represent.
    """
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise UnknownTimeZoneError(
            f"Unknown time zone {time_zone!r}: use an IANA name such as Europe/London"
        ) from error
    if today is None:
        today = clock.now().astimezone(zone).date()
    state = FunctionState()
    context = EvaluationContext(
        cel_context=cel.Context(
            variables={TODAY_VARIABLE: start_of_day(today, zone)}, functions=make_functions(zone, today, state)
        ),
        time_zone=zone,
        today=today,
        function_state=state,
    )
    context.set_values(values)
    return context


def compile_expression(source: str, *, location: str | None = None) -> CompiledExpression:
    """Return ``source`` compiled; the same (source, location) gives the same object.

    Raise ExpressionSyntaxError (with the 1-based line and column of the first
    problem) when ``source`` does not parse.
    """
    if not isinstance(source, str):
        raise TypeError(f"A CEL expression must be a str, not {type(source).__name__}")
    # lru_cache is thread-safe but may compute a missing entry twice when two
    # threads miss at once, handing them different objects; the lock keeps
    # "same source, same object" true under gunicorn threads. Compiling is not
    # on the request path (versions are compiled once when loaded).
    with _COMPILE_LOCK:
        return _compile_cached(source, location)


@functools.lru_cache(maxsize=_COMPILED_CACHE_SIZE)
def _compile_cached(source: str, location: str | None) -> CompiledExpression:
    try:
        program, references, functions = _parse(source)
    except ExpressionSyntaxError as error:
        raise ExpressionSyntaxError(
            error.message,
            expression=source,
            line=error.line,
            column=error.column,
            location=location,
            detail=error.detail,
        ) from error.__cause__
    return CompiledExpression(
        source=source, references=references, functions=functions, location=location, execute=program.execute
    )


@functools.lru_cache(maxsize=_COMPILED_CACHE_SIZE)
def _parse(source: str) -> tuple[cel.Program, frozenset[str], frozenset[str]]:
    """Return the program, the names it reads and the functions it calls (one parse per source)."""
    try:
        program = cel.compile(source)
    except ValueError as error:
        raise _syntax_error(source, str(error), None) from error
    names = program.references()
    references = frozenset(names["variables"]) & free_identifiers(source)
    functions = frozenset(name for name in names["functions"] if _FUNCTION_NAME.fullmatch(name))
    executable = inline_today(source)
    if executable != source:
        program = cel.compile(executable)
    return program, references, functions


_SYNTAX_ERROR = re.compile(r"ERROR: <input>:(\d+):(\d+): (?:Syntax error: )?(.*)")


def _syntax_error(source: str, report: str, location: str | None) -> ExpressionSyntaxError:
    """Turn the CEL library's parse report into an ExpressionSyntaxError for its first problem."""
    match = _SYNTAX_ERROR.search(report)
    if match is None:
        return ExpressionSyntaxError(
            "The expression cannot be parsed", expression=source, line=1, column=1, location=location, detail=report
        )
    line, column, raw = int(match.group(1)), int(match.group(2)), match.group(3).strip()
    return ExpressionSyntaxError(
        _describe_syntax_problem(raw), expression=source, line=line, column=column, location=location, detail=raw
    )


_MISMATCHED = re.compile(r"mismatched input '(.*)' expecting")
_EXTRANEOUS = re.compile(r"extraneous input '(.*)' expecting")
_NO_VIABLE = re.compile(r"no viable alternative at input '(.*)'")
_TOKEN_RECOGNITION = re.compile(r"token recognition error at: '(.*)'")


def _describe_syntax_problem(raw: str) -> str:
    """Rephrase an ANTLR message without its list of expected tokens."""
    for pattern in (_MISMATCHED, _EXTRANEOUS):
        match = pattern.match(raw)
        if match:
            found = match.group(1)
            if found == "<EOF>":
                return "Syntax error: the expression ends too early (an operand or a closing bracket is missing)"
            return f"Syntax error: unexpected {found!r}"
    match = _NO_VIABLE.match(raw)
    if match:
        return f"Syntax error: cannot read {match.group(1)!r} here"
    match = _TOKEN_RECOGNITION.match(raw)
    if match:
        text = match.group(1)
        if text[:1] in {'"', "'"}:
            return "Syntax error: a string is not closed"
        return f"Syntax error: {text!r} is not allowed here"
    return f"Syntax error: {raw}"


def evaluate(expression: CompiledExpression, context: EvaluationContext) -> Any:
    """Return the value of ``expression`` in ``context``.

    Raise ExpressionEvaluationError for any failure of the expression (type
    mismatch, null operand, unknown name, missing map key, division by zero,
    integer overflow, bad function argument).
    """
    try:
        return expression.execute(context.cel_context)
    except _CEL_FAILURES as failure:
        raise _evaluation_error(failure, expression, context) from failure


def evaluate_bool(expression: CompiledExpression, context: EvaluationContext) -> bool:
    """Return the value of the condition ``expression``; it must be a bool.

    Raise ExpressionEvaluationError as :func:`evaluate` does, or with kind
    ``wrong_result_type`` when the result is not true or false (null included).
    """
    try:
        result = expression.execute(context.cel_context)
    except _CEL_FAILURES as failure:
        raise _evaluation_error(failure, expression, context) from failure
    if result is True or result is False:
        return result
    raise _wrong_result_type(expression, result)


def evaluate_condition(
    expression: CompiledExpression, context: EvaluationContext, *, undecided: Callable[[CompiledExpression], bool]
) -> bool | None:
    """Return the condition ``expression`` in ``context``, or None when it cannot be decided yet.

    As :func:`evaluate_bool`, except that a failure or a non-bool result for
    which ``undecided(expression)`` is true (say, a name it reads is still
    unanswered) returns None. That answer is found before any error is built:
    the diagnosis of the failing subexpression (:mod:`govserve.rules.diagnose`,
    a second walk of the expression) runs only when the error is raised.
    ``undecided`` is called only after a failure. A platform function that
    fails for a reason other than its arguments (a bug) is re-raised as it
    is, decided or not.
    """
    try:
        result = expression.execute(context.cel_context)
    except _CEL_FAILURES as failure:
        state = context._function_state
        if _platform_bug(failure, state.error) is None and undecided(expression):
            state.error = None
            return None
        raise _evaluation_error(failure, expression, context) from failure
    if result is True or result is False:
        return result
    if undecided(expression):
        return None
    raise _wrong_result_type(expression, result)


def _platform_bug(failure: BaseException, function_error: BaseException | None) -> BaseException | None:
    """Return the exception of a platform function that failed for a reason other than its arguments, if so."""
    if function_error is None or isinstance(function_error, FunctionArgumentError):
        return None
    if isinstance(failure, RuntimeError) and "Python function call failed" in str(failure):
        return function_error
    return None


def _wrong_result_type(expression: CompiledExpression, result: Any) -> ExpressionEvaluationError:
    return ExpressionEvaluationError(
        f"A condition must give true or false, but this gives {_article(cel_type_name(result))}",
        expression=expression.source,
        location=expression.location,
        kind="wrong_result_type",
    )


def _article(type_name: str) -> str:
    if type_name == "null":
        return "null"
    return ("an " if type_name[0] in "aeiou" else "a ") + type_name


_UNSUPPORTED = re.compile(r"Unsupported operation: (\w+) (\S+) (\w+)\.")
_UNSIGNED = re.compile(r"Cannot mix signed and unsigned integers: (\w+) (\S+) (\w+)\.")
_UNDEFINED = re.compile(r"Undefined variable or function: '([^']*)'")
_FUNCTION_FAILED = re.compile(
    r"Function '([^']*)' error: (.*?)(?:\. Check function arguments and their types\.)?$", re.S
)
_OVERFLOW = re.compile(r"Arithmetic overflow in '(\w+)'")
_OPERATION_NAMES = {"add": "addition", "sub": "subtraction", "mul": "multiplication", "div": "division", "rem": "%"}


def _evaluation_error(
    failure: BaseException, expression: CompiledExpression, context: EvaluationContext
) -> BaseException:
    """Return the typed error for a CEL failure, or the original exception of a buggy platform function."""
    state = context._function_state
    function_error, state.error = state.error, None
    report = str(failure)
    kind, message = "evaluation_failed", report.split("\n", 1)[0]
    from_function = (
        function_error is not None and isinstance(failure, RuntimeError) and "Python function call failed" in report
    )
    if from_function and function_error is not None:
        if not isinstance(function_error, FunctionArgumentError):
            return function_error  # a bug in a platform function: never tidy it away
        kind, message = function_error.kind, function_error.message
    elif isinstance(failure, TypeError):
        kind, message = _describe_type_failure(report)
    elif isinstance(failure, ZeroDivisionError):
        kind = "division_by_zero"
        message = "Modulo by zero" if "modulo" in report else "Division by zero"
    elif isinstance(failure, OverflowError):
        kind = "overflow"
        match = _OVERFLOW.search(report)
        operation = _OPERATION_NAMES.get(match.group(1), match.group(1)) if match else "a conversion"
        message = f"Integer overflow in {operation}: the result is outside the 64-bit integer range"
    elif isinstance(failure, KeyError):
        key = failure.args[0] if failure.args else "?"
        kind, message = "missing_key", f"The map has no key `{key}`: test for it first with has(map.{key})"
    elif isinstance(failure, IndexError):
        kind, message = "index_out_of_range", "List index out of range"
    elif isinstance(failure, RuntimeError):
        kind, message = _describe_runtime_failure(report)
    if kind in _DIAGNOSED_KINDS or from_function:
        diagnosis = diagnose(expression.source, context.cel_context, state)
        if diagnosis is not None:
            kind, message = diagnosis.kind or kind, diagnosis.message
    return ExpressionEvaluationError(message, expression=expression.source, location=expression.location, kind=kind)


def _describe_type_failure(report: str) -> tuple[str, str]:
    match = _UNSUPPORTED.match(report) or _UNSIGNED.match(report)
    if match:
        left, operator, right = (_cel_name(match.group(1)), match.group(2), _cel_name(match.group(3)))
        if "null" in (left, right):
            return (
                "null_value",
                f"`{operator}` got null (an unanswered field?): check the field first, e.g. `x != null && ...`",
            )
        if {left, right} == {"int", "double"} or {left, right} == {"int", "uint"}:
            return (
                "type_mismatch",
                f"`{operator}` mixes {left} and {right}: convert with double(...) or int(...)",
            )
        return (
            "type_mismatch",
            f"`{operator}` cannot combine {left} and {right}: "
            "convert explicitly with string(...), int(...) or double(...)",
        )
    return (
        "type_mismatch",
        "An operator or function got values of types it does not accept (CEL never converts between int, double, "
        "string and null by itself): convert explicitly with int(...), double(...) or string(...), and check "
        "optional fields for null first",
    )


_DIAGNOSED_KINDS = frozenset({"type_mismatch", "null_value", "invalid_argument"})


def _cel_name(python_type_name: str) -> str:
    return {"float": "double", "str": "string", "NoneType": "null", "dict": "map"}.get(
        python_type_name, python_type_name
    )


def _describe_runtime_failure(report: str) -> tuple[str, str]:
    match = _UNDEFINED.match(report)
    if match:
        name = match.group(1)
        if name in CEL_BUILTIN_FUNCTIONS:
            # The CEL library reports a built-in called with argument types it
            # has no overload for as an undefined name.
            return (
                "type_mismatch",
                f"{name}() does not accept an argument of this type (null from an unanswered field?)",
            )
        return "undefined_name", f"Unknown name `{name}`: no field, determinant or function is called that"
    match = _FUNCTION_FAILED.match(report)
    if match:
        name, detail = match.group(1), match.group(2).split("\n", 1)[0]
        kind = "overflow" if "overflow" in detail else "invalid_argument"
        return kind, f"{name}() failed: {detail}"
    return "evaluation_failed", report.split("\n", 1)[0]
