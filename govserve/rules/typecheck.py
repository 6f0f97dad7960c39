"""Type checking of expressions by evaluation against typed sample values.

CEL is strongly typed but the CEL library has no checker that knows our field
types, so the check evaluates each expression against a sample value of the
right CEL type for every field it reads. A type fault (``int * double``, a
string compared with an int, a function given the wrong type, an unknown
name, a condition that is not a bool) fails every evaluation the same way, so
one evaluation finds it on the paths it takes.

What it does not cover: branches the samples do not take (the right side of
``a || b`` when ``a`` is true, the other arm of ``c ? x : y``; the check runs a
second time with every bool sample flipped to reach some of them); null, the
value of an unanswered field (samples are answered); and faults of particular
values (division by zero, overflow, a missing map key), which are not type
faults and are not reported.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from govserve.rules.engine import CompiledExpression, build_context, evaluate
from govserve.rules.errors import ExpressionEvaluationError, ExpressionTypeError
from govserve.rules.values import cel_type_name

# A fixed "today", so that checks are reproducible.
SAMPLE_TODAY = dt.date(2024, 6, 15)
_SAMPLE_DATE = dt.date(1990, 5, 17)

# Failures that say nothing about types: the particular sample values caused them.
_VALUE_FAULTS = frozenset({"division_by_zero", "overflow", "missing_key", "index_out_of_range"})

_STRING_SAMPLES: Mapping[str, str] = {
    "text": "sample text",
    "long_text": "sample text\nover two lines",
    "email": "applicant@example.com",
    "phone": "+447700900123",
    "postcode": "SW1A 1AA",
    "radios": "option",
    "select": "option",
}

FIELD_TYPES = frozenset(
    {*_STRING_SAMPLES, "number", "money", "date", "yes_no", "checkboxes", "address", "file", "group"}
)


def sample_value(  # noqa: PLR0911 - one answer per field type
    field_type: str, *, decimal: bool = False, children: Mapping[str, str] | None = None
) -> Any:
    """Return a typed sample Python value for a field of ``field_type``.

    ``decimal`` makes a number field a double; ``children`` maps a group's
    child field ids to their types (a group sample holds two items, so that
    comprehensions over it evaluate their bodies; a group nested in a group is
    an empty list). Raise ValueError for an unknown field type.
    """
    if field_type in _STRING_SAMPLES:
        return _STRING_SAMPLES[field_type]
    if field_type == "number":
        return 2.5 if decimal else 3
    if field_type == "money":
        return 12_345
    if field_type == "date":
        return _SAMPLE_DATE
    if field_type == "yes_no":
        return True
    if field_type == "checkboxes":
        return ["option", "other option"]
    if field_type == "address":
        return {
            "line1": "1 High Street",
            "line2": "",
            "town": "Sampletown",
            "county": "",
            "postcode": "SW1A 1AA",
            "country": "GB",
        }
    if field_type == "file":
        return {"name": "evidence.pdf", "size": 102_400, "content_type": "application/pdf"}
    if field_type == "group":
        if children is None:
            return []
        item = {child: _child_sample(child_type) for child, child_type in children.items()}
        return [item, dict(item)]
    raise ValueError(f"Unknown field type {field_type!r}; known types: {', '.join(sorted(FIELD_TYPES))}")


def _child_sample(field_type: str) -> Any:
    return [] if field_type == "group" else sample_value(field_type)


_EXPECTED_NAMES: Mapping[type, str] = {bool: "bool", int: "int", float: "double", str: "string", list: "list"}


def check_expression_types(
    expression: CompiledExpression, sample_values: Mapping[str, Any], *, expect: type | None = None
) -> str | None:
    """Return None when ``expression`` evaluates against the samples, else a message saying why not.

    ``sample_values`` maps every name the expression may read (fields, and
    determinants as bool samples) to a sample Python value. With ``expect``
    (bool for conditions, int for fees and other whole amounts), the result
    must also be of that type: an int is not a bool, and a bool is not an int.
    """
    # Only the names the expression reads go into the context: a definition
    # has thousands of fields, and converting all of them for each of its
    # hundreds of expressions would dominate `check`.
    used = {name: sample_values[name] for name in expression.references if name in sample_values}
    variants = [used]
    flipped = {name: (not value) if isinstance(value, bool) else value for name, value in used.items()}
    if flipped != variants[0]:
        variants.append(flipped)
    for values in variants:
        context = build_context(values, today=SAMPLE_TODAY)
        try:
            result = evaluate(expression, context)
        except ExpressionEvaluationError as error:
            if error.kind in _VALUE_FAULTS:
                continue
            return error.message
        if expect is not None and not _has_type(result, expect):
            return _wrong_result_message(result, expect)
    return None


def ensure_expression_types(
    expression: CompiledExpression, sample_values: Mapping[str, Any], *, expect: type | None = None
) -> None:
    """Raise ExpressionTypeError with the message of :func:`check_expression_types`, if it has one."""
    message = check_expression_types(expression, sample_values, expect=expect)
    if message is not None:
        raise ExpressionTypeError(message, expression=expression.source, location=expression.location)


def _has_type(result: object, expect: type) -> bool:
    if expect is int:
        return isinstance(result, int) and not isinstance(result, bool)
    if expect is float:
        return isinstance(result, float)
    return isinstance(result, expect)


def _wrong_result_message(result: object, expect: type) -> str:
    got = cel_type_name(result)
    wanted = _EXPECTED_NAMES.get(expect, expect.__name__)
    if expect is bool:
        return f"This must give true or false, but it gives {_a(got)}"
    if expect is int and got == "double":
        return "This must give an int (a whole amount), but it gives a double: round it with round_half_up(x, 0)"
    return f"This must give {_a(wanted)}, but it gives {_a(got)}"


def _a(type_name: str) -> str:
    if type_name == "null":
        return "null"
    return ("an " if type_name[0] in "aeiou" else "a ") + type_name
