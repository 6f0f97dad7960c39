"""Every error of every field type: exact GOV.UK-style messages, codes, anchors, and the author's overrides."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from govserve.journeys.fields import FieldError, parse_field, validate_field
from govserve.journeys.tests.fields_support import TODAY, check, context, make_field, parse

FULL_NAME = make_field(
    id="full_name",
    type="text",
    label="What is your full name?",
    validation={"min_length": 2, "max_length": 100},
)
DATE_OF_BIRTH = make_field(id="date_of_birth", type="date", label="Date of birth", short_label="a date of birth")
DAYS = make_field(
    id="days_per_week",
    type="number",
    label="How many days a week will you trade?",
    short_label="days per week",
    validation={"min": 1},
)
SELL = make_field(
    id="goods",
    type="checkboxes",
    label="What will you sell?",
    options=[
        {"value": "food", "label": "Food"},
        {"value": "flowers", "label": "Flowers"},
        {"value": "crafts", "label": "Crafts"},
        {"value": "none", "label": "None of these", "exclusive": True},
    ],
    validation={"min_selected": 2, "max_selected": 2},
)


def date_data(day: str, month: str, year: str, key: str = "date_of_birth") -> dict[str, list[str]]:
    return {f"{key}-day": [day], f"{key}-month": [month], f"{key}-year": [year]}


def errors_of(field: Any, data: dict[str, Any], **options: Any) -> list[FieldError]:
    value, errors = parse(field, data)
    if errors:
        return errors
    return validate_field(field, value, context=context(), language="en", today=TODAY, **options)


# --- Text ---------------------------------------------------------------------------


def test_text_messages() -> None:
    assert check(FULL_NAME, {}) == ["Enter your full name"]
    assert check(FULL_NAME, {"full_name": ["A"]}) == ["Full name must be 2 characters or more"]
    assert check(FULL_NAME, {"full_name": ["A" * 101]}) == ["Full name must be 100 characters or less"]
    assert check(FULL_NAME, {"full_name": ["Al"]}) == []


def test_text_without_max_length_is_capped_at_1000_characters() -> None:
    nickname = make_field(id="nickname", type="text", label="Nickname")

    assert check(nickname, {"nickname": ["n" * 1001]}) == ["Nickname must be 1,000 characters or less"]
    assert check(nickname, {"nickname": ["n" * 1000]}) == []


def test_optional_text_left_empty_is_no_answer() -> None:
    middle = make_field(id="middle_name", type="text", label="Middle name", validation={"required": False})

    assert parse(middle, {"middle_name": ["  "]}) == (None, [])
    assert check(middle, {"middle_name": [""]}) == []


def test_pattern_is_a_full_match() -> None:
    number = make_field(
        id="food_registration_number",
        type="text",
        label="Food business registration number",
        validation={"pattern": "[A-Z]{2}[0-9]{6}"},
    )

    assert check(number, {"food_registration_number": ["FB123456"]}) == []
    assert check(number, {"food_registration_number": ["FB1234567"]}) == [
        "Enter food business registration number in the correct format"
    ]


def test_long_text_counts_line_ends_as_one_character() -> None:
    story = make_field(id="story", type="long_text", label="Describe what you sell", validation={"max_length": 5})

    assert parse(story, {"story": ["ab\r\ncd"]}) == ("ab\ncd", [])
    assert check(story, {"story": ["ab\r\ncd"]}) == []
    assert check(story, {"story": ["ab\r\ncde"]}) == ["Describe what you sell must be 5 characters or less"]


def test_email_phone_and_postcode_formats() -> None:
    email = make_field(id="email", type="email", label="Email address")
    phone = make_field(id="phone", type="phone", label="UK phone number")
    postcode = make_field(id="postcode", type="postcode", label="Postcode")

    assert check(email, {}) == ["Enter email address"]
    assert check(email, {"email": ["name.example.com"]}) == [
        "Enter an email address in the correct format, like name@example.com"
    ]
    assert check(phone, {"phone": ["12345"]}) == [
        "Enter a phone number, like 01632 960 001, 07700 900 982 or +44 808 157 0192"
    ]
    assert check(postcode, {"postcode": ["SW1A"]}) == ["Enter a real postcode"]
    assert parse(postcode, {"postcode": ["sw1a1aa"]}) == ("SW1A 1AA", [])


# --- Numbers and money -------------------------------------------------------------


def test_number_messages() -> None:
    assert check(DAYS, {}) == ["Enter days per week"]
    assert check(DAYS, {"days_per_week": ["two"]}) == ["Days per week must be a whole number"]
    assert check(DAYS, {"days_per_week": ["2.5"]}) == ["Days per week must be a whole number"]
    assert check(DAYS, {"days_per_week": ["0"]}) == ["Days per week must be 1 or more"]
    assert check(DAYS, {"days_per_week": ["9" * 16]}) == ["Days per week must be 999,999,999,999,999 or less"]


def test_number_between_min_and_max() -> None:
    days = make_field(
        id="days", type="number", label="Days per week", validation={"min": 1, "max": 7, "required": False}
    )

    assert check(days, {"days": ["8"]}) == ["Days per week must be between 1 and 7"]
    assert [error.code for error in errors_of(days, {"days": ["0"]})] == ["min"]
    assert [error.code for error in errors_of(days, {"days": ["8"]})] == ["max"]


def test_decimal_number_messages() -> None:
    hours = make_field(id="hours", type="number", label="Hours", decimal_places=1, validation={"max": 12.5})

    assert parse(hours, {"hours": ["7.5"]})[0] == pytest.approx(7.5)
    assert check(hours, {"hours": ["7.55"]}) == ["Hours must have no more than 1 decimal place"]
    assert check(hours, {"hours": ["seven"]}) == ["Hours must be a number"]
    assert check(hours, {"hours": ["13"]}) == ["Hours must be 12.5 or less"]


def test_money_messages() -> None:
    takings = make_field(
        id="takings", type="money", label="Expected yearly takings", validation={"min": 2500, "max": 10000000}
    )

    assert check(takings, {}) == ["Enter expected yearly takings"]
    assert check(takings, {"takings": ["12.345"]}) == [
        "Expected yearly takings must be an amount of money, like 600 or 600.50"
    ]
    assert check(takings, {"takings": ["£10"]}) == ["Expected yearly takings must be between £25 and £100,000"]
    assert parse(takings, {"takings": ["£1,234.5"]}) == (123450, [])


def test_money_bound_shown_in_the_service_currency() -> None:
    fee = make_field(id="fee", type="money", label="Fee", validation={"min": 1050})

    errors = validate_field(fee, 100, context=context(), language="en", today=TODAY, currency="EUR")

    assert [error.message for error in errors] == ["Fee must be €10.50 or more"]


# --- Dates --------------------------------------------------------------------------


def test_date_messages_and_parts_at_fault() -> None:
    def problems(data: dict[str, Any]) -> list[tuple[str, str, str, tuple[str, ...]]]:
        return [(error.code, error.message, error.anchor, error.parts) for error in errors_of(DATE_OF_BIRTH, data)]

    assert problems({}) == [("required", "Enter a date of birth", "date_of_birth-day", ())]
    assert problems(date_data("3", "", "1990")) == [
        ("incomplete", "Date of birth must include a month", "date_of_birth-month", ("month",))
    ]
    assert problems(date_data("", "", "1990")) == [
        ("incomplete", "Date of birth must include a day and month", "date_of_birth-day", ("day", "month"))
    ]
    assert problems(date_data("", "3", "")) == [
        ("incomplete", "Date of birth must include a day and year", "date_of_birth-day", ("day", "year"))
    ]
    assert problems(date_data("3", "", "")) == [
        ("incomplete", "Date of birth must include a month and year", "date_of_birth-month", ("month", "year"))
    ]
    assert problems(date_data("", "3", "1990")) == [
        ("incomplete", "Date of birth must include a day", "date_of_birth-day", ("day",))
    ]
    assert problems(date_data("3", "3", "")) == [
        ("incomplete", "Date of birth must include a year", "date_of_birth-year", ("year",))
    ]
    assert problems(date_data("3", "13", "1990")) == [
        ("real_date", "Date of birth must be a real date", "date_of_birth-month", ("month",))
    ]
    assert problems(date_data("31", "2", "1990")) == [
        ("real_date", "Date of birth must be a real date", "date_of_birth-day", ("day", "month", "year"))
    ]
    assert problems(date_data("3", "3", "90")) == [
        ("year_digits", "Year must include 4 numbers", "date_of_birth-year", ("year",))
    ]
    assert problems(date_data(" 3 ", "mar", "1990")) == []


@pytest.mark.parametrize(
    ("before", "after", "day", "message"),
    [("today", None, TODAY, "Date of birth must be in the past"),
     ("tomorrow", None, TODAY + dt.timedelta(days=1), "Date of birth must be today or in the past"),
     ("yesterday", None, TODAY - dt.timedelta(days=1), "Date of birth must be before 26 March 2026"),
     ("2020-01-01", None, dt.date(2020, 1, 1), "Date of birth must be before 1 January 2020"),
     (None, "today", TODAY, "Date of birth must be in the future"),
     (None, "yesterday", TODAY - dt.timedelta(days=1), "Date of birth must be today or in the future"),
     (None, "tomorrow", TODAY + dt.timedelta(days=1), "Date of birth must be after 28 March 2026"),
     (None, "1990-12-31", dt.date(1990, 12, 31), "Date of birth must be after 31 December 1990")],
)  # fmt: skip
def test_date_bounds_are_strict(before: str | None, after: str | None, day: dt.date, message: str) -> None:
    field = make_field(
        id="date_of_birth",
        type="date",
        label="What is your date of birth?",
        validation={"before": before, "after": after},
    )
    inside = day - dt.timedelta(days=1) if before else day + dt.timedelta(days=1)

    assert [error.message for error in validate_field(field, day, context=context(), language="en", today=TODAY)] == [
        message
    ]
    assert validate_field(field, inside, context=context(), language="en", today=TODAY) == []


def test_ages_give_the_date_limit() -> None:
    field = make_field(
        id="date_of_birth",
        type="date",
        label="What is your date of birth?",
        validation={"min_age": 17, "max_age": 65},
    )

    def messages(day: dt.date) -> list[str]:
        return [error.message for error in validate_field(field, day, context=context(), language="en", today=TODAY)]

    assert messages(dt.date(2009, 3, 27)) == []
    assert messages(dt.date(2009, 3, 28)) == ["Date of birth must be the same as or before 27 March 2009"]
    assert messages(dt.date(1960, 3, 28)) == []
    assert messages(dt.date(1960, 3, 27)) == ["Date of birth must be the same as or after 28 March 1960"]


# --- Choices ---------------------------------------------------------------------------


def test_checkbox_messages() -> None:
    def messages(values: list[str]) -> list[str]:
        return check(SELL, {"goods": values})

    assert messages([]) == ["Select what you will sell"]
    assert messages(["food"]) == ["Select at least 2 options"]
    assert messages(["food", "flowers", "crafts"]) == ["Select no more than 2 options"]
    assert messages(["food", "none"]) == ["Select what you will sell, or select ‘None of these’"]  # noqa: RUF001
    assert messages(["food", "flowers"]) == []


def test_checkboxes_keep_the_options_order_and_ignore_unknown_values() -> None:
    assert parse(SELL, {"goods": ["crafts", "tampered", "food", "food"]}) == (["food", "crafts"], [])


def test_exclusive_option_clash_keeps_the_choices() -> None:
    value, errors = parse(SELL, {"goods": ["none", "food"]})

    assert value == ["food", "none"]
    assert [(error.code, error.anchor) for error in errors] == [("exclusive", "goods")]


@pytest.mark.parametrize(
    ("label", "short_label", "message"),
    [("Have you changed your name?", None, "Select if you have changed your name"),
     ("Do you hold a licence?", None, "Select if you hold a licence"),
     ("Are you a UK resident?", None, "Select if you are a UK resident"),
     ("Is the address correct?", None, "Select if the address is correct"),
     ("Is your business registered for VAT?", None, "Select if your business is registered for VAT"),
     ("Does your business sell food?", None, "Select yes or no"),
     ("Food business", None, "Select yes or no"),
     ("Anything", "you have a food hygiene rating", "Select if you have a food hygiene rating")],
)  # fmt: skip
def test_yes_no_required_message_from_the_question(label: str, short_label: str | None, message: str) -> None:
    field = make_field(id="answer", type="yes_no", label=label, short_label=short_label)

    assert check(field, {}) == [message]
    assert check(field, {"answer": ["maybe"]}) == [message]


@pytest.mark.parametrize(
    ("label", "message"),
    [("What will you sell?", "Select what you will sell"),
     ("Which days will you trade?", "Select which days you will trade"),
     ("How many pitches do you need?", "Select how many pitches you need"),
     ("What is your nationality?", "Select your nationality"),
     ("Pitch", "Select pitch"),
     ("UK region", "Select UK region")],
)  # fmt: skip
def test_radio_required_message_from_the_question(label: str, message: str) -> None:
    field = make_field(id="answer", type="radios", label=label, options=[{"value": "a", "label": "A"}])

    assert check(field, {}) == [message]


def test_select_from_a_catalogue() -> None:
    pitch = make_field(id="pitch", type="select", label="Pitch", options_from="pitches")
    catalogue = make_catalogue()

    assert parse(pitch, {"pitch": ["market-square"]}, catalogues={"pitches": catalogue}) == ("market-square", [])
    assert parse(pitch, {"pitch": [""]}, catalogues={"pitches": catalogue}) == (None, [])
    with pytest.raises(LookupError, match="catalogue 'pitches'"):
        parse(pitch, {"pitch": ["market-square"]})


def make_catalogue() -> Any:
    from govserve.catalogue.definitions.schema import Catalogue  # noqa: PLC0415 - local helper

    return Catalogue.model_validate(
        {"id": "pitches", "title": "Pitches", "options": [{"value": "market-square", "label": "Market Square"}]},
        strict=False,
    )


# --- Addresses --------------------------------------------------------------------------

ADDRESS = make_field(id="address", type="address", label="What is your address?")


def address_data(**parts: str) -> dict[str, list[str]]:
    return {f"address-{part}": [text] for part, text in parts.items()}


def test_address_parsed_with_postcode_normalised() -> None:
    value, errors = parse(ADDRESS, address_data(line1=" 1 High Street ", town="Leeds", postcode="ls11aa"))

    assert errors == []
    assert value == {
        "line1": "1 High Street",
        "line2": "",
        "town": "Leeds",
        "county": "",
        "postcode": "LS1 1AA",
        "country": "GB",
    }


def test_address_errors_per_input() -> None:
    errors = errors_of(ADDRESS, address_data(line2="Flat 2", postcode="nonsense"))

    assert [(error.code, error.message, error.anchor, error.parts) for error in errors] == [
        ("line1_required", "Enter address line 1, typically the building and street", "address-line1", ("line1",)),
        ("town_required", "Enter town or city", "address-town", ("town",)),
        ("postcode_format", "Enter a real postcode", "address-postcode", ("postcode",)),
    ]


def test_address_missing_postcode_and_too_long_line() -> None:
    errors = errors_of(ADDRESS, address_data(line1="x" * 201, town="Leeds"))

    assert [(error.code, error.message) for error in errors] == [
        ("line1_too_long", "Address line 1 must be 200 characters or less"),
        ("postcode_required", "Enter postcode"),
    ]


def test_empty_address_is_required() -> None:
    assert [(error.code, error.anchor) for error in errors_of(ADDRESS, {})] == [("required", "address-line1")]


def test_international_address_needs_a_country_not_a_uk_postcode() -> None:
    abroad = make_field(id="address", type="address", label="Address", international=True)

    value, errors = parse(
        abroad, address_data(line1="1 Rue de Rivoli", town="Paris", postcode="75001", country="France")
    )
    missing = errors_of(abroad, address_data(line1="1 Rue de Rivoli", town="Paris"))

    assert errors == []
    assert value is not None
    assert (value["postcode"], value["country"]) == ("75001", "France")
    assert [(error.code, error.message) for error in missing] == [("country_required", "Enter country")]


def test_address_author_messages() -> None:
    field = make_field(
        id="address",
        type="address",
        label="Address",
        validation={"messages": {"town": {"en": "Enter the town", "cy": "Rhowch y dref"}}},
    )

    welsh = parse_field(
        field, address_data(line1="1 Stryd Fawr", postcode="CF10 1AA"), language="cy", phone_region="GB"
    )

    assert [error.message for error in welsh[1]] == ["Rhowch y dref"]


# --- Files and groups ------------------------------------------------------------------


def test_file_checks_size_and_type() -> None:
    photo = make_field(
        id="photo", type="file", label="Photo of the fault", validation={"max_size_mb": 2, "types": ["jpg", "png"]}
    )

    def messages(value: Any) -> list[str]:
        return [e.message for e in validate_field(photo, value, context=context(), language="en", today=TODAY)]

    assert messages(None) == ["Select photo of the fault"]
    assert messages({"name": "a.jpg", "size": 2 * 1024 * 1024 + 1, "content_type": "image/jpeg"}) == [
        "The selected file must be smaller than 2MB"
    ]
    assert messages({"name": "a.pdf", "size": 10, "content_type": "application/pdf"}) == [
        "The selected file must be a JPG or PNG"
    ]
    assert messages({"name": "a.png", "size": 10, "content_type": "image/png"}) == []


def test_file_and_group_are_not_parsed_from_a_form() -> None:
    photo = make_field(id="photo", type="file", label="Photo")

    with pytest.raises(TypeError, match=r"govserve\.documents"):
        parse(photo, {"photo": ["x"]})


def test_group_item_counts() -> None:
    group = make_field(
        id="assistants",
        type="group",
        label="Assistants",
        item_label="assistant",
        validation={"min_items": 1, "max_items": 2},
        fields=[{"id": "assistant_name", "type": "text", "label": "Name", "classification": "personal"}],
    )
    pair = make_field(
        id="pair",
        type="group",
        label="Pair",
        item_label="person",
        validation={"min_items": 2, "max_items": 3},
        fields=[{"id": "person_name", "type": "text", "label": "Name", "classification": "personal"}],
    )

    def messages(field: Any, count: int) -> list[str]:
        items = [{"assistant_name": "A"}] * count
        return [e.message for e in validate_field(field, items, context=context(), language="en", today=TODAY)]

    assert messages(group, 0) == ["Add at least 1 assistant"]
    assert messages(group, 3) == ["You can add up to 2 (you have added 3)"]
    assert messages(pair, 1) == ["Add at least 2 (you have added 1)"]
    assert messages(pair, 2) == []


# --- Overrides and languages -------------------------------------------------------------


def test_author_messages_win_in_their_language() -> None:
    field = make_field(
        id="date_of_birth",
        type="date",
        label={"en": "What is your date of birth?", "cy": "Beth yw eich dyddiad geni?"},
        validation={
            "before": "today",
            "min_age": 17,
            "messages": {
                "required": {"en": "Tell us your date of birth", "cy": "Rhowch eich dyddiad geni"},
                "min_age": "You must be 17 or older to apply",
                "format": {"en": "Enter a real date of birth", "cy": "Rhowch ddyddiad geni go iawn"},
            },
        },
    )

    assert check(field, {}) == ["Tell us your date of birth"]
    assert check(field, {}, language="cy") == ["Rhowch eich dyddiad geni"]
    assert check(field, date_data("1", "1", "2020")) == ["You must be 17 or older to apply"]
    assert check(field, date_data("1", "1", "2020"), language="cy") == ["You must be 17 or older to apply"]
    assert check(field, date_data("31", "2", "2000"), language="cy") == ["Rhowch ddyddiad geni go iawn"]
    assert check(field, date_data("31", "", "2000")) == ["Enter a real date of birth"]


def test_welsh_names_come_from_the_welsh_label() -> None:
    field = make_field(
        id="full_name", type="text", label={"en": "What is your full name?", "cy": "Beth yw eich enw llawn?"}
    )

    value, errors = parse_field(field, {}, language="cy", phone_region="GB")
    messages = validate_field(field, value, context=context(), language="cy", today=TODAY)

    assert errors == []
    assert len(messages) == 1
    assert "eich enw llawn" in messages[0].message


def test_custom_rule_message_and_code() -> None:
    days = make_field(
        id="pitch_days",
        type="checkboxes",
        label="Which days will you trade?",
        options=[{"value": day, "label": day.title()} for day in ("mon", "tue", "wed")],
        validation={
            "rules": [
                {"expression": "size(pitch_days) > 0", "message": "Never shown"},
                {
                    "expression": "size(pitch_days) <= days_per_week",
                    "message": {"en": "Choose no more days than you will trade", "cy": "Dewiswch lai o ddyddiau"},
                },
            ]
        },
    )
    values = {"pitch_days": None, "days_per_week": 1}

    errors = validate_field(days, ["mon", "tue"], context=context(values), language="cy", today=TODAY)
    fine = validate_field(days, ["mon"], context=context(values), language="en", today=TODAY)

    assert [(error.code, error.message, error.anchor) for error in errors] == [
        ("rule_1", "Dewiswch lai o ddyddiau", "pitch_days")
    ]
    assert fine == []
