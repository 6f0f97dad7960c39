"""Two operators on the same task at the same moment: exactly one wins (PostgreSQL row locks, real transactions).

SQLite runs every write transaction IMMEDIATE (config/settings/base.py), so two
writers never interleave there: the ordinary service tests cover the
sequential refusals (already claimed, already decided, stale version).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from govserve.accounts.models import User
from govserve.audit.models import AuditEntry
from govserve.casework import errors, services
from govserve.casework.models import Decision, Task, TaskStatus
from govserve.casework.tests.support import newborn_submitted, open_task, staff
from govserve.journeys.tests.support import examples_publish

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

REGISTRAR = ("civil-registry", "registrar")


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
        thread.join(timeout=60)
    return outcomes


def _ready() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers (IMMEDIATE): two transactions cannot interleave")
    examples_publish("register-newborn")


def test_two_operators_claiming_the_same_task_one_wins() -> None:
    _ready()
    application, _ = newborn_submitted()
    task = open_task(application)
    operators = [staff(REGISTRAR) for _ in range(4)]

    def claim_by(user: User) -> Callable[[], Task]:
        return lambda: services.task_claim(user=user, task_id=task.id)

    outcomes = _race([claim_by(user) for user in operators])

    won = [outcome for outcome in outcomes if isinstance(outcome, Task)]
    lost = [outcome for outcome in outcomes if isinstance(outcome, errors.TaskAlreadyClaimedError)]
    assert (len(won), len(lost)) == (1, 3), outcomes
    assert lost[0].message == "Someone else has already claimed this task"
    stored = Task.objects.get(pk=task.pk)
    assert (stored.status, stored.assignee_id, stored.version) == (TaskStatus.CLAIMED, won[0].assignee_id, 2)
    assert AuditEntry.objects.filter(action="casework.task.claimed").count() == 1


def test_two_operators_deciding_the_same_task_one_decision_is_recorded() -> None:
    _ready()
    application, _ = newborn_submitted()
    task = open_task(application)
    first, second = staff(REGISTRAR), staff(REGISTRAR)

    outcomes = _race(
        [
            lambda: services.decision_record(
                user=first, task_id=task.id, decision="approve", data={"register_entry_number": ["A-1"]}
            ),
            lambda: services.decision_record(user=second, task_id=task.id, decision="reject", reason="Duplicate"),
        ]
    )

    won = [outcome for outcome in outcomes if isinstance(outcome, services.DecisionResult)]
    lost = [outcome for outcome in outcomes if isinstance(outcome, errors.TaskClosedError | errors.NotAssigneeError)]
    assert (len(won), len(lost)) == (1, 1), outcomes
    assert Decision.objects.filter(task=task).count() == 1
    assert Task.objects.filter(case_file=task.case_file, status__in=["pending", "claimed"]).count() == (
        1 if won[0].decision.decision == "approve" else 0
    )
    assert AuditEntry.objects.filter(action="casework.decision.recorded").count() == 1


def test_claim_and_release_and_decide_at_once_leave_one_consistent_state() -> None:
    _ready()
    application, _ = newborn_submitted()
    task = open_task(application)
    holder, other = staff(REGISTRAR), staff(REGISTRAR)
    services.task_claim(user=holder, task_id=task.id)

    outcomes = _race(
        [
            lambda: services.task_release(user=holder, task_id=task.id, version=2),
            lambda: services.decision_record(
                user=holder, task_id=task.id, decision="approve", data={"register_entry_number": ["A-2"]}, version=2
            ),
            lambda: services.task_claim(user=other, task_id=task.id, version=2),
        ]
    )

    succeeded = [outcome for outcome in outcomes if not isinstance(outcome, Exception)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert len(succeeded) == 1, outcomes
    assert all(isinstance(error, errors.TaskChangedError | errors.TaskAlreadyClaimedError) for error in refused), (
        refused
    )
    assert Task.objects.get(pk=task.pk).version == 3
