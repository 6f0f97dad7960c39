"""Every write of casework: open a file, claim/assign/release tasks, decide, and what staff record on a file.

One service call is one transaction writing the state change, its audit
entry, its case events (and the applicant's history entry when the
application's status changes) and its outbox jobs together.

Concurrency: every transition on a file locks the application row first
(``SELECT ... FOR UPDATE``), then the task row, in that order everywhere
(journeys' submit and withdraw lock the application too), and re-reads the
task under the lock: of two operators claiming or deciding the same task at
once, the second waits for the first and then finds the task claimed or
decided, and gets a typed error with a clear message. A partial unique index
(one open task per file) backs this up in the database. On SQLite every write
transaction is IMMEDIATE, so writers never interleave at all.

Permissions are checked inside each service (:mod:`govserve.casework.permissions`):
a task or file the user may not see is "not found", never "forbidden".

Bot roles are decided by the ``casework.bot.decide`` job, enqueued in the
transaction that creates the bot task, through the same decision code as
people (:func:`decision_record_automatic`).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils.translation import gettext as _

from govserve.accounts.citizens import citizen_create, citizen_find_by_email
from govserve.accounts.models import Institution, User
from govserve.accounts.policies import account_usable
from govserve.audit.actors import Actor
from govserve.audit.services import audit_record
from govserve.casework import errors, hooks
from govserve.casework.flow import FlowContext, Route
from govserve.casework.models import (
    OPEN_TASK_STATUSES,
    AssistedApplication,
    CaseEvent,
    CaseEventKind,
    CaseFile,
    Correction,
    CounterKind,
    CounterRecord,
    Decision,
    DecisionKind,
    FileOutcome,
    FileState,
    Message,
    MessageSender,
    Note,
    ProcessingValue,
    Task,
    TaskKind,
    TaskStatus,
)
from govserve.casework.permissions import Scope, scope_of
from govserve.casework.sla import due_on, expected_decision_on, service_today
from govserve.catalogue.definitions.schema import AnyField, FileField, GroupField, Role
from govserve.catalogue.errors import ServiceNotFoundError, ServiceRetiredError, VersionNotFoundError
from govserve.catalogue.selectors import published_version_load
from govserve.core import clock
from govserve.core.errors import ApplicationError, ValidationError
from govserve.core.jobs import enqueue
from govserve.core.queries import PreparedFilter, row_insert, row_insert_unless_taken
from govserve.journeys.access import Applicant
from govserve.journeys.answers import answers_load, answers_write, page_fields_by_id, to_json
from govserve.journeys.fields import FieldError, parse_field, validate_field, value_from_json, value_to_json
from govserve.journeys.fields.parse import FormData
from govserve.journeys.models import Answer, Application, ApplicationDocument, ApplicationStatus, Channel
from govserve.journeys.registrations import fee_summary, registrations_applied, required_documents
from govserve.journeys.resubmission import application_status_record
from govserve.journeys.resubmission_records import RecordsChanged, records_recompute
from govserve.journeys.selectors import documents_of, state_load
from govserve.journeys.services import application_start, submission_problems
from govserve.notifications.email import normalise_recipient
from govserve.privacy.crypto import seal, unseal_text

SYSTEM = Actor.system("casework")
BOT = Actor.system("casework.bot")
FILE_SUBJECT = "casework.file"
TASK_SUBJECT = "casework.task"
REASON_MAX = 5000
NOTE_MAX = 10_000
MESSAGE_MAX = 5000

_STATUS_OF_OUTCOME = {
    FileOutcome.APPROVED: ApplicationStatus.APPROVED,
    FileOutcome.REJECTED: ApplicationStatus.REJECTED,
}


# --- Shared steps -------------------------------------------------------------------------------------


def _event(
    case_file: CaseFile,
    kind: CaseEventKind,
    *,
    actor: Actor,
    user: User | None = None,
    task: Task | None = None,
    role_id: str = "",
    details: dict[str, Any] | None = None,
    applicant_visible: bool = False,
) -> CaseEvent:
    event = CaseEvent(
        case_file=case_file,
        kind=kind,
        task=task,
        role_id=role_id or (task.role_id if task is not None else ""),
        actor_kind=actor.kind.value,
        actor_user=user,
        details=details or {},
        applicant_visible=applicant_visible,
    )
    row_insert(event)  # every transition writes one or more: the INSERT built once, not per event
    if applicant_visible:
        hooks.case_event_hooks_run(event)
    return event


def _transition_record(
    subject: Task | CaseFile,
    kind: CaseEventKind,
    *,
    action: str,
    actor: Actor,
    user: User | None = None,
    task: Task | None = None,
    details: dict[str, Any] | None = None,
    audit_details: dict[str, Any] | None = None,
    applicant_visible: bool = False,
) -> None:
    """Write a transition's case event ``kind`` and its audit entry ``action`` about ``subject``.

    A task as ``subject`` is the event's task and names the file; with a file
    as ``subject``, ``task`` names the task the event concerns, if any. The
    audit entry carries ``audit_details`` when given, else the event's
    ``details`` (ids and codes in both). The event is written first, so its
    hooks run before the entry, as everywhere in this module.
    """
    if isinstance(subject, Task):
        case_file, task, subject_type = subject.case_file, subject, TASK_SUBJECT
    else:
        case_file, subject_type = subject, FILE_SUBJECT
    _event(case_file, kind, actor=actor, user=user, task=task, details=details, applicant_visible=applicant_visible)
    audit_record(
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=subject.id,
        details=details if audit_details is None else audit_details,
    )


def _status_set(application: Application, status: str, *, actor: Actor) -> None:
    """Move the application to ``status`` (if it is not there) with the applicant's history entry."""
    if application.status != status:
        application_status_record(application, to_status=status, actor_kind=actor.kind.value)


def _institutions(codes: set[str], known: Institution | None = None) -> dict[str, Institution]:
    """Return the institutions with ``codes`` by code; ``known`` (just read in this transaction) is not read again."""
    found = {known.code: known} if known is not None and known.code in codes else {}
    missing = codes - found.keys()
    if missing:
        found.update((institution.code, institution) for institution in Institution.objects.filter(code__in=missing))
    return found


def _expected_update(
    flow: FlowContext,
    case_file: CaseFile,
    index: int | None,
    due: dt.date | None,
    *,
    known: Institution | None = None,
) -> None:
    if index is None:
        case_file.expected_decision_on = None
        return
    ahead = flow.roles_ahead(index)
    case_file.expected_decision_on = expected_decision_on(
        current_due=due,
        start=service_today(flow.compiled.definition),
        roles_ahead=ahead,
        institutions=_institutions({role.institution for role in ahead}, known=known),
    )


# The reads of every file opened: the ORM's statements built once per process (core.queries).
_INSTITUTION_BY_CODE = PreparedFilter(Institution, samples={"code": "\x00sample code"}, limit=1)
_FILE_OF_APPLICATION = PreparedFilter(
    CaseFile, samples={"application_id": uuid.UUID(int=0xCA5E_F11E_0000_4000_8000_0000_0000_0001)}, limit=1
)


def _institution(code: str) -> Institution:
    """Return the institution ``code``; raise Institution.DoesNotExist as ``Institution.objects.get`` would."""
    found = _INSTITUTION_BY_CODE.first(code=code)
    if found is None:
        msg = "Institution matching query does not exist."
        raise Institution.DoesNotExist(msg)
    return found


