"""Counter records through the API: a document presented in person, or a signature made in front of an operator.

What the case file's "Record at the counter" page does on the web, through
:func:`govserve.casework.services.counter_record` with the token's staff
account: the application must need that document with delivery ``counter``
(recorded as ``presented``) or ``sign_in_person`` (``signed``), once per
document (422 ``counter_record_invalid``), by someone working on the
file's open task (403 ``not_assignee``; a task the account may not see is
404 ``task_not_found``); the note is sealed; the applicant's history shows
it; audited as ``casework.counter.recorded``. A task's file lists its
documents' counter records (``GET /tasks/{id}``: ``documents[].counter_*``).

The route joins the tasks router (imported at the end of :mod:`govserve.api.v1.tasks`).
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.http import HttpRequest, HttpResponse
from ninja import Schema
from pydantic import Field

from govserve.api.v1.auth import principal_of
from govserve.api.v1.http import json_response
from govserve.api.v1.schemas import StrictBody
from govserve.api.v1.tasks import DECIDE, WRITE_PROBLEMS, router
from govserve.casework import selectors, services


class CounterIn(StrictBody):
    requirement: str = Field(
        max_length=64, description="The document's id (documents[].requirement of GET /tasks/{id})."
    )
    note: str = Field(default="", description="What was seen or checked (optional; stored encrypted).")


class CounterOut(Schema):
    id: uuid.UUID
    file_id: uuid.UUID
    requirement: str
    kind: str = Field(description="presented (a document shown at the counter) or signed (signed in person).")
    recorded_at: dt.datetime


@router.post(
    "/tasks/{task_id}/counter-records",
    auth=DECIDE,
    response={201: CounterOut, **WRITE_PROBLEMS},
    url_name="task_counter_record",
    summary="Record a document presented in person or a signature made in front of you",
)
def task_counter_record(request: HttpRequest, task_id: uuid.UUID, payload: CounterIn) -> HttpResponse:
    """Record it on the task's file, as the web's counter page does (casework's checks and words).

    422 ``counter_record_invalid`` (a document not needed in person, or already
    recorded; a note too long), 409 ``file_not_open``, 403 ``not_assignee``.
    """
    user = principal_of(request).user
    task = selectors.task_for_staff(user=user, task_id=task_id)
    record = services.counter_record(
        user=user, file_id=task.case_file_id, requirement_id=payload.requirement, note=payload.note
    )
    return json_response(
        request,
        CounterOut(
            id=record.id,
            file_id=task.case_file_id,
            requirement=record.requirement_id,
            kind=record.kind,
            recorded_at=record.created_at,
        ),
        status=201,
    )
