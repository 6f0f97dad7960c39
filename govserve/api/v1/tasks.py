"""The operator and bot side: task queues, a task with its file, claim, release, assign, decide, write.

Every operation acts as the staff account behind the token (an operator's
own account, or a bot's service account: :mod:`govserve.api.models`) and
calls casework's own selectors and services with it, so the API and the
staff workspace share every permission check, lock, rule, message, audit
entry and event. A task the account may not see (another institution's, a
role it does not hold) is 404 ``task_not_found``, as one that does not exist.
Two operators claiming or deciding the same task at once: casework's row
locks let one win; the other gets 409 (``task_already_claimed``,
``task_closed``).

Processing values are sent in the JSON forms of the answers schema
(``processing``: by field id) and go to casework as the web form would post
them (:func:`govserve.api.v1.answers.page_form_data`); fields left out keep
their saved value, ``null`` clears one.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Router, Schema
from ninja.params.functions import Query
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from govserve.accounts.models import User
from govserve.api import errors
from govserve.api.v1.answers import field_json_schema, page_form_data
from govserve.api.v1.auth import operator_token, principal_of
from govserve.api.v1.http import cursor_decode, cursor_encode, json_response
from govserve.api.v1.problems import field_errors, problem_response
from govserve.api.v1.schemas import Problem, StrictBody
from govserve.casework import errors as casework_errors
from govserve.casework import selectors, services
from govserve.casework.models import Task
from govserve.casework.sla import is_overdue
from govserve.catalogue.compiled import CompiledDefinition
from govserve.catalogue.definitions.schema import AnyField, Page, Role
from govserve.catalogue.selectors import published_version_load
from govserve.core import clock
from govserve.journeys.fields import FieldError, value_to_json

router = Router(tags=["tasks"])
READ = operator_token("tasks:read")
DECIDE = operator_token("tasks:decide")
MESSAGES = operator_token("messages:write")
AUTH_PROBLEMS: dict[int, Any] = {401: Problem, 403: Problem, 429: Problem}
WRITE_PROBLEMS: dict[int, Any] = {**AUTH_PROBLEMS, 400: Problem, 404: Problem, 409: Problem, 422: Problem}
Language = Literal["en", "cy"]
CURSOR_INVALID = "The cursor is not valid: use the next_cursor of the previous page"


# --- Bodies --------------------------------------------------------------------------------------------


class TaskOut(Schema):
    id: uuid.UUID
    file_id: uuid.UUID
    version: int = Field(description="Send it back with a change: a task changed since is refused (409 task_changed).")
    reference: str
    service_id: str
    role_id: str
    role_name: str
    kind: str = Field(description="human, or bot (decided by its rule: never claimed).")
    status: str = Field(description="pending, claimed, done or cancelled.")
    assignee_id: uuid.UUID | None
    assignee_name: str
    due_on: dt.date | None
    overdue: bool
    submitted_at: dt.datetime
    claiming: bool = Field(description="Whether the service lets staff claim from the pool (else a leader assigns).")


class TaskPage(Schema):
    items: list[TaskOut]
    next_cursor: str | None
    total: int = Field(description="Tasks matching, counted up to 10,000 (then total_capped).")
    total_capped: bool


class TaskAnswer(Schema):
    field: str
    label: str
    value: str = Field(description="The answer as staff read it (formatted text).")
    corrected_from: str | None


class TaskDocument(Schema):
    requirement: str
    name: str
    delivery: str
    document_id: uuid.UUID | None
    counter_kind: str | None
    counter_recorded_at: dt.datetime | None
    counter_note: str


class TaskMessage(Schema):
    id: uuid.UUID
    sender: str = Field(description="applicant or staff.")
    author: str = Field(description="The staff member's name; empty for the applicant.")
    body: str
    sent_at: dt.datetime


class TaskNote(Schema):
    author: str
    body: str
    written_at: dt.datetime


class TaskFee(Schema):
    registration: str
    fee: str
    amount_minor: int
    currency: str
    paid_when: str
    status: str
    kind: str = Field(description="fee, or increase: what a paid fee rose by when the application was sent again")
    refund_due_minor: int = Field(
        description="Of a paid fee: what it no longer owes after the application was sent again (to refund)"
    )


class TaskProcessingValue(Schema):
    role_id: str
    field: str
    label: str
    value: str


class TaskHistoryEntry(Schema):
    occurred_at: dt.datetime
    kind: str
    label: str
    role_id: str
    actor: str
    text: str


class TaskFile(Schema):
    id: uuid.UUID
    reference: str
    service_id: str
    service_title: str
    version: int
    state: str = Field(description="open, sent_back or closed.")
    outcome: str = Field(description="approved, rejected, withdrawn, or empty while undecided.")
    application_status: str
    submitted_at: dt.datetime
    expected_decision_on: dt.date | None
    seen_as_role_id: str = Field(description="The role whose view of the file this is (what it may see).")
    seen_as_role_name: str
    answers: list[TaskAnswer]
    documents: list[TaskDocument]
    messages: list[TaskMessage]
    notes: list[TaskNote]
    fees: list[TaskFee]
    processing: list[TaskProcessingValue]
    history: list[TaskHistoryEntry]
    flagged_fields: list[str]
    flagged_documents: list[str]


class ProcessingFieldOut(Schema):
    id: str
    label: str
    value_schema: dict[str, Any] = Field(description="The JSON Schema of its value in `processing`.")


class TaskActions(Schema):
    open_task_id: uuid.UUID | None
    may_act: bool = Field(description="Whether this account may decide the file's open task now.")
    decisions: list[str]
    processing_fields: list[ProcessingFieldOut]
    processing_values: dict[str, Any] = Field(description="The open task's saved processing values, by field id.")
    corrects: list[str]


class TaskDetail(Schema):
    task: TaskOut
    file: TaskFile
    actions: TaskActions


class VersionIn(StrictBody):
    version: int | None = Field(default=None, ge=1, description="The task's version you saw (optional).")


class AssignIn(StrictBody):
    assignee_id: uuid.UUID
    version: int | None = Field(default=None, ge=1)


class Assignee(Schema):
    user_id: uuid.UUID
    name: str


class AssigneesOut(Schema):
    items: list[Assignee]


class DecisionIn(StrictBody):
    decision: Literal["approve", "reject", "send_back"]
    reason: str = Field(default="", description="Required to reject or send back.")
    processing: dict[str, Any] | None = Field(
        default=None, description="Processing values to set, by field id (left out: kept; null: cleared)."
    )
    flagged_fields: list[str] = Field(default=[], description="Answers the applicant must change (send_back).")
    flagged_documents: list[str] = Field(default=[], description="Documents the applicant must change (send_back).")
    message: str = Field(default="", description="A message to the applicant with a send_back.")
    version: int | None = Field(default=None, ge=1)
    language: Language = "en"


class DecisionOut(Schema):
    task: TaskOut
    decision: str
    application_status: str
    file_state: str
    file_outcome: str
    next_task_id: uuid.UUID | None
    next_role_id: str | None


class ProcessingIn(StrictBody):
    processing: dict[str, Any] = Field(description="Processing values to set, by field id (null clears one).")
    version: int | None = Field(default=None, ge=1)
    language: Language = "en"


class TextIn(StrictBody):
    body: str


class WrittenOut(Schema):
    id: uuid.UUID
    file_id: uuid.UUID
    written_at: dt.datetime


class _QueuePosition(BaseModel):
    """Where a queue's next page starts: the page, its size and the filters (carried by the opaque cursor)."""

    model_config = ConfigDict(extra="forbid")

    page: int = Field(ge=1, le=1_000_000)
    per_page: int = Field(ge=1, le=200)
    queue: Literal["mine", "pool", "all"]
    service: str | None = Field(default=None, max_length=64)
    role: str | None = Field(default=None, max_length=64)
    status: Literal["pending", "claimed"] | None = None
    overdue: bool | None = None
    submitted_from: dt.date | None = None
    submitted_to: dt.date | None = None
    reference: str | None = Field(default=None, max_length=40)
    sort: Literal["due_on", "-due_on", "submitted_at", "-submitted_at", "reference"] = "due_on"

    @classmethod
    def of(cls, cursor: str) -> _QueuePosition:
        """Return the position of a cursor this API returned; raise CursorInvalidError."""
        position = cursor_decode(cursor, keys={"position"})
        try:
            return cls.model_validate(position["position"])
        except PydanticValidationError:
            raise errors.CursorInvalidError(
                "The cursor is not valid: use the next_cursor of the previous page"
            ) from None

    def next(self) -> str:
        """Return the cursor of the page after this one."""
        following = self.model_copy(update={"page": self.page + 1})
        return cursor_encode({"position": following.model_dump(mode="json", exclude_none=True)})