def _task_plan(flow: FlowContext, case_file: CaseFile, index: int) -> Task:
    """Return the (unsaved) task of the role at ``index`` and set the file's state for it; reads, writes nothing."""
    role = flow.roles[index]
    institution = _institution(role.institution)
    today = service_today(flow.compiled.definition)
    task = Task(
        case_file=case_file,
        application=flow.application,
        institution=institution,
        service_id=case_file.service_id,
        reference=case_file.reference,
        submitted_at=case_file.submitted_at,
        role_id=role.id,
        role_index=index,
        kind=TaskKind.BOT if role.kind == "bot" else TaskKind.HUMAN,
        due_on=due_on(role, institution, today),
    )
    case_file.current_role_id = role.id
    case_file.state = FileState.OPEN
    # The roles ahead are often of the task's own institution: it is not read a second time.
    _expected_update(flow, case_file, index, task.due_on, known=institution)
    return task


def _task_record(case_file: CaseFile, task: Task, *, actor: Actor) -> None:
    """Write the planned ``task``, its case event and (a bot's) decision job."""
    row_insert(task)
    _event(case_file, CaseEventKind.TASK_CREATED, actor=actor, task=task, details={"kind": task.kind})
    if task.kind == TaskKind.BOT:
        # The outbox: the job row commits with the task, or neither exists.
        enqueue("casework.bot.decide", idempotency_key=f"casework.bot:{task.id}", task_id=str(task.id))


def _route_plan(
    flow: FlowContext, case_file: CaseFile, route: Route, *, sent_back_from: int | None = None
) -> tuple[Task | None, str]:
    """Set the file's state for ``route``; return (the new task, not yet written, or None; the application status).

    Reads what a new task needs (its institution, the working-day calendars)
    and writes nothing: :func:`_route_record` writes what it planned.
    """
    if route.kind == "role":
        assert route.role_index is not None  # noqa: S101 - a role route names its role
        return _task_plan(flow, case_file, route.role_index), ApplicationStatus.IN_PROGRESS
    if route.kind == "applicant":
        case_file.state = FileState.SENT_BACK
        case_file.current_role_id = ""
        case_file.return_to_role_id = flow.roles[sent_back_from if sent_back_from is not None else 0].id
        case_file.expected_decision_on = None
        return None, ApplicationStatus.SENT_BACK
    case_file.state = FileState.CLOSED
    case_file.outcome = route.outcome
    case_file.current_role_id = ""
    case_file.closed_at = clock.now()
    case_file.expected_decision_on = None
    return None, _STATUS_OF_OUTCOME[FileOutcome(route.outcome)]


def _route_record(flow: FlowContext, case_file: CaseFile, route: Route, task: Task | None, *, actor: Actor) -> None:
    """Write the events of the roles ``route`` skipped, then its planned ``task`` (if any)."""
    for skipped in route.skipped:
        _event(
            case_file,
            CaseEventKind.ROLE_SKIPPED,
            actor=actor,
            role_id=flow.roles[skipped].id,
            details={"reason": "when_false"},
        )
    if task is not None:
        _task_record(case_file, task, actor=actor)


def _route_apply(
    flow: FlowContext,
    case_file: CaseFile,
    route: Route,
    *,
    actor: Actor,
    user: User | None,
    sent_back_from: int | None = None,
) -> tuple[Task | None, str]:
    """Apply ``route`` to the file; return (the new task or None, the application status it implies)."""
    task, status = _route_plan(flow, case_file, route, sent_back_from=sent_back_from)
    _route_record(flow, case_file, route, task, actor=actor)
    return task, status


def _file_closed(case_file: CaseFile, application: Application, *, actor: Actor, user: User | None) -> None:
    _transition_record(
        case_file,
        CaseEventKind.FILE_CLOSED,
        action="casework.file.closed",
        actor=actor,
        user=user,
        details={"outcome": case_file.outcome},
        applicant_visible=True,
    )
    if case_file.outcome == FileOutcome.APPROVED:
        hooks.approved_hooks_run(application, actor=actor)


_FILE_FIELDS = [
    "state",
    "outcome",
    "current_role_id",
    "return_to_role_id",
    "sent_back_fields",
    "sent_back_documents",
    "closed_at",
    "expected_decision_on",
    "updated_at",
]


# --- Opening a file -----------------------------------------------------------------------------------


def file_open(application: Application, *, actor: Actor | None = None, locked: bool = False) -> CaseFile:
    """Open the case file of a ``submitted`` application: its first task per the pinned flow; return the file.

    Called by the journey's submission hook and by payments once a fee due
    before submission is paid (payments sets ``submitted`` first, in the same
    transaction). Idempotent: a file already open is returned unchanged.
    Roles whose ``when`` is false are skipped (recorded); a flow with no role
    that applies closes the file approved at once. Raise FileNotOpenError for
    an application that is not ``submitted``. Audited as ``casework.file.opened``.
    ``locked``: the caller holds the application's row lock in the current
    transaction and has just written it (the journey's submission), so it is
    not read again.
    """
    who = actor or SYSTEM
    if locked and not connection.in_atomic_block:
        msg = "file_open(locked=True) must run inside the transaction that locked the application"
        raise RuntimeError(msg)
    # Locked: the caller's transaction is all-or-nothing with this (a failure here fails its submission), so no
    # savepoint of its own.
    with transaction.atomic(savepoint=not locked):
        if not locked:
            application = Application.objects.select_for_update().get(pk=application.pk)
            existing = _FILE_OF_APPLICATION.first(application_id=application.pk)
            if existing is not None:
                return existing
        if application.status != ApplicationStatus.SUBMITTED or application.submitted_at is None:
            raise errors.FileNotOpenError(_("Only a submitted application can be opened as a case file"))
        flow = FlowContext(application)
        case_file = CaseFile(
            application=application,
            service_id=application.service_id,
            version_number=application.version_number,
            reference=application.reference,
            submitted_at=application.submitted_at,
        )
        # The first route is planned before the file is written, so the file is written once, in its first state.
        route = flow.first()
        task, status = _route_plan(flow, case_file, route)
        if not locked:
            row_insert(case_file)
        elif not row_insert_unless_taken(case_file, unique="application"):
            # Locked: the submission has just sent a draft, which has no file; should one exist all the same, the
            # file's unique application answers (the insert writes nothing) instead of a read before every insert.
            existing = _FILE_OF_APPLICATION.first(application_id=application.pk)
            if existing is None:  # pragma: no cover - a file cannot go while its application is locked
                msg = f"the case file of application {application.pk} went while it was locked"
                raise RuntimeError(msg)
            return existing
        _event(case_file, CaseEventKind.FILE_OPENED, actor=who, details={"version": application.version_number})
        _route_record(flow, case_file, route, task, actor=who)
        if case_file.state == FileState.CLOSED:
            _status_set(application, status, actor=who)
            _file_closed(case_file, application, actor=who, user=None)
        audit_record(
            actor=who,
            action="casework.file.opened",
            subject_type=FILE_SUBJECT,
            subject_id=case_file.id,
            details={
                "application": str(application.id),
                "service": application.service_id,
                "version": application.version_number,
                "first_role": task.role_id if task is not None else None,
            },
        )
    return case_file


# --- Locking and permission checks --------------------------------------------------------------------


def _not_found() -> errors.TaskNotFoundError:
    return errors.TaskNotFoundError(_("There is no task at this address, or you cannot see it"))


