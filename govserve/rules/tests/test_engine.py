"""Compiling and evaluating expressions: values, errors, caching."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from decimal import Decimal

import pytest

from govserve.core import clock
from govserve.rules import (
    ExpressionEvaluationError,
    ExpressionSyntaxError,
    UnknownTimeZoneError,
    ValueConversionError,
    build_context,
    compile_expression,
    engine,
    evaluate,
    evaluate_bool,
    evaluate_condition,
    functions,
)

TODAY = dt.date(2024, 6, 15)
BST = dt.timezone(dt.timedelta(hours=1))


def _value(source: str, **values: object) -> object:
    return evaluate(compile_expression(source), build_context(values, today=TODAY))


def test_compile_gives_the_same_object_for_the_same_source_and_location() -> None:
    # given / when
    first = compile_expression("a > 1", location="svc.yaml:3:9")
    second = compile_expression("a > 1", location="svc.yaml:3:9")
    elsewhere = compile_expression("a > 1", location="svc.yaml:7:9")

    # then
    assert first is second
    assert elsewhere is not first
    assert elsewhere.location == "svc.yaml:7:9"


def test_references_exclude_comprehension_variables_functions_and_selections() -> None:
    # given / when
    expression = compile_expression("children.exists(c, c.age > limit) && size(name) > 0 && address.town == 'X'")

    # then
    assert expression.references == frozenset({"children", "limit", "name", "address"})
    assert expression.functions == frozenset({"size"})


def test_references_keep_a_name_used_both_free_and_as_a_comprehension_variable() -> None:
    expression = compile_expression("c > 1 && items.all(c, c > 0)")

    assert expression.references == frozenset({"c", "items"})


def test_references_exclude_type_names_and_nested_comprehension_variables() -> None:
    expression = compile_expression("type(x) == int && xs.map(a, ys.map(b, a + b + k)).size() > 0")

    assert expression.references == frozenset({"x", "xs", "ys", "k"})
    assert expression.functions == frozenset({"type", "size"})


def test_references_ignore_identifiers_inside_string_literals() -> None:
    expression = compile_expression("name == 'other_field' && note.contains(\"x.map(c, c)\")")

    assert expression.references == frozenset({"name", "note"})
    assert expression.functions == frozenset({"contains"})


def test_syntax_error_reports_first_problem_with_exact_column_and_location() -> None:
    # when
    with pytest.raises(ExpressionSyntaxError) as raised:
        compile_expression("age(dob) >= ", location="svc.yaml:12:15")

    # then
    error = raised.value
    assert error.code == "expression_syntax_error"
    assert error.expression == "age(dob) >= "
    assert (error.line, error.column, error.offset) == (1, 13, 12)
    assert error.location == "svc.yaml:12:15"
    assert error.message == ("Syntax error: the expression ends too early (an operand or a closing bracket is missing)")
    assert str(error) == (
        "Syntax error: the expression ends too early (an operand or a closing bracket is missing) "
        "(line 1, column 13 of `age(dob) >=  ` at svc.yaml:12:15)".replace("=  `", "= `")
    )


def test_syntax_error_column_counts_characters_not_bytes() -> None:
    with pytest.raises(ExpressionSyntaxError) as raised:
        compile_expression('"€€" +  + 1')

    assert (raised.value.line, raised.value.column) == (1, 9)
    assert raised.value.message == "Syntax error: unexpected '+'"


def test_syntax_error_on_a_later_line_gives_line_column_and_offset() -> None:
    with pytest.raises(ExpressionSyntaxError) as raised:
        compile_expression("a &&\n  b c")

    assert (raised.value.line, raised.value.column, raised.value.offset) == (2, 5, 9)
    assert raised.value.message == "Syntax error: unexpected 'c'"


def test_unclosed_string_is_reported_at_its_opening_quote() -> None:
    with pytest.raises(ExpressionSyntaxError) as raised:
        compile_expression('name == "Smith')

    assert (raised.value.column, raised.value.message) == (9, "Syntax error: a string is not closed")


def test_empty_expression_is_a_syntax_error() -> None:
    with pytest.raises(ExpressionSyntaxError) as raised:
        compile_expression("")

    assert (raised.value.line, raised.value.column) == (1, 1)


def test_compile_refuses_a_non_string() -> None:
    with pytest.raises(TypeError, match="must be a str, not int"):
        compile_expression(3)  # type: ignore[arg-type]


def test_date_answers_are_midnight_in_the_service_zone_with_its_offset() -> None:
    # given a summer date in London (BST, UTC+1) and a winter one (GMT)
    context = build_context({"summer": dt.date(2024, 7, 1), "winter": dt.date(2024, 1, 1)}, today=TODAY)

    # then
    assert evaluate(compile_expression("summer"), context) == dt.datetime(2024, 7, 1, tzinfo=BST)
    assert evaluate(compile_expression("summer"), context) == dt.datetime(2024, 6, 30, 23, tzinfo=dt.UTC)
    assert evaluate(compile_expression("winter"), context) == dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    # getters read the calendar date as entered, not the UTC one
    assert evaluate(compile_expression("[summer.getFullYear(), summer.getMonth(), summer.getDate()]"), context) == [
        2024,
        6,
        1,
    ]


def test_dates_in_another_zone_use_that_zone() -> None:
    context = build_context({"d": dt.date(2024, 7, 1)}, time_zone="Pacific/Auckland", today=TODAY)

    assert evaluate(compile_expression("d"), context) == dt.datetime(2024, 6, 30, 12, tzinfo=dt.UTC)


def test_aware_datetimes_keep_their_instant_and_take_the_zone_offset() -> None:
    moment = dt.datetime(2024, 7, 1, 9, 30, tzinfo=dt.UTC)

    assert _value("m", m=moment) == dt.datetime(2024, 7, 1, 10, 30, tzinfo=BST)
    assert _value("m.getHours()", m=moment) == 10


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueConversionError) as raised:
        build_context({"m": dt.datetime(2024, 7, 1, 9, 30)})  # noqa: DTZ001 - the refusal under test

    assert raised.value.name == "m"
    assert raised.value.message == "The value of `m` is a naive datetime: pass an aware datetime or a date"


def test_values_convert_exactly() -> None:
    # given every kind of answer value
    values = {
        "text": "Ann",
        "count": 3,
        "amount": Decimal("12.50"),
        "flag": True,
        "unanswered": None,
        "choices": ("a", "b"),
        "address": {"line1": "1 High St", "town": "Leeds"},
        "children": [{"name": "Bo", "born": dt.date(2020, 2, 29)}],
    }

    # when
    context = build_context(values, today=TODAY)

    # then
    assert evaluate(compile_expression("text"), context) == "Ann"
    assert evaluate(compile_expression("count + 1"), context) == 4
    assert evaluate(compile_expression("amount * 2.0"), context) == 25.0
    assert evaluate(compile_expression("flag"), context) is True
    assert evaluate(compile_expression("unanswered == null"), context) is True
    assert evaluate(compile_expression("choices"), context) == ["a", "b"]
    assert evaluate(compile_expression("address.town"), context) == "Leeds"
    assert evaluate(compile_expression("children[0].born"), context) == dt.datetime(2020, 2, 29, tzinfo=dt.UTC)
    assert context.names == frozenset(values)


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 2**64])
def test_integers_outside_int64_are_refused(value: int) -> None:
    with pytest.raises(ValueConversionError) as raised:
        build_context({"n": value})

    assert raised.value.message == "The value of `n` is outside the 64-bit integer range CEL supports"


def test_int64_bounds_are_accepted() -> None:
    assert _value("[lo, hi]", lo=-(2**63), hi=2**63 - 1) == [-(2**63), 2**63 - 1]


def test_unsupported_values_and_keys_are_refused() -> None:
    with pytest.raises(ValueConversionError, match=r"The value of `x\[1\]` has type object"):
        build_context({"x": [1, object()]})
    with pytest.raises(ValueConversionError, match="The map `m` has a key that is not a string"):
        build_context({"m": {1: "a"}})
    with pytest.raises(ValueConversionError, match="The value of `d` is not a finite number"):
        build_context({"d": Decimal("NaN")})


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(UnknownTimeZoneError) as raised:
        build_context({}, time_zone="Europe/Lundon")

    assert raised.value.code == "unknown_time_zone"


def test_evaluate_bool_returns_the_condition() -> None:
    context = build_context({"income": 15_000, "married": False}, today=TODAY)

    assert evaluate_bool(compile_expression("income < 16000 && !married"), context) is True
    assert evaluate_bool(compile_expression("income < 16000 && married"), context) is False


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("income", "A condition must give true or false, but this gives an int"),
        ("name", "A condition must give true or false, but this gives a string"),
        ("missing", "A condition must give true or false, but this gives null"),
    ],
)
def test_evaluate_bool_refuses_a_non_bool_result(source: str, message: str) -> None:
    context = build_context({"income": 1, "name": "x", "missing": None}, today=TODAY)

    with pytest.raises(ExpressionEvaluationError) as raised:
        evaluate_bool(compile_expression(source, location="s.yaml:1:1"), context)

    assert (raised.value.kind, raised.value.message) == ("wrong_result_type", message)
    assert (raised.value.expression, raised.value.location) == (source, "s.yaml:1:1")


@pytest.mark.parametrize(
    ("source", "kind", "message"),
    [
        (
            "fee_per_day * days",
            "type_mismatch",
            "`fee_per_day * days` mixes int and double (`fee_per_day` is a double, `days` is an int): "
            "convert with double(...) or int(...)",
        ),
        (
            "1 + 1.0 > 0.0",
            "type_mismatch",
            "`1 + 1.0` mixes int and double (`1` is an int, `1.0` is a double): convert with double(...) or int(...)",
        ),
        (
            "name + 1",
            "type_mismatch",
            "`name + 1` cannot apply `+` to a string and an int: "
            "convert explicitly with int(...), double(...) or string(...)",
        ),
        (
            "days > 2 && name > 1",
            "type_mismatch",
            "`name > 1` cannot compare a string with an int: convert one with int(...), double(...) or string(...)",
        ),
        (
            "unanswered + 1",
            "null_value",
            "`unanswered + 1`: `unanswered` is null (an unanswered field?): "
            "check it first, e.g. `unanswered != null && ...`",
        ),
        (
            "size(unanswered) > 0",
            "null_value",
            "`size(unanswered)`: `unanswered` is null (an unanswered field?): "
            "check it first, e.g. `unanswered != null && ...`",
        ),
        ("days + 1u", "type_mismatch", "`days + 1u` mixes int and uint: convert with int(...) (write 1, not 1u)"),
        (
            "size(children.filter(c, c.income)) > 0",
            "type_mismatch",
            "`children.filter(c, c.income)`: the condition `c.income` must be true or false for each item, "
            "but it is an int",
        ),
        ("nosuch > 1", "undefined_name", "Unknown name `nosuch`: no field, determinant or function is called that"),
        ("nosuch(1)", "undefined_name", "Unknown name `nosuch`: no field, determinant or function is called that"),
        ("days / 0", "division_by_zero", "Division by zero"),
        ("days % 0", "division_by_zero", "Modulo by zero"),
        (
            "9223372036854775807 + days",
            "overflow",
            "Integer overflow in addition: the result is outside the 64-bit integer range",
        ),
        (
            "-9223372036854775807 - days",
            "overflow",
            "Integer overflow in subtraction: the result is outside the 64-bit integer range",
        ),
        (
            "4611686018427387904 * days",
            "overflow",
            "Integer overflow in multiplication: the result is outside the 64-bit integer range",
        ),
        (
            "(-9223372036854775807 - 1) / (days - 4)",
            "overflow",
            "Integer overflow in division: the result is outside the 64-bit integer range",
        ),
        ("address.county", "missing_key", "The map has no key `county`: test for it first with has(map.county)"),
        ("children[5]", "index_out_of_range", "List index out of range"),
        (
            'int("abc") > 1',
            "invalid_argument",
            '`int("abc")`: int() failed: string parse error: invalid digit found in string',
        ),
        (
            "age(unanswered) >= 18",
            "null_value",
            "`age(unanswered)`: `unanswered` is null (an unanswered field?): "
            "check it first, e.g. `unanswered != null && ...`",
        ),
        ("age(days)", "type_mismatch", "`age(days)`: age() needs a date, got int"),
        ("round(1, 2)", "invalid_argument", "`round(1, 2)`: round() takes one number, got 2 arguments"),
        ("!days", "type_mismatch", "`!days`: `!` needs true or false, but `days` is an int"),
        (
            "days ? 1 : 2",
            "type_mismatch",
            "`days ? 1 : 2`: the condition `days` must be true or false, but it is an int",
        ),
        (
            'children.exists(c, c.income > "100")',
            "type_mismatch",
            '`c.income > "100"` cannot compare an int with a string: '
            "convert one with int(...), double(...) or string(...)",
        ),
        (
            "sum(children.map(c, c.income)) * 1.5",
            "type_mismatch",
            "`sum(children.map(c, c.income)) * 1.5` mixes int and double "
            "(`sum(children.map(c, c.income))` is an int, `1.5` is a double): convert with double(...) or int(...)",
        ),
        (
            "name.exists(c, c)",
            "type_mismatch",
            "`name.exists(c, c)`: .exists() works on a list or a map, but `name` is a string",
        ),
        (
            "avg(children.map(c, c.income)) > 1.0 && avg([]) > 1.0",
            "invalid_argument",
            "`avg([])`: avg() of an empty list has no value",
        ),
    ],
)
def test_every_evaluation_failure_is_a_typed_error_with_expression_and_location(
    source: str, kind: str, message: str
) -> None:
    # given
    context = build_context(
        {
            "fee_per_day": 2.5,
            "days": 3,
            "name": "Ann",
            "unanswered": None,
            "address": {"line1": "1 High St"},
            "children": [{"income": 100}, {"income": 200}],
        },
        today=TODAY,
    )
    expression = compile_expression(source, location="svc.yaml:40:11")

    # when
    with pytest.raises(ExpressionEvaluationError) as raised:
        evaluate(expression, context)

    # then
    error = raised.value
    assert (error.kind, error.message) == (kind, message)
    assert (error.expression, error.location, error.code) == (source, "svc.yaml:40:11", "expression_evaluation_error")
    assert str(error) == f"{message} (in `{source}` at svc.yaml:40:11)"


def test_a_bug_in_a_platform_function_is_not_tidied_into_a_typed_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # given a platform function that fails for a reason other than its arguments
    def broken(*arguments: object) -> int:
        raise KeyError("internal")

    monkeypatch.setattr(functions, "cel_count", broken)
    context = build_context({"xs": [1]}, today=TODAY)

    # when / then: the original exception escapes
    with pytest.raises(KeyError, match="internal"):
        evaluate(compile_expression("count(xs)"), context)


def test_a_stale_function_error_does_not_leak_into_the_next_failure() -> None:
    # given a function error absorbed by a short-circuiting `||`
    context = build_context({"xs": [], "n": 1}, today=TODAY)
    assert evaluate(compile_expression("true || avg(xs) > 1"), context) is True

    # when a later failure has nothing to do with functions
    with pytest.raises(ExpressionEvaluationError) as raised:
        evaluate(compile_expression("n / 0"), context)

    # then
    assert raised.value.kind == "division_by_zero"


def test_context_can_be_updated_and_read_back() -> None:
    context = build_context({"a": 1}, today=TODAY)

    context.set_value("a", 2)
    context.set_values({"b": dt.date(2024, 1, 1)})

    assert evaluate(compile_expression("a"), context) == 2
    assert "b" in context
    assert context.names == frozenset({"a", "b"})


def test_default_today_is_today_in_the_service_zone() -> None:
    context = build_context({}, time_zone="Pacific/Kiritimati")

    assert context.today == clock.now().astimezone(context.time_zone).date()


def test_compiled_expressions_evaluate_in_other_threads() -> None:
    # given an expression compiled on this thread
    expression = compile_expression("n * 2")
    results: list[object] = []

    # when another thread evaluates it with its own context
    worker = threading.Thread(target=lambda: results.append(evaluate(expression, build_context({"n": 21}))))
    worker.start()
    worker.join()

    # then
    assert results == [42]


def test_today_calls_read_the_context_date_and_are_not_references() -> None:
    # given an expression that calls today() (compiled to a context variable)
    expression = compile_expression("start >= today() && today() < date(2030, 1, 1)")
    context = build_context({"start": dt.date(2024, 6, 15)}, today=TODAY)

    # then
    assert expression.references == frozenset({"start"})
    assert expression.functions == frozenset({"today", "date"})
    assert evaluate(expression, context) is True
    assert evaluate(compile_expression("today()"), context) == dt.datetime(2024, 6, 15, tzinfo=BST)


def test_a_refused_value_inside_a_group_is_named_by_its_path() -> None:
    children = [{"born": dt.date(2020, 1, 1)}, {"born": dt.datetime(2020, 1, 1, 9)}]  # noqa: DTZ001 - under test

    with pytest.raises(ValueConversionError) as raised:
        build_context({"children": children})

    assert raised.value.name == "children"
    assert raised.value.message == (
        "The value of `children[1].born` is a naive datetime: pass an aware datetime or a date"
    )


def test_subclasses_of_supported_types_convert_like_their_base() -> None:
    class Reference(str):
        pass

    class Count(int):
        pass

    assert _value("[r, n + 1]", r=Reference("AB12"), n=Count(2)) == ["AB12", 3]


def test_argument_refusals_are_not_logged_but_bugs_are(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # given
    context = build_context({"xs": []}, today=TODAY)

    # when a platform function refuses its arguments
    with caplog.at_level(logging.WARNING, logger="cel"), pytest.raises(ExpressionEvaluationError):
        evaluate(compile_expression("avg(xs)"), context)

    # then the CEL library's warning is filtered out (the typed error says it all)
    assert [record for record in caplog.records if record.name == "cel"] == []

    # when a platform function has a bug
    def broken(*arguments: object) -> int:
        raise KeyError("internal")

    monkeypatch.setattr(functions, "cel_count", broken)
    buggy = build_context({"xs": []}, today=TODAY)
    with caplog.at_level(logging.WARNING, logger="cel"), pytest.raises(KeyError):
        evaluate(compile_expression("count(xs)"), buggy)

    # then the warning stays
    assert [record.getMessage() for record in caplog.records if record.name == "cel"] == [
        "Python function 'count' failed: KeyError: 'internal'"
    ]


def test_concurrent_compilation_of_a_new_source_gives_one_object() -> None:
    # given a source no test has compiled, and threads that start together
    source = "concurrently_compiled_field > 41"
    barrier = threading.Barrier(8)
    results: list[object] = []

    def compile_once() -> None:
        barrier.wait()
        results.append(compile_expression(source, location="c.yaml:1:1"))

    # when
    workers = [threading.Thread(target=compile_once) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    # then
    assert len(results) == 8
    assert all(result is results[0] for result in results)


# --- evaluate_condition: undecided conditions without the diagnosis ----------------------------------------


def _null_read(expression: object) -> bool:
    return True


def _nothing_null(expression: object) -> bool:
    return False


def test_a_condition_that_fails_while_undecided_is_none_and_is_never_diagnosed(monkeypatch: pytest.MonkeyPatch) -> None:
    # given: an expression failing on a null answer, and a diagnosis that must not run
    def no_diagnosis(*arguments: object) -> None:
        raise AssertionError("diagnosed an undecided condition")

    monkeypatch.setattr(engine, "diagnose", no_diagnosis)
    context = build_context({"date_of_birth": None, "items": None}, today=TODAY)

    # when / then
    assert evaluate_condition(compile_expression("age(date_of_birth) >= 17"), context, undecided=_null_read) is None
    assert evaluate_condition(compile_expression("size(items) > 0"), context, undecided=_null_read) is None
    assert evaluate_condition(compile_expression("date_of_birth"), context, undecided=_null_read) is None


def test_a_condition_that_fails_when_decided_raises_the_diagnosed_error() -> None:
    # given
    context = build_context({"fee": 2.5, "days": 3}, today=TODAY)

    # when
    with pytest.raises(ExpressionEvaluationError) as raised:
        evaluate_condition(compile_expression("fee * days > 1"), context, undecided=_nothing_null)

    # then: the same error evaluate_bool raises, diagnosis included
    with pytest.raises(ExpressionEvaluationError) as expected:
        evaluate_bool(compile_expression("fee * days > 1"), context)
    assert (raised.value.kind, raised.value.message) == (expected.value.kind, expected.value.message)
    assert "`fee * days`" in raised.value.message


def test_a_condition_giving_a_non_bool_is_undecided_or_wrong_result_type() -> None:
    # given
    context = build_context({"answer": None, "n": 3}, today=TODAY)

    # when / then
    assert evaluate_condition(compile_expression("answer"), context, undecided=_null_read) is None
    with pytest.raises(ExpressionEvaluationError) as raised:
        evaluate_condition(compile_expression("n"), context, undecided=_nothing_null)
    assert raised.value.kind == "wrong_result_type"


def test_a_decided_condition_is_its_value_and_undecided_is_not_asked() -> None:
    # given
    context = build_context({"answer": None, "n": 3}, today=TODAY)

    def never(expression: object) -> bool:
        raise AssertionError("asked")

    # when / then: a condition that succeeds with a null name is decided
    assert evaluate_condition(compile_expression("answer == null || n > 5"), context, undecided=never) is True
    assert evaluate_condition(compile_expression("n > 5"), context, undecided=never) is False


def test_a_bug_in_a_platform_function_escapes_even_when_undecided(monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    def broken(*arguments: object) -> int:
        raise KeyError("internal")

    monkeypatch.setattr(functions, "cel_count", broken)
    context = build_context({"xs": [1]}, today=TODAY)

    # when / then
    with pytest.raises(KeyError, match="internal"):
        evaluate_condition(compile_expression("count(xs) > 0"), context, undecided=_null_read)


def test_an_undecided_failure_leaves_no_function_error_behind() -> None:
    # given: a function refusing its argument while undecided
    context = build_context({"xs": [], "n": 1}, today=TODAY)
    assert evaluate_condition(compile_expression("avg(xs) > 1"), context, undecided=_null_read) is None

    # when a later failure has nothing to do with functions
    with pytest.raises(ExpressionEvaluationError) as raised:
        evaluate(compile_expression("n / 0"), context)

    # then
    assert raised.value.kind == "division_by_zero"