# --- Helpers -------------------------------------------------------------------------------------------


def _today() -> dt.date:
    return timezone.localdate(clock.now())


def _role(compiled: CompiledDefinition, role_id: str) -> Role:
    for role in compiled.definition.flow.roles:
        if role.id == role_id:
            return role
    # Tasks are created from their file's pinned flow: a role missing from it is a bug, not a client error.
    msg = f"role {role_id} is not in {compiled.service_id} version {compiled.version}"
    raise LookupError(msg)


def _name(user: User | None) -> str:
    if user is None:
        return ""
    return f"{user.first_name} {user.last_name}".strip() or user.username


def _task_out(task: Task, language: str) -> TaskOut:
    """Return a task (a row read by casework's services or selectors) as the API shows it."""
    compiled = published_version_load(task.service_id, task.case_file.version_number)
    return TaskOut(
        id=task.id,
        file_id=task.case_file_id,
        version=task.version,
        reference=task.reference,
        service_id=task.service_id,
        role_id=task.role_id,
        role_name=_role(compiled, task.role_id).name.get(language),
        kind=task.kind,
        status=task.status,
        assignee_id=task.assignee_id,
        assignee_name=_name(task.assignee),
        due_on=task.due_on,
        overdue=is_overdue(task.due_on, _today()),
        submitted_at=task.submitted_at,
        claiming=compiled.definition.flow.claiming,
    )