def _task_locked(task_id: uuid.UUID | str, scope: Scope | None) -> tuple[Application, Task]:
    """Lock the task's application, then the task; raise TaskNotFoundError when out of ``scope`` (None: system)."""
    try:
        key = uuid.UUID(str(task_id))
    except ValueError:
        raise _not_found() from None
    row = Task.objects.filter(pk=key).values("application_id", "institution__code", "role_id", "service_id").first()
    if row is None or (
        scope is not None and not scope.may_see(row["institution__code"], row["role_id"], row["service_id"])
    ):
        raise _not_found()
    application = Application.objects.select_for_update().get(pk=row["application_id"])
    # Lock only the task row (``of``), reading its institution in the same query.
    task = Task.objects.select_for_update(of=("self",)).select_related("institution").get(pk=key)
    return application, task


def _version_check(task: Task, version: int | None) -> None:
    if version is not None and task.version != version:
        raise errors.TaskChangedError(
            _(
                "This task changed since you opened it (someone else claimed, assigned or decided it): "
                "look at it again before you carry on"
            )
        )


def _open_check(task: Task) -> None:
    if task.status not in OPEN_TASK_STATUSES:
        raise errors.TaskClosedError(_("This task has already been decided: there is nothing left to do on it"))


def _claiming(flow: FlowContext) -> bool:
    return flow.compiled.definition.flow.claiming


def _task_save(task: Task, *fields: str) -> None:
    task.version = task.version + 1
    task.save(update_fields=[*fields, "version", "updated_at"])


def _user_of(user_id: uuid.UUID | str) -> User | None:
    try:
        key = uuid.UUID(str(user_id))
    except ValueError:
        return None
    return User.objects.filter(pk=key).select_related("unit").first()


def _eligible(candidate: User | None, task: Task) -> User:
    if candidate is not None and account_usable(candidate):
        scope = scope_of(candidate)
        if scope.holds(task.institution.code, task.role_id, task.service_id):
            return candidate
        if candidate.is_supplier and (task.institution.code, task.role_id) in scope.held:
            # The role is theirs, but their supplier's access names other services: say so, not "no such role".
            raise errors.AssigneeNotEligibleError(
                _(
                    "This person works for a supplier whose access does not include this service: "
                    "choose someone else who holds this task's role"
                )
            )
    raise errors.AssigneeNotEligibleError(_("Choose someone who holds this task's role in this team"))


def _started(application: Application, *, actor: Actor) -> None:
    """The first claim or decision on a file: the application is in progress."""
    if application.status == ApplicationStatus.SUBMITTED:
        _status_set(application, ApplicationStatus.IN_PROGRESS, actor=actor)


# --- Claim, assign, release ---------------------------------------------------------------------------


def task_claim(*, user: User, task_id: uuid.UUID | str, version: int | None = None) -> Task:
    """Claim a pending task for ``user``; return it. Claiming your own claimed task again changes nothing.

    Raise TaskNotFoundError (not visible), TaskChangedError (stale ``version``),
    TaskClosedError, ClaimingDisabledError (the service assigns work, or a bot
    task), NotAssigneeError (a team leader who does not hold the role),
    TaskAlreadyClaimedError (someone else has it). Audited as ``casework.task.claimed``.
    """
    scope = scope_of(user)
    with transaction.atomic():
        application, task = _task_locked(task_id, scope)
        if task.status == TaskStatus.CLAIMED and task.assignee_id == user.pk:
            return task
        _version_check(task, version)
        _open_check(task)
        flow = FlowContext(application)
        if task.kind == TaskKind.BOT:
            raise errors.ClaimingDisabledError(_("This task is decided automatically: it cannot be claimed"))
        if not _claiming(flow):
            raise errors.ClaimingDisabledError(_("Work on this service is assigned by a team leader: ask for it"))
        if not scope.holds(task.institution.code, task.role_id, task.service_id):
            raise errors.NotAssigneeError(_("Only staff who hold this task's role can claim it: assign it instead"))
        if task.status == TaskStatus.CLAIMED:
            raise errors.TaskAlreadyClaimedError(_("Someone else has already claimed this task"))
        task.status = TaskStatus.CLAIMED
        task.assignee = user
        task.assigned_at = clock.now()
        _task_save(task, "status", "assignee", "assigned_at")
        actor = Actor.for_user(user)
        _started(application, actor=actor)
        _transition_record(task, CaseEventKind.TASK_CLAIMED, action="casework.task.claimed", actor=actor, user=user)
    return task


def task_assign(
    *, user: User, task_id: uuid.UUID | str, assignee_id: uuid.UUID | str, version: int | None = None
) -> Task:
    """Assign an open task to a colleague who holds its role; return it.

    A team leader may assign any open task in their scope; anyone holding the
    role may hand on a pending task or their own, where the service uses
    claiming. Raise TaskNotFoundError, TaskChangedError, TaskClosedError,
    NotTeamLeaderError, AssigneeNotEligibleError. Audited as ``casework.task.assigned``.
    """
    scope = scope_of(user)
    with transaction.atomic():
        application, task = _task_locked(task_id, scope)
        _version_check(task, version)
        _open_check(task)
        if task.kind == TaskKind.BOT:
            raise errors.ClaimingDisabledError(_("This task is decided automatically: it cannot be assigned"))
        flow = FlowContext(application)
        leads = scope.leads(task.institution.code, task.role_id, task.service_id)
        if not leads:
            may_hand_on = (
                _claiming(flow)
                and scope.holds(task.institution.code, task.role_id, task.service_id)
                and (task.status == TaskStatus.PENDING or task.assignee_id == user.pk)
            )
            if not may_hand_on:
                raise errors.NotTeamLeaderError(_("Only a team leader can assign this task"))
        assignee = _eligible(_user_of(assignee_id), task)
        task.status = TaskStatus.CLAIMED
        task.assignee = assignee
        task.assigned_at = clock.now()
        _task_save(task, "status", "assignee", "assigned_at")
        actor = Actor.for_user(user)
        _transition_record(
            task,
            CaseEventKind.TASK_ASSIGNED,
            action="casework.task.assigned",
            actor=actor,
            user=user,
            details={"assignee": str(assignee.pk)},
        )
    return task


def task_release(*, user: User, task_id: uuid.UUID | str, version: int | None = None) -> Task:
    """Put a claimed task back in its role's pool; return it.

    The assignee or a team leader over the role may. Raise TaskNotFoundError,
    TaskChangedError, TaskClosedError, NotAssigneeError (someone else's task,
    or a pending one). Audited as ``casework.task.released``.
    """
    scope = scope_of(user)
    with transaction.atomic():
        _application, task = _task_locked(task_id, scope)
        _version_check(task, version)
        _open_check(task)
        if task.status != TaskStatus.CLAIMED or (
            task.assignee_id != user.pk and not scope.leads(task.institution.code, task.role_id, task.service_id)
        ):
            raise errors.NotAssigneeError(
                _("Only the person working on this task, or their team leader, can release it")
            )
        task.status = TaskStatus.PENDING
        task.assignee = None
        task.assigned_at = None
        _task_save(task, "status", "assignee", "assigned_at")
        actor = Actor.for_user(user)
        _transition_record(task, CaseEventKind.TASK_RELEASED, action="casework.task.released", actor=actor, user=user)
    return task


