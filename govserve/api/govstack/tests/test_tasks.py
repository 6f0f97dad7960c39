"""GovStack tasks: GET /tasks, GET /tasks/{taskId}, POST /tasks/{taskId}/complete (contract tests from the spec).

The street light report's flow: a bot triages it, then a street lighting
engineer (city-council) decides, and approval needs the processing field
``repair_notes``. The client works as an operator account holding the
engineer's role.
"""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from govserve.api.govstack import http, operators
from govserve.api.govstack.selectors import service_uuid
from govserve.api.govstack.tests.conftest import (
    IDENTITY,
    assert_conforms,
    body,
    govstack_client,
    schema_of,
    specification,
)
from govserve.api.models import ApiClient
from govserve.api.services import api_bot_client_create, api_token_issue
from govserve.audit.actors import Actor
from govserve.audit.models import AuditEntry
from govserve.casework.models import Decision, Task, TaskStatus
from govserve.casework.tests.support import light_submitted, open_task, staff
from govserve.core.jobs import run_pending
from govserve.journeys.models import Application, ApplicationStatus

API = "registration-bb-api.json"
ENGINEER = ("city-council", "street-lighting-engineer")
ALL_SCOPES = ("govstack", "tasks:read", "tasks:decide")
REFUSED = getattr(http, "STATUS_MAP", {}).get(422, 422)
"""The status of refused input (casework's 422 ValidationErrors) as the GovStack frame answers it."""


class Calls:
    """GovStack calls as ``identity`` (None: no header) under ``header``."""

    def __init__(self, identity: str | None = IDENTITY, header: str = "Information-Mediator-Client") -> None:
        self.headers = {header: identity} if identity is not None else {}

    def get(self, path: str) -> Any:
        return Client().get(f"/govstack{path}", headers=self.headers)

    def complete(self, task_id: object, data: Any = None, *, raw: str | None = None) -> Any:
        text = raw if raw is not None else json.dumps({"data": data or {}})
        return Client().post(
            f"/govstack/tasks/{task_id}/complete", text, content_type="application/json", headers=self.headers
        )


def _client(identity: str = IDENTITY, scopes: tuple[str, ...] = ALL_SCOPES, *, roles: Any = (ENGINEER,)) -> ApiClient:
    client = govstack_client(identity, scopes=scopes)
    if roles:
        operators.operator_link(client=client, roles=roles, actor=Actor.system("cli"))
    return client


def _engineer_task() -> tuple[Application, Task]:
    report, _ = light_submitted()
    run_pending(raise_errors=True)  # the bot role's rule decides first
    return report, open_task(report)


@pytest.fixture
def client(street_light: str) -> ApiClient:
    return _client()


@pytest.fixture
def task(client: ApiClient) -> Task:
    return _engineer_task()[1]


# --- GET /tasks ------------------------------------------------------------------------------------


def test_the_operator_accounts_open_tasks_are_listed_in_the_specifications_shape(task: Task) -> None:
    response = Calls().get("/tasks")
    assert response.status_code == 200
    items = body(response)
    assert_conforms(API, "/tasks", items)
    assert [item["taskId"] for item in items] == [str(task.id)]  # the bot's decided task is not listed
    item = items[0]
    assert item["fileId"] == str(task.application_id)
    assert item["mainTaskId"] == str(task.case_file_id)
    assert item["roleId"] == "street-lighting-engineer"
    assert item["name"] == "Street lighting engineer"
    assert item["serviceId"] == service_uuid("report-street-light")
    assert item["serviceName"] == "Report a problem with a street light"
    assert item["status"] == {"code": "PENDING", "title": "Pending"}
    assert item["description"] == task.reference
    assert "assigneeId" not in item  # pending in the pool