def _row_out(row: selectors.TaskRow) -> TaskOut:
    return TaskOut(
        id=row.task_id,
        file_id=row.file_id,
        version=row.version,
        reference=row.reference,
        service_id=row.service_id,
        role_id=row.role_id,
        role_name=row.role_name,
        kind=row.kind,
        status=row.status,
        assignee_id=row.assignee_id,
        assignee_name=row.assignee_name,
        due_on=row.due_on,
        overdue=row.overdue,
        submitted_at=row.submitted_at,
        claiming=row.claiming,
    )


def _processing_invalid(error: casework_errors.ProcessingFieldsInvalidError) -> HttpResponse:
    """Answer processing errors with pointers into the body's ``processing`` (not ``answers``)."""
    return problem_response(
        status=error.status,
        code=error.code,
        detail=error.message,
        errors=field_errors(error.extra.get("errors") or [], base="processing"),
    )


def _processing_data(task: Task, given: dict[str, Any], language: str) -> dict[str, Any]:
    """Return the role's processing form data: the saved values with ``given`` over them (the web posts all).

    Raise ProcessingFieldsInvalidError for a field the role does not have, a
    file or group field, or a value of the wrong JSON type (nothing saved).
    """
    compiled = published_version_load(task.service_id, task.case_file.version_number)
    role = _role(compiled, task.role_id)
    fields: dict[str, AnyField] = {definition_field.id: definition_field for definition_field in role.fields}
    unknown = [field_id for field_id in given if field_id not in fields]
    if unknown:
        raise casework_errors.ProcessingFieldsInvalidError(
            "Some processing values are not fields of this task's role",
            errors=[
                FieldError(field_id, "unknown_field", f"{field_id} is not a processing field of this role", field_id)
                for field_id in unknown
            ],
        )
    saved = services.processing_values_load(task.case_file, role)
    merged = {field_id: value_to_json(fields[field_id], value) for field_id, value in saved.items()} | given
    # The role's fields as a page: the same JSON reading and form writing as an applicant's page.
    page = Page.model_construct(id=role.id, fields=list(role.fields))
    data, found = page_form_data(page, merged, compiled=compiled, language=language)
    if found:
        raise casework_errors.ProcessingFieldsInvalidError(
            "There is a problem with the processing details", errors=found
        )
    return data


def _actions(view: selectors.FileView, compiled: CompiledDefinition, language: str) -> TaskActions:
    fields = {definition_field.id: definition_field for definition_field in view.processing_fields}
    return TaskActions(
        open_task_id=view.open_task.id if view.open_task is not None else None,
        may_act=view.may_act,
        decisions=list(view.decisions),
        processing_fields=[
            ProcessingFieldOut(
                id=definition_field.id,
                label=definition_field.label.get(language),
                value_schema=field_json_schema(definition_field, language=language, catalogues=compiled.catalogues),
            )
            for definition_field in view.processing_fields
        ],
        processing_values={
            field_id: value_to_json(fields[field_id], value)
            for field_id, value in view.processing_values.items()
            if field_id in fields
        },
        corrects=list(view.corrects),
    )


