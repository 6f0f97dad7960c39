"""Checking answers against their field's validation, including custom CEL rules.

:func:`validate_field` takes the typed value :mod:`~govserve.journeys.fields.parse`
produced and returns the first problem, GOV.UK style (one message per field;
an address may have one per input). The checks, in order: required; the
built-in limits of the type (length, pattern, min/max, date bounds, ages,
options ticked, items, file size and type); then the field's ``rules`` in
definition order. Rules run only on a value that passed every other check and
is not ``None`` (an unanswered optional field has nothing to check).

Custom rules read answers from the caller's
:class:`~govserve.rules.EvaluationContext`. Before they run, the field's own
new value is put into the context under its id (it is usually not saved yet),
so the context is changed by the call. Inside a repeating group, a child's
rules read the *same item's* siblings bare (``age(assistant_date_of_birth) >=
16``): build that context from :func:`group_item_values` (the application's
answers with the item's child values over them), or use
:func:`validate_group_item`, which does it. A rule that fails to evaluate
raises :class:`~govserve.rules.ExpressionEvaluationError`: that is a fault of
the definition and is never turned into a message for the applicant.

Patterns come from service teams, so a pathological one must not hang a
worker: they are matched with the ``regex`` module under a time limit
(:data:`PATTERN_TIMEOUT_SECONDS`; the GIL is released while matching), on
answers the length limits have already bounded (1,000 characters for a line
of text, 10,000 for long text unless ``max_length`` says otherwise). A match
that runs out of time counts as not matching and is logged (field id only)
for the service team to fix the pattern.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from typing import Any, Final

import regex
import structlog

from govserve.catalogue.definitions import schema
from govserve.journeys.fields import messages
from govserve.journeys.fields.errors import FieldError
from govserve.journeys.fields.formats import add_years, age_on
from govserve.journeys.fields.parse import field_key, today_bound
from govserve.rules import EvaluationContext, build_context, compile_expression, evaluate_bool

logger = structlog.get_logger(__name__)

TEXT_MAX_LENGTH: Final = 1_000
"""The longest a one-line text answer may be when its field sets no ``max_length``."""
LONG_TEXT_MAX_LENGTH: Final = 10_000
"""The longest a long text answer may be when its field sets no ``max_length``."""
PATTERN_TIMEOUT_SECONDS: Final = 0.05
"""The time one pattern match may take before the answer is treated as not matching."""

_TEXT_FIELDS = (
    schema.TextField,
    schema.LongTextField,
    schema.EmailField,
    schema.PhoneField,
    schema.PostcodeField,
)


def anchor_for(field: schema.AnyField, prefix: str = "") -> str:
    """Return the HTML id a whole-field error links to: the field's first input."""
    key = field_key(field, prefix)
    if isinstance(field, schema.DateField):
        return f"{key}-day"
    if isinstance(field, schema.AddressField):
        return f"{key}-line1"
    return key


def validate_field(
    field: schema.AnyField,
    value: Any,
    *,
    context: EvaluationContext,
    language: str,
    today: dt.date,
    prefix: str = "",
    currency: str = "GBP",
) -> list[FieldError]:
    """Return the problems with ``value`` as an answer to ``field`` (empty when it is valid).

    ``value`` is a typed value as parsing gives it (``None`` for no answer);
    ``today`` is today's date in the service's time zone (date bounds and ages
    count from it); ``prefix`` is the one the inputs were named with (for the
    anchors). Messages are in ``language``. Raise ExpressionEvaluationError
    when a custom rule cannot be evaluated (a definition fault).
    """
    with messages.in_language(language):
        errors = _builtin(field, value, language=language, today=today, prefix=prefix, currency=currency)
        if errors or value is None:
            return errors
        return _rules(field, value, context, language, prefix)


def _builtin(  # noqa: PLR0911 - one branch per field type
    field: schema.AnyField, value: Any, *, language: str, today: dt.date, prefix: str, currency: str
) -> list[FieldError]:
    anchor = anchor_for(field, prefix)
    if isinstance(field, schema.GroupField):
        return _group(field, value or [], anchor, language)
    if value is None or value in ([], ""):
        if field.validation.required:
            return [FieldError(field.id, "required", messages.required(field, language), anchor)]
        return []
    if isinstance(field, _TEXT_FIELDS):
        return _text(field, value, anchor, language)
    if isinstance(field, schema.NumberField | schema.MoneyField):
        return _bounds(field, value, anchor, language, currency)
    if isinstance(field, schema.DateField):
        return _date(field, value, anchor, language, today)
    if isinstance(field, schema.CheckboxesField):
        return _selected(field, value, anchor, language)
    if isinstance(field, schema.FileField):
        return _file(field, value, anchor, language)
    return []


def _text(field: schema.AnyField, value: str, anchor: str, language: str) -> list[FieldError]:
    validation = field.validation
    assert isinstance(validation, schema.TextValidation)  # noqa: S101 - every text-like field has one
    limit = validation.max_length or (
        LONG_TEXT_MAX_LENGTH if isinstance(field, schema.LongTextField) else TEXT_MAX_LENGTH
    )
    if len(value) > limit:
        return [FieldError(field.id, "max_length", messages.length(field, "max_length", limit, language), anchor)]
    if validation.min_length is not None and len(value) < validation.min_length:
        message = messages.length(field, "min_length", validation.min_length, language)
        return [FieldError(field.id, "min_length", message, anchor)]
    if validation.pattern is not None and not _matches(field, validation.pattern, value):
        return [FieldError(field.id, "pattern", messages.pattern(field, language), anchor)]
    return []


