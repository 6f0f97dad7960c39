"""Results issued at the same moment on PostgreSQL (real transactions): numbers stay unique and consecutive.

SQLite runs every write transaction IMMEDIATE, so two issues never interleave there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction

from govserve.casework.results import services
from govserve.casework.results.models import IssuedResult, ResultSequence
from govserve.casework.results.tests.support import OFFICER, approved_trading
from govserve.journeys.models import Application
from govserve.journeys.tests.support import STREET_TRADING, examples_publish

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _race(actions: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(actions))
    outcomes: list[Any] = [None] * len(actions)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[index] = actions[index]()
        except Exception as error:
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(actions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def _issue(application: Application) -> Callable[[], list[IssuedResult]]:
    def action() -> list[IssuedResult]:
        with transaction.atomic():
            return services.results_issue(application, actor=OFFICER)

    return action


def test_first_issues_of_a_result_at_once_share_one_sequence_with_unique_numbers() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers (IMMEDIATE): two transactions cannot interleave")
    examples_publish(STREET_TRADING)
    applications = [approved_trading(full_name=f"Trader {index}") for index in range(4)]

    outcomes = _race([_issue(application) for application in applications])

    assert [type(outcome) for outcome in outcomes] == [list] * 4
    numbers = sorted(IssuedResult.objects.values_list("number", flat=True))
    assert len(set(numbers)) == 4
    assert [number[-6:] for number in numbers] == ["000001", "000002", "000003", "000004"]
    assert ResultSequence.objects.get().last_value == 4


def test_the_same_application_issued_twice_at_once_issues_once() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers (IMMEDIATE): two transactions cannot interleave")
    examples_publish(STREET_TRADING)
    application = approved_trading()

    outcomes = _race([_issue(application), _issue(application)])

    assert IssuedResult.objects.filter(application=application).count() == 1
    # one issues, the other either returns that row or fails on the unique constraint: never a second result
    issued = [outcome for outcome in outcomes if isinstance(outcome, list)]
    assert issued
    assert all(len(outcome) == 1 for outcome in issued)
