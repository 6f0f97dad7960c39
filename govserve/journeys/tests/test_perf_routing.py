"""Determinants evaluated again only when what they read changed: the same values as evaluating them all."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest

from govserve.journeys.routing import Evaluator, empty_values, journey_walk, page_index, visible_fields
from govserve.journeys.tests.support import STREET_TRADING, example_compiled
from govserve.rules import evaluate_condition

TODAY = dt.date(2026, 3, 27)

# Answers that flip street trading's determinants (old_enough, sells_food, long_licence, has_assistants).
CHANGES: list[dict[str, Any]] = [
    {"date_of_birth": dt.date(1990, 3, 27)},
    {"date_of_birth": dt.date(2015, 1, 1)},
    {"date_of_birth": None},
    {"trading_type": "food"},
    {"trading_type": "goods"},
    {"licence_length": "12_months"},
    {"licence_length": None},
    {"assistants": [{"assistant_name": "Grace"}]},
    {"assistants": []},
    {"full_name": "Ada Lovelace"},
]


def test_determinants_after_any_changes_equal_a_fresh_evaluation() -> None:
    # given
    compiled = example_compiled(STREET_TRADING)
    for sequence in itertools.permutations(CHANGES, 4):
        evaluator = Evaluator(compiled, empty_values(compiled.definition), today=TODAY)
        values = empty_values(compiled.definition)

        # when
        for change in sequence:
            evaluator.set_values(change)
            evaluator.refresh_determinants()
            values.update(change)

        # then
        fresh = Evaluator(compiled, values, today=TODAY)
        assert evaluator.determinants == fresh.determinants, sequence


def test_an_answer_no_determinant_reads_evaluates_none_again(monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    compiled = example_compiled(STREET_TRADING)
    evaluator = Evaluator(compiled, empty_values(compiled.definition), today=TODAY)
    evaluated: list[str] = []
    real = evaluate_condition

    def counting(expression: Any, context: Any, **kwargs: Any) -> bool | None:
        evaluated.append(expression.source)
        return real(expression, context, **kwargs)

    monkeypatch.setattr("govserve.journeys.routing.evaluate_condition", counting)

    # when
    evaluator.set_values({"full_name": "Ada Lovelace"})
    evaluator.refresh_determinants()
    unrelated = list(evaluated)
    evaluator.set_values({"trading_type": "food"})
    evaluator.refresh_determinants()

    # then
    assert unrelated == []
    assert evaluated == ['trading_type == "food"']
    assert evaluator.determinants["sells_food"] is True


def test_setting_the_same_value_again_changes_nothing() -> None:
    # given
    compiled = example_compiled(STREET_TRADING)
    evaluator = Evaluator(compiled, {**empty_values(compiled.definition), "trading_type": "food"}, today=TODAY)

    # when
    evaluator.set_values({"trading_type": "food"})

    # then
    assert evaluator._changed == set()


def test_a_value_of_another_type_is_a_change() -> None:
    # given: CEL tells 1 from true
    compiled = example_compiled(STREET_TRADING)
    evaluator = Evaluator(compiled, {**empty_values(compiled.definition), "days_per_week": 1}, today=TODAY)

    # when
    evaluator.set_values({"days_per_week": True})

    # then
    assert evaluator._changed == {"days_per_week"}
    assert evaluator.values["days_per_week"] is True


def test_the_fields_a_page_shows_are_worked_out_once_per_walk_and_equal_visible_fields() -> None:
    # given: a walk up to the food business page (revealed by "food")
    compiled = example_compiled(STREET_TRADING)
    answers = {"date_of_birth": dt.date(1990, 3, 27), "full_name": "Ada", "trading_type": "food"}
    state = journey_walk(compiled, answers, completed=["age", "your-name"], today=TODAY)
    copy = state.copy()

    # when
    for page_id in state.path:
        number = page_index(compiled.definition)[page_id]
        expected = visible_fields(state.page_evaluator(page_id), compiled.definition, number, for_display=True)

        # then
        assert state.fields_for_display(page_id) == expected
        assert copy.shown[page_id] == expected  # the copy shares what the walk worked out