def _file_out(view: selectors.FileView) -> TaskFile:
    case_file = view.case_file
    return TaskFile(
        id=case_file.id,
        reference=case_file.reference,
        service_id=case_file.service_id,
        service_title=view.service_title,
        version=case_file.version_number,
        state=case_file.state,
        outcome=case_file.outcome,
        application_status=view.application.status,
        submitted_at=case_file.submitted_at,
        expected_decision_on=view.expected_decision_on,
        seen_as_role_id=view.seen_as_role_id,
        seen_as_role_name=view.seen_as_role_name,
        answers=[
            TaskAnswer(field=row.field_id, label=row.label, value=row.value, corrected_from=row.corrected_from)
            for row in view.answers
        ],
        documents=[
            TaskDocument(
                requirement=row.requirement_id,
                name=row.name,
                delivery=row.delivery,
                document_id=row.document_id,
                counter_kind=row.counter_kind,
                counter_recorded_at=row.counter_recorded_at,
                counter_note=row.counter_note,
            )
            for row in view.documents
        ],
        messages=[
            TaskMessage(id=row.message_id, sender=row.sender, author=row.author, body=row.body, sent_at=row.sent_at)
            for row in view.messages
        ],
        notes=[TaskNote(author=row.author, body=row.body, written_at=row.written_at) for row in view.notes],
        fees=[
            TaskFee(
                registration=row.registration_id,
                fee=row.fee_id,
                amount_minor=row.amount_minor,
                currency=row.currency,
                paid_when=row.paid_when,
                status=row.status,
                kind=row.kind,
                refund_due_minor=row.refund_due_minor,
            )
            for row in view.fees
        ],
        processing=[
            TaskProcessingValue(role_id=row.role_id, field=row.field_id, label=row.label, value=row.value)
            for row in view.processing
        ],
        history=[
            TaskHistoryEntry(
                occurred_at=row.occurred_at,
                kind=row.kind,
                label=row.label,
                role_id=row.role_id,
                actor=row.actor,
                text=row.text,
            )
            for row in view.history
        ],
        flagged_fields=list(view.flagged_fields),
        flagged_documents=list(view.flagged_documents),
    )


# --- Operations ----------------------------------------------------------------------------------------


@router.get(
    "/tasks",
    auth=READ,
    response={200: TaskPage, **AUTH_PROBLEMS, 304: None, 400: Problem, 422: Problem},
    url_name="task_list",
    summary="A queue of open tasks: mine, the pool of my roles, or all I may see",
)
def task_list(
    request: HttpRequest,
    *,
    queue: Literal["mine", "pool", "all"] = "mine",
    service: str | None = Query(None, max_length=64),
    role: str | None = Query(None, max_length=64),
    status: Literal["pending", "claimed"] | None = None,
    overdue: bool | None = None,
    submitted_from: dt.date | None = None,
    submitted_to: dt.date | None = None,
    reference: str | None = Query(None, max_length=40),
    sort: Literal["due_on", "-due_on", "submitted_at", "-submitted_at", "reference"] = "due_on",
    language: Language = "en",
    cursor: str | None = Query(None, max_length=500),
    limit: int = Query(50, ge=1, le=200),
) -> HttpResponse:
    """Return a page of the queue, as the workspace lists it (``casework.selectors.task_queue``).

    ``mine``: tasks assigned to me; ``pool``: pending tasks of the roles I
    hold or lead; ``all``: every open task I may see. Filters combine;
    ``reference`` matches a whole reference in any spelling. Follow
    ``next_cursor`` for the next page: it keeps the filters and the page size
    (the other parameters are then ignored).
    """
    user = principal_of(request).user
    if cursor:
        position = _QueuePosition.of(cursor)
    else:
        position = _QueuePosition(
            page=1,
            per_page=limit,
            queue=queue,
            service=service,
            role=role,
            status=status,
            overdue=overdue,
            submitted_from=submitted_from,
            submitted_to=submitted_to,
            reference=reference,
            sort=sort,
        )
    found = selectors.task_queue(
        user=user,
        view=position.queue,
        service_id=position.service,
        role_id=position.role,
        status=position.status,
        overdue=position.overdue,
        submitted_from=position.submitted_from,
        submitted_to=position.submitted_to,
        reference=position.reference,
        sort=position.sort,
        page=position.page,
        per_page=position.per_page,
        language=language,
    )
    next_cursor = position.next() if found.has_next and found.rows else None
    return json_response(
        request,
        TaskPage(
            items=[_row_out(row) for row in found.rows],
            next_cursor=next_cursor,
            total=found.total,
            total_capped=found.total_capped,
        ),
    )