def test_filters_that_match_nothing_give_an_empty_list(task: Task) -> None:
    def ids(query: str) -> list[str]:
        response = Calls().get(f"/tasks?{query}")
        assert response.status_code == 200, response.content
        return [item["taskId"] for item in body(response)]

    mine = [str(task.id)]
    assert ids(f"fileId={task.application_id}") == mine
    assert ids(f"fileId={task.reference.lower()}") == mine
    assert ids(f"mainTaskId={task.case_file_id}") == mine
    assert ids("fileId=99be529c-fe1a-11ed-be56-0242ac120555") == []
    assert ids("fileId=P2c9280957e579ad7017e58a3399f1234") == []
    assert ids("mainTaskId=42962de0-xxxx-11ed-0000-0242ac120004") == []
    assert ids(f"assigneeId={uuid.UUID(int=7)}") == []
    assert ids("assigneeId=nobody") == []
    assert ids("firstResult=1") == []
    assert ids("firstResult=0&maxResult=1&sortBy=dueDate&sortOrder=desc") == mine


def test_a_claimed_task_names_its_assignee_and_is_found_by_it(task: Task) -> None:
    engineer = staff(ENGINEER)
    Task.objects.filter(pk=task.pk).update(status=TaskStatus.CLAIMED, assignee=engineer)
    response = Calls().get(f"/tasks?assigneeId={engineer.username}")
    assert [item["assigneeId"] for item in body(response)] == [str(engineer.pk)]
    assert [item["taskId"] for item in body(Calls().get(f"/tasks?assigneeId={engineer.pk}"))] == [str(task.id)]


@pytest.mark.parametrize(
    "query",
    ["sortBy=colour", "sortOrder=up", "maxResult=0", "maxResult=101", "firstResult=-1", "maxResult=ten"],
)
def test_parameters_it_cannot_take_are_a_400_problem(client: ApiClient, query: str) -> None:
    response = Calls().get(f"/tasks?{query}")
    assert response.status_code == 400
    assert body(response)["code"] == "request_invalid"


def test_tasks_of_roles_the_operator_does_not_hold_are_neither_listed_nor_found(street_light: str) -> None:
    _client(roles=[("city-council", "parks-officer")])
    _, task = _engineer_task()
    assert body(Calls().get("/tasks")) == []
    response = Calls().get(f"/tasks/{task.id}")
    assert response.status_code == 404
    assert Calls().complete(task.id).status_code == 404
    assert Task.objects.get(pk=task.pk).status == TaskStatus.PENDING


# --- GET /tasks/{taskId} --------------------------------------------------------------------------


def test_a_task_reads_with_the_answers_its_role_sees_and_its_processing_fields(task: Task) -> None:
    response = Calls().get(f"/tasks/{task.id}")
    assert response.status_code == 200
    item = body(response)
    assert_conforms(API, "/tasks/{taskId}", item)
    assert item["taskId"] == str(task.id)
    assert item["taskName"] == "Street lighting engineer"
    assert item["fileId"] == str(task.application_id)
    assert item["status"]["code"] == "PENDING"
    answers = {field for page in item["formVariables"].values() for field in page}
    assert {"problem", "street", "reporter_name"} <= answers
    assert "on_private_land" not in answers  # not in the role's ``sees``
    assert item["data"] == {
        "repair_notes": {"label": "What was done", "type": "long_text", "required": True, "value": None}
    }


@pytest.mark.parametrize("task_id", ["42962de0-bdb2-11ed-9397-0242ac120033", "P2c9280957e579ad7017e58a3399f1234"])
def test_unknown_task_ids_are_404_whatever_their_form(client: ApiClient, task_id: str) -> None:
    for response in (Calls().get(f"/tasks/{task_id}"), Calls().complete(task_id)):
        assert response.status_code == 404
        problem = body(response)
        assert (problem["status"], problem["code"]) == (404, "not_found")


# --- Identity, scopes, operator account ---------------------------------------------------------


def test_the_caller_must_name_itself_and_be_known(task: Task) -> None:
    for path in ("/tasks", f"/tasks/{task.id}"):
        assert body(Calls(None).get(path))["code"] == "client_header_missing"
        assert Calls("not an identity").get(path).status_code == 400
        assert Calls("eGovStack/GOV/1/stranger").get(path).status_code == 403
    assert Calls(None).complete(task.id).status_code == 400
    assert Calls("eGovStack/GOV/1/stranger").complete(task.id).status_code == 403
    assert Calls(IDENTITY, header="X-Road-Client").get("/tasks").status_code == 200
    assert Task.objects.get(pk=task.pk).status == TaskStatus.PENDING


