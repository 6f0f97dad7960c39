"""Determinant ordering, cycles, and evaluation into the context."""

from __future__ import annotations

import datetime as dt

import pytest

from govserve.rules import (
    CompiledExpression,
    DeterminantCycleError,
    ExpressionEvaluationError,
    build_context,
    compile_expression,
    determinant_order,
    evaluate_bool,
    evaluate_determinants,
)

TODAY = dt.date(2024, 6, 15)


def _determinants(**sources: str) -> dict[str, CompiledExpression]:
    return {
        name: compile_expression(source, location=f"svc.yaml:{index}:5")
        for index, (name, source) in enumerate(sources.items(), start=1)
    }


def test_order_puts_each_determinant_after_those_it_uses() -> None:
    determinants = _determinants(
        eligible="adult && resident && !exempt",
        adult="age(date_of_birth) >= 18",
        resident='country == "GB"',
        exempt="adult && income < 1000",
    )

    order = determinant_order(determinants)

    assert order == ["adult", "exempt", "resident", "eligible"]


def test_order_keeps_the_definition_order_of_independent_determinants() -> None:
    determinants = _determinants(c="x > 1", a="x > 2", b="x > 3")

    assert determinant_order(determinants) == ["c", "a", "b"]


def test_a_cycle_is_refused_with_its_path() -> None:
    determinants = _determinants(start="true", a="b || start", b="c", c="a && start")

    with pytest.raises(DeterminantCycleError) as raised:
        determinant_order(determinants)

    assert raised.value.cycle == ["a", "b", "c", "a"]
    assert raised.value.code == "determinant_cycle"
    assert raised.value.message == "Determinants refer to each other in a cycle: a -> b -> c -> a"


def test_a_determinant_that_uses_itself_is_a_cycle() -> None:
    with pytest.raises(DeterminantCycleError) as raised:
        determinant_order(_determinants(a="x > 1 && a"))

    assert raised.value.cycle == ["a", "a"]


def test_a_name_bound_by_a_comprehension_is_not_a_dependency() -> None:
    # `adult` inside the comprehension is the iteration variable, not the determinant
    determinants = _determinants(adult="people.exists(adult, adult.age >= 18)", other="adult")

    assert determinant_order(determinants) == ["adult", "other"]


def test_a_long_chain_orders_without_recursion_limits() -> None:
    determinants = {"d0": compile_expression("true")}
    for index in range(1, 3000):
        determinants[f"d{index}"] = compile_expression(f"d{index - 1}")

    order = determinant_order(dict(reversed(determinants.items())))

    assert order == [f"d{index}" for index in range(3000)]


def test_evaluate_determinants_makes_earlier_results_available_by_name() -> None:
    # given
    determinants = _determinants(
        eligible="adult && resident",
        adult="age(date_of_birth) >= 18",
        resident='country == "GB"',
    )
    context = build_context({"date_of_birth": dt.date(2006, 6, 15), "country": "GB"}, today=TODAY)

    # when
    results = evaluate_determinants(determinants, context)

    # then
    assert results == {"adult": True, "resident": True, "eligible": True}
    assert evaluate_bool(compile_expression("eligible && adult"), context) is True
    assert {"adult", "resident", "eligible"} <= context.names


def test_evaluate_determinants_with_a_precomputed_order() -> None:
    determinants = _determinants(b="a", a="x > 1")
    context = build_context({"x": 0}, today=TODAY)

    results = evaluate_determinants(determinants, context, order=["a", "b"])

    assert results == {"a": False, "b": False}


def test_a_failing_determinant_raises_with_its_location() -> None:
    determinants = _determinants(adult="age(date_of_birth) >= 18", fee_due="adult && income")
    context = build_context({"date_of_birth": dt.date(1980, 1, 1), "income": 5}, today=TODAY)

    with pytest.raises(ExpressionEvaluationError) as raised:
        evaluate_determinants(determinants, context)

    assert raised.value.location == "svc.yaml:2:5"
    assert raised.value.message == "`adult && income`: `&&` needs true or false on both sides, but `income` is an int"


def test_a_determinant_that_is_not_a_bool_is_refused() -> None:
    determinants = _determinants(count_children="size(children)")
    context = build_context({"children": [1, 2]}, today=TODAY)

    with pytest.raises(ExpressionEvaluationError) as raised:
        evaluate_determinants(determinants, context)

    assert raised.value.kind == "wrong_result_type"
    assert raised.value.message == "A condition must give true or false, but this gives an int"
