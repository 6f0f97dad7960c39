"""JSON answers (the API) and the canonical stored form: parse_json_value, value_to_json, value_from_json."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from govserve.journeys.fields import parse_json_value, value_from_json, value_to_json
from govserve.journeys.tests.fields_support import make_field

NAME = make_field(id="full_name", type="text", label="Full name")
AGE = make_field(id="days", type="number", label="Days per week")
HOURS = make_field(id="hours", type="number", label="Hours", decimal_places=2)
FEE = make_field(id="fee", type="money", label="Fee")
BORN = make_field(id="date_of_birth", type="date", label="Date of birth")
AGREE = make_field(id="agree", type="yes_no", label="Do you agree?")
KIND = make_field(
    id="kind", type="radios", label="Kind", options=[{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]
)
DAYS = make_field(
    id="trading_days",
    type="checkboxes",
    label="Days",
    options=[{"value": "mon", "label": "Monday"}, {"value": "tue", "label": "Tuesday"}],
)
PHONE = make_field(id="phone", type="phone", label="Phone")
ADDRESS = make_field(id="address", type="address", label="Address")
PHOTO = make_field(id="photo", type="file", label="Photo")
CHILDREN = make_field(
    id="children",
    type="group",
    label="Children",
    item_label="child",
    fields=[
        {"id": "child_name", "type": "text", "label": "Name", "classification": "personal"},
        {"id": "child_born", "type": "date", "label": "Date of birth", "classification": "personal"},
    ],
)


def parsed(field: Any, value: Any) -> tuple[Any, list[tuple[str, str]]]:
    result, errors = parse_json_value(field, value, language="en", phone_region="GB")
    return result, [(error.code, error.anchor) for error in errors]


def test_json_answers_of_each_type() -> None:
    assert parsed(NAME, "  Alex ") == ("Alex", [])
    assert parsed(AGE, 3) == (3, [])
    assert parsed(AGE, "1,000") == (1000, [])
    assert parsed(AGE, 3.0) == (3, [])
    assert parsed(HOURS, 2.5) == (Decimal("2.50"), [])
    assert parsed(HOURS, 2) == (Decimal("2.00"), [])
    assert parsed(FEE, 123450) == (123450, [])
    assert parsed(BORN, "1990-03-27") == (dt.date(1990, 3, 27), [])
    assert parsed(AGREE, False) == (False, [])
    assert parsed(KIND, "b") == ("b", [])
    assert parsed(DAYS, ["tue", "mon"]) == (["mon", "tue"], [])
    assert parsed(PHONE, "07700 900 982") == ("+447700900982", [])
    assert parsed(NAME, None) == (None, [])


def test_json_answers_of_the_wrong_type() -> None:
    assert parsed(NAME, 12) == (None, [("type", "full_name")])
    assert parsed(AGE, True) == (None, [("type", "days")])
    assert parsed(AGE, 2.5) == (None, [("decimal_places", "days")])
    assert parsed(AGE, float("nan")) == (None, [("type", "days")])
    assert parsed(AGE, 10**20) == (None, [("too_large", "days")])
    assert parsed(FEE, 12.5) == (None, [("type", "fee")])
    assert parsed(FEE, "£12") == (None, [("type", "fee")])
    assert parsed(FEE, -1) == (None, [("format", "fee")])
    assert parsed(BORN, "27/03/1990") == (None, [("real_date", "date_of_birth")])
    assert parsed(AGREE, "yes") == (None, [("type", "agree")])
    assert parsed(KIND, "c") == (None, [("invalid_option", "kind")])
    assert parsed(DAYS, "mon") == (None, [("type", "trading_days")])
    assert parsed(DAYS, ["mon", "sun"]) == (None, [("invalid_option", "trading_days")])
    assert parsed(ADDRESS, ["1 High Street"]) == (None, [("type", "address")])


def test_json_type_messages() -> None:
    _, errors = parse_json_value(BORN, 19900327, language="en", phone_region="GB")

    assert [error.message for error in errors] == ["Date of birth must be a date written YYYY-MM-DD"]


def test_json_address_and_group() -> None:
    address, address_errors = parsed(
        ADDRESS, {"line1": "1 High St", "line2": None, "town": "Leeds", "postcode": "ls1 1aa"}
    )
    items, item_errors = parsed(
        CHILDREN, [{"child_name": "Sam", "child_born": "2020-01-02"}, {"child_name": "Kim", "child_born": "2020-02-30"}]
    )
    good, _ = parsed(CHILDREN, [{"child_name": "Sam", "child_born": "2020-01-02", "unknown": 1}])

    assert address_errors == []
    assert address == {
        "line1": "1 High St",
        "line2": "",
        "town": "Leeds",
        "county": "",
        "postcode": "LS1 1AA",
        "country": "GB",
    }
    assert (items, item_errors) == (None, [("real_date", "children[1].child_born")])
    assert good == [{"child_name": "Sam", "child_born": dt.date(2020, 1, 2)}]


def test_json_file_answers_go_through_documents() -> None:
    with pytest.raises(TypeError, match=r"govserve\.documents"):
        parse_json_value(PHOTO, {"name": "a.png"}, language="en", phone_region="GB")


ROUND_TRIPS = [
    (NAME, "Alex", "Alex"),
    (AGE, 12, 12),
    (HOURS, Decimal("2.50"), "2.50"),
    (FEE, 123450, 123450),
    (BORN, dt.date(1990, 3, 27), "1990-03-27"),
    (AGREE, True, True),
    (KIND, "a", "a"),
    (DAYS, ["mon", "tue"], ["mon", "tue"]),
    (PHONE, "+447700900982", "+447700900982"),
    (
        ADDRESS,
        {"line1": "1 High St", "line2": "", "town": "Leeds", "county": "", "postcode": "LS1 1AA", "country": "GB"},
        {"line1": "1 High St", "line2": "", "town": "Leeds", "county": "", "postcode": "LS1 1AA", "country": "GB"},
    ),
    (
        PHOTO,
        {"id": "doc-1", "name": "a.png", "size": 10, "content_type": "image/png"},
        {"id": "doc-1", "name": "a.png", "size": 10, "content_type": "image/png"},
    ),
    (
        CHILDREN,
        [{"child_name": "Sam", "child_born": dt.date(2020, 1, 2)}, {"child_name": "Kim", "child_born": None}],
        [{"child_name": "Sam", "child_born": "2020-01-02"}, {"child_name": "Kim", "child_born": None}],
    ),
    (NAME, None, None),
]


@pytest.mark.parametrize(("field", "value", "stored"), ROUND_TRIPS, ids=[str(i) for i in range(len(ROUND_TRIPS))])
def test_canonical_json_round_trip(field: Any, value: Any, stored: Any) -> None:
    as_json = value_to_json(field, value)

    assert as_json == stored
    assert json.loads(json.dumps(as_json)) == as_json
    assert value_from_json(field, as_json) == value


@pytest.mark.parametrize(
    ("field", "bad"),
    [(NAME, 3), (AGE, "3"), (AGE, True), (HOURS, 2.5), (HOURS, "NaN"), (HOURS, "two"), (FEE, 1.5), (BORN, "1990"),
     (AGREE, "true"), (DAYS, "mon"), (ADDRESS, {"line1": "x"}), (PHOTO, {"name": "a"}), (CHILDREN, {"a": 1})],
)  # fmt: skip
def test_stored_values_of_the_wrong_shape_are_refused(field: Any, bad: Any) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        value_from_json(field, bad)


@given(
    st.dates(min_value=dt.date(1000, 1, 1)),
    st.integers(min_value=0, max_value=10**15),
    st.decimals(min_value=-(10**12), max_value=10**12, places=2, allow_nan=False, allow_infinity=False),
)
def test_round_trip_property(day: dt.date, pence: int, hours: Decimal) -> None:
    for field, value in ((BORN, day), (FEE, pence), (HOURS, hours)):
        assert value_from_json(field, json.loads(json.dumps(value_to_json(field, value)))) == value


@given(st.dates(min_value=dt.date(1000, 1, 1)))
def test_json_date_answer_reads_what_storage_writes(day: dt.date) -> None:
    assert parsed(BORN, value_to_json(BORN, day)) == (day, [])