def test_reading_needs_tasks_read_and_completing_tasks_decide(street_light: str) -> None:
    _client(scopes=("govstack", "tasks:read"))
    _, task = _engineer_task()
    assert Calls().get("/tasks").status_code == 200
    response = Calls().complete(task.id, {"processing": {"repair_notes": "New lamp"}})
    assert (response.status_code, body(response)["code"]) == (403, "scope_missing")
    assert Task.objects.get(pk=task.pk).status == TaskStatus.PENDING


def test_a_client_with_only_the_govstack_scope_reads_no_tasks(street_light: str) -> None:
    _client(scopes=("govstack",))
    _, task = _engineer_task()
    for response in (Calls().get("/tasks"), Calls().get(f"/tasks/{task.id}")):
        assert (response.status_code, body(response)["code"]) == (403, "scope_missing")


def test_a_client_without_an_operator_account_works_on_no_tasks(street_light: str) -> None:
    _client(roles=())
    _, task = _engineer_task()
    response = Calls().get("/tasks")
    assert (response.status_code, body(response)["code"]) == (403, "operator_not_linked")
    assert "link-operator" in body(response)["detail"]
    response = Calls().complete(task.id, {"processing": {"repair_notes": "Fixed"}})
    assert (response.status_code, body(response)["code"]) == (403, "operator_not_linked")


def test_a_bot_client_works_as_its_own_service_account(street_light: str) -> None:
    bot = api_bot_client_create(name="lamp-bot", roles=[ENGINEER], actor=Actor.system("cli"))
    api_token_issue(client=bot, scopes=ALL_SCOPES, actor=Actor.system("cli"))
    ApiClient.objects.filter(pk=bot.pk).update(govstack_identity="eGovStack/GOV/4/lamp-bot")
    _, task = _engineer_task()
    calls = Calls("eGovStack/GOV/4/lamp-bot")
    assert [item["taskId"] for item in body(calls.get("/tasks"))] == [str(task.id)]
    assert calls.complete(task.id, {"processing": {"repair_notes": "Reset"}}).status_code == 200
    assert Decision.objects.filter(task=task).values_list("decided_by__username", flat=True).get() == "bot-lamp-bot"
    bot.refresh_from_db()
    with pytest.raises(operators.OperatorLinkInvalidError, match="its own staff account"):
        operators.operator_link(client=bot, roles=[ENGINEER], actor=Actor.system("cli"))


def test_linking_the_operator_twice_keeps_one_account_and_adds_only_new_roles(client: ApiClient) -> None:
    again, granted = operators.operator_link(
        client=client, roles=[ENGINEER, ("city-council", "parks-officer")], actor=Actor.system("cli")
    )
    assert granted == ["city-council/parks-officer"]
    assert again == operators.operator_of(client)
    assert not again.has_usable_password()


# --- POST /tasks/{taskId}/complete ---------------------------------------------------------------


def test_approval_is_refused_while_a_required_processing_field_is_empty(task: Task) -> None:
    response = Calls().complete(task.id)
    assert response.status_code == REFUSED
    problem = body(response)
    assert problem["code"] == "processing_fields_invalid"
    assert "repair_notes" in problem["detail"]
    assert Task.objects.get(pk=task.pk).status == TaskStatus.PENDING
    assert not Decision.objects.filter(task=task).exists()


def test_completing_approves_through_the_casework_decision_and_is_audited_with_the_client(
    client: ApiClient, task: Task
) -> None:
    response = Calls().complete(task.id, {"processing": {"repair_notes": "Replaced the lamp"}})
    assert response.status_code == 200, response.content
    completed = body(response)
    _conforms_completed(completed)
    assert completed["taskId"] == str(task.id)
    assert completed["status"] == {"code": "APPROVED", "title": "Approved"}
    assert completed["variables"]["application"]["data"]["status"] == {"value": "approved"}
    assert Application.objects.get(pk=task.application_id).status == ApplicationStatus.APPROVED
    decision = Decision.objects.get(task=task)
    assert (decision.decision, decision.decided_by) == ("approve", operators.operator_of(client))
    entry = AuditEntry.objects.get(action="govstack.task.completed")
    assert (entry.actor_kind, entry.actor_id, entry.subject_id) == ("api_client", str(client.id), str(task.id))
    assert entry.details["client"] == IDENTITY
    call = AuditEntry.objects.filter(action="govstack.call.handled").latest("id")
    assert call.details["operation"] == "completeTaskById"
    assert call.details["status"] == 200
    again = body(Calls().get(f"/tasks/{task.id}"))
    assert again["status"]["code"] == "APPROVED"
    assert again["data"]["repair_notes"]["value"] == "Replaced the lamp"
    assert body(Calls().get("/tasks")) == []


