"""GovStack tasks read from casework: the tasks the client's operator account may see, in GovStack's shapes.

A GovStack task is a casework task (one role's work on one file):
``taskId`` is the task's id, ``mainTaskId`` its case file's id (the process
the file's tasks belong to), ``fileId`` the application's id, ``eFormId``
the service version the application was made on, ``roleId`` the role's id
in the service definition and ``name`` its name. ``status`` is ``PENDING``
while the task is open (pending or claimed), then the decision taken:
``APPROVED``, ``REJECTED`` or ``SENDBACK``. Cancelled tasks (a withdrawn
application) are no GovStack tasks: they read as 404.

The list holds the open tasks in the operator account's scope (the staff
queues' rule: :func:`govserve.casework.permissions.scope_of`); a task by id
may be open or decided. Anything out of scope reads as "not found".
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db.models import QuerySet

from govserve.accounts.models import User
from govserve.api.govstack.selectors import GovStackNotFoundError, service_uuid
from govserve.casework.models import OPEN_TASK_STATUSES, DecisionKind, Task, TaskStatus
from govserve.casework.permissions import scope_of
from govserve.casework.services import processing_values_load
from govserve.catalogue.compiled import CompiledDefinition
from govserve.catalogue.definitions.schema import Role
from govserve.catalogue.selectors import published_version_load
from govserve.journeys.fields import value_to_json
from govserve.journeys.selectors import state_load

LANGUAGE = "en"
MAX_RESULTS = 100
DEFAULT_RESULTS = 20

STATUS_OF_DECISION = {
    DecisionKind.APPROVE: ("APPROVED", "Approved"),
    DecisionKind.REJECT: ("REJECTED", "Rejected"),
    DecisionKind.SEND_BACK: ("SENDBACK", "Sent back"),
}

SORTS = {
    "created": "created_at",
    "dueDate": "due_on",
    "priority": "due_on",
    "id": "id",
    "executionId": "id",
    "caseExecutionId": "id",
    "instanceId": "case_file_id",
    "caseInstanceId": "case_file_id",
    "name": "role_id",
    "nameCaseInsensitive": "role_id",
    "description": "reference",
    "assignee": "assignee__username",
}
"""GovStack's ``sortBy`` values and the task column each sorts on."""


def as_uuid(text: str) -> uuid.UUID | None:
    """Return ``text`` as a UUID, None when it is not one."""
    try:
        return uuid.UUID(text.strip())
    except ValueError:
        return None


def status_of(task: Task) -> dict[str, str]:
    """Return the GovStack status of a task: PENDING while open, else its decision."""
    if task.status in OPEN_TASK_STATUSES or not task.decision:
        return {"code": "PENDING", "title": "Pending"}
    code, title = STATUS_OF_DECISION[DecisionKind(task.decision)]
    return {"code": code, "title": title}


def _visible(operator: User) -> QuerySet[Task]:
    scope = scope_of(operator)
    return (
        Task.objects.filter(scope.task_q())
        .exclude(status=TaskStatus.CANCELLED)
        .select_related("application__service", "assignee")
    )