def tasks_reassign(*, user: User, task_ids: Sequence[uuid.UUID | str], assignee_id: uuid.UUID | str | None) -> int:
    """Reassign several open tasks at once (team leaders); ``assignee_id`` None puts them back in the pool.

    All or nothing: every task must be open and in the leader's scope, and the
    assignee must hold every task's role. Return how many tasks changed.
    Raise TaskNotFoundError, TaskClosedError, NotTeamLeaderError,
    AssigneeNotEligibleError. Audited once as ``casework.tasks.bulk_reassigned``.
    """
    scope = scope_of(user)
    if not scope.leader_of:
        raise errors.NotTeamLeaderError(_("Only a team leader can reassign work"))
    keys: list[uuid.UUID] = []
    for task_id in task_ids:
        try:
            keys.append(uuid.UUID(str(task_id)))
        except ValueError:
            raise _not_found() from None
    keys = sorted(set(keys))
    if not keys:
        return 0
    assignee = _user_of(assignee_id) if assignee_id is not None else None
    if assignee_id is not None and assignee is None:
        raise errors.AssigneeNotEligibleError(_("Choose someone who holds these tasks' role in this team"))
    actor = Actor.for_user(user)
    with transaction.atomic():
        rows = list(
            Task.objects.filter(pk__in=keys).values(
                "id", "application_id", "institution__code", "role_id", "service_id"
            )
        )
        if len(rows) != len(keys) or any(
            not scope.may_see(row["institution__code"], row["role_id"], row["service_id"]) for row in rows
        ):
            raise _not_found()
        if any(not scope.leads(row["institution__code"], row["role_id"], row["service_id"]) for row in rows):
            raise errors.NotTeamLeaderError(_("You can only reassign the work of roles your team holds"))
        # Lock in the same order as every other transition: applications, then tasks.
        list(
            Application.objects.select_for_update()
            .filter(pk__in={row["application_id"] for row in rows})
            .order_by("pk")
        )
        tasks = list(Task.objects.select_for_update().filter(pk__in=keys).order_by("pk"))
        institutions = {i.pk: i for i in Institution.objects.filter(pk__in={t.institution_id for t in tasks})}
        now = clock.now()
        for task in tasks:
            task.institution = institutions[task.institution_id]
            _open_check(task)
            if task.kind == TaskKind.BOT:
                raise errors.ClaimingDisabledError(_("A task decided automatically cannot be assigned"))
            if assignee is not None:
                _eligible(assignee, task)
        for task in tasks:
            task.status = TaskStatus.CLAIMED if assignee is not None else TaskStatus.PENDING
            task.assignee = assignee
            task.assigned_at = now if assignee is not None else None
            _task_save(task, "status", "assignee", "assigned_at")
            _event(
                task.case_file,
                CaseEventKind.TASK_ASSIGNED if assignee is not None else CaseEventKind.TASK_RELEASED,
                actor=actor,
                user=user,
                task=task,
                details={"assignee": str(assignee.pk) if assignee is not None else None, "bulk": True},
            )
        audit_record(
            actor=actor,
            action="casework.tasks.bulk_reassigned",
            subject_type=TASK_SUBJECT,
            subject_id=str(keys[0]),
            details={"tasks": [str(key) for key in keys], "assignee": str(assignee.pk) if assignee else None},
        )
    return len(tasks)


# --- Processing fields --------------------------------------------------------------------------------


def processing_field_name(role_id: str, field_id: str) -> str:
    """Return the sealing field of a processing value."""
    return f"casework.processing.{role_id}.{field_id}"


def _supported(definition_field: AnyField) -> bool:
    # Uploads and repeating groups are not processing inputs in this release (docs/casework.md).
    return not isinstance(definition_field, FileField | GroupField)


def processing_values_load(case_file: CaseFile, role: Role) -> dict[str, Any]:
    """Return the saved processing values of ``role`` on ``case_file``, typed, by field id."""
    fields = {definition_field.id: definition_field for definition_field in role.fields}
    loaded: dict[str, Any] = {}
    for row in ProcessingValue.objects.filter(case_file=case_file, role_id=role.id):
        definition_field = fields.get(row.field_id)
        if definition_field is None:
            continue
        text = unseal_text(
            owner=case_file.crypto_owner, field=processing_field_name(role.id, row.field_id), sealed=row.value_sealed
        )
        loaded[row.field_id] = value_from_json(definition_field, json.loads(text))
    return loaded


def _processing_parse(
    flow: FlowContext, role: Role, data: FormData | None, saved: Mapping[str, Any], *, strict: bool, language: str
) -> tuple[dict[str, Any], list[FieldError]]:
    """Return the role's processing values (posted, else saved) and their problems.

    ``strict`` (approval): every check, required included; otherwise only the
    values given are checked (a reason to reject needs no inspection date).
    """
    definition = flow.compiled.definition
    index = flow.role_index(role.id)
    values: dict[str, Any] = {}
    found: list[FieldError] = []
    for number, definition_field in enumerate(role.fields):
        if not _supported(definition_field):
            continue
        if definition_field.when is not None and not flow.evaluator.condition(
            f"flow.roles[{index}].fields[{number}].when"
        ):
            continue
        if data is None:
            value = saved.get(definition_field.id)
        else:
            value, problems = parse_field(
                definition_field,
                data,
                language=language,
                phone_region=definition.phone_region,
                currency=definition.currency,
                catalogues=flow.compiled.catalogues,
            )
            if problems:
                found.extend(problems)
                continue
        values[definition_field.id] = value
        if value is None and not strict:
            continue
        found.extend(
            validate_field(
                definition_field,
                value,
                context=flow.evaluator.context,
                language=language,
                today=flow.evaluator.today,
                currency=definition.currency,
            )
        )
    return values, found


def _processing_store(case_file: CaseFile, role: Role, values: Mapping[str, Any], *, user: User | None) -> list[str]:
    fields = {definition_field.id: definition_field for definition_field in role.fields}
    changed: list[str] = []
    for field_id, value in values.items():
        if value is None:
            deleted, _count = ProcessingValue.objects.filter(
                case_file=case_file, role_id=role.id, field_id=field_id
            ).delete()
            if deleted:
                changed.append(field_id)
            continue
        text = json.dumps(value_to_json(fields[field_id], value), ensure_ascii=False, sort_keys=True)
        sealed = seal(owner=case_file.crypto_owner, field=processing_field_name(role.id, field_id), plaintext=text)
        # The application row is locked by the caller: no concurrent writer, so update-else-insert is safe.
        updated = ProcessingValue.objects.filter(case_file=case_file, role_id=role.id, field_id=field_id).update(
            value_sealed=sealed, updated_by=user, updated_at=clock.now()
        )
        if not updated:
            ProcessingValue.objects.create(
                case_file=case_file, role_id=role.id, field_id=field_id, value_sealed=sealed, updated_by=user
            )
        changed.append(field_id)
    return changed


def _acting_task(user: User, task: Task, scope: Scope, flow: FlowContext) -> None:
    """Check that ``user`` may work on ``task`` now (its assignee, or a role holder on a claimable pending task)."""
    if task.kind == TaskKind.BOT:
        raise errors.DecisionNotAllowedError(_("This task is decided automatically by its rule"))
    if task.status == TaskStatus.CLAIMED:
        if task.assignee_id != user.pk:
            raise errors.NotAssigneeError(_("This task is assigned to someone else: only they can work on it"))
        return
    if not scope.holds(task.institution.code, task.role_id, task.service_id):
        raise errors.NotAssigneeError(_("Only staff who hold this task's role can work on it"))
    if not _claiming(flow):
        raise errors.ClaimingDisabledError(_("Work on this service is assigned: ask your team leader for this task"))


