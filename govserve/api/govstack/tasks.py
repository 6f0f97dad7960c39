"""The GovStack task operations (``/tasks``, ``/tasks/{taskId}``, ``/tasks/{taskId}/complete``).

Their routes are listed here and appended to ``govstack/urls.py``, so the task
operations and the application operations can be worked on apart.

Every task operation needs a known client (400 without or with a malformed
``Information-Mediator-Client``, 403 for an unknown one), the scope
``tasks:read`` (reads) or ``tasks:decide`` (completion), and an operator
account (:mod:`govserve.api.govstack.operators`): the client sees and decides
the tasks that account would in the staff queues.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest
from django.urls import URLPattern, path

from govserve.api.govstack import operators, task_selectors, task_services
from govserve.api.govstack.http import RequestInvalidError, operation
from govserve.api.govstack.identity import Caller
from govserve.api.models import ApiClient

MAX_BODY = 1_000_000


def _client_of(caller: Caller) -> ApiClient:
    if caller.client is None:  # operations with client_required=True never get here without one
        msg = "a GovStack task operation was called without a client"
        raise TypeError(msg)
    return caller.client


def _integer(request: HttpRequest, name: str, default: int, low: int, high: int) -> int:
    text = request.GET.get(name)
    if text is None or text == "":
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise RequestInvalidError(f"{name} is a whole number from {low} to {high}")
    return int(text)


def _text(request: HttpRequest, name: str) -> str | None:
    text = (request.GET.get(name) or "").strip()
    if len(text) > 200:
        raise RequestInvalidError(f"{name} is longer than 200 characters")
    return text or None


@operation("getTasks", client_required=True)
def task_list(request: HttpRequest, caller: Caller) -> Any:
    """``GET /tasks``: the open tasks the client's operator account may see; filters matching nothing give ``[]``."""
    client = _client_of(caller)
    operators.scope_require(client, operators.READ_SCOPE)
    operator = operators.operator_of(client)
    sort_by = request.GET.get("sortBy") or "created"
    if sort_by not in task_selectors.SORTS:
        raise RequestInvalidError(f"sortBy is one of {', '.join(task_selectors.SORTS)}")
    sort_order = request.GET.get("sortOrder") or "asc"
    if sort_order not in {"asc", "desc"}:
        raise RequestInvalidError("sortOrder is asc or desc")
    return task_selectors.task_list(
        operator,
        main_task_id=_text(request, "mainTaskId"),
        file_id=_text(request, "fileId"),
        assignee_id=_text(request, "assigneeId"),
        first=_integer(request, "firstResult", 0, 0, 1_000_000),
        count=_integer(request, "maxResult", task_selectors.DEFAULT_RESULTS, 1, task_selectors.MAX_RESULTS),
        sort_by=sort_by,
        descending=sort_order == "desc",
    )


@operation("getTaskById", client_required=True)
def task_get(request: HttpRequest, caller: Caller, task_id: str) -> Any:
    """``GET /tasks/{taskId}``: the task with the answers its role sees and its processing fields; 404 when unknown."""
    client = _client_of(caller)
    operators.scope_require(client, operators.READ_SCOPE)
    return task_selectors.task_get(operators.operator_of(client), task_id)


def _json_body(request: HttpRequest) -> Any:
    if len(request.body) > MAX_BODY:
        raise RequestInvalidError("The body is larger than 1 MB")
    if not request.body.strip():
        return {}  # completing with nothing to add: approve with the values saved before
    content_type = (request.content_type or "").lower()
    if content_type not in {"application/json", ""} and not content_type.endswith("+json"):
        raise RequestInvalidError("Send the body as application/json")
    try:
        return json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise RequestInvalidError("The body is not valid JSON") from None


@operation("completeTaskById", methods=("POST",), client_required=True)
def task_complete(request: HttpRequest, caller: Caller, task_id: str) -> Any:
    """``POST /tasks/{taskId}/complete``: decide the task through casework's decision (task_services)."""
    client = _client_of(caller)
    operators.scope_require(client, operators.DECIDE_SCOPE)
    operator = operators.operator_of(client)
    return task_services.task_complete(
        client=client, operator=operator, identity=caller.identity, task_id=task_id, body=_json_body(request)
    )


urlpatterns: list[URLPattern] = [
    path("tasks", task_list, name="task_list"),
    path("tasks/<str:task_id>", task_get, name="task_get"),
    path("tasks/<str:task_id>/complete", task_complete, name="task_complete"),
]
