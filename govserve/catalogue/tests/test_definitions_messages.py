"""Validation error messages: the author's in their language, else the GOV.UK-style default."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter

from govserve.catalogue.definitions import schema
from govserve.catalogue.definitions.messages import answer_name, default_message, error_message, format_money

FIELD = TypeAdapter(schema.FieldDefinition)


def field(**data: Any) -> schema.AnyField:
    result: schema.AnyField = FIELD.validate_python({"classification": "personal", **data})
    return result


DATE_OF_BIRTH = field(
    id="date_of_birth",
    type="date",
    label="What is your date of birth?",
    validation={
        "before": "today",
        "min_age": 18,
        "messages": {"min_age": {"en": "You must be 18 or over", "cy": "Rhaid i chi fod yn 18 oed neu drosodd"}},
    },
)


def test_the_answer_is_named_from_the_question() -> None:
    # Then
    assert answer_name(DATE_OF_BIRTH) == "your date of birth"
    assert answer_name(field(id="n", type="text", label="Full name")) == "full name"
    assert answer_name(field(id="n", type="text", label="UK passport number")) == "UK passport number"
    assert answer_name(field(id="n", type="text", label="Name", short_label="your name")) == "your name"


@pytest.mark.parametrize(
    ("data", "rule", "message"),
    [
        ({"type": "date", "label": "What is your date of birth?"}, "required", "Enter your date of birth"),
        (
            {"type": "date", "label": "Start date", "validation": {"after": "2025-01-31"}},
            "after",
            "Start date must be after 31 January 2025",
        ),
        (
            {"type": "date", "label": "Date of birth", "validation": {"before": "tomorrow"}},
            "before",
            "Date of birth must be today or in the past",
        ),
        ({"type": "date", "label": "Date of birth"}, "format", "Date of birth must be a real date"),
        (
            {"type": "text", "label": "Full name", "validation": {"max_length": 100}},
            "max_length",
            "Full name must be 100 characters or less",
        ),
        (
            {"type": "text", "label": "Reference", "validation": {"pattern": "^[A-Z]{3}$"}},
            "pattern",
            "Enter reference in the correct format",
        ),
        (
            {"type": "number", "label": "Days per week", "validation": {"min": 1}},
            "min",
            "Days per week must be 1 or more",
        ),
        ({"type": "number", "label": "Days per week"}, "format", "Days per week must be a whole number"),
        (
            {"type": "money", "label": "Annual income", "validation": {"max": 1234567}},
            "max",
            "Annual income must be £12,345.67 or less",
        ),
        (
            {"type": "radios", "label": "Your nationality", "options": [{"value": "a", "label": "A"}]},
            "required",
            "Select your nationality",
        ),
        ({"type": "yes_no", "label": "Do you sell food?"}, "required", "Select yes or no for do you sell food"),
        (
            {"type": "checkboxes", "label": "Goods", "options_from": "goods", "validation": {"max_selected": 3}},
            "max_selected",
            "Select no more than 3 options",
        ),
        (
            {"type": "email", "label": "Email address"},
            "format",
            "Enter an email address in the correct format, like name@example.com",
        ),
        (
            {"type": "file", "label": "A photo of you", "validation": {"types": ["jpg", "png"]}},
            "types",
            "The selected file must be a JPG or PNG",
        ),
        ({"type": "file", "label": "A photo of you"}, "max_size_mb", "The selected file must be smaller than 10MB"),
        ({"type": "file", "label": "A photo of you"}, "required", "Upload a photo of you"),
        ({"type": "address", "label": "Home address"}, "town", "Enter town or city"),
        (
            {
                "type": "group",
                "label": "Children",
                "item_label": "child",
                "fields": [{"id": "c", "type": "text", "label": "Name", "classification": "personal"}],
            },
            "min_items",
            "Add at least 1 child",
        ),
    ],
)
def test_default_messages_follow_the_design_system(data: dict[str, Any], rule: str, message: str) -> None:
    # When / Then
    assert default_message(field(id="answer", **data), rule) == message


def test_the_authors_message_wins_in_their_language() -> None:
    # Then
    assert error_message(DATE_OF_BIRTH, "min_age") == "You must be 18 or over"
    assert error_message(DATE_OF_BIRTH, "min_age", language="cy") == "Rhaid i chi fod yn 18 oed neu drosodd"
    assert error_message(DATE_OF_BIRTH, "before", language="cy") == "Your date of birth must be in the past"


def test_a_rule_the_field_type_does_not_have_is_a_bug() -> None:
    # When / Then
    with pytest.raises(ValueError, match="A text field has no 'min_age' rule here"):
        default_message(field(id="n", type="text", label="Name"), "min_age")


def test_money_is_shown_from_minor_units() -> None:
    # Then
    assert format_money(2550) == "£25.50"
    assert format_money(5) == "£0.05"
    assert format_money(-123456, "EUR") == "-€1,234.56"
    assert format_money(100, "NOK") == "NOK 1.00"