def processing_values_save(
    *, user: User, task_id: uuid.UUID | str, data: FormData, version: int | None = None, language: str = "en"
) -> Task:
    """Save the processing fields of the task's role without deciding (the given values are checked); return the task.

    Raise ProcessingFieldsInvalidError (``extra['errors']``: FieldError list;
    nothing saved), and the errors of :func:`decision_record` about who may
    act. Audited as ``casework.processing.saved`` (field ids only).
    """
    scope = scope_of(user)
    with transaction.atomic():
        application, task = _task_locked(task_id, scope)
        _version_check(task, version)
        _open_check(task)
        flow = FlowContext(application)
        _acting_task(user, task, scope, flow)
        role = flow.roles[task.role_index]
        values, found = _processing_parse(flow, role, data, {}, strict=False, language=language)
        if found:
            raise errors.ProcessingFieldsInvalidError(_("There is a problem with the processing details"), errors=found)
        changed = _processing_store(task.case_file, role, values, user=user)
        _task_save(task)
        actor = Actor.for_user(user)
        _transition_record(
            task,
            CaseEventKind.PROCESSING_SAVED,
            action="casework.processing.saved",
            actor=actor,
            user=user,
            details={"fields": changed},
        )
    return task


# --- Decisions ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionResult:
    """A recorded decision: the decided task, the file, the next task (if any) and the application's status."""

    task: Task
    case_file: CaseFile
    decision: Decision
    next_task: Task | None
    application_status: str


def _flags_check(application: Application, flow: FlowContext, fields: Sequence[str], documents: Sequence[str]) -> None:
    known_fields = set(page_fields_by_id(flow.compiled.definition))
    unknown = [field_id for field_id in fields if field_id not in known_fields]
    if documents:
        known_documents = set(
            ApplicationDocument.objects.filter(application=application).values_list("requirement_id", flat=True)
        )
        unknown += [document for document in documents if document not in known_documents]
    if unknown:
        raise errors.FlagsInvalidError(
            _("Flag only answers and documents of this application"), unknown=sorted(set(unknown))
        )


def _text(value: str, *, limit: int, what: str, error: type[ValidationError]) -> str:
    text = (value or "").strip()
    if len(text) > limit:
        raise error(_("%(what)s must be %(limit)s characters or fewer") % {"what": what, "limit": f"{limit:,}"})
    return text


def _decide(  # noqa: PLR0912, PLR0915 - one decision's steps, in order
    *,
    task_id: uuid.UUID | str,
    user: User | None,
    decision: str | None,
    reason: str = "",
    data: FormData | None = None,
    flagged_fields: Sequence[str] = (),
    flagged_documents: Sequence[str] = (),
    message: str = "",
    version: int | None = None,
    language: str = "en",
) -> DecisionResult:
    """Record a decision by ``user``, or by the bot role's rule when ``user`` is None (``decision`` then ignored)."""
    scope = scope_of(user) if user is not None else None
    actor = Actor.for_user(user) if user is not None else BOT
    reason = _text(reason, limit=REASON_MAX, what=_("The reason"), error=errors.ReasonRequiredError)
    message = _text(message, limit=MESSAGE_MAX, what=_("The message"), error=errors.MessageInvalidError)
    with transaction.atomic():
        application, task = _task_locked(task_id, scope)
        _version_check(task, version)
        _open_check(task)
        flow = FlowContext(application)
        role = flow.roles[task.role_index]
        rule_path, rule_result = "", None
        if user is None:
            if task.kind != TaskKind.BOT:
                raise errors.DecisionNotAllowedError(_("Only a bot role's task is decided automatically"))
            rule_path = f"flow.roles[{task.role_index}].rule"
            rule_result = flow.bot_rule(task.role_index)
            decision = role.on_true if rule_result else role.on_false
        else:
            assert scope is not None  # noqa: S101 - set with the user
            _acting_task(user, task, scope, flow)
        allowed = dict(role.decisions.items())
        if decision not in allowed:
            raise errors.DecisionNotAllowedError(
                _("This role cannot make that decision"), allowed=sorted(allowed), decision=str(decision)
            )
        kind = DecisionKind(decision)
        if user is not None and kind != DecisionKind.APPROVE and not reason:
            raise errors.ReasonRequiredError(
                _("Enter the reason for rejecting") if kind == DecisionKind.REJECT else _("Enter what needs to change")
            )
        route = flow.route(task.role_index, kind.value)
        flags_given = bool(flagged_fields or flagged_documents)
        if flags_given and route.kind != "applicant":
            raise errors.FlagsInvalidError(_("Flag answers and documents only when you send the application back"))
        if route.kind == "applicant" and user is not None and not flags_given:
            raise errors.FlagsInvalidError(_("Choose the answers or documents the applicant must change"))
        if route.kind == "applicant" and user is None:
            # A bot sends back what its rule read: the applicant may change those answers.
            flagged_fields = flow.rule_fields(task.role_index)
        _flags_check(application, flow, flagged_fields, flagged_documents)
        case_file = CaseFile.objects.get(pk=task.case_file_id)
        processing_changed: list[str] = []
        if user is not None and role.fields:
            saved = processing_values_load(case_file, role) if data is None else {}
            strict = kind == DecisionKind.APPROVE
            values, found = _processing_parse(flow, role, data, saved, strict=strict, language=language)
            if found:
                raise errors.ProcessingFieldsInvalidError(
                    _("Fill in the processing details before you approve")
                    if strict
                    else _("There is a problem with the processing details"),
                    errors=found,
                )
            if data is not None:
                processing_changed = _processing_store(case_file, role, values, user=user)
        now = clock.now()
        if task.status == TaskStatus.PENDING and user is not None:
            task.assignee = user
            task.assigned_at = now
        task.status = TaskStatus.DONE
        task.decision = kind.value
        task.decided_by = user
        task.decided_at = now
        _task_save(task, "status", "assignee", "assigned_at", "decision", "decided_by", "decided_at")
        record_id = uuid.uuid4()
        record = Decision.objects.create(
            id=record_id,
            case_file=case_file,
            task=task,
            role_id=role.id,
            decision=kind.value,
            target=dict(role.decisions.items())[kind.value],  # type: ignore[index]
            automatic=user is None,
            decided_by=user,
            reason_sealed=seal(
                owner=case_file.crypto_owner, field=f"casework.decision.{record_id}.reason", plaintext=reason
            )
            if reason
            else None,
            rule_path=rule_path,
            rule_result=rule_result,
            flagged_fields=sorted(set(flagged_fields)),
            flagged_documents=sorted(set(flagged_documents)),
            decided_at=now,
        )
        details = {
            "decision": kind.value,
            "target": record.target,
            "automatic": user is None,
            "rule_result": rule_result,
            "processing_fields": processing_changed,
        }
        _event(case_file, CaseEventKind.DECISION_RECORDED, actor=actor, user=user, task=task, details=details)
        next_task, status = _route_apply(flow, case_file, route, actor=actor, user=user, sent_back_from=task.role_index)
        if route.kind == "applicant":
            case_file.sent_back_fields = record.flagged_fields
            case_file.sent_back_documents = record.flagged_documents
            if message:
                _message_create(case_file, sender=MessageSender.STAFF, user=user, body=message, actor=actor)
            _event(
                case_file,
                CaseEventKind.SENT_BACK,
                actor=actor,
                user=user,
                task=task,
                details={"fields": record.flagged_fields, "documents": record.flagged_documents},
                applicant_visible=True,
            )
        case_file.save(update_fields=_FILE_FIELDS)
        _status_set(application, status, actor=actor)
        audit_record(
            actor=actor,
            action="casework.decision.recorded",
            subject_type=TASK_SUBJECT,
            subject_id=task.id,
            details={
                **details,
                "role": role.id,
                "file": str(case_file.id),
                "flagged_fields": record.flagged_fields,
                "flagged_documents": record.flagged_documents,
                "next_role": next_task.role_id if next_task is not None else None,
            },
        )
        if case_file.state == FileState.CLOSED:
            _file_closed(case_file, application, actor=actor, user=user)
    return DecisionResult(
        task=task, case_file=case_file, decision=record, next_task=next_task, application_status=status
    )


