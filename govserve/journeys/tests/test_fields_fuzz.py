"""Whatever people or clients send, parsing gives FieldErrors, never an exception; what parses is storable."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.http import QueryDict
from hypothesis import given
from hypothesis import strategies as st

from govserve.catalogue.definitions.schema import Catalogue
from govserve.journeys.fields import (
    FieldError,
    display_value,
    parse_field,
    parse_json_value,
    validate_field,
    value_from_json,
    value_to_json,
)
from govserve.journeys.fields.formats import format_date, format_money, format_number, read_money, read_number
from govserve.journeys.tests.fields_support import TODAY, context, make_field

OPTIONS = [
    {"value": "a", "label": "A"},
    {"value": "b c", "label": "B"},
    {"value": "none", "label": "None", "exclusive": True},
]
CATALOGUE = Catalogue.model_validate({"id": "things", "title": "Things", "options": OPTIONS[:2]}, strict=False)
CATALOGUES = {"things": CATALOGUE}

FIELDS = [
    make_field(id="f_text", type="text", label="Name", validation={"pattern": "[A-Z][a-z]+", "min_length": 2}),
    make_field(id="f_long", type="long_text", label="Story", validation={"max_length": 50, "required": False}),
    make_field(id="f_number", type="number", label="Days", validation={"min": -5, "max": 7}),
    make_field(id="f_decimal", type="number", label="Hours", decimal_places=2, validation={"min": 0.5}),
    make_field(id="f_money", type="money", label="Fee", validation={"min": 100, "max": 10**9}),
    make_field(id="f_date", type="date", label="Born", validation={"before": "today", "min_age": 16, "max_age": 120}),
    make_field(id="f_yes_no", type="yes_no", label="Agree?"),
    make_field(id="f_radios", type="radios", label="Kind", options=OPTIONS[:2]),
    make_field(id="f_select", type="select", label="Thing", options_from="things"),
    make_field(id="f_checks", type="checkboxes", label="Things", options=OPTIONS, validation={"max_selected": 2}),
    make_field(id="f_email", type="email", label="Email"),
    make_field(id="f_phone", type="phone", label="Phone"),
    make_field(id="f_postcode", type="postcode", label="Postcode"),
    make_field(id="f_address", type="address", label="Address"),
    make_field(id="f_abroad", type="address", label="Address", international=True),
]
INPUT_NAMES = [
    name
    for field in FIELDS
    for name in (
        field.id,
        *(f"{field.id}-{part}" for part in ("day", "month", "year", "line1", "line2", "town", "postcode", "country")),
    )
]

text = st.text(max_size=60) | st.sampled_from(
    ["", " ", "3", "03", "mar", "1,000", "£1,234.50", "12.345", "yes", "no", "a", "b c", "none", "SW1A 1AA",
     "name@example.com", "07700 900 982", "1e3", "-0", "\x00", "\ud7ff", "0" * 5000, "9" * 40]
)  # fmt: skip
junk = st.none() | st.integers() | st.binary(max_size=5) | st.floats()
submitted = text | st.lists(text | junk, max_size=4) | junk
form_data = st.dictionaries(st.sampled_from(INPUT_NAMES) | st.text(max_size=10), submitted, max_size=12)


def assert_well_behaved(field: Any, value: Any, errors: list[FieldError]) -> None:
    assert all(isinstance(error, FieldError) and error.message and error.anchor for error in errors)
    if errors:
        return
    stored = json.loads(json.dumps(value_to_json(field, value)))
    assert value_from_json(field, stored) == value
    assert isinstance(display_value(field, value, language="cy", catalogues=CATALOGUES), str)
    problems = validate_field(field, value, context=context({field.id: None}), language="en", today=TODAY)
    assert all(isinstance(problem, FieldError) for problem in problems)


@given(form_data)
def test_any_form_data_parses_to_a_value_or_field_errors(data: dict[str, Any]) -> None:
    for field in FIELDS:
        value, errors = parse_field(field, data, language="en", phone_region="GB", catalogues=CATALOGUES)
        assert_well_behaved(field, value, errors)


@given(st.lists(st.tuples(st.sampled_from(INPUT_NAMES), text), max_size=12))
def test_any_querydict_parses(pairs: list[tuple[str, str]]) -> None:
    data = QueryDict(mutable=True)
    for name, typed in pairs:
        data.appendlist(name, typed)
    for field in FIELDS:
        value, errors = parse_field(field, data, language="cy", phone_region="GB", catalogues=CATALOGUES)
        assert_well_behaved(field, value, errors)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=8,
)
ADDRESS_JSON = st.fixed_dictionaries(
    {}, optional={part: text | st.none() for part in ("line1", "line2", "town", "county", "postcode", "country")}
)
GROUP = make_field(
    id="f_group",
    type="group",
    label="Children",
    item_label="child",
    fields=[
        {"id": "g_name", "type": "text", "label": "Name", "classification": "personal"},
        {"id": "g_born", "type": "date", "label": "Born", "classification": "personal"},
        {"id": "g_fee", "type": "money", "label": "Fee", "classification": "personal"},
    ],
)


@given(json_values | ADDRESS_JSON | st.lists(json_values | ADDRESS_JSON, max_size=3))
def test_any_json_answer_parses_to_a_value_or_field_errors(value: Any) -> None:
    for field in [*FIELDS, GROUP]:
        parsed, errors = parse_json_value(field, value, language="en", phone_region="GB", catalogues=CATALOGUES)
        assert all(isinstance(error, FieldError) for error in errors)
        if not errors and parsed is not None:
            assert value_from_json(field, json.loads(json.dumps(value_to_json(field, parsed)))) == parsed


@given(st.dates(min_value=dt.date(1000, 1, 1)), st.sampled_from(["numeric", "en", "cy", "short"]))
def test_any_date_typed_as_people_write_it_reads_back(day: dt.date, style: str) -> None:
    field = FIELDS[5]
    month = {
        "numeric": str(day.month),
        "en": format_date(day, "en").split()[1],
        "cy": format_date(day, "cy").split()[1],
        "short": format_date(day, "en").split()[1][:3].lower(),
    }[style]

    value, errors = parse_field(
        field,
        {"f_date-day": [f"{day.day:02d}"], "f_date-month": [month], "f_date-year": [str(day.year)]},
        language="en",
        phone_region="GB",
    )

    assert (value, errors) == (day, [])


@given(st.integers(min_value=0, max_value=10**13 - 1))
def test_any_amount_shown_reads_back(pence: int) -> None:
    assert read_money(format_money(pence)) == pence


@given(st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1))
def test_any_whole_number_shown_reads_back(number: int) -> None:
    assert read_number(format_number(number), decimal_places=0) == number