def _conforms_completed(item: Any) -> None:
    content = specification(API)["paths"]["/tasks/{taskId}/complete"]["post"]["responses"]["200"]["content"]
    errors = [error.message for error in schema_of(API, content["*/*"]["schema"]).iter_errors(item)]
    assert errors == [], errors
    named = set(specification(API)["components"]["schemas"]["completedTaskResponse"]["properties"])
    assert set(item) <= named


def test_a_task_already_decided_is_a_409_and_never_a_second_transition(task: Task) -> None:
    first = Calls().complete(task.id, {"processing": {"repair_notes": "Fixed"}})
    assert first.status_code == 200
    second = Calls().complete(task.id, {"decision": "reject", "reason": "Duplicate"})
    assert second.status_code == 409
    assert body(second)["code"] == "task_closed"
    assert Decision.objects.filter(task=task).count() == 1
    assert Application.objects.get(pk=task.application_id).status == ApplicationStatus.APPROVED


def test_rejecting_needs_a_reason_and_takes_govstacks_status_codes(task: Task) -> None:
    response = Calls().complete(task.id, {"decision": {"value": "REJECTED"}})
    assert (response.status_code, body(response)["code"]) == (REFUSED, "reason_required")
    response = Calls().complete(task.id, {"decision": {"value": "REJECTED"}, "reason": {"value": "Not ours"}})
    assert response.status_code == 200
    assert body(response)["status"] == {"code": "REJECTED", "title": "Rejected"}
    assert Application.objects.get(pk=task.application_id).status == ApplicationStatus.REJECTED


def test_a_decision_the_role_does_not_allow_is_refused(task: Task) -> None:
    response = Calls().complete(task.id, {"decision": "send_back", "reason": "Tell us more"})
    assert (response.status_code, body(response)["code"]) == (REFUSED, "decision_not_allowed")
    assert Task.objects.get(pk=task.pk).status == TaskStatus.PENDING


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"data": []}', "data is a JSON object"),
        ('{"data": {"verdict": "yes"}}', "no member verdict"),
        ('{"data": {"decision": "maybe"}}', "data.decision"),
        ('{"data": {"reason": 5}}', "data.reason"),
        ('{"data": {"processing": {"colour": "red"}}}', "colour"),
        ('{"data": {"processing": []}}', "data.processing"),
        ('{"data": {"flaggedFields": "street"}}', "data.flaggedFields"),
    ],
)
def test_a_body_it_cannot_take_is_a_400_problem(task: Task, raw: str, why: str) -> None:
    response = Calls().complete(task.id, raw=raw)
    assert response.status_code == 400
    assert why in body(response)["detail"]
    assert Task.objects.get(pk=task.pk).status == TaskStatus.PENDING


def test_a_processing_value_of_the_wrong_type_is_refused_with_its_field(task: Task) -> None:
    response = Calls().complete(task.id, {"processing": {"repair_notes": 12}})
    assert response.status_code == REFUSED
    assert "repair_notes" in body(response)["detail"]


def test_get_on_complete_is_405(task: Task) -> None:
    response = Calls().get(f"/tasks/{task.id}/complete")
    assert response.status_code == 405
    assert response["Allow"] == "POST"


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_completions_at_once_record_one_decision(street_light: str) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers (IMMEDIATE): two transactions cannot interleave")
    _client()
    _, task = _engineer_task()
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def complete(data: dict[str, Any]) -> None:
        try:
            barrier.wait(timeout=10)
            statuses.append(Calls().complete(task.id, data).status_code)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=complete, args=({"processing": {"repair_notes": "Fixed"}},)),
        threading.Thread(target=complete, args=({"decision": "reject", "reason": "Duplicate"},)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [200, 409]
    assert Decision.objects.filter(task=task).count() == 1
    assert AuditEntry.objects.filter(action="govstack.task.completed").count() == 1
