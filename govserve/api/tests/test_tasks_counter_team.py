"""The operator side's counter records and a team leader's bulk reassignment, through casework's own services."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from govserve.api.tests.conftest import MakeCaller, body
from govserve.api.tests.test_tasks import LEADER, OFFICER, REGISTRAR, _codes, enrolled, operator, trading_task
from govserve.audit.models import AuditEntry
from govserve.casework import services as casework
from govserve.casework.models import CounterRecord, Task, TaskStatus
from govserve.casework.tests.support import newborn_submitted, open_task, staff
from govserve.journeys.tests.support import examples_publish
from govserve.privacy.crypto import unseal_text

SIGNED = "licence-declaration"


@pytest.fixture
def examples(db: None) -> None:
    examples_publish()


# --- Counter records ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_signature_made_at_the_counter_is_recorded_on_the_file(examples: None) -> None:
    # given an officer working on a street trading task (its licence conditions are signed in person)
    _application, task = trading_task()
    officer = enrolled(OFFICER)
    caller = operator(officer)
    assert caller.call("POST", f"/api/v1/tasks/{task.id}/claim", {}).status_code == 200
    # when the officer records the signature with a note
    response = caller.call(
        "POST", f"/api/v1/tasks/{task.id}/counter-records", {"requirement": SIGNED, "note": "Passport seen"}
    )
    # then it is recorded as the web's counter page records it
    assert response.status_code == 201, response.content
    record = CounterRecord.objects.get()
    found = body(response)
    assert (found["id"], found["file_id"], found["requirement"], found["kind"]) == (
        str(record.id),
        str(task.case_file_id),
        SIGNED,
        "signed",
    )
    assert record.recorded_by_id == officer.pk
    assert record.note_sealed is not None
    note = unseal_text(
        owner=task.case_file.crypto_owner, field=f"casework.counter.{record.id}.note", sealed=record.note_sealed
    )
    assert note == "Passport seen"
    entry = AuditEntry.objects.get(action="casework.counter.recorded")
    assert (entry.actor_kind, entry.actor_id) == ("user", str(officer.pk))
    # and the task's file shows it
    documents = body(caller.call("GET", f"/api/v1/tasks/{task.id}"))["file"]["documents"]
    signed = next(document for document in documents if document["requirement"] == SIGNED)
    assert (signed["counter_kind"], signed["counter_note"]) == ("signed", "Passport seen")


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"requirement": SIGNED}, 422, "counter_record_invalid"),  # a second time
        ({"requirement": "photo"}, 422, "counter_record_invalid"),  # uploaded, not shown in person
        ({"requirement": "no-such-document"}, 422, "counter_record_invalid"),
        ({"requirement": SIGNED + "x", "note": "x" * 5001}, 422, "counter_record_invalid"),
        ({"note": "no document"}, 422, "request_invalid"),
        ({"requirement": SIGNED, "colour": "red"}, 422, "request_invalid"),
        ({"requirement": 5}, 422, "request_invalid"),
    ],
    ids=["twice", "uploaded", "unknown", "long-note", "missing", "unknown-member", "wrong-type"],
)
@pytest.mark.django_db
def test_a_bad_counter_record_is_refused_and_nothing_more_recorded(
    examples: None, payload: dict[str, Any], status: int, code: str
) -> None:
    _application, task = trading_task()
    caller = operator(enrolled(OFFICER))
    caller.call("POST", f"/api/v1/tasks/{task.id}/claim", {})
    assert caller.call("POST", f"/api/v1/tasks/{task.id}/counter-records", {"requirement": SIGNED}).status_code == 201
    response = caller.call("POST", f"/api/v1/tasks/{task.id}/counter-records", payload)
    assert response["Content-Type"] == "application/problem+json"
    assert _codes(response) == (status, code)
    assert CounterRecord.objects.count() == 1


@pytest.mark.django_db
def test_counter_records_need_the_task_in_hand_its_institution_and_the_scope(
    examples: None, make_caller: MakeCaller
) -> None:
    # given a task claimed by one officer
    _application, task = trading_task()
    holder = operator(enrolled(OFFICER))
    holder.call("POST", f"/api/v1/tasks/{task.id}/claim", {})
    path = f"/api/v1/tasks/{task.id}/counter-records"
    wanted = {"requirement": SIGNED}
    # then a colleague who is not working on it, an operator of another institution, a partner's token
    # and a token that may only read are refused
    assert _codes(operator(enrolled(OFFICER)).call("POST", path, wanted)) == (403, "not_assignee")
    assert _codes(operator(enrolled(REGISTRAR)).call("POST", path, wanted)) == (404, "task_not_found")
    assert _codes(make_caller().call("POST", path, wanted)) == (403, "operator_required")
    assert _codes(operator(enrolled(OFFICER), "tasks:read").call("POST", path, wanted)) == (403, "scope_missing")
    assert _codes(
        operator(enrolled(OFFICER)).call("POST", f"/api/v1/tasks/{uuid.uuid4()}/counter-records", wanted)
    ) == (
        404,
        "task_not_found",
    )
    assert not CounterRecord.objects.exists()


# --- A team leader's bulk reassignment ----------------------------------------------------------------


def _states(*tasks: Task) -> list[tuple[str, Any]]:
    return [
        (row.status, row.assignee_id) for row in Task.objects.filter(pk__in=[task.pk for task in tasks]).order_by("pk")
    ]


@pytest.mark.django_db
def test_a_team_leader_moves_tasks_to_a_colleague_and_back_to_the_pool(examples: None) -> None:
    # given two street trading tasks, one claimed by an officer
    _first, one = trading_task()
    _second, two = trading_task()
    busy = enrolled(OFFICER)
    casework.task_claim(user=busy, task_id=one.id, version=one.version)
    officer = enrolled(OFFICER)
    leader = operator(enrolled(LEADER))
    # when the leader gives both to the other officer
    response = leader.call(
        "POST",
        "/api/v1/team/reassign",
        {"task_ids": [str(one.id), str(two.id), str(one.id)], "assignee_id": str(officer.pk)},
    )
    # then both are theirs, in one audited move
    assert response.status_code == 200, response.content
    found = body(response)
    assert found["moved"] == 2
    assert sorted((item["id"], item["status"], item["assignee_id"]) for item in found["items"]) == sorted(
        [(str(one.id), "claimed", str(officer.pk)), (str(two.id), "claimed", str(officer.pk))]
    )
    assert _states(one, two) == [(TaskStatus.CLAIMED, officer.pk)] * 2
    moved = AuditEntry.objects.get(action="casework.tasks.bulk_reassigned")
    assert sorted(moved.details["tasks"]) == sorted([str(one.id), str(two.id)])
    # and null puts them back in the pool
    pooled = leader.call("POST", "/api/v1/team/reassign", {"task_ids": [str(one.id), str(two.id)], "assignee_id": None})
    assert pooled.status_code == 200
    assert _states(one, two) == [(TaskStatus.PENDING, None)] * 2


@pytest.mark.django_db
def test_a_reassignment_the_web_would_refuse_is_refused_whole(examples: None, make_caller: MakeCaller) -> None:
    # given a leader, a trading task, and a newborn registration of another institution
    _application, task = trading_task()
    registration, _person = newborn_submitted()
    elsewhere = open_task(registration)
    officer = enrolled(OFFICER)
    leader = operator(enrolled(LEADER))
    before = _states(task, elsewhere)
    ids = [str(task.id)]

    def reassign(caller: Any, task_ids: Any, assignee: Any = str(officer.pk)) -> tuple[int, str]:
        return _codes(caller.call("POST", "/api/v1/team/reassign", {"task_ids": task_ids, "assignee_id": assignee}))

    # then: not a leader; a task of another institution (as if it did not exist); someone without the role
    assert reassign(operator(officer), ids) == (403, "not_team_leader")
    assert reassign(leader, [*ids, str(elsewhere.id)]) == (404, "task_not_found")
    assert reassign(leader, [*ids, str(uuid.uuid4())]) == (404, "task_not_found")
    assert reassign(leader, ids, str(staff(REGISTRAR).pk)) == (422, "assignee_not_eligible")
    # and bodies of the wrong shape, a partner's token, a token that may only read
    assert reassign(leader, []) == (422, "request_invalid")
    assert reassign(leader, ["not-a-task"]) == (422, "request_invalid")
    assert _codes(leader.call("POST", "/api/v1/team/reassign", {"task_ids": ids})) == (422, "request_invalid")
    assert reassign(make_caller(), ids) == (403, "operator_required")
    assert reassign(operator(enrolled(LEADER), "tasks:read"), ids) == (403, "scope_missing")
    # and nothing moved
    assert _states(task, elsewhere) == before
    assert not AuditEntry.objects.filter(action="casework.tasks.bulk_reassigned").exists()
