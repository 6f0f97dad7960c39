"""``notifications.sms_to`` in definitions: it must name a phone field outside any repeating group."""

from __future__ import annotations

import pytest

from govserve.catalogue.definitions.loader import load_definition_text
from govserve.journeys.tests.support import example_text

LIGHT = "report-street-light"


def _with_sms_to(value: str) -> list[tuple[str, str, str | None]]:
    text = example_text(LIGHT).replace("notifications:\n", f"notifications:\n  sms_to: {value}\n", 1)
    result = load_definition_text(text, filename=f"{LIGHT}.yaml")
    return [
        (problem.path, problem.message, problem.suggestion) for problem in result.problems if "sms_to" in problem.path
    ]


def test_a_phone_field_is_accepted() -> None:
    assert _with_sms_to("reporter_phone") == []


@pytest.mark.parametrize(
    ("value", "suggestion"),
    [
        ("reporter_phon", "Did you mean `reporter_phone`?"),
        ("reporter_email", "Did you mean `reporter_phone`?"),
        ("street", None),
    ],
)
def test_anything_but_a_phone_field_is_refused_with_a_suggestion(value: str, suggestion: str | None) -> None:
    assert _with_sms_to(value) == [
        (
            "notifications.sms_to",
            f"`{value}` is not a phone field outside a repeating group: text messages need a phone number",
            suggestion,
        )
    ]


def test_a_name_that_is_not_a_field_name_is_refused_by_the_schema() -> None:
    problems = _with_sms_to('"Reporter Phone"')

    assert len(problems) == 1
    assert problems[0][0] == "notifications.sms_to"