@router.get(
    "/tasks/{task_id}",
    auth=READ,
    response={200: TaskDetail, **AUTH_PROBLEMS, 304: None, 404: Problem, 422: Problem},
    url_name="task_get",
    summary="A task with its file, as the account's role may see it",
)
def task_get(request: HttpRequest, task_id: uuid.UUID, language: Language = "en") -> HttpResponse:
    """Return the task, its file (only the answers and documents the role sees) and what may be done now.

    Reading a file is audited (``casework.file.viewed``, purpose ``api``), as on the web.
    """
    user = principal_of(request).user
    task = selectors.task_for_staff(user=user, task_id=task_id)
    view = selectors.file_view(user=user, file_id=task.case_file_id, language=language, purpose="api")
    compiled = published_version_load(task.service_id, task.case_file.version_number)
    return json_response(
        request,
        TaskDetail(task=_task_out(task, language), file=_file_out(view), actions=_actions(view, compiled, language)),
    )


@router.get(
    "/tasks/{task_id}/assignees",
    auth=READ,
    response={200: AssigneesOut, **AUTH_PROBLEMS, 304: None, 404: Problem, 422: Problem},
    url_name="task_assignees",
    summary="Who the task may be assigned to",
)
def task_assignees(request: HttpRequest, task_id: uuid.UUID) -> HttpResponse:
    """Return the staff who hold the task's role in its institution."""
    found = selectors.eligible_assignees(user=principal_of(request).user, task_id=task_id)
    return json_response(
        request, AssigneesOut(items=[Assignee(user_id=person.user_id, name=person.name) for person in found])
    )


@router.post(
    "/tasks/{task_id}/claim",
    auth=DECIDE,
    response={200: TaskOut, **WRITE_PROBLEMS},
    url_name="task_claim",
    summary="Claim a pending task from the pool",
)
def task_claim(request: HttpRequest, task_id: uuid.UUID, payload: VersionIn | None = None) -> HttpResponse:
    """Claim the task (claiming your own claimed task again changes nothing).

    409 ``task_already_claimed`` (someone else has it), ``task_closed``,
    ``task_changed`` (stale ``version``), ``claiming_disabled``; 403
    ``not_assignee`` (a leader who does not hold the role).
    """
    task = services.task_claim(
        user=principal_of(request).user, task_id=task_id, version=payload.version if payload else None
    )
    return json_response(request, _task_out(task, "en"))


@router.post(
    "/tasks/{task_id}/release",
    auth=DECIDE,
    response={200: TaskOut, **WRITE_PROBLEMS},
    url_name="task_release",
    summary="Put a claimed task back in the pool",
)
def task_release(request: HttpRequest, task_id: uuid.UUID, payload: VersionIn | None = None) -> HttpResponse:
    """Release the task (its assignee, or a team leader over its role); 403 ``not_assignee`` otherwise."""
    task = services.task_release(
        user=principal_of(request).user, task_id=task_id, version=payload.version if payload else None
    )
    return json_response(request, _task_out(task, "en"))


@router.post(
    "/tasks/{task_id}/assign",
    auth=DECIDE,
    response={200: TaskOut, **WRITE_PROBLEMS},
    url_name="task_assign",
    summary="Assign a task to a colleague (team leaders; role holders hand on)",
)
def task_assign(request: HttpRequest, task_id: uuid.UUID, payload: AssignIn) -> HttpResponse:
    """Assign the task to ``assignee_id``, who must hold its role (422 ``assignee_not_eligible``).

    403 ``not_team_leader`` for someone who neither leads the role nor may hand it on.
    """
    task = services.task_assign(
        user=principal_of(request).user, task_id=task_id, assignee_id=payload.assignee_id, version=payload.version
    )
    return json_response(request, _task_out(task, "en"))