def decision_record(
    *,
    user: User,
    task_id: uuid.UUID | str,
    decision: str,
    reason: str = "",
    data: FormData | None = None,
    flagged_fields: Sequence[str] = (),
    flagged_documents: Sequence[str] = (),
    message: str = "",
    version: int | None = None,
    language: str = "en",
) -> DecisionResult:
    """Record ``user``'s decision on a task and move the file on (module docstring of flow); return the result.

    ``decision`` is one the role allows (approve, reject, send_back);
    ``reason`` is required to reject or send back; ``data`` is the posted
    processing form (None: use the values saved before); approval needs
    every required processing field; ``flagged_fields``/``flagged_documents``
    (answer and document ids) and ``message`` go with a send-back to the
    applicant, which needs at least one flag. The assignee decides; where the
    service uses claiming, a role holder may decide a pending task directly.
    Raise TaskNotFoundError, TaskChangedError, TaskClosedError,
    NotAssigneeError, ClaimingDisabledError, DecisionNotAllowedError,
    ReasonRequiredError, FlagsInvalidError, ProcessingFieldsInvalidError
    (nothing changes). Audited as ``casework.decision.recorded``.
    """
    return _decide(
        task_id=task_id,
        user=user,
        decision=decision,
        reason=reason,
        data=data,
        flagged_fields=flagged_fields,
        flagged_documents=flagged_documents,
        message=message,
        version=version,
        language=language,
    )


def decision_record_automatic(*, task_id: uuid.UUID | str) -> DecisionResult | None:
    """Decide a bot task by its role's rule (``on_true``/``on_false``); return the result, None if already closed.

    Run by the ``casework.bot.decide`` job. Idempotent: a task decided (or
    cancelled) before the job ran is left alone. Audited like a person's
    decision, with the system actor ``casework.bot``.
    """
    try:
        return _decide(task_id=task_id, user=None, decision=None)
    except errors.TaskClosedError:
        return None


# --- The applicant's side: resubmission and withdrawal (journeys hooks) ------------------------------


def file_resubmitted(application: Application) -> None:
    """Return a sent-back file to the role that sent it back (journeys' resubmission hook, in its transaction).

    Audited as ``casework.file.resubmitted``.
    """
    case_file = CaseFile.objects.select_for_update().filter(application=application).first()
    if case_file is None or case_file.state != FileState.SENT_BACK:
        return
    flow = FlowContext(application)
    try:
        index = flow.role_index(case_file.return_to_role_id)
    except KeyError:
        index = 0
    actor = SYSTEM
    _event(
        case_file,
        CaseEventKind.RESUBMITTED,
        actor=Actor.system("applicant"),
        details={"fields": case_file.sent_back_fields, "documents": case_file.sent_back_documents},
        applicant_visible=True,
    )
    task, _status = _route_apply(flow, case_file, Route(kind="role", role_index=index), actor=actor, user=None)
    case_file.return_to_role_id = ""
    case_file.sent_back_fields = []
    case_file.sent_back_documents = []
    case_file.save(update_fields=_FILE_FIELDS)
    audit_record(
        actor=actor,
        action="casework.file.resubmitted",
        subject_type=FILE_SUBJECT,
        subject_id=case_file.id,
        details={"role": task.role_id if task is not None else None},
    )


def file_withdrawn(application: Application) -> None:
    """Cancel the open task of a withdrawn application's file and close it (journeys' withdrawal hook).

    Audited as ``casework.file.withdrawn`` (with the number of tasks cancelled).
    """
    case_file = CaseFile.objects.select_for_update().filter(application=application).first()
    if case_file is None or case_file.state == FileState.CLOSED:
        return
    cancelled = 0
    for task in Task.objects.select_for_update().filter(case_file=case_file, status__in=OPEN_TASK_STATUSES):
        task.status = TaskStatus.CANCELLED
        _task_save(task, "status")
        cancelled += 1
    case_file.state = FileState.CLOSED
    case_file.outcome = FileOutcome.WITHDRAWN
    case_file.current_role_id = ""
    case_file.closed_at = clock.now()
    case_file.expected_decision_on = None
    case_file.save(update_fields=_FILE_FIELDS)
    # The applicant withdrew, through journeys: a case event keeps only the actor's kind (system).
    _transition_record(
        case_file,
        CaseEventKind.WITHDRAWN,
        action="casework.file.withdrawn",
        actor=SYSTEM,
        details={"tasks_cancelled": cancelled},
        applicant_visible=True,
    )


def file_submitted(application: Application) -> None:
    """Open the file of a just-submitted application (journeys' submission hook); wait for payment otherwise.

    The hook runs inside the journey's submission, which locked the
    application's row and has just saved it: it is not read again.
    """
    if application.status == ApplicationStatus.SUBMITTED:
        file_open(application, locked=True)


# --- Files: notes, messages, corrections, counter records ---------------------------------------------


def _file_locked(user: User, file_id: uuid.UUID | str, *, acting: bool) -> tuple[Application, CaseFile, Task | None]:
    """Lock a file the user may see; with ``acting``, check they may work on its open task (holder or leader)."""
    scope = scope_of(user)
    try:
        key = uuid.UUID(str(file_id))
    except ValueError:
        raise errors.CaseFileNotFoundError(_("There is no file at this address, or you cannot see it")) from None
    visible = Task.objects.filter(scope.task_q(), case_file_id=key).values("application_id").first()
    if visible is None:
        raise errors.CaseFileNotFoundError(_("There is no file at this address, or you cannot see it"))
    application = Application.objects.select_for_update().get(pk=visible["application_id"])
    case_file = CaseFile.objects.select_for_update().get(pk=key)
    open_task = (
        Task.objects.filter(case_file=case_file, status__in=OPEN_TASK_STATUSES).select_related("institution").first()
    )
    if acting:
        if case_file.state != FileState.OPEN or open_task is None:
            raise errors.FileNotOpenError(_("This file is not being processed now: nothing can be changed on it"))
        if not scope.may_see(open_task.institution.code, open_task.role_id, open_task.service_id):
            raise errors.NotAssigneeError(_("Only the staff working on this file now can change it"))
    return application, case_file, open_task


