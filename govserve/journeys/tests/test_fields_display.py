"""Answers as people read them, in English and Welsh."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from govserve.catalogue.definitions.schema import Catalogue
from govserve.journeys.fields import display_value
from govserve.journeys.tests.fields_support import make_field

COUNTRIES = Catalogue.model_validate(
    {
        "id": "countries",
        "title": "Countries",
        "options": [{"value": "GB-WLS", "label": {"en": "Wales", "cy": "Cymru"}}],
    },
    strict=False,
)


def test_dates_money_and_numbers() -> None:
    born = make_field(id="born", type="date", label="Date of birth")
    fee = make_field(id="fee", type="money", label="Fee")
    hours = make_field(id="hours", type="number", label="Hours", decimal_places=2)
    days = make_field(id="days", type="number", label="Days")

    assert display_value(born, dt.date(1990, 3, 27), language="en") == "27 March 1990"
    assert display_value(born, dt.date(1990, 3, 27), language="cy") == "27 Mawrth 1990"
    assert display_value(fee, 123450, language="en") == "£1,234.50"
    assert display_value(fee, 7500, language="cy") == "£75"
    assert display_value(fee, 123450, language="en", currency="EUR") == "€1,234.50"
    assert display_value(hours, Decimal("1234.50"), language="en") == "1,234.50"
    assert display_value(days, 1000, language="en") == "1,000"


def test_yes_no_in_both_languages() -> None:
    agree = make_field(id="agree", type="yes_no", label="Do you agree?")

    assert [display_value(agree, answer, language="en") for answer in (True, False)] == ["Yes", "No"]
    assert [display_value(agree, answer, language="cy") for answer in (True, False)] == ["Ie", "Na"]


def test_options_by_their_label() -> None:
    country = make_field(id="country", type="select", label="Country", options_from="countries")
    goods = make_field(
        id="goods",
        type="checkboxes",
        label="Goods",
        options=[{"value": "food", "label": {"en": "Food", "cy": "Bwyd"}}, {"value": "art", "label": "Art"}],
    )

    assert display_value(country, "GB-WLS", language="cy", catalogues={"countries": COUNTRIES}) == "Cymru"
    assert display_value(goods, ["food", "art"], language="cy") == "Bwyd\nArt"


def test_addresses_as_lines() -> None:
    uk = make_field(id="address", type="address", label="Address")
    abroad = make_field(id="abroad", type="address", label="Address", international=True)
    address = {"line1": "1 High St", "line2": "", "town": "Leeds", "county": "", "postcode": "LS1 1AA", "country": "GB"}

    assert display_value(uk, address, language="en") == "1 High St\nLeeds\nLS1 1AA"
    assert display_value(abroad, {**address, "postcode": "75001", "country": "France"}, language="en") == (
        "1 High St\nLeeds\n75001\nFrance"
    )


def test_phone_file_group_and_no_answer() -> None:
    phone = make_field(id="phone", type="phone", label="Phone")
    photo = make_field(id="photo", type="file", label="Photo")
    children = make_field(
        id="children",
        type="group",
        label="Children",
        item_label="child",
        fields=[{"id": "child_born", "type": "date", "label": "Born", "classification": "personal"}],
    )

    assert display_value(phone, "+447700900982", language="en") == "07700 900982"
    assert display_value(phone, "+33123456789", language="en") == "+33 1 23 45 67 89"
    assert display_value(photo, {"name": "light.jpg", "size": 1, "content_type": "image/jpeg"}, language="en") == (
        "light.jpg"
    )
    assert display_value(children, [{"child_born": dt.date(2020, 1, 2)}, {"child_born": None}], language="cy") == (
        "2 Ionawr 2020\n"
    )
    assert display_value(phone, None, language="en") == ""