def _moment(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _compiled(task: Task) -> CompiledDefinition:
    return published_version_load(task.service_id, task.application.version_number)


def _role(task: Task, compiled: CompiledDefinition) -> Role:
    return compiled.definition.flow.roles[task.role_index]


def _summary(task: Task, compiled: CompiledDefinition) -> dict[str, Any]:
    application = task.application
    item: dict[str, Any] = {
        "taskId": str(task.id),
        "mainTaskId": str(task.case_file_id),
        "name": _role(task, compiled).name.get(LANGUAGE),
        "roleId": task.role_id,
        "created": _moment(task.created_at),
        "description": task.reference,
        "serviceId": service_uuid(task.service_id),
        "serviceName": application.service.title,
        "fileId": str(task.application_id),
        "eFormId": str(application.service_version_id),
        "status": status_of(task),
    }
    if task.assignee_id is not None:
        item["assigneeId"] = str(task.assignee_id)
    return item


def task_list(
    operator: User,
    *,
    main_task_id: str | None = None,
    file_id: str | None = None,
    assignee_id: str | None = None,
    first: int = 0,
    count: int = DEFAULT_RESULTS,
    sort_by: str = "created",
    descending: bool = False,
) -> list[dict[str, Any]]:
    """Return the open tasks ``operator`` may see, filtered and paged; filters that match nothing give ``[]``.

    ``main_task_id`` is a case file id; ``file_id`` an application id or
    reference; ``assignee_id`` a staff account id or username.
    """
    tasks = _visible(operator).filter(status__in=OPEN_TASK_STATUSES)
    if main_task_id:
        key = as_uuid(main_task_id)
        tasks = tasks.filter(case_file_id=key) if key else tasks.none()
    if file_id:
        key = as_uuid(file_id)
        tasks = tasks.filter(application_id=key) if key else tasks.filter(reference=file_id.strip().upper())
    if assignee_id:
        key = as_uuid(assignee_id)
        tasks = tasks.filter(assignee_id=key) if key else tasks.filter(assignee__username=assignee_id.strip())
    field = SORTS[sort_by]
    tasks = tasks.order_by(f"-{field}" if descending else field, "id")
    items = []
    for task in tasks[first : first + count]:
        items.append(_summary(task, _compiled(task)))
    return items


def task_visible(operator: User, task_id: str) -> Task:
    """Return the task ``operator`` may see by id; raise GovStackNotFoundError (unknown, out of scope, not a UUID)."""
    key = as_uuid(task_id)
    task = _visible(operator).filter(pk=key).first() if key else None
    if task is None:
        raise GovStackNotFoundError(f"There is no task {task_id}")
    return task


def _answers(task: Task, compiled: CompiledDefinition, role: Role) -> dict[str, dict[str, Any]]:
    """Return the applicant's answers the role sees (``sees``; all when omitted), by page."""
    effective = state_load(task.application).effective_answers()
    seen = set(role.sees) if role.sees is not None else None
    pages: dict[str, dict[str, Any]] = {}
    for page in compiled.definition.pages:
        answered = {
            definition_field.id: value_to_json(definition_field, effective[definition_field.id])
            for definition_field in page.fields
            if definition_field.id in effective and (seen is None or definition_field.id in seen)
        }
        if answered:
            pages[page.id] = answered
    return pages


def _processing(task: Task, role: Role) -> dict[str, dict[str, Any]]:
    """Return the role's processing fields: label, type, whether approval needs it, and the value saved (or None)."""
    saved = processing_values_load(task.case_file, role) if role.fields else {}
    fields: dict[str, dict[str, Any]] = {}
    for definition_field in role.fields:
        validation = getattr(definition_field, "validation", None)
        value = saved.get(definition_field.id)
        fields[definition_field.id] = {
            "label": definition_field.label.get(LANGUAGE),
            "type": definition_field.type,
            "required": bool(getattr(validation, "required", False)),
            "value": None if value is None else value_to_json(definition_field, value),
        }
    return fields


def task_get(operator: User, task_id: str) -> dict[str, Any]:
    """Return a task with the answers its role sees (``formVariables``) and its processing fields (``data``)."""
    task = task_visible(operator, task_id)
    compiled = _compiled(task)
    role = _role(task, compiled)
    summary = _summary(task, compiled)
    body = {
        "taskId": summary["taskId"],
        "taskName": summary["name"],
        "roleId": summary["roleId"],
        "created": summary["created"],
        "description": summary["description"],
        "fileId": summary["fileId"],
        "serviceId": summary["serviceId"],
        "serviceName": summary["serviceName"],
        "eFormId": summary["eFormId"],
        "formVariables": _answers(task, compiled, role),
        "status": summary["status"],
        "data": _processing(task, role),
    }
    if "assigneeId" in summary:
        body["assigneeId"] = summary["assigneeId"]
    return body
