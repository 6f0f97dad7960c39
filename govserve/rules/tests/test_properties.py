"""Properties of evaluation against CEL's specified semantics (hypothesis).

Operands are passed as context values, not literals, so that the CEL
library's constant folding cannot hide the runtime behaviour under test.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from govserve.core import clock
from govserve.rules import ExpressionEvaluationError, build_context, compile_expression, evaluate, round_half_up

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
int64 = st.integers(min_value=INT64_MIN, max_value=INT64_MAX)
TODAY = dt.date(2024, 6, 15)


def _evaluate(source: str, **values: object) -> object:
    return evaluate(compile_expression(source), build_context(values, today=TODAY))


def _truncating_division(a: int, b: int) -> tuple[int, int]:
    """Return CEL's (a / b, a % b): the quotient truncates toward zero, the remainder takes a's sign."""
    quotient = abs(a) // abs(b)
    if (a < 0) != (b < 0):
        quotient = -quotient
    return quotient, a - b * quotient


@pytest.mark.parametrize(("operator", "python"), [("+", int.__add__), ("-", int.__sub__), ("*", int.__mul__)])
@given(a=int64, b=int64)
def test_integer_arithmetic_is_exact_or_an_overflow_error(operator: str, python: object, a: int, b: int) -> None:
    expected = python(a, b)  # type: ignore[operator]
    source = f"a {operator} b"
    if INT64_MIN <= expected <= INT64_MAX:
        assert _evaluate(source, a=a, b=b) == expected
    else:
        with pytest.raises(ExpressionEvaluationError) as raised:
            _evaluate(source, a=a, b=b)
        assert raised.value.kind == "overflow"


@given(a=int64, b=int64)
def test_integer_division_and_modulo_truncate_toward_zero(a: int, b: int) -> None:
    if b == 0:
        for source in ("a / b", "a % b"):
            with pytest.raises(ExpressionEvaluationError) as raised:
                _evaluate(source, a=a, b=b)
            assert raised.value.kind == "division_by_zero"
        return
    quotient, remainder = _truncating_division(a, b)
    if quotient > INT64_MAX:  # only INT64_MIN / -1
        with pytest.raises(ExpressionEvaluationError) as raised:
            _evaluate("a / b", a=a, b=b)
        assert raised.value.kind == "overflow"
        return
    assert _evaluate("a / b", a=a, b=b) == quotient
    assert _evaluate("a % b", a=a, b=b) == remainder


@given(a=st.integers(min_value=-1000, max_value=1000), b=st.integers(min_value=1, max_value=50))
def test_small_negative_division_differs_from_python_floor_division(a: int, b: int) -> None:
    result = _evaluate("a / b", a=a, b=b)

    assert result == int(Fraction(a, b))  # int() of a Fraction truncates toward zero
    if a < 0 and a % b:
        assert result == a // b + 1


@given(a=int64, b=st.floats(allow_nan=False))
def test_int_and_double_never_mix_in_arithmetic(a: int, b: float) -> None:
    for source in ("a + b", "b * a", "a - b", "b / a"):
        with pytest.raises(ExpressionEvaluationError) as raised:
            _evaluate(source, a=a, b=b)
        assert raised.value.kind == "type_mismatch"
        assert "mixes int and double" in raised.value.message


@given(a=st.text(), b=st.text())
def test_string_concatenation(a: str, b: str) -> None:
    assert _evaluate("a + b", a=a, b=b) == a + b
    assert _evaluate("concat(a, b, a)", a=a, b=b) == a + b + a
    assert _evaluate("len(a + b)", a=a, b=b) == len(a) + len(b)


@given(
    incomes=st.lists(st.integers(min_value=-(10**12), max_value=10**12), max_size=30),
)
def test_sum_over_a_repeating_group_equals_python_sum(incomes: list[int]) -> None:
    children = [{"income": income} for income in incomes]

    assert _evaluate("sum(children.map(c, c.income))", children=children) == sum(incomes)
    assert _evaluate("count(children.filter(c, c.income > 0))", children=children) == sum(
        1 for income in incomes if income > 0
    )
    assert _evaluate("children.all(c, c.income >= 0)", children=children) == all(income >= 0 for income in incomes)


@given(st.lists(st.integers(min_value=-(10**6), max_value=10**6), min_size=1, max_size=30))
def test_aggregates_match_python_on_ints(values: list[int]) -> None:
    ordered = sorted(values)
    middle = len(ordered) // 2
    median = float(ordered[middle]) if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2

    assert _evaluate("min(xs)", xs=values) == min(values)
    assert _evaluate("max(xs)", xs=values) == max(values)
    assert _evaluate("avg(xs)", xs=values) == sum(values) / len(values)
    assert _evaluate("median(xs)", xs=values) == median


def _reference_half_away_from_zero(value: Fraction, digits: int) -> Fraction:
    scaled = abs(value) * Fraction(10) ** digits
    whole = int(scaled)
    if scaled - whole >= Fraction(1, 2):
        whole += 1
    rounded = Fraction(whole) / Fraction(10) ** digits
    return -rounded if value < 0 else rounded


@given(
    units=st.integers(min_value=-(10**12), max_value=10**12),
    scale=st.integers(min_value=0, max_value=6),
    digits=st.integers(min_value=-3, max_value=5),
)
def test_round_half_up_matches_an_exact_rational_reference(units: int, scale: int, digits: int) -> None:
    # given a decimal number as written (units / 10**scale, at most 13 significant digits)
    written = Fraction(units, 10**scale)
    expected = _reference_half_away_from_zero(written, digits)
    as_decimal = Decimal(units).scaleb(-scale)

    # then rounding the Decimal, and the double that prints as the same number, both agree with the reference
    assert Fraction(round_half_up(as_decimal, digits)) == expected
    as_double = float(as_decimal)
    assume(Decimal(repr(as_double)) == as_decimal)
    result = round_half_up(as_double, digits)
    if digits <= 0:
        assert isinstance(result, int)
        assert result == expected
    else:
        assert result == float(expected)
    # and CEL's round_half_up gives the same
    assert _evaluate(f"round_half_up(x, {digits})", x=as_double) == result


@given(value=st.floats(min_value=-1e15, max_value=1e15), digits=st.integers(min_value=0, max_value=4))
def test_round_half_up_is_within_half_a_unit_and_idempotent(value: float, digits: int) -> None:
    rounded = round_half_up(value, digits)

    assert abs(Fraction(repr(value)) - Fraction(repr(float(rounded)))) <= Fraction(1, 2 * 10**digits)
    assert round_half_up(float(rounded), digits) == rounded


def _reference_age(born: dt.date, today: dt.date) -> int:
    """Whole years: count the anniversaries reached, 29 February falling on 1 March in common years."""

    def anniversary(years: int) -> dt.date:
        try:
            return born.replace(year=born.year + years)
        except ValueError:
            return dt.date(born.year + years, 3, 1)

    years = 0
    while anniversary(years + 1) <= today:
        years += 1
    return years


@given(
    born=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2024, 12, 31)),
    offset_days=st.integers(min_value=0, max_value=120 * 366),
)
def test_age_counts_reached_anniversaries(born: dt.date, offset_days: int) -> None:
    today = born + dt.timedelta(days=offset_days)
    context = build_context({"born": born}, today=today)

    assert evaluate(compile_expression("age(born)"), context) == _reference_age(born, today)


@given(
    year=st.sampled_from([y for y in range(1904, 2100, 4) if y % 100 or y % 400 == 0]),
    later=st.integers(min_value=1, max_value=80),
    delta=st.integers(min_value=-2, max_value=2),
)
def test_age_of_a_leap_day_birth_around_its_birthday(year: int, later: int, delta: int) -> None:
    born = dt.date(year, 2, 29)
    today = dt.date(year + later, 3, 1) + dt.timedelta(days=delta)
    context = build_context({"born": born}, today=today)

    assert evaluate(compile_expression("age(born)"), context) == _reference_age(born, today)


@given(day=st.dates(min_value=dt.date(1970, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_a_date_reads_back_as_the_same_calendar_date_in_london(day: dt.date) -> None:
    context = build_context({"d": day}, today=TODAY)

    assert evaluate(compile_expression("[d.getFullYear(), d.getMonth() + 1, d.getDate()]"), context) == [
        day.year,
        day.month,
        day.day,
    ]
    assert evaluate(compile_expression(f"d == date({day.year}, {day.month}, {day.day})"), context) is True


VALUES: dict[str, object] = {
    "i": 7,
    "big": 2**62,
    "zero": 0,
    "d": 2.5,
    "s": "text",
    "t": True,
    "n": None,
    "xs": [1, 2, 3],
    "ds": [1.5, 2.5],
    "m": {"k": 1, "s": "v"},
    "day": dt.date(2024, 3, 31),
    "group": [{"k": 1, "s": "a"}, {"k": None, "s": "b"}],
}
_leaves = st.sampled_from([*VALUES, "1", "2.0", '"x"', "null", "true", "[]", "today()", "c"])
_any_expression = st.recursive(
    _leaves,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "%", "&&", "||", "==", "<", ">=", "in"]), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        st.tuples(st.sampled_from(["!", "-"]), inner).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(inner, inner, inner).map(lambda t: f"({t[0]} ? {t[1]} : {t[2]})"),
        st.tuples(inner, st.sampled_from(["exists", "all", "map", "filter"]), inner).map(
            lambda t: f"{t[0]}.{t[1]}(c, {t[2]})"
        ),
        st.tuples(
            st.sampled_from(
                ["sum", "min", "max", "avg", "median", "count", "age", "round", "ceil", "len", "upper", "size", "int"]
            ),
            inner,
        ).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(st.sampled_from(["round_half_up", "contains", "concat", "days_between", "max"]), inner, inner).map(
            lambda t: f"{t[0]}({t[1]}, {t[2]})"
        ),
        st.tuples(inner, st.sampled_from(["k", "s"])).map(lambda t: f"{t[0]}.{t[1]}"),
        st.tuples(inner, inner).map(lambda t: f"{t[0]}[{t[1]}]"),
    ),
    max_leaves=8,
)


@given(_any_expression)
def test_every_expression_either_evaluates_or_raises_the_typed_error(source: str) -> None:
    # given any well-formed expression over values of every type
    expression = compile_expression(source, location="fuzz.yaml:1:1")
    context = build_context(VALUES, today=TODAY)

    # when it is evaluated, nothing but a typed error escapes, with the expression and location
    failure: ExpressionEvaluationError | None = None
    try:
        evaluate(expression, context)
    except ExpressionEvaluationError as error:
        failure = error
    if failure is not None:
        assert (failure.expression, failure.location) == (source, "fuzz.yaml:1:1")
        assert failure.kind in {
            "type_mismatch",
            "undefined_name",
            "missing_key",
            "index_out_of_range",
            "division_by_zero",
            "overflow",
            "null_value",
            "invalid_argument",
            "evaluation_failed",
        }
        assert failure.message


@given(
    moment=st.datetimes(
        min_value=dt.datetime(2020, 1, 1),  # noqa: DTZ001 - naive bounds; the zone is added by timezones=
        max_value=dt.datetime(2030, 12, 31),  # noqa: DTZ001
        timezones=st.just(dt.UTC),
    )
)
def test_today_is_the_start_of_the_london_date_at_any_instant(moment: dt.datetime) -> None:
    # given the clock at any instant (DST changes and both midnights included)
    london = ZoneInfo("Europe/London")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(clock, "now", lambda: moment)
        context = build_context({})

    # when
    midnight = evaluate(compile_expression("today()"), context)

    # then today() is 00:00 London time on the London date of that instant, with London's offset
    local_day = moment.astimezone(london).date()
    assert midnight == dt.datetime.combine(local_day, dt.time(0), tzinfo=london)
    assert midnight.utcoffset() == dt.datetime.combine(local_day, dt.time(0), tzinfo=london).utcoffset()
    assert midnight <= moment < midnight + dt.timedelta(hours=25)
