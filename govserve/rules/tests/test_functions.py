"""The platform functions: exact values, refusals, and the one rounding rule."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from govserve.core import clock
from govserve.rules import (
    PLATFORM_FUNCTIONS,
    ExpressionEvaluationError,
    build_context,
    compile_expression,
    evaluate,
    round_half_up,
)
from govserve.rules.functions import CEL_BUILTIN_FUNCTIONS, CUSTOM_FUNCTIONS

TODAY = dt.date(2024, 6, 15)
BST = dt.timezone(dt.timedelta(hours=1))

ANSWERS = {
    "children": [
        {"name": "Ann", "income": 1_200, "born": dt.date(2015, 3, 1)},
        {"name": "Bob", "income": 300, "born": dt.date(2012, 11, 30)},
        {"name": "Cy", "income": 4_500, "born": dt.date(2018, 6, 15)},
    ],
    "rates": [1.5, 2.25, 4.0, 0.5],
    "empty": [],
    "name": "Zoë Smith",
    "days": 7,
    "fee_per_day": 2.5,
    "unanswered": None,
}


def _value(source: str, **overrides: object) -> object:
    return evaluate(compile_expression(source), build_context({**ANSWERS, **overrides}, today=TODAY))


def _failure(source: str, **overrides: object) -> ExpressionEvaluationError:
    with pytest.raises(ExpressionEvaluationError) as raised:
        _value(source, **overrides)
    return raised.value


def test_platform_functions_list_ours_and_cel_builtins() -> None:
    assert CUSTOM_FUNCTIONS <= PLATFORM_FUNCTIONS
    assert CEL_BUILTIN_FUNCTIONS <= PLATFORM_FUNCTIONS
    assert {
        "age",
        "today",
        "sum",
        "min",
        "max",
        "avg",
        "count",
        "median",
        "round",
        "ceil",
        "floor",
    } <= PLATFORM_FUNCTIONS
    assert {"round_half_up", "concat", "len", "upper", "lower", "contains", "size", "matches"} <= PLATFORM_FUNCTIONS


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("sum(children.map(c, c.income))", 6_000),
        ("sum(rates)", 8.25),
        ("sum(empty)", 0),
        ("sum(1, 2, 3)", 6),
        ("min(children.map(c, c.income))", 300),
        ("max(children.map(c, c.income))", 4_500),
        ("min(3, 1, 2)", 1),
        ("max(rates)", 4.0),
        ('min(["pear", "apple"])', "apple"),
        ("min(children.map(c, c.born)) == date(2012, 11, 30)", True),
        ("avg(children.map(c, c.income))", 2_000.0),
        ("avg([1, 2])", 1.5),
        ("avg(rates)", 2.0625),
        ("median(children.map(c, c.income))", 1_200.0),
        ("median([4, 1, 3, 2])", 2.5),
        ("median(rates)", 1.875),
        ("count(children)", 3),
        ("count(children.filter(c, c.income > 1000))", 2),
        ("count(empty)", 0),
        ("round(2.5)", 3),
        ("round(-2.5)", -3),
        ("round(2.4999)", 2),
        ("round(7)", 7),
        ("ceil(2.1)", 3),
        ("ceil(-2.1)", -2),
        ("floor(2.9)", 2),
        ("floor(-2.1)", -3),
        ("ceil(4)", 4),
        ("round_half_up(2.675, 2)", 2.68),
        ("round_half_up(1.005, 2)", 1.01),
        ("round_half_up(-1.005, 2)", -1.01),
        ("round_half_up(fee_per_day * double(days), 0)", 18),
        ("round_half_up(1250, -2)", 1300),
        ("round_half_up(-1250, -2)", -1300),
        ("round_half_up(1249, -2)", 1200),
        ("round_half_up(1234, 2)", 1234),
        ("round_half_up(12.5, -1)", 10),
        ('concat("Licence ", "no. ", string(days))', "Licence no. 7"),
        ("concat([1], [2, 3])", [1, 2, 3]),
        ("len(name)", 9),
        ("size(name)", 10),
        ("len(children)", 3),
        ('len({"a": 1})', 1),
        ("upper(name)", "ZOË SMITH"),
        ("lower(name)", "zoë smith"),
        ('upper("straße")', "STRASSE"),
        ('contains(name, "oë")', True),
        ('name.contains("Smith")', True),
        ('contains(children.map(c, c.name), "Bob")', True),
        ("contains([1, 2], 3)", False),
        ("contains([1, 0], false)", False),
        ('contains({"a": 1}, "a")', True),
    ],
)
def test_function_values(source: str, expected: object) -> None:
    result = _value(source)

    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("source", "kind", "message"),
    [
        (
            "sum([1, 2.0])",
            "type_mismatch",
            "`sum([1, 2.0])`: sum() mixes int and double: convert with double(...) or int(...)",
        ),
        ("sum([true])", "type_mismatch", "`sum([true])`: sum() needs int or double values, got bool"),
        ('sum(["a"])', "type_mismatch", '`sum(["a"])`: sum() needs int or double values, got string'),
        (
            "sum([9223372036854775807, 1])",
            "overflow",
            "`sum([9223372036854775807, 1])`: sum() gives a result outside the 64-bit integer range",
        ),
        ("sum(days)", "type_mismatch", "`sum(days)`: sum() needs a list, got int"),
        (
            "sum(unanswered)",
            "null_value",
            "`sum(unanswered)`: "
            "`unanswered` is null (an unanswered field?): check it first, e.g. `unanswered != null && ...`",
        ),
        (
            "sum([1, null])",
            "null_value",
            "`sum([1, null])`: "
            "sum() got null at position 2 (an unanswered field?): filter it out first, e.g. `.filter(c, c.x != null)`",
        ),
        ("min(empty)", "invalid_argument", "`min(empty)`: min() of an empty list has no value"),
        ('max([1, "a"])', "type_mismatch", '`max([1, "a"])`: max() needs values of one type, got int and string'),
        ("avg(empty)", "invalid_argument", "`avg(empty)`: avg() of an empty list has no value"),
        ("avg(1, 2)", "invalid_argument", "`avg(1, 2)`: avg() takes one list, got 2 arguments"),
        ("median(empty)", "invalid_argument", "`median(empty)`: median() of an empty list has no value"),
        ("count(name)", "type_mismatch", "`count(name)`: count() needs a list, got string"),
        ("round(name)", "type_mismatch", "`round(name)`: round() needs an int or a double, got string"),
        ("round(1.0 / 0.0)", "invalid_argument", "`round(1.0 / 0.0)`: round() needs a finite number"),
        ("round(1e300)", "overflow", "`round(1e300)`: round() gives a result outside the 64-bit integer range"),
        ("ceil(true)", "type_mismatch", "`ceil(true)`: ceil() needs an int or a double, got bool"),
        (
            "round_half_up(2.5, 1.0)",
            "type_mismatch",
            "`round_half_up(2.5, 1.0)`: "
            "round_half_up() needs an int number of digits as its second argument, got double",
        ),
        (
            "round_half_up(2.5, 31)",
            "invalid_argument",
            "`round_half_up(2.5, 31)`: round_half_up() supports digits from -30 to 30",
        ),
        (
            "concat(name, days)",
            "type_mismatch",
            "`concat(name, days)`: concat() joins strings or lists, got int and string: convert with string(...)",
        ),
        (
            "concat(name, unanswered)",
            "null_value",
            "`concat(name, unanswered)`: "
            "`unanswered` is null (an unanswered field?): check it first, e.g. `unanswered != null && ...`",
        ),
        ("len(days)", "type_mismatch", "`len(days)`: len() needs a string, list, map or bytes, got int"),
        ("upper(days)", "type_mismatch", "`upper(days)`: upper() needs a string, got int"),
        (
            "contains(days, 1)",
            "type_mismatch",
            "`contains(days, 1)`: contains() needs a string, list or map as its first argument, got int",
        ),
        (
            "contains(name, 1)",
            "type_mismatch",
            "`contains(name, 1)`: contains() needs a string to look for in a string, got int",
        ),
        ("today(1)", "invalid_argument", "`today(1)`: today() takes no arguments, got 1 arguments"),
        ("age(name)", "type_mismatch", "`age(name)`: age() needs a date, got string"),
        (
            "date(2023, 2, 29)",
            "invalid_argument",
            "`date(2023, 2, 29)`: date() has no such day: day is out of range for month",
        ),
        (
            "date(2023, 2)",
            "invalid_argument",
            "`date(2023, 2)`: date() takes a year, a month and a day, got 2 arguments",
        ),
        (
            "date(2023.0, 2, 1)",
            "type_mismatch",
            "`date(2023.0, 2, 1)`: date() needs an int year, month and day, got double",
        ),
        (
            "days_between(today(), days)",
            "type_mismatch",
            "`days_between(today(), days)`: days_between() needs a date, got int",
        ),
    ],
)
def test_function_refusals_are_typed_errors(source: str, kind: str, message: str) -> None:
    error = _failure(source)

    assert (error.kind, error.message, error.expression) == (kind, message, source)


def test_today_is_midnight_in_the_service_zone() -> None:
    assert _value("today()") == dt.datetime(2024, 6, 15, tzinfo=BST)
    assert _value("today() == date(2024, 6, 15)") is True


def test_date_builds_midnight_in_the_service_zone() -> None:
    assert _value("date(2024, 1, 31)") == dt.datetime(2024, 1, 31, tzinfo=dt.UTC)
    assert _value("date(2024, 7, 1)") == dt.datetime(2024, 6, 30, 23, tzinfo=dt.UTC)


def test_days_between_counts_calendar_days_across_a_dst_change() -> None:
    # 30 March to 1 April 2024 in London spans the spring change: 47 hours, two calendar days
    context = build_context({"a": dt.date(2024, 3, 30), "b": dt.date(2024, 4, 1)}, today=TODAY)

    assert evaluate(compile_expression("days_between(a, b)"), context) == 2
    assert evaluate(compile_expression("days_between(b, a)"), context) == -2
    assert evaluate(compile_expression("b - a"), context) == dt.timedelta(hours=47)


@pytest.mark.parametrize(
    ("born", "today", "expected"),
    [
        (dt.date(2000, 6, 15), dt.date(2018, 6, 14), 17),
        (dt.date(2000, 6, 15), dt.date(2018, 6, 15), 18),
        (dt.date(2000, 6, 15), dt.date(2018, 6, 16), 18),
        (dt.date(2000, 2, 29), dt.date(2023, 2, 28), 22),
        (dt.date(2000, 2, 29), dt.date(2023, 3, 1), 23),
        (dt.date(2000, 2, 29), dt.date(2024, 2, 28), 23),
        (dt.date(2000, 2, 29), dt.date(2024, 2, 29), 24),
        (dt.date(2000, 3, 1), dt.date(2024, 2, 29), 23),
        (dt.date(2000, 12, 31), dt.date(2001, 1, 1), 0),
        (dt.date(2024, 6, 15), dt.date(2024, 6, 15), 0),
        (dt.date(2025, 6, 15), dt.date(2024, 6, 15), -1),
    ],
)
def test_age_in_whole_years(born: dt.date, today: dt.date, expected: int) -> None:
    context = build_context({"born": born}, today=today)

    assert evaluate(compile_expression("age(born)"), context) == expected


def test_age_uses_the_calendar_date_in_the_service_zone_for_a_datetime() -> None:
    # 23:30 UTC on 14 June is 00:30 on 15 June in London: the 18th birthday has begun there
    context = build_context({"born": dt.datetime(2006, 6, 14, 23, 30, tzinfo=dt.UTC)}, today=dt.date(2024, 6, 15))
    other = build_context(
        {"born": dt.datetime(2006, 6, 14, 23, 30, tzinfo=dt.UTC)}, time_zone="UTC", today=dt.date(2024, 6, 14)
    )

    assert evaluate(compile_expression("age(born)"), context) == 18
    assert evaluate(compile_expression("age(born)"), other) == 18


@pytest.mark.parametrize(
    ("now", "expected_today", "expected_midnight"),
    [
        # the night of the spring change in London (clocks go forward at 01:00 GMT on 31 March 2024)
        (
            dt.datetime(2024, 3, 30, 23, 59, tzinfo=dt.UTC),
            dt.date(2024, 3, 30),
            dt.datetime(2024, 3, 30, tzinfo=dt.UTC),
        ),
        (dt.datetime(2024, 3, 31, 0, 30, tzinfo=dt.UTC), dt.date(2024, 3, 31), dt.datetime(2024, 3, 31, tzinfo=dt.UTC)),
        (
            dt.datetime(2024, 3, 31, 22, 59, tzinfo=dt.UTC),
            dt.date(2024, 3, 31),
            dt.datetime(2024, 3, 31, tzinfo=dt.UTC),
        ),
        # 23:00 UTC on 31 March is already 00:00 BST on 1 April
        (dt.datetime(2024, 3, 31, 23, 0, tzinfo=dt.UTC), dt.date(2024, 4, 1), dt.datetime(2024, 4, 1, tzinfo=BST)),
        # the autumn change (clocks go back at 01:00 GMT on 27 October 2024)
        (
            dt.datetime(2024, 10, 26, 22, 59, tzinfo=dt.UTC),
            dt.date(2024, 10, 26),
            dt.datetime(2024, 10, 26, tzinfo=BST),
        ),
        (dt.datetime(2024, 10, 26, 23, 0, tzinfo=dt.UTC), dt.date(2024, 10, 27), dt.datetime(2024, 10, 27, tzinfo=BST)),
        (
            dt.datetime(2024, 10, 27, 23, 59, tzinfo=dt.UTC),
            dt.date(2024, 10, 27),
            dt.datetime(2024, 10, 27, tzinfo=BST),
        ),
        (
            dt.datetime(2024, 10, 28, 0, 0, tzinfo=dt.UTC),
            dt.date(2024, 10, 28),
            dt.datetime(2024, 10, 28, tzinfo=dt.UTC),
        ),
    ],
)
def test_today_in_london_across_dst_and_midnight(
    monkeypatch: pytest.MonkeyPatch, now: dt.datetime, expected_today: dt.date, expected_midnight: dt.datetime
) -> None:
    # given the clock at an instant near local or UTC midnight
    monkeypatch.setattr(clock, "now", lambda: now)

    # when a context is built without an explicit today
    context = build_context({})
    midnight = evaluate(compile_expression("today()"), context)

    # then today is the London calendar date and today() is its first instant, with London's offset
    assert context.today == expected_today
    assert midnight == expected_midnight
    assert midnight.utcoffset() == expected_midnight.utcoffset()


def test_a_day_whose_midnight_does_not_exist_starts_when_the_gap_ends() -> None:
    # Chile moved clocks from 24:00 to 01:00 on 8 September 2024 (Santiago, UTC-4 -> UTC-3)
    context = build_context({"d": dt.date(2024, 9, 8)}, time_zone="America/Santiago", today=TODAY)

    start = evaluate(compile_expression("d"), context)

    assert start == dt.datetime(2024, 9, 8, 4, tzinfo=dt.UTC)
    assert (start.hour, start.utcoffset()) == (1, dt.timedelta(hours=-3))


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [
        (2.675, 2, 2.68),
        (2.665, 2, 2.67),
        (0.125, 2, 0.13),
        (-0.125, 2, -0.13),
        (2.5, 0, 3),
        (-2.5, 0, -3),
        (0.5, 0, 1),
        (1.4999999, 0, 1),
        (123.456, -1, 120),
        (125, -1, 130),
        (-125, -1, -130),
        (7, 3, 7),
        (Decimal("2.675"), 2, Decimal("2.68")),
        (Decimal("-2.5"), 0, Decimal("-3")),
        (Decimal("1234.5"), -2, Decimal("1.2E+3")),
    ],
)
def test_round_half_up_in_python(value: float | Decimal, digits: int, expected: float | Decimal) -> None:
    result = round_half_up(value, digits)

    assert result == expected
    assert type(result) is type(expected)


def test_round_half_up_refuses_what_it_cannot_round() -> None:
    with pytest.raises(TypeError, match="round_half_up\\(\\) needs an int or a double, got bool"):
        round_half_up(True, 0)
    with pytest.raises(TypeError, match="needs an int number of digits, got double"):
        round_half_up(1.5, 1.0)  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="needs a finite number"):
        round_half_up(float("nan"), 0)
    with pytest.raises(ValueError, match="needs a finite number"):
        round_half_up(Decimal("Infinity"), 0)
    with pytest.raises(ValueError, match="supports digits from -30 to 30"):
        round_half_up(1.5, -31)


def test_fee_formula_in_minor_units() -> None:
    # given an annual fee of £1,234.56 pro rata for 100 days
    context = build_context({"annual_fee": 123_456, "days": 100}, today=TODAY)

    # when
    fee = evaluate(compile_expression("round_half_up(double(annual_fee) * double(days) / 365.0, 0)"), context)

    # then 33823.56... pence rounds to 33824
    assert fee == 33_824


def test_builtin_names_cannot_be_shadowed_so_platform_names_avoid_them() -> None:
    # The CEL library prefers its own size(): a platform function of that name would never run.
    assert not ({"size", "int", "double", "string", "matches", "timestamp"} & (CUSTOM_FUNCTIONS - {"contains"}))
    assert _value('"abc".contains("b")') is True
    assert _value('contains("abc", "b")') is True
