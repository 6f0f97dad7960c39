"""Field components: text, email, number, radios and yes/no, end to end (parse, validate, display, store, render)."""

from __future__ import annotations

from govserve.journeys.fields import display_value, value_from_json, value_to_json
from govserve.journeys.tests.fields_support import check, make_field, parse, render

FULL_NAME = make_field(
    id="full_name", type="text", label="What is your full name?", autocomplete="name", validation={"max_length": 100}
)


def test_text_is_trimmed_and_kept() -> None:
    value, errors = parse(FULL_NAME, {"full_name": ["  Alex Example  "]})

    assert (value, errors) == ("Alex Example", [])


def test_text_required_and_too_long_messages() -> None:
    assert check(FULL_NAME, {}) == ["Enter your full name"]
    assert check(FULL_NAME, {"full_name": ["   "]}) == ["Enter your full name"]
    assert check(FULL_NAME, {"full_name": ["x" * 101]}) == ["Full name must be 100 characters or less"]
    assert check(FULL_NAME, {"full_name": ["x" * 100]}) == []


def test_email_format_message() -> None:
    email = make_field(id="email", type="email", label="Email address")

    assert check(email, {"email": ["name@example"]}) == [
        "Enter an email address in the correct format, like name@example.com"
    ]
    assert parse(email, {"email": [" name@example.com "]}) == ("name@example.com", [])


def test_number_accepts_thousands_and_refuses_exponents() -> None:
    days = make_field(
        id="days_per_week",
        type="number",
        label="How many days a week will you trade?",
        short_label="days per week",
        validation={"min": 1},
    )

    assert parse(days, {"days_per_week": ["1,000"]}) == (1000, [])
    assert check(days, {"days_per_week": ["1e3"]}) == ["Days per week must be a whole number"]
    assert check(days, {"days_per_week": ["0"]}) == ["Days per week must be 1 or more"]


def test_radios_and_yes_no_required_messages() -> None:
    sell = make_field(
        id="sell",
        type="radios",
        label="What will you sell?",
        options=[{"value": "food", "label": "Food"}, {"value": "goods", "label": "Goods"}],
    )
    changed = make_field(id="changed_name", type="yes_no", label="Have you changed your name?")

    assert check(sell, {}) == ["Select what you will sell"]
    assert check(sell, {"sell": ["tampered"]}) == ["Select what you will sell"]
    assert parse(sell, {"sell": ["food"]}) == ("food", [])
    assert check(changed, {}) == ["Select if you have changed your name"]
    assert parse(changed, {"changed_name": ["no"]}) == (False, [])


def test_yes_no_display_and_storage() -> None:
    changed = make_field(id="changed_name", type="yes_no", label="Have you changed your name?")

    assert display_value(changed, True, language="en") == "Yes"
    assert display_value(changed, False, language="cy") == "Na"
    assert value_from_json(changed, value_to_json(changed, True)) is True


def test_text_renders_as_page_heading_with_error() -> None:
    html = render(
        FULL_NAME,
        raw={"full_name": ["<b>x</b>"]},
        errors=[],
        single_question=True,
    )

    assert '<h1 class="govuk-label-wrapper">' in html
    assert 'autocomplete="name"' in html
    assert 'value="&lt;b&gt;x&lt;/b&gt;"' in html