@functools.lru_cache(maxsize=4096)
def _compiled_pattern(pattern: str) -> regex.Pattern[str]:
    return regex.compile(pattern)


def _matches(field: schema.AnyField, pattern: str, value: str) -> bool:
    try:
        return _compiled_pattern(pattern).fullmatch(value, concurrent=True, timeout=PATTERN_TIMEOUT_SECONDS) is not None
    except TimeoutError:
        logger.warning("journeys.field.pattern_timeout", field_id=field.id, answer_length=len(value))
        return False


def _bounds(
    field: schema.NumberField | schema.MoneyField, value: Any, anchor: str, language: str, currency: str
) -> list[FieldError]:
    validation = field.validation
    if validation.min is not None and value < validation.min:
        return [FieldError(field.id, "min", messages.bound(field, "min", language, currency=currency), anchor)]
    if validation.max is not None and value > validation.max:
        return [FieldError(field.id, "max", messages.bound(field, "max", language, currency=currency), anchor)]
    return []


def _date(field: schema.DateField, value: dt.date, anchor: str, language: str, today: dt.date) -> list[FieldError]:
    validation = field.validation
    if validation.before is not None:
        bound = today_bound(validation.before, today)
        if not value < bound:
            message = messages.date_bound(field, "before", validation.before, bound, language)
            return [FieldError(field.id, "before", message, anchor)]
    if validation.after is not None:
        bound = today_bound(validation.after, today)
        if not value > bound:
            message = messages.date_bound(field, "after", validation.after, bound, language)
            return [FieldError(field.id, "after", message, anchor)]
    if validation.min_age is not None and age_on(value, today) < validation.min_age:
        latest = add_years(today, -validation.min_age)
        return [FieldError(field.id, "min_age", messages.age(field, "min_age", latest, language), anchor)]
    if validation.max_age is not None and age_on(value, today) > validation.max_age:
        earliest = add_years(today, -(validation.max_age + 1)) + dt.timedelta(days=1)
        return [FieldError(field.id, "max_age", messages.age(field, "max_age", earliest, language), anchor)]
    return []


def _selected(field: schema.CheckboxesField, value: list[str], anchor: str, language: str) -> list[FieldError]:
    validation = field.validation
    if validation.min_selected is not None and len(value) < validation.min_selected:
        message = messages.selected(field, "min_selected", validation.min_selected, language)
        return [FieldError(field.id, "min_selected", message, anchor)]
    if validation.max_selected is not None and len(value) > validation.max_selected:
        message = messages.selected(field, "max_selected", validation.max_selected, language)
        return [FieldError(field.id, "max_selected", message, anchor)]
    return []


def _file(field: schema.FileField, value: Mapping[str, Any], anchor: str, language: str) -> list[FieldError]:
    size = value.get("size")
    if isinstance(size, int) and size > field.validation.max_size_mb * 1024 * 1024:
        return [FieldError(field.id, "max_size_mb", messages.file_message(field, "max_size_mb", language), anchor)]
    allowed = {schema.FILE_TYPES[file_type] for file_type in field.validation.types}
    if value.get("content_type") not in allowed:
        return [FieldError(field.id, "types", messages.file_message(field, "types", language), anchor)]
    return []


def _group(field: schema.GroupField, items: list[Any], anchor: str, language: str) -> list[FieldError]:
    validation = field.validation
    if len(items) < validation.min_items:
        message = messages.items(field, "min_items", validation.min_items, len(items), language)
        return [FieldError(field.id, "min_items", message, anchor)]
    if len(items) > validation.max_items:
        message = messages.items(field, "max_items", validation.max_items, len(items), language)
        return [FieldError(field.id, "max_items", message, anchor)]
    return []


def _rules(
    field: schema.AnyField, value: Any, context: EvaluationContext, language: str, prefix: str
) -> list[FieldError]:
    if not field.validation.rules:
        return []
    context.set_value(field.id, value)
    for index, rule in enumerate(field.validation.rules):
        if not evaluate_bool(compile_expression(rule.expression), context):
            return [FieldError(field.id, f"rule_{index}", rule.message.get(language), anchor_for(field, prefix))]
    return []


# --- Repeating groups -----------------------------------------------------------


def group_item_values(group: schema.GroupField, item: Mapping[str, Any], answers: Mapping[str, Any]) -> dict[str, Any]:
    """Return the values a group item's rules and conditions see: ``answers`` with the item's children bare.

    Every child field is present (``None`` when the item has no answer for
    it), over any top-level answer of the same name. Pass the result to
    :func:`govserve.rules.build_context`.
    """
    return {**answers, **{child.id: item.get(child.id) for child in group.fields}}


def validate_group_item(
    group: schema.GroupField,
    item: Mapping[str, Any],
    *,
    answers: Mapping[str, Any],
    time_zone: str,
    language: str,
    today: dt.date,
    prefix: str = "",
    currency: str = "GBP",
) -> list[FieldError]:
    """Return the problems with one item of a repeating group: each child validated as its own field.

    ``answers`` are the application's typed answers (every declared field,
    ``None`` when unanswered). A child whose ``when`` is false for this item
    is not asked, so it is not validated (its value should be ``None``).
    """
    context = build_context(group_item_values(group, item, answers), time_zone=time_zone, today=today)
    errors: list[FieldError] = []
    for child in group.fields:
        if child.when is not None and not evaluate_bool(compile_expression(child.when), context):
            continue
        errors.extend(
            validate_field(
                child,
                item.get(child.id),
                context=context,
                language=language,
                today=today,
                prefix=prefix,
                currency=currency,
            )
        )
    return errors