@router.put(
    "/tasks/{task_id}/processing",
    auth=DECIDE,
    response={200: TaskOut, **WRITE_PROBLEMS},
    url_name="task_processing_save",
    summary="Save processing values without deciding",
)
def task_processing_save(request: HttpRequest, task_id: uuid.UUID, payload: ProcessingIn) -> HttpResponse:
    """Save the given processing values of the task's role (each value checked; 422 ``processing_fields_invalid``)."""
    user = principal_of(request).user
    task = selectors.task_for_staff(user=user, task_id=task_id)
    try:
        data = _processing_data(task, payload.processing, payload.language)
        saved = services.processing_values_save(
            user=user, task_id=task.id, data=data, version=payload.version, language=payload.language
        )
    except casework_errors.ProcessingFieldsInvalidError as error:
        return _processing_invalid(error)
    return json_response(request, _task_out(saved, payload.language))


@router.post(
    "/tasks/{task_id}/decision",
    auth=DECIDE,
    response={200: DecisionOut, **WRITE_PROBLEMS},
    url_name="task_decide",
    summary="Approve, reject or send back: the task's decision",
)
def task_decide(request: HttpRequest, task_id: uuid.UUID, payload: DecisionIn) -> HttpResponse:
    """Record the decision, as the workspace's decision form does (``casework.services.decision_record``).

    The role must allow the decision (422 ``decision_not_allowed``); a
    reason is needed to reject or send back (422 ``reason_required``);
    approval needs every required processing field (422
    ``processing_fields_invalid``, one entry per field); flags go with a
    send-back only, which needs one (422 ``flags_invalid``). 409
    ``task_closed`` once decided (two decisions at once: one wins),
    ``task_changed`` for a stale ``version``; 403 ``not_assignee``.
    """
    user = principal_of(request).user
    task = selectors.task_for_staff(user=user, task_id=task_id)
    try:
        data = _processing_data(task, payload.processing, payload.language) if payload.processing is not None else None
        result = services.decision_record(
            user=user,
            task_id=task.id,
            decision=payload.decision,
            reason=payload.reason,
            data=data,
            flagged_fields=payload.flagged_fields,
            flagged_documents=payload.flagged_documents,
            message=payload.message,
            version=payload.version,
            language=payload.language,
        )
    except casework_errors.ProcessingFieldsInvalidError as error:
        return _processing_invalid(error)
    return json_response(
        request,
        DecisionOut(
            task=_task_out(result.task, payload.language),
            decision=result.decision.decision,
            application_status=result.application_status,
            file_state=result.case_file.state,
            file_outcome=result.case_file.outcome,
            next_task_id=result.next_task.id if result.next_task is not None else None,
            next_role_id=result.next_task.role_id if result.next_task is not None else None,
        ),
    )


@router.post(
    "/tasks/{task_id}/messages",
    auth=MESSAGES,
    response={201: WrittenOut, **WRITE_PROBLEMS},
    url_name="task_message_send",
    summary="Write to the applicant on the task's file",
)
def task_message_send(request: HttpRequest, task_id: uuid.UUID, payload: TextIn) -> HttpResponse:
    """Send a message to the applicant (they are notified); 422 ``message_invalid``, 409 ``file_not_open``."""
    user = principal_of(request).user
    task = selectors.task_for_staff(user=user, task_id=task_id)
    message = services.message_send_staff(user=user, file_id=task.case_file_id, body=payload.body)
    return json_response(
        request, WrittenOut(id=message.id, file_id=task.case_file_id, written_at=message.created_at), status=201
    )


@router.post(
    "/tasks/{task_id}/notes",
    auth=DECIDE,
    response={201: WrittenOut, **WRITE_PROBLEMS},
    url_name="task_note_add",
    summary="Add an internal note to the task's file (never shown to the applicant)",
)
def task_note_add(request: HttpRequest, task_id: uuid.UUID, payload: TextIn) -> HttpResponse:
    """Add an internal note (422 ``note_invalid`` when empty or longer than 10,000 characters)."""
    user = principal_of(request).user
    task = selectors.task_for_staff(user=user, task_id=task_id)
    note = services.note_add(user=user, file_id=task.case_file_id, body=payload.body)
    return json_response(
        request, WrittenOut(id=note.id, file_id=task.case_file_id, written_at=note.created_at), status=201
    )


# The operations of other modules join this router (each imports it): counter records, a leader's reassignment.
from govserve.api.v1 import counter, team  # noqa: E402, F401
