"""Two operators claiming or deciding the same task through the API at once: exactly one wins, the other gets 409.

On PostgreSQL with real transactions (casework's row locks); SQLite
serialises writers, so the sequential refusals are in test_tasks.py.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django_otp.plugins.otp_totp.models import TOTPDevice

from govserve.api.models import TASK_SCOPES
from govserve.api.services import api_operator_token_issue
from govserve.api.tests.conftest import OPERATOR, Caller, body
from govserve.audit.models import AuditEntry
from govserve.casework.models import Decision, Task, TaskStatus
from govserve.casework.tests.support import open_task, staff, trading_paid
from govserve.journeys.tests.support import examples_publish

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

OFFICER = ("city-council", "licensing-officer")


def _race(calls: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[index] = calls[index]()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def _operators(count: int) -> list[Caller]:
    callers = []
    for _ in range(count):
        user = staff(OFFICER)
        TOTPDevice.objects.create(user=user, name="app", confirmed=True)
        issued = api_operator_token_issue(user=user, actor=OPERATOR, scopes=TASK_SCOPES)
        callers.append(Caller(token=issued.text, client=issued.token.client))
    return callers


def _task() -> Task:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers (IMMEDIATE): two transactions cannot interleave")
    examples_publish("street-trading-licence")
    application, _person = trading_paid()
    return open_task(application)


def test_two_operators_claiming_through_the_api_one_wins_the_other_gets_409() -> None:
    task = _task()
    callers = _operators(2)

    def claim_by(caller: Caller) -> Callable[[], Any]:
        return lambda: caller.call("POST", f"/api/v1/tasks/{task.id}/claim", {})

    responses = _race([claim_by(caller) for caller in callers])

    assert sorted(response.status_code for response in responses) == [200, 409]
    lost = next(response for response in responses if response.status_code == 409)
    assert body(lost)["code"] == "task_already_claimed"
    assert lost["Content-Type"] == "application/problem+json"
    won = next(response for response in responses if response.status_code == 200)
    stored = Task.objects.get(pk=task.pk)
    assert (stored.status, str(stored.assignee_id)) == (TaskStatus.CLAIMED, body(won)["assignee_id"])
    assert AuditEntry.objects.filter(action="casework.task.claimed").count() == 1


def test_two_operators_deciding_through_the_api_one_decision_is_recorded() -> None:
    task = _task()
    callers = _operators(2)
    approve = {"decision": "approve", "processing": {"pitch_inspected": True}}
    reject = {"decision": "reject", "reason": "Pitch taken"}

    responses = _race(
        [
            lambda: callers[0].call("POST", f"/api/v1/tasks/{task.id}/decision", approve),
            lambda: callers[1].call("POST", f"/api/v1/tasks/{task.id}/decision", reject),
        ]
    )

    assert sorted(response.status_code for response in responses) == [200, 409], [r.content for r in responses]
    lost = next(response for response in responses if response.status_code == 409)
    assert body(lost)["code"] == "task_closed"
    assert Decision.objects.filter(task=task).count() == 1
    assert AuditEntry.objects.filter(action="casework.decision.recorded").count() == 1
