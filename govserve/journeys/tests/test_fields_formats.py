"""Readers of what people type (numbers, money, dates, emails, phones, postcodes) and the formatters."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from govserve.journeys.fields.formats import (
    FormatError,
    add_years,
    age_on,
    clean_line,
    clean_lines,
    format_date,
    format_money,
    format_number,
    format_phone,
    money_input_text,
    read_date,
    read_email,
    read_iso_date,
    read_money,
    read_number,
    read_phone,
    read_postcode,
)


def reason(reader, *arguments, **options) -> tuple[str, tuple[str, ...]]:  # type: ignore[no-untyped-def]
    with pytest.raises(FormatError) as refused:
        reader(*arguments, **options)
    return refused.value.reason, refused.value.parts


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("1,000", 1000), ("1,234,567", 1234567), ("42", 42), ("-5", -5), ("\u22125", -5), ("5.0", 5), ("007", 7),
     ("1 000", 1000), ("0" * 5000 + "1", 1)],
)  # fmt: skip
def test_whole_numbers_read(typed: str, expected: int) -> None:
    assert read_number(typed, decimal_places=0) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("1e3", "format"), ("1,00", "format"), ("1_000", "format"), ("\u0661\u0662", "format"), ("5.", "format"),
     ("", "format"), ("-", "format"), ("12a", "format"), ("5.5", "decimal_places"), ("1" * 16, "too_large"),
     ("0x10", "format"), ("inf", "format"), ("NaN", "format")],
)  # fmt: skip
def test_whole_numbers_refused(typed: str, expected: str) -> None:
    assert reason(read_number, typed, decimal_places=0)[0] == expected


def test_decimal_numbers_are_exact_decimals() -> None:
    assert read_number("2.5", decimal_places=2) == Decimal("2.50")
    assert read_number(".5", decimal_places=1) == Decimal("0.5")
    assert read_number("-0.0", decimal_places=2) == Decimal("0.00")
    assert reason(read_number, "2.555", decimal_places=2) == ("decimal_places", ())


@pytest.mark.parametrize(
    ("typed", "pence"),
    [("£1,234.5", 123450), ("1234.50", 123450), ("£ 1 234.50", 123450), ("0.5", 50), (".05", 5), ("GBP 10", 1000),
     ("gbp10", 1000), ("75", 7500), ("£0", 0)],
)  # fmt: skip
def test_money_read_in_minor_units(typed: str, pence: int) -> None:
    assert read_money(typed) == pence


@pytest.mark.parametrize("typed", ["12.345", "£", "£-5", "-5", "1,00", "£1.2.3", "$5", "5p", "1e3", "£ ."])
def test_money_refused(typed: str) -> None:
    assert reason(read_money, typed) == ("format", ())


def test_money_in_another_currency_takes_its_symbol() -> None:
    assert read_money("€12.50", currency="EUR") == 1250
    assert reason(read_money, "£12.50", currency="EUR") == ("format", ())
    assert reason(read_money, "9" * 14) == ("too_large", ())


def test_money_formatted_the_gov_uk_way() -> None:
    assert format_money(123450) == "£1,234.50"
    assert format_money(7500) == "£75"
    assert format_money(5) == "£0.05"
    assert format_money(-320) == "-£3.20"
    assert format_money(1234567, "CHF") == "CHF 12,345.67"
    assert money_input_text(123450) == "1234.50"
    assert money_input_text(7500) == "75"


def test_numbers_formatted_with_separators() -> None:
    assert format_number(1000) == "1,000"
    assert format_number(2.5) == "2.5"
    assert format_number(3.0) == "3"
    assert format_number(Decimal("1234.50")) == "1,234.50"


@pytest.mark.parametrize(
    ("day", "month", "year", "expected"),
    [("3", "3", "1990", dt.date(1990, 3, 3)), ("03", "03", "1990", dt.date(1990, 3, 3)),
     ("3", "March", "1990", dt.date(1990, 3, 3)), ("3", "mar", "1990", dt.date(1990, 3, 3)),
     ("3", "MAR.", "1990", dt.date(1990, 3, 3)), ("1", "Sept", "2000", dt.date(2000, 9, 1)),
     ("1", "Mawrth", "1990", dt.date(1990, 3, 1)), ("29", "2", "2024", dt.date(2024, 2, 29))],
)  # fmt: skip
def test_dates_read(day: str, month: str, year: str, expected: dt.date) -> None:
    assert read_date(day, month, year) == expected


@pytest.mark.parametrize(
    ("day", "month", "year", "expected"),
    [("", "", "", ("required", ("day", "month", "year"))),
     ("3", "", "1990", ("incomplete", ("month",))),
     ("", "", "1990", ("incomplete", ("day", "month"))),
     ("", "3", "", ("incomplete", ("day", "year"))),
     ("3", "", "", ("incomplete", ("month", "year"))),
     ("x", "3", "1990", ("real_date", ("day",))),
     ("32", "3", "1990", ("real_date", ("day",))),
     ("0", "3", "1990", ("real_date", ("day",))),
     ("1", "13", "1990", ("real_date", ("month",))),
     ("1", "Marchember", "1990", ("real_date", ("month",))),
     ("40", "13", "1990", ("real_date", ("day", "month"))),
     ("1", "1", "90", ("year_digits", ("year",))),
     ("1", "1", "19900", ("year_digits", ("year",))),
     ("1", "1", "0999", ("real_date", ("year",))),
     ("31", "2", "2020", ("real_date", ("day", "month", "year"))),
     ("29", "2", "2023", ("real_date", ("day", "month", "year")))],
)  # fmt: skip
def test_dates_refused_with_the_parts_at_fault(
    day: str, month: str, year: str, expected: tuple[str, tuple[str, ...]]
) -> None:
    assert reason(read_date, day, month, year) == expected


def test_iso_dates_only_in_one_form() -> None:
    assert read_iso_date("1990-03-27") == dt.date(1990, 3, 27)
    for text in ["19900327", "1990-3-27", "1990-02-30", "0999-01-01", "1990-03-27T00:00", "\u0661990-03-27"]:
        assert reason(read_iso_date, text) == ("real_date", ())


def test_dates_formatted_in_english_and_welsh() -> None:
    assert format_date(dt.date(1990, 3, 27), "en") == "27 March 1990"
    assert format_date(dt.date(1990, 3, 27), "cy") == "27 Mawrth 1990"
    assert format_date(dt.date(2001, 12, 1), "cy") == "1 Rhagfyr 2001"


def test_ages_and_year_arithmetic_match_the_rules_engine() -> None:
    assert age_on(dt.date(2000, 2, 29), dt.date(2018, 2, 28)) == 17
    assert age_on(dt.date(2000, 2, 29), dt.date(2018, 3, 1)) == 18
    assert add_years(dt.date(2024, 2, 29), -17) == dt.date(2007, 2, 28)


@pytest.mark.parametrize(
    "address", ["name@example.com", "first.last+tag@sub.example.co.uk", "x@münchen.de", "o'brien@example.org"]
)
def test_emails_accepted(address: str) -> None:
    assert read_email(address) == address


@pytest.mark.parametrize(
    "address",
    ["a@b", "a..b@c.com", "a b@c.com", "a@-b.com", "@a.com", "a@b.c", "a@b.com.", "a@@b.com",
     "x" * 250 + "@example.com", "a@" + "b" * 64 + ".com", "name@example.123"],
)  # fmt: skip
def test_emails_refused(address: str) -> None:
    assert reason(read_email, address) == ("format", ())


@pytest.mark.parametrize(
    ("typed", "e164", "shown"),
    [("01632 960 001", "+441632960001", "01632 960001"), ("07700 900 982", "+447700900982", "07700 900982"),
     ("+44 808 157 0192", "+448081570192", "0808 157 0192"), ("0044 20 7946 0000", "+442079460000", "020 7946 0000"),
     ("+44 (0)7700 900982", "+447700900982", "07700 900982"), ("07911 123456", "+447911123456", "07911 123456"),
     ("+33 1 23 45 67 89", "+33123456789", "+33 1 23 45 67 89")],
)  # fmt: skip
def test_phone_numbers_stored_in_e164_and_shown_nationally(typed: str, e164: str, shown: str) -> None:
    assert read_phone(typed, region="GB") == e164
    assert format_phone(e164, region="GB") == shown


def test_national_numbers_read_in_the_service_region() -> None:
    assert read_phone("01 23 45 67 89", region="FR") == "+33123456789"
    assert format_phone("+33123456789", region="FR") == "01 23 45 67 89"


@pytest.mark.parametrize("typed", ["123", "+999 1234567", "07700 900 98", "not a number", "0" * 51, "+"])
def test_phone_numbers_refused(typed: str) -> None:
    assert reason(read_phone, typed, region="GB") == ("format", ())


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [("sw1a1aa", "SW1A 1AA"), ("SW1A 1AA", "SW1A 1AA"), (" ec1a  1bb ", "EC1A 1BB"), ("m11ae", "M1 1AE"),
     ("B33 8TH", "B33 8TH"), ("CR2 6XH", "CR2 6XH"), ("DN55 1PT", "DN55 1PT"), ("W1A 0AX", "W1A 0AX"),
     ("GIR 0AA", "GIR 0AA")],
)  # fmt: skip
def test_postcodes_normalised(typed: str, normalised: str) -> None:
    assert read_postcode(typed) == normalised


@pytest.mark.parametrize(
    "typed", ["SW1A1A", "ZZ1 1ZZ", "12345", "SW1A 1AAA", "\uff33\uff371A 1AA", "SW1A-1AA", "x" * 17]
)
def test_postcodes_refused(typed: str) -> None:
    assert reason(read_postcode, typed) == ("format", ())


def test_text_cleaned_of_control_characters_and_surrogates() -> None:
    assert clean_line("  a\tb\x00c\n ") == "a b c"
    assert clean_line("cafe\u0301") == "café"
    assert clean_line("x\ud800y") == "x\ufffdy"
    assert clean_lines(" one\r\ntwo\rthree\x07 ") == "one\ntwo\nthree"
