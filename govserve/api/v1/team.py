"""A team leader's bulk reassignment through the API: move several tasks to a colleague or back to the pool.

What the web's team page does with its task list, through
:func:`govserve.casework.services.tasks_reassign` with the token's staff
account: all or nothing; only a team leader (403 ``not_team_leader``),
of every task's role in its institution (403 ``not_team_leader`` too); a
task the leader may not see is 404 ``task_not_found``, as one that does
not exist; every task open (409 ``task_closed``) and worked by people (409
``claiming_disabled`` for a bot's); the assignee must hold every task's
role (422 ``assignee_not_eligible``). Audited once as
``casework.tasks.bulk_reassigned``, each task's file getting its event.

The route joins the tasks router (imported at the end of :mod:`govserve.api.v1.tasks`).
"""

from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse
from ninja import Schema
from pydantic import Field

from govserve.api.v1.auth import principal_of
from govserve.api.v1.http import json_response
from govserve.api.v1.schemas import StrictBody
from govserve.api.v1.tasks import DECIDE, WRITE_PROBLEMS, TaskOut, _task_out, router
from govserve.casework import selectors, services

REASSIGN_MAX = 100


class ReassignIn(StrictBody):
    task_ids: list[uuid.UUID] = Field(min_length=1, max_length=REASSIGN_MAX, description="The tasks to move.")
    assignee_id: uuid.UUID | None = Field(
        description="Who takes them (GET /tasks/{id}/assignees lists who may), or null to put them back in the pool."
    )


class ReassignOut(Schema):
    moved: int = Field(description="How many tasks changed (a task named twice counts once).")
    items: list[TaskOut]


@router.post(
    "/team/reassign",
    auth=DECIDE,
    response={200: ReassignOut, **WRITE_PROBLEMS},
    url_name="tasks_reassign",
    summary="Reassign several tasks at once, or put them back in the pool (team leaders)",
)
def tasks_reassign(request: HttpRequest, payload: ReassignIn) -> HttpResponse:
    """Move every task named to ``assignee_id`` (or the pool), all or nothing, as the team page does."""
    user = principal_of(request).user
    moved = services.tasks_reassign(user=user, task_ids=payload.task_ids, assignee_id=payload.assignee_id)
    tasks = [selectors.task_for_staff(user=user, task_id=task_id) for task_id in sorted(set(payload.task_ids))]
    return json_response(request, ReassignOut(moved=moved, items=[_task_out(task, "en") for task in tasks]))