def note_add(*, user: User, file_id: uuid.UUID | str, body: str) -> Note:
    """Add an internal note to a file (sealed; never shown to the applicant); return it.

    Anyone who may see the file may add one. Raise CaseFileNotFoundError,
    NoteInvalidError (empty or longer than 10,000 characters). Audited as
    ``casework.note.added`` (never the text).
    """
    text = _text(body, limit=NOTE_MAX, what=_("A note"), error=errors.NoteInvalidError)
    if not text:
        raise errors.NoteInvalidError(_("Enter the note"))
    with transaction.atomic():
        _application, case_file, _task = _file_locked(user, file_id, acting=False)
        note_id = uuid.uuid4()
        note = Note.objects.create(
            id=note_id,
            case_file=case_file,
            author=user,
            body_sealed=seal(owner=case_file.crypto_owner, field=f"casework.note.{note_id}", plaintext=text),
        )
        actor = Actor.for_user(user)
        _transition_record(case_file, CaseEventKind.NOTE_ADDED, action="casework.note.added", actor=actor, user=user)
    return note


def _message_create(case_file: CaseFile, *, sender: str, user: User | None, body: str, actor: Actor) -> Message:
    message_id = uuid.uuid4()
    message = Message.objects.create(
        id=message_id,
        case_file=case_file,
        sender=sender,
        author_user=user,
        body_sealed=seal(owner=case_file.crypto_owner, field=f"casework.message.{message_id}", plaintext=body),
    )
    _transition_record(
        case_file,
        CaseEventKind.MESSAGE_SENT,
        action="casework.message.sent",
        actor=actor,
        user=user,
        details={"sender": sender, "message": str(message.id)},
        audit_details={"sender": sender},
        applicant_visible=True,
    )
    return message


def _message_text(body: str) -> str:
    text = _text(body, limit=MESSAGE_MAX, what=_("A message"), error=errors.MessageInvalidError)
    if not text:
        raise errors.MessageInvalidError(_("Enter your message"))
    return text


def message_send_staff(*, user: User, file_id: uuid.UUID | str, body: str) -> Message:
    """Write to the applicant on a file's thread (sealed); return the message.

    Staff who may see the file may write while it is not closed. Raise
    CaseFileNotFoundError, MessageInvalidError, FileNotOpenError. Audited as
    ``casework.message.sent``; the notification is the case-event hook's (issue 6).
    """
    text = _message_text(body)
    with transaction.atomic():
        _application, case_file, _task = _file_locked(user, file_id, acting=False)
        if case_file.state == FileState.CLOSED:
            raise errors.FileNotOpenError(_("This file is closed: messages can no longer be sent"))
        return _message_create(case_file, sender=MessageSender.STAFF, user=user, body=text, actor=Actor.for_user(user))


def message_send_applicant(*, application: Application, actor: Actor, body: str) -> Message:
    """Write to the team from the applicant's side (journeys checked who they are); return the message.

    Allowed while the file is not closed; where the flow says
    ``messages.applicant_can_start: false``, only after staff have written.
    Raise CaseFileNotFoundError (no file yet), FileNotOpenError,
    MessageNotAllowedError, MessageInvalidError. Audited as ``casework.message.sent``.
    """
    text = _message_text(body)
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        case_file = CaseFile.objects.filter(application=locked).first()
        if case_file is None:
            raise errors.CaseFileNotFoundError(_("This application is not being processed yet"))
        if case_file.state == FileState.CLOSED:
            raise errors.FileNotOpenError(_("This application is closed: messages can no longer be sent"))
        flow = FlowContext(locked)
        if (
            not flow.compiled.definition.flow.messages.applicant_can_start
            and not Message.objects.filter(case_file=case_file, sender=MessageSender.STAFF).exists()
        ):
            raise errors.MessageNotAllowedError(_("You can reply once the team has written to you"))
        return _message_create(case_file, sender=MessageSender.APPLICANT, user=None, body=text, actor=actor)


def applicant_message_deliver(application: Application, actor: Actor, body: str) -> None:
    """Deliver an applicant's message from the journey's page (journeys' message sender hook)."""
    message_send_applicant(application=application, actor=actor, body=body)


def correction_make(
    *, user: User, file_id: uuid.UUID | str, field_id: str, data: FormData, reason: str, language: str = "en"
) -> Correction:
    """Correct an applicant's answer, keeping the original (both shown, to staff and the applicant); return it.

    The open task's role must list ``field_id`` in its ``corrects``, and the
    user must work on that task (so the file is open: never on a decided,
    closed or sent-back file). The new value is parsed and validated as the
    journey would. The registrations, fees and required documents recorded at
    submission are recomputed from the corrected answers in the same
    transaction, as a resubmission does
    (:mod:`govserve.journeys.resubmission_records`: a fee not paid takes the
    new amount; a paid fee keeps its row, the difference being an increase due
    after the decision or an amount to refund). A correction after which the
    journey would not be complete (a question it brings onto the path is
    unanswered, or it reaches an exit page) is refused: the fees cannot be
    worked out from it, and the applicant answers through a send-back.
    Raise CaseFileNotFoundError, FileNotOpenError, NotAssigneeError,
    CorrectionNotPermittedError, CorrectionInvalidError (``extra['errors']``
    for the value; none for an incomplete journey), ReasonRequiredError.
    Audited as ``casework.correction.made`` with what was recomputed (ids
    and amounts, never answers).
    """
    text = _text(reason, limit=REASON_MAX, what=_("The reason"), error=errors.ReasonRequiredError)
    if not text:
        raise errors.ReasonRequiredError(_("Enter why the answer is corrected"))
    with transaction.atomic():
        application, case_file, open_task = _file_locked(user, file_id, acting=True)
        assert open_task is not None  # noqa: S101 - acting checks it
        flow = FlowContext(application)
        _acting_task(user, open_task, scope_of(user), flow)
        role = flow.roles[open_task.role_index]
        fields = page_fields_by_id(flow.compiled.definition)
        definition_field = fields.get(field_id)
        if field_id not in role.corrects or definition_field is None or not _supported(definition_field):
            raise errors.CorrectionNotPermittedError(_("Your role cannot correct this answer"))
        definition = flow.compiled.definition
        value, problems = parse_field(
            definition_field,
            data,
            language=language,
            phone_region=definition.phone_region,
            currency=definition.currency,
            catalogues=flow.compiled.catalogues,
        )
        if not problems:
            problems = validate_field(
                definition_field,
                value,
                context=flow.evaluator.context,
                language=language,
                today=flow.evaluator.today,
                currency=definition.currency,
            )
        if problems:
            raise errors.CorrectionInvalidError(_("There is a problem with the corrected answer"), errors=problems)
        original = answers_load(application, definition).get(field_id)
        correction_id = uuid.uuid4()

        def sealed(part: str, content: Any) -> bytes:
            return seal(
                owner=case_file.crypto_owner, field=f"casework.correction.{correction_id}.{part}", plaintext=content
            )

        correction = Correction.objects.create(
            id=correction_id,
            case_file=case_file,
            field_id=field_id,
            original_sealed=sealed("original", json.dumps(to_json(definition_field, original)))
            if original is not None
            else None,
            corrected_sealed=sealed("corrected", json.dumps(to_json(definition_field, value))),
            reason_sealed=sealed("reason", text),
            author=user,
            task=open_task,
        )
        answers_write(application, [definition_field], {field_id: value})
        changed, removed = _records_after_correction(application, language=language)
        actor = Actor.for_user(user)
        _transition_record(
            case_file,
            CaseEventKind.CORRECTION_MADE,
            action="casework.correction.made",
            actor=actor,
            user=user,
            task=open_task,
            details={"field": field_id, "correction": str(correction.id)},
            audit_details={
                "field": field_id,
                **changed.as_details(),
                **({"answers_removed": removed} if removed else {}),
            },
            applicant_visible=True,
        )
    return correction


