"""Custom CEL rules (with a group item's siblings bare) and author patterns that could run away."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
import structlog

from govserve.journeys.fields import group_item_values, validate_field, validate_group_item
from govserve.journeys.fields.validate import PATTERN_TIMEOUT_SECONDS
from govserve.journeys.tests.fields_support import TODAY, context, make_field
from govserve.rules import ExpressionEvaluationError

ASSISTANTS = make_field(
    id="assistants",
    type="group",
    label="Assistants",
    item_label="assistant",
    validation={"max_items": 4},
    fields=[
        {"id": "assistant_name", "type": "text", "label": "Assistant's full name", "classification": "personal"},
        {
            "id": "assistant_date_of_birth",
            "type": "date",
            "label": "Assistant's date of birth",
            "classification": "personal",
            "validation": {
                "before": "today",
                "rules": [
                    {"expression": "age(assistant_date_of_birth) >= 16", "message": "Assistants must be 16 or older"},
                    {
                        "expression": "assistant_date_of_birth > trader_date_of_birth || assistant_name != ''",
                        "message": "Never shown: the name is given",
                    },
                ],
            },
        },
        {
            "id": "assistant_licence",
            "type": "text",
            "label": "Licence number",
            "classification": "personal",
            "when": "assistant_date_of_birth != null && age(assistant_date_of_birth) >= 18",
        },
    ],
)
ANSWERS = {"trader_date_of_birth": dt.date(1980, 1, 1), "assistants": []}


def item_problems(item: dict[str, Any], language: str = "en") -> list[tuple[str, str, str, str]]:
    errors = validate_group_item(
        ASSISTANTS, item, answers=ANSWERS, time_zone="Europe/London", language=language, today=TODAY, prefix="item-"
    )
    return [(error.field_id, error.code, error.message, error.anchor) for error in errors]


def test_group_item_rules_read_the_same_items_answers_bare() -> None:
    young = {"assistant_name": "Sam", "assistant_date_of_birth": dt.date(2015, 1, 1), "assistant_licence": None}
    grown = {"assistant_name": "Kim", "assistant_date_of_birth": dt.date(2000, 1, 1), "assistant_licence": None}
    teen = {"assistant_name": "Lee", "assistant_date_of_birth": dt.date(2009, 1, 1), "assistant_licence": None}

    assert item_problems(young) == [
        ("assistant_date_of_birth", "rule_0", "Assistants must be 16 or older", "item-assistant_date_of_birth-day")
    ]
    assert item_problems(grown) == [("assistant_licence", "required", "Enter licence number", "item-assistant_licence")]
    assert item_problems(teen) == []  # the licence is not asked under 18


def test_group_item_missing_answers_are_required() -> None:
    assert item_problems({}) == [
        ("assistant_name", "required", "Enter assistant's full name", "item-assistant_name"),
        ("assistant_date_of_birth", "required", "Enter assistant's date of birth", "item-assistant_date_of_birth-day"),
    ]


def test_group_item_values_put_the_children_over_the_answers() -> None:
    values = group_item_values(ASSISTANTS, {"assistant_name": "Sam"}, {"assistant_name": "top", "other": 1})

    assert values == {"assistant_name": "Sam", "other": 1, "assistant_date_of_birth": None, "assistant_licence": None}


def test_rules_see_the_new_value_not_the_saved_one() -> None:
    field = make_field(
        id="pitch_size",
        type="number",
        label="Pitch size",
        validation={"rules": [{"expression": "pitch_size <= max_pitch", "message": "Too big for the market"}]},
    )
    rules_context = context({"pitch_size": 1, "max_pitch": 10})

    errors = validate_field(field, 12, context=rules_context, language="en", today=TODAY)

    assert [error.message for error in errors] == ["Too big for the market"]


def test_rules_do_not_run_on_no_answer_or_an_answer_already_refused() -> None:
    field = make_field(
        id="nickname",
        type="text",
        label="Nickname",
        validation={
            "required": False,
            "max_length": 3,
            "rules": [{"expression": "nickname.startsWith('x')", "message": "Start with x"}],
        },
    )

    assert validate_field(field, None, context=context(), language="en", today=TODAY) == []
    too_long = validate_field(field, "abcd", context=context(), language="en", today=TODAY)
    assert [error.code for error in too_long] == ["max_length"]


def test_a_rule_that_cannot_be_evaluated_is_a_definition_fault() -> None:
    field = make_field(
        id="nickname",
        type="text",
        label="Nickname",
        validation={"rules": [{"expression": "nickname > 3", "message": "Never shown"}]},
    )

    with pytest.raises(ExpressionEvaluationError):
        validate_field(field, "abc", context=context(), language="en", today=TODAY)


def test_runaway_pattern_is_stopped_and_reported_without_the_answer() -> None:
    field = make_field(
        id="code", type="text", label="Reference code", validation={"pattern": "(a|aa)+", "max_length": 1000}
    )
    answer = "a" * 40 + "!"

    with structlog.testing.capture_logs() as logs:
        started = time.monotonic()
        errors = validate_field(field, answer, context=context(), language="en", today=TODAY)
        elapsed = time.monotonic() - started

    assert [error.message for error in errors] == ["Enter reference code in the correct format"]
    assert elapsed < PATTERN_TIMEOUT_SECONDS * 10  # unguarded, this match runs for hours
    assert logs == [
        {"event": "journeys.field.pattern_timeout", "field_id": "code", "answer_length": 41, "log_level": "warning"}
    ]


def test_patterns_use_python_syntax() -> None:
    field = make_field(
        id="code", type="text", label="Reference code", validation={"pattern": r"(?P<area>[A-Z]{2})\d{4}(?i:x?)"}
    )

    assert validate_field(field, "AB1234X", context=context(), language="en", today=TODAY) == []
    assert [e.code for e in validate_field(field, "ab1234", context=context(), language="en", today=TODAY)] == [
        "pattern"
    ]
