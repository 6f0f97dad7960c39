"""Condition evaluation throughput of the rules engine (issue 2's benchmark).

A context of 50 answers and a 10-item repeating group is built once; each
condition is then evaluated many times through the public API
(``evaluate_bool``), on one core (one Python thread). Context construction is
timed separately. Every result is checked against a value computed in Python,
before and after the timed loops, so a fast wrong answer fails the benchmark.

Run: ``python -m benchmarks.run_all rules_eval`` (or ``python -m benchmarks.rules_eval``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from govserve.rules import build_context, compile_expression, evaluate_bool
from govserve.rules.engine import CompiledExpression, EvaluationContext

TODAY = dt.date(2024, 6, 15)
TARGET_PER_SECOND = 1_000_000
GROUP_SIZE = 10


def answers() -> dict[str, Any]:
    """Return 50 answers of every field type, plus a 10-item repeating group."""
    values: dict[str, Any] = {
        "full_name": "Alex Example",
        "email": "alex@example.com",
        "phone": "+447700900123",
        "date_of_birth": dt.date(1990, 5, 17),
        "has_partner": True,
        "partner_income": 18_500_00,
        "household_income": 42_000_00,
        "licence_type": "market",
        "pitch_size": 12,
        "goods_sold": ["food", "flowers"],
        "address": {
            "line1": "1 High Street",
            "line2": "",
            "town": "Leeds",
            "county": "West Yorkshire",
            "postcode": "LS1 1AA",
            "country": "GB",
        },
        "photo": {"name": "stall.jpg", "size": 2_400_000, "content_type": "image/jpeg"},
        "trading_start": dt.date(2024, 7, 1),
        "trading_days": 90,
        "hourly_rate": Decimal("12.75"),
        "agree_terms": True,
    }
    for index in range(len(values), 50):
        values[f"extra_answer_{index}"] = index if index % 3 else f"answer {index}"
    values["children"] = [
        {
            "name": f"Child {index}",
            "date_of_birth": dt.date(2010 + index, 1 + index, 10),
            "income": 1_000 * index,
            "in_education": index % 2 == 0,
        }
        for index in range(GROUP_SIZE)
    ]
    return values


# (name, condition, the expected result computed in Python from answers())
def conditions(values: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """Return the timed conditions with their expected results."""
    children = values["children"]

    def age(born: dt.date) -> int:
        return TODAY.year - born.year - ((TODAY.month, TODAY.day) < (born.month, born.day))

    return [
        ("bool_and_int", "has_partner && partner_income > 0", True),
        ("string_equality", 'licence_type == "market" && pitch_size > 10', True),
        ("membership", '"food" in goods_sold', True),
        ("map_field", 'address.postcode.startsWith("LS") && address.country == "GB"', True),
        ("date_compare", "trading_start > today()", values["trading_start"] > TODAY),
        ("age_function", "age(date_of_birth) >= 18", age(values["date_of_birth"]) >= 18),
        ("group_size", "size(children) >= 3", len(children) >= 3),
        ("money_sum_literal", "household_income + partner_income > 5000000", True),
        (
            "group_exists",
            "children.exists(c, c.income > 8500)",
            any(child["income"] > 8500 for child in children),
        ),
        (
            "group_sum",
            "sum(children.map(c, c.income)) > 20000",
            sum(child["income"] for child in children) > 20000,
        ),
        (
            "group_age_exists",
            "children.exists(c, age(c.date_of_birth) < 5)",
            any(age(child["date_of_birth"]) < 5 for child in children),
        ),
    ]


# Conditions of the kind pages and fields carry (no comprehension over the group).
TYPICAL = (
    "bool_and_int",
    "string_equality",
    "membership",
    "map_field",
    "date_compare",
    "age_function",
    "group_size",
    "money_sum_literal",
)


# Best of many short runs, timed in CPU time of this thread: on a shared
# machine that is the time the work takes when it has the core, which is what
# "per core" asks (wall-clock time would count the time other processes ran).
REPEATS = 15
_clock = time.thread_time


def _rate(run: Callable[[], object], iterations: int, repeats: int = REPEATS) -> float:
    """Return the best evaluations per CPU second over ``repeats`` runs of ``iterations`` calls."""
    best = float("inf")
    for _ in range(repeats):
        started = _clock()
        for _ in range(iterations):
            run()
        best = min(best, _clock() - started)
    return iterations / best


def _verify(compiled: dict[str, CompiledExpression], expected: dict[str, bool], context: EvaluationContext) -> None:
    for name, expression in compiled.items():
        result = evaluate_bool(expression, context)
        if result is not expected[name]:
            raise AssertionError(f"{name}: {expression.source} gave {result}, expected {expected[name]}")


def _evaluate_typical_mix(compiled: dict[str, CompiledExpression], context: EvaluationContext, rounds: int) -> float:
    expressions = [compiled[name] for name in TYPICAL]
    best = float("inf")
    for _ in range(REPEATS):
        started = _clock()
        for _ in range(rounds):
            for expression in expressions:
                evaluate_bool(expression, context)
        best = min(best, _clock() - started)
    return rounds * len(expressions) / best


def main(iterations: int = 40_000) -> dict[str, Any]:
    """Time condition evaluation and context construction; return the figures."""
    values = answers()
    cases = conditions(values)
    compiled = {
        name: compile_expression(source, location=f"bench.yaml:{index}:1")
        for index, (name, source, _) in enumerate(cases, 1)
    }
    expected = {name: result for name, _, result in cases}

    # Context construction, timed on its own.
    construction_runs = 200
    construction_best = float("inf")
    for _ in range(REPEATS):
        started = _clock()
        for _ in range(construction_runs):
            build_context(values, today=TODAY)
        construction_best = min(construction_best, _clock() - started)
    context_build_us = construction_best / construction_runs * 1e6

    context = build_context(values, today=TODAY)
    _verify(compiled, expected, context)

    per_condition: dict[str, int] = {}
    raw_per_condition: dict[str, int] = {}
    for name, expression in compiled.items():
        slow = name.startswith("group_") and name != "group_size"
        count = iterations // 20 if slow else iterations

        def wrapped(expression: CompiledExpression = expression) -> bool:
            return evaluate_bool(expression, context)

        def raw(execute: Callable[[Any], Any] = expression.execute, cel_context: Any = context.cel_context) -> Any:
            return execute(cel_context)

        per_condition[name] = round(_rate(wrapped, count))
        raw_per_condition[name] = round(_rate(raw, count))

    typical_per_second = round(_evaluate_typical_mix(compiled, context, iterations // len(TYPICAL)))
    _verify(compiled, expected, context)  # still right after the timed loops

    return {
        "machine": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "timing": "best of 15 runs, CPU time of the benchmark thread",
        "answers_in_context": len(values),
        "group_items": GROUP_SIZE,
        "context_build_us": round(context_build_us, 1),
        "typical_conditions_per_second": typical_per_second,
        "typical_meets_target": typical_per_second >= TARGET_PER_SECOND,
        "per_condition_per_second": per_condition,
        "raw_cel_per_condition_per_second": raw_per_condition,
    }


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