def _records_after_correction(application: Application, *, language: str) -> tuple[RecordsChanged, list[str]]:
    """Bring the application up to date with a corrected answer (row locked); return the changes and answers removed.

    As a submission does: the answers a correction takes off the path (a page
    it no longer asks) are deleted, so the file, exports and deliveries hold
    only what applies; the registrations, fees and documents are recomputed.
    Raise CorrectionInvalidError when the corrected answers are not a
    complete journey, need an upload the application does not have, or leave
    another answer required or invalid (the caller's transaction then rolls
    the correction back).
    """
    state = state_load(application)
    if not state.complete:
        raise errors.CorrectionInvalidError(
            _(
                "This answer changes which questions the application asks or ends it: "
                "send the application back to the applicant instead"
            )
        )
    uploads = documents_of(application)
    # What the submission would refuse: an upload now asked for, an answer now required or no longer valid.
    # (An upload's virus scan state is no concern of the correction's.)
    missing = [
        problem.message
        for problem in submission_problems(application, state, language=language, uploads=uploads)
        if problem.code == "document_missing" or not problem.code.startswith("document_")
    ]
    if missing:
        raise errors.CorrectionInvalidError(
            _(
                "With this answer the application is not complete (%(missing)s): "
                "send the application back to the applicant instead"
            )
            % {"missing": "; ".join(missing)}
        )
    effective = state.effective_answers()
    removed = sorted(set(state.answers) - set(effective))
    if removed:
        Answer.objects.filter(application=application, field_id__in=removed).delete()
    evaluator = state.final_evaluator()
    changed = records_recompute(
        application,
        registrations=[registration.id for _, registration in registrations_applied(evaluator)],
        fees=fee_summary(evaluator),
        requirements=required_documents(evaluator),
        uploads=uploads,
    )
    return changed, removed


_COUNTER_KINDS = {"counter": CounterKind.PRESENTED, "sign_in_person": CounterKind.SIGNED}


def counter_record(*, user: User, file_id: uuid.UUID | str, requirement_id: str, note: str = "") -> CounterRecord:
    """Record a document presented at a counter, or a signature made in front of ``user``; return the record.

    The application must need that document with delivery ``counter``
    (recorded as presented) or ``sign_in_person`` (recorded as signed); once
    per document. Staff working on the file's open task may record. Raise
    CaseFileNotFoundError, FileNotOpenError, NotAssigneeError,
    CounterRecordInvalidError. Audited as ``casework.counter.recorded``.
    """
    text = _text(note, limit=REASON_MAX, what=_("The note"), error=errors.CounterRecordInvalidError)
    with transaction.atomic():
        application, case_file, open_task = _file_locked(user, file_id, acting=True)
        assert open_task is not None  # noqa: S101 - acting checks it
        _acting_task(user, open_task, scope_of(user), FlowContext(application))
        document = ApplicationDocument.objects.filter(application=application, requirement_id=requirement_id).first()
        if document is None or document.delivery not in _COUNTER_KINDS:
            raise errors.CounterRecordInvalidError(_("This application needs no such document in person"))
        if CounterRecord.objects.filter(case_file=case_file, requirement_id=requirement_id).exists():
            raise errors.CounterRecordInvalidError(_("This document has already been recorded"))
        record_id = uuid.uuid4()
        record = CounterRecord.objects.create(
            id=record_id,
            case_file=case_file,
            requirement_id=requirement_id,
            kind=_COUNTER_KINDS[document.delivery],
            recorded_by=user,
            note_sealed=seal(owner=case_file.crypto_owner, field=f"casework.counter.{record_id}.note", plaintext=text)
            if text
            else None,
        )
        actor = Actor.for_user(user)
        _transition_record(
            case_file,
            CaseEventKind.COUNTER_RECORDED,
            action="casework.counter.recorded",
            actor=actor,
            user=user,
            task=open_task,
            details={"requirement": requirement_id, "kind": record.kind},
            applicant_visible=True,
        )
    return record


# --- Assisted digital ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssistedStart:
    """An application started by staff on a citizen's behalf, and the applicant identity to fill it in with."""

    application: Application
    applicant: Applicant
    citizen_created: bool


def _assisting_institution(user: User, service_id: str) -> Institution:
    """Return the institution through which ``user`` may help with ``service_id``; raise AssistedStartInvalidError."""
    try:
        compiled = published_version_load(service_id)
    except (ServiceNotFoundError, ServiceRetiredError, VersionNotFoundError):
        raise errors.AssistedStartInvalidError(
            _("Choose a service that is open for applications"), field="service"
        ) from None
    definition = compiled.definition
    codes = [definition.institution, *(role.institution for role in definition.flow.roles)]
    held = {code for code, _ in scope_of(user).held}
    for code in codes:
        if code in held:
            return Institution.objects.get(code=code)
    raise errors.AssistedStartInvalidError(
        _("You can only help with applications to your institution's services"), field="service"
    )


def assisted_application_start(
    *, user: User, service_id: str, citizen_email: str, language: str = "en"
) -> AssistedStart:
    """Start an application on a citizen's behalf (channel ``assisted``); return it with the identity to fill it in.

    The citizen is found by email address, or an account is created for
    them (they sign in with an emailed link later, to follow the
    application). The staff member must hold a role in the service's
    institution or one of its flow's. The journey's own services then fill in
    and submit the application (:func:`assisted_applicant` gives the identity
    again on each request). Raise AssistedStartInvalidError (``extra['field']``:
    ``service`` or ``email``) and the journey's errors. Audited as ``casework.assisted.started``.
    """
    institution = _assisting_institution(user, service_id)
    try:
        normalise_recipient(citizen_email or "")
    except ApplicationError as error:
        raise errors.AssistedStartInvalidError(
            _("Enter an email address in the correct format, like name@example.com"), field="email"
        ) from error
    with transaction.atomic():
        citizen = citizen_find_by_email(citizen_email)
        created = citizen is None
        if citizen is None:
            citizen = citizen_create(email=citizen_email, language=language)
        person = Applicant(citizen=citizen)
        started = application_start(
            service_id=service_id, applicant=person, language=language, channel=Channel.ASSISTED
        )
        AssistedApplication.objects.create(application=started.application, staff_user=user, institution=institution)
        audit_record(
            actor=Actor.for_user(user),
            action="casework.assisted.started",
            subject_type="journeys.application",
            subject_id=started.application.id,
            details={"service": service_id, "institution": institution.code, "citizen_created": created},
        )
    return AssistedStart(application=started.application, applicant=person, citizen_created=created)


def assisted_applicant(*, user: User, application_id: uuid.UUID | str) -> Applicant:
    """Return the identity with which ``user`` fills in an application they started on a citizen's behalf.

    Only the staff member who started it, while it is a draft or sent back.
    Raise CaseFileNotFoundError otherwise (the same for any application that is not theirs).
    """
    try:
        key = uuid.UUID(str(application_id))
    except ValueError:
        raise errors.CaseFileNotFoundError(_("There is no application you are helping with at this address")) from None
    assisted = (
        AssistedApplication.objects.filter(application_id=key, staff_user=user)
        .select_related("application", "application__citizen")
        .first()
    )
    if (
        assisted is None
        or not account_usable(user)
        or assisted.application.status not in {ApplicationStatus.DRAFT, ApplicationStatus.SENT_BACK}
    ):
        raise errors.CaseFileNotFoundError(_("There is no application you are helping with at this address"))
    return Applicant(citizen=assisted.application.citizen)
