"""Reads of casework for staff (queues, files, team figures) with the permission checks inside.

A task or file outside the user's scope (:mod:`govserve.casework.permissions`)
is "not found", the same error as one that does not exist. Every read of a
file's personal data (:func:`file_view`) writes a ``casework.file.viewed``
access audit entry. Sealed values are returned in clear, in dataclasses:
callers never unseal.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import BooleanField, Count, F, Func, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone
from django.utils.translation import gettext as _

from govserve.accounts.models import Citizen, User
from govserve.accounts.policies import account_usable
from govserve.audit.actors import Actor
from govserve.audit.services import audit_record
from govserve.casework import errors, hooks
from govserve.casework.models import (
    OPEN_TASK_STATUSES,
    AssistedApplication,
    CaseEvent,
    CaseEventKind,
    CaseFile,
    Correction,
    CounterRecord,
    Decision,
    DecisionKind,
    FileState,
    Message,
    Note,
    ProcessingValue,
    Task,
    TaskKind,
    TaskStatus,
)
from govserve.casework.permissions import holders_of, may_see_fees, scope_of
from govserve.casework.sla import is_overdue
from govserve.catalogue.compiled import CompiledDefinition
from govserve.catalogue.definitions.schema import AnyField, Role
from govserve.catalogue.selectors import published_version_load
from govserve.core import clock
from govserve.core.errors import ApplicationError
from govserve.core.ids import normalise_reference
from govserve.core.queries import PreparedFilter
from govserve.journeys.answers import answers_load, from_json, page_fields_by_id
from govserve.journeys.fields import display_value
from govserve.journeys.hooks import ApplicantCase, SendBackRequest
from govserve.journeys.hooks import ApplicantCorrection as JourneyCorrection
from govserve.journeys.hooks import ApplicantMessage as JourneyMessage
from govserve.journeys.models import SUBMITTED_STATUSES, Application, ApplicationDocument, ApplicationFee
from govserve.privacy.crypto import data_keys_prefetch, unseal_text

QUEUE_VIEWS = ("pool", "mine", "all")
QUEUE_SORTS = {
    "due_on": ("due_on", "submitted_at", "id"),
    "-due_on": ("-due_on", "-submitted_at", "-id"),
    "submitted_at": ("submitted_at", "id"),
    "-submitted_at": ("-submitted_at", "-id"),
    "reference": ("reference", "id"),
}
"""Each sort ends in the id (a stable order) in the sort's direction, so a descending sort walks the queue's index
backwards: with "submitted_at DESC, id ASC" SQLite sorted the pool instead (USE TEMP B-TREE)."""
SUBMISSION_SORTS = frozenset({"submitted_at", "-submitted_at"})
MAX_PER_PAGE = 200
COUNT_CAP = 10_000
"""Queues count their tasks up to this many (then "more than 10,000"): an exact count of a big pool is a scan."""


def _today() -> dt.date:
    return timezone.localdate(clock.now())


def _compiled(case_file_or_service: str, version: int) -> CompiledDefinition:
    return published_version_load(case_file_or_service, version)


def _name(user: Any) -> str:
    if user is None:
        return ""
    full = f"{user.first_name} {user.last_name}".strip()
    return full or user.username


# --- Queues ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskRow:
    """One task as a queue lists it."""

    task_id: uuid.UUID
    file_id: uuid.UUID
    version: int
    reference: str
    service_id: str
    role_id: str
    role_name: str
    kind: str
    status: str
    assignee_id: uuid.UUID | None
    assignee_name: str
    due_on: dt.date | None
    overdue: bool
    submitted_at: dt.datetime
    claiming: bool


@dataclass(frozen=True)
class QueuePage:
    """A page of a queue."""

    rows: list[TaskRow]
    page: int
    per_page: int
    total: int
    total_capped: bool = False

    @property
    def has_next(self) -> bool:
        """Return whether a later page exists."""
        return self.page * self.per_page < self.total

    @property
    def pages(self) -> int:
        """Return the number of pages (at least 1)."""
        return max(1, -(-self.total // self.per_page))


class _NotSearched(Func):
    """A column as it is, which SQLite's planner may not search an index with: ``+column`` there.

    A condition on it is checked on each row the query walks instead
    (https://sqlite.org/optoverview.html, "Disqualifying WHERE clause terms
    using unary-+"). The unary plus also drops the column's affinity, which
    changes nothing for a date: stored as ISO text, compared with ISO text.
    Other databases get the column itself (PostgreSQL plans from statistics).
    """

    template = "%(expressions)s"
    arity = 1

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, tuple[Any, ...]]:
        """Return ``+column`` and its parameters."""
        sql, params = super().as_sql(compiler, connection, **extra_context)
        return f"+{sql}", tuple(params)


def _visible_tasks(user: User) -> QuerySet[Task]:
    scope = scope_of(user)
    if scope.empty:
        return Task.objects.none()
    return Task.objects.filter(scope.task_q())


def _queue_view(tasks: QuerySet[Task], *, user: User, view: str, status: str | None) -> QuerySet[Task]:
    """Return the open ``tasks`` of a queue ``view`` (and ``status``), with one condition on the status.

    "status IN (pending, claimed) AND status = pending" made PostgreSQL count
    the status's selectivity twice and expect a quarter of the pool, so it
    sorted the whole pool for page 100 (EXPLAIN ANALYZE at 20,000 open tasks:
    65 ms) instead of walking ``casework_task_queue_idx`` (2 ms).
    """
    statuses: tuple[str, ...] = OPEN_TASK_STATUSES
    if view == "pool":
        statuses = (TaskStatus.PENDING,)
        tasks = tasks.filter(kind=TaskKind.HUMAN)
    elif view == "mine":
        tasks = tasks.filter(assignee=user)
    elif view != "all":
        statuses = ()
    if status:
        statuses = (status,) if status in statuses else ()
    # An empty IN (an unknown view or status) matches nothing, without a query.
    return tasks.filter(status=statuses[0]) if len(statuses) == 1 else tasks.filter(status__in=statuses)


def task_queue(
    *,
    user: User,
    view: str = "pool",
    service_id: str | None = None,
    role_id: str | None = None,
    status: str | None = None,
    overdue: bool | None = None,
    submitted_from: dt.date | None = None,
    submitted_to: dt.date | None = None,
    reference: str | None = None,
    sort: str = "due_on",
    page: int = 1,
    per_page: int = 50,
    language: str = "en",
) -> QueuePage:
    """Return a page of open tasks ``user`` may see.

    ``total`` counts up to :data:`COUNT_CAP` (``total_capped`` beyond).
    ``view``: ``pool`` (pending tasks of the roles the user holds or leads),
    ``mine`` (assigned to the user), ``all`` (every open task in scope).
    Filters combine; ``reference`` matches a whole reference in any spelling
    (``abcd 1234`` finds ``ABCD-1234``); ``sort`` is one of :data:`QUEUE_SORTS`
    (unknown values sort by due date). Unknown views or statuses match nothing.
    """
    today = _today()
    zone = timezone.get_current_timezone()
    text = (reference or "").strip()[:40]

    def narrowed(tasks: QuerySet[Task]) -> QuerySet[Task]:
        tasks = _queue_view(tasks, user=user, view=view, status=status)
        if service_id:
            tasks = tasks.filter(service_id=service_id)
        if role_id:
            tasks = tasks.filter(role_id=role_id)
        if overdue is not None:
            # Sorted by submission time, the due date is checked on each task walked along the submission index
            # rather than searched: SQLite otherwise took the due-date range of the due-date index and sorted what it
            # found.
            tasks = tasks.alias(queue_due_on=_NotSearched("due_on") if sort in SUBMISSION_SORTS else F("due_on"))
            if overdue:
                tasks = tasks.filter(queue_due_on__lt=today)
            else:
                tasks = tasks.filter(Q(queue_due_on__gte=today) | Q(queue_due_on__isnull=True))
        if submitted_from is not None:
            tasks = tasks.filter(submitted_at__gte=dt.datetime.combine(submitted_from, dt.time.min, tzinfo=zone))
        if submitted_to is not None:
            tasks = tasks.filter(
                submitted_at__lt=dt.datetime.combine(submitted_to + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
            )
        if text:
            tasks = tasks.filter(reference=normalise_reference(text))
        return tasks

    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = max(1, page)
    order = QUEUE_SORTS.get(sort, QUEUE_SORTS["due_on"])
    window = slice((page - 1) * per_page, page * per_page)
    parts = _queue_parts(user, view=view, role_id=role_id, sort=sort)
    if len(parts) > 1:
        # More than one (institution, role) in reach: their OR made both databases read and sort every task of the
        # queue for each page (40,000 open tasks, two roles: SQLite 185-250 ms, PostgreSQL 42-104 ms a page). Each
        # pair's page is read along its index instead, and the pages merged.
        total, ids = _merged_page_ids([narrowed(part) for part in parts], order=order, window=window)
        ordered = Task.objects.filter(pk__in=ids).order_by(*order)
        window = slice(None)
    else:
        tasks = narrowed(_visible_tasks(user))
        # Unordered: a sliced count keeps the model's ordering otherwise, and sorting 100,000 open tasks to count
        # the first 10,001 took 0.3 s on PostgreSQL (EXPLAIN ANALYZE; 25 ms without the sort).
        total = tasks.order_by()[: COUNT_CAP + 1].count()
        ordered = tasks.order_by(*order)
        if page > 1:
            # A deeper page: its tasks' ids first (tasks only, along the queue's index), then their rows with the
            # joins. Joined to the files straight away, PostgreSQL joined and sorted the whole pool to skip 2,475
            # tasks on page 100 (EXPLAIN ANALYZE at 20,000 open tasks: 120 ms).
            ordered = Task.objects.filter(pk__in=ordered.values("id")[window]).order_by(*order)
            window = slice(None)
    values = ordered.values(
        "id",
        "case_file_id",
        "version",
        "reference",
        "service_id",
        "role_id",
        "kind",
        "status",
        "assignee_id",
        "assignee__first_name",
        "assignee__last_name",
        "assignee__username",
        "due_on",
        "submitted_at",
        "case_file__version_number",
    )[window]
    rows = []
    versions: dict[tuple[str, int], CompiledDefinition] = {}
    for row in values:
        key = (row["service_id"], row["case_file__version_number"])
        compiled = versions.get(key) or versions.setdefault(key, _compiled(*key))
        role = _role(compiled, row["role_id"])
        assignee = (
            f"{row['assignee__first_name']} {row['assignee__last_name']}".strip() or row["assignee__username"] or ""
        )
        rows.append(
            TaskRow(
                task_id=row["id"],
                file_id=row["case_file_id"],
                version=row["version"],
                reference=row["reference"],
                service_id=row["service_id"],
                role_id=row["role_id"],
                role_name=role.name.get(language) if role is not None else row["role_id"],
                kind=row["kind"],
                status=row["status"],
                assignee_id=row["assignee_id"],
                assignee_name=assignee,
                due_on=row["due_on"],
                overdue=is_overdue(row["due_on"], today),
                submitted_at=row["submitted_at"],
                claiming=compiled.definition.flow.claiming,
            )
        )
    return QueuePage(
        rows=rows, page=page, per_page=per_page, total=min(total, COUNT_CAP), total_capped=total > COUNT_CAP
    )


def _queue_parts(user: User, *, view: str, role_id: str | None, sort: str) -> list[QuerySet[Task]]:
    """Return the queue's tasks as one queryset per (institution, role) in the user's reach, where that pays.

    For the pool and "all" views only ("My tasks" are few), and not sorted by
    reference (merged in Python, text would follow Python's order rather than
    the database's collation). An empty list or one part: one query as before.
    """
    if view not in ("pool", "all") or sort not in QUEUE_SORTS or sort == "reference":
        return []
    scope = scope_of(user)
    parts = []
    for institution_code, pair_role_id in sorted(scope.visible):
        institution_id = scope.institution_ids.get(institution_code)
        if institution_id is None or (role_id and pair_role_id != role_id):
            continue
        part = Task.objects.filter(institution_id=institution_id, role_id=pair_role_id)
        if scope.services is not None:
            part = part.filter(service_id__in=sorted(scope.services))
        parts.append(part)
    return parts


def _merged_page_ids(
    parts: list[QuerySet[Task]], *, order: tuple[str, ...], window: slice
) -> tuple[int, list[uuid.UUID]]:
    """Return the capped count of ``parts`` together and the ids of the page ``window`` of them merged in ``order``.

    Each part reads at most the page's end along its own index (sorted and
    limited by the database), so the merge sees every task that can be on the
    page. The sorts go one way (:data:`QUEUE_SORTS`), and NULL due dates sort
    where the database puts them (PostgreSQL: as the largest value, SQLite: as
    the smallest), so the merged order is the one query's order.
    """
    total = 0
    for part in parts:
        total += part.order_by()[: COUNT_CAP + 1 - total].count()
        if total > COUNT_CAP:
            break
    fields = [name.lstrip("-") for name in order]
    descending = order[0].startswith("-")
    nulls_largest = connection.features.nulls_order_largest

    def key(row: tuple[Any, ...]) -> tuple[tuple[Any, ...], ...]:
        return tuple(((1,) if nulls_largest else (-1,)) if value is None else (0, value) for value in row)

    end = window.stop if window.stop is not None else COUNT_CAP
    pages = [list(part.order_by(*order).values_list(*fields)[:end]) for part in parts]
    merged = heapq.merge(*pages, key=key, reverse=descending)
    return total, [row[-1] for row in itertools.islice(merged, window.start, window.stop)]


def _role(compiled: CompiledDefinition, role_id: str) -> Role | None:
    return next((role for role in compiled.definition.flow.roles if role.id == role_id), None)


def task_for_staff(*, user: User, task_id: uuid.UUID | str) -> Task:
    """Return the task if ``user`` may see it; raise TaskNotFoundError otherwise."""
    try:
        key = uuid.UUID(str(task_id))
    except ValueError:
        raise errors.TaskNotFoundError(_("There is no task at this address, or you cannot see it")) from None
    task = _visible_tasks(user).filter(pk=key).select_related("case_file", "institution", "assignee").first()
    if task is None:
        raise errors.TaskNotFoundError(_("There is no task at this address, or you cannot see it"))
    return task


def file_for_reference(*, user: User, reference: str) -> CaseFile:
    """Return the file with ``reference`` (any spelling) if ``user`` may see it; raise CaseFileNotFoundError."""
    text = normalise_reference((reference or "")[:40])
    task = _visible_tasks(user).filter(reference=text).select_related("case_file").first()
    if task is None:
        raise errors.CaseFileNotFoundError(_("There is no file with this reference that you can see"))
    return task.case_file


@dataclass(frozen=True)
class Assignee:
    """A colleague a task may be assigned to."""

    user_id: uuid.UUID
    name: str


def eligible_assignees(*, user: User, task_id: uuid.UUID | str) -> list[Assignee]:
    """Return who may be given the task (holders of its role in its institution whose reach covers its service).

    A supplier account whose scope leaves out the task's service is not
    offered (assigning to it is refused). Raise TaskNotFoundError if not visible.
    """
    task = task_for_staff(user=user, task_id=task_id)
    return _assignees(task)


def _assignees(task: Task) -> list[Assignee]:
    holders = holders_of(task.institution.code, task.role_id, task.service_id)
    return [Assignee(user_id=holder.pk, name=_name(holder)) for holder in holders]


def open_task_assignees(view: FileView) -> list[Assignee]:
    """Return who may be given the open task of a file view (as :func:`eligible_assignees`).

    The view's open task was read through :func:`file_view`'s permission
    check: no second read of the task (:func:`eligible_assignees` reads it).
    """
    task = view.open_task
    if task is None:
        return []
    return _assignees(task)


@dataclass(frozen=True)
class QueueStats:
    """Open work of one role of one service in one institution (the team leader's view)."""

    institution_code: str
    service_id: str
    role_id: str
    pending: int
    claimed: int
    overdue: int


def team_stats(*, user: User) -> list[QueueStats]:
    """Return the open work per role and service in the scope ``user`` leads; NotTeamLeaderError for others."""
    scope = scope_of(user)
    if not scope.leader_of:
        raise errors.NotTeamLeaderError(_("Only team leaders can see their team's figures"))
    led = Task.objects.none()
    query = Q(pk__in=[])
    for code, role_id in sorted(scope.led):
        institution_id = scope.institution_ids.get(code)
        if institution_id is not None:
            query |= Q(institution_id=institution_id, role_id=role_id)
    led = Task.objects.filter(query, status__in=OPEN_TASK_STATUSES)
    today = _today()
    grouped = (
        led.values("institution__code", "service_id", "role_id")
        .annotate(
            pending=Count("id", filter=Q(status=TaskStatus.PENDING)),
            claimed=Count("id", filter=Q(status=TaskStatus.CLAIMED)),
            overdue=Count("id", filter=Q(due_on__lt=today)),
        )
        .order_by("institution__code", "service_id", "role_id")
    )
    return [
        QueueStats(
            institution_code=row["institution__code"],
            service_id=row["service_id"],
            role_id=row["role_id"],
            pending=row["pending"],
            claimed=row["claimed"],
            overdue=row["overdue"],
        )
        for row in grouped
    ]


def team_leader_institutions(user: User) -> list[str]:
    """Return the institution codes ``user`` is team leader in."""
    return sorted(scope_of(user).leader_of)


# --- The file view ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerRow:
    """An answer the role may see; ``corrected_from`` is the original when staff corrected it."""

    field_id: str
    label: str
    value: str
    corrected_from: str | None = None


@dataclass(frozen=True)
class DocumentRow:
    """A document of the application, with its counter record when given in person."""

    requirement_id: str
    name: str
    delivery: str
    document_id: uuid.UUID | None
    counter_kind: str | None
    counter_recorded_at: dt.datetime | None
    counter_note: str


@dataclass(frozen=True)
class HistoryRow:
    """An entry of the file's history as staff read it."""

    occurred_at: dt.datetime
    kind: str
    label: str
    role_id: str
    actor: str
    text: str = ""


@dataclass(frozen=True)
class MessageRow:
    """A message of the thread (``author`` empty for the applicant; staff names are shown to staff only)."""

    message_id: uuid.UUID
    sender: str
    author: str
    body: str
    sent_at: dt.datetime


@dataclass(frozen=True)
class NoteRow:
    """An internal note."""

    author: str
    body: str
    written_at: dt.datetime


@dataclass(frozen=True)
class FeeRow:
    """A fee of the application (``kind`` ``increase``: what a paid fee rose by on a resubmission or correction).

    ``refund_due_minor``: of a paid fee, what it no longer owes after a
    resubmission or a staff correction changed the answers (finance refunds it from the payment);
    ``refunded_minor``: what payments has refunded of it.
    """

    registration_id: str
    fee_id: str
    amount_minor: int
    currency: str
    paid_when: str
    status: str
    kind: str = "fee"
    refund_due_minor: int = 0
    refunded_minor: int = 0


@dataclass(frozen=True)
class ProcessingRow:
    """A processing value recorded by a role."""

    role_id: str
    field_id: str
    label: str
    value: str


@dataclass
class FileView:
    """Everything the file page shows to one staff member (only what their role may see)."""

    case_file: CaseFile
    application: Application
    service_title: str
    seen_as_role_id: str
    seen_as_role_name: str
    answers: list[AnswerRow]
    documents: list[DocumentRow]
    history: list[HistoryRow]
    messages: list[MessageRow]
    notes: list[NoteRow]
    fees: list[FeeRow]
    processing: list[ProcessingRow]
    open_task: Task | None
    may_act: bool
    decisions: list[str]
    processing_fields: list[AnyField]
    processing_values: dict[str, Any]
    corrects: list[str]
    claiming: bool
    flagged_fields: list[str] = field(default_factory=list)
    flagged_documents: list[str] = field(default_factory=list)
    expected_decision_on: dt.date | None = None
    deliveries: list[Any] = field(default_factory=list)
    payments: list[Any] = field(default_factory=list)
    fees_only: bool = False
    """Seen by finance staff who work on none of its tasks: its fees and payments only (:func:`file_fees_view`)."""


def _unseal(case_file: CaseFile, field_name: str, sealed: Any) -> str:
    return unseal_text(owner=case_file.crypto_owner, field=field_name, sealed=bytes(sealed))


def _display(compiled: CompiledDefinition, definition_field: AnyField, value: Any, language: str) -> str:
    definition = compiled.definition
    return display_value(
        definition_field,
        value,
        language=language,
        catalogues=compiled.catalogues,
        currency=definition.currency,
        phone_region=definition.phone_region,
    )


def _history(case_file: CaseFile, compiled: CompiledDefinition, language: str, *, decided: bool) -> list[HistoryRow]:
    decisions = (
        {decision.task_id: decision for decision in Decision.objects.filter(case_file=case_file)} if decided else {}
    )
    rows = []
    labels = dict(CaseEventKind.choices)
    # Plain values (the actor's name, not the whole user row): the history is read on every view of a file.
    events = (
        CaseEvent.objects.filter(case_file=case_file)
        .order_by("occurred_at", "id")
        .values(
            "occurred_at",
            "kind",
            "task_id",
            "role_id",
            "actor_kind",
            "actor_user_id",
            "actor_user__first_name",
            "actor_user__last_name",
            "actor_user__username",
        )
    )
    for event in events:
        actor = (
            f"{event['actor_user__first_name']} {event['actor_user__last_name']}".strip()
            or event["actor_user__username"]
            if event["actor_user_id"] is not None
            else event["actor_kind"]
        )
        text = ""
        if event["kind"] == CaseEventKind.DECISION_RECORDED and event["task_id"] in decisions:
            decision = decisions[event["task_id"]]
            if decision.automatic:
                role = _role(compiled, decision.role_id)
                rule = role.rule if role is not None else ""
                text = _("Decided automatically by rule %(rule)s (%(result)s): %(decision)s") % {
                    "rule": f"`{rule}`",
                    "result": _("true") if decision.rule_result else _("false"),
                    "decision": DecisionKind(decision.decision).label,
                }
                actor = "automatic"
            else:
                reason = (
                    _unseal(case_file, decision.reason_field, decision.reason_sealed)
                    if decision.reason_sealed is not None
                    else ""
                )
                label = str(DecisionKind(decision.decision).label)
                text = f"{label}: {reason}" if reason else label
        rows.append(
            HistoryRow(
                occurred_at=event["occurred_at"],
                kind=event["kind"],
                label=str(labels.get(event["kind"], event["kind"])),
                role_id=event["role_id"],
                actor=actor,
                text=text,
            )
        )
    return rows


_PARTS: dict[str, tuple[Any, str, str]] = {
    "corrections": (Correction, "case_file", "id"),
    "counters": (CounterRecord, "case_file", "id"),
    "messages": (Message, "case_file", "id"),
    "notes": (Note, "case_file", "id"),
    "processing": (ProcessingValue, "case_file", "id"),
    "decisions": (Decision, "case_file", "id"),
    "documents": (ApplicationDocument, "application", "application_id"),
    "fees": (ApplicationFee, "application", "application_id"),
}
"""The optional parts of a file: (model, its field naming the file or application, the file's column it equals)."""


def _parts_sql() -> dict[str, RawSQL]:
    """Return an ``EXISTS`` of each optional part of the file, as plain SQL on the tables' own names."""
    quote = connection.ops.quote_name
    outer = quote(CaseFile._meta.db_table)
    found = {}
    for name, (model, field_name, outer_column) in _PARTS.items():
        column = quote(model._meta.get_field(field_name).column)
        table = quote(model._meta.db_table)
        # Names of our own tables and columns, never input.
        found[name] = RawSQL(  # noqa: S611 - our own table and column names
            f"EXISTS (SELECT 1 FROM {table} WHERE {table}.{column} = {outer}.{quote(outer_column)})",  # noqa: S608
            (),
            output_field=BooleanField(),
        )
    return found


def _file_with_parts(key: uuid.UUID) -> tuple[CaseFile, dict[str, bool]]:
    """Return the file with its application, and which of its optional parts exist (one query).

    A file just submitted has no notes, messages, corrections, counter
    records, processing values, staff decisions, documents or fees: the file
    view reads only the parts that exist, instead of one query each that
    finds nothing (each costs more to build than to run). The ``EXISTS`` are
    plain SQL: built as ORM subqueries they cost more CPU than the rest of
    the query (profile of the file view).
    """
    case_file = (
        CaseFile.objects.select_related("application").annotate(**{f"has_{n}": q for n, q in _parts_sql().items()})
    ).get(pk=key)
    return case_file, {name: bool(getattr(case_file, f"has_{name}")) for name in _PARTS}


def _file_tasks_visible(user: User, key: uuid.UUID) -> list[Task]:
    """Return the tasks of file ``key`` that ``user`` may see, newest first.

    The scope is applied to the file's few tasks here rather than as the
    scope's query filter (an OR of every role held), whose building cost
    more than the query: the same tasks.
    """
    scope = scope_of(user)
    if scope.empty:
        return []
    tasks = Task.objects.filter(case_file_id=key).select_related("institution").order_by("-created_at")
    return [task for task in tasks if scope.may_see(task.institution.code, task.role_id, task.service_id)]


def _parts(has: Mapping[str, bool], name: str, query: QuerySet[Any]) -> QuerySet[Any]:
    """Return ``query``, or no query at all (``none()``) when the file has no ``name``."""
    return query if has[name] else query.none()


def file_view(  # noqa: PLR0915 - one page of reads
    *, user: User, file_id: uuid.UUID | str, language: str = "en", purpose: str = "view"
) -> FileView:
    """Return the file as ``user``'s role may see it, and write the access audit entry.

    The role seen as is that of the file's open task when the user may see
    it, else of the latest task they may see. Answers are those the role
    ``sees`` (all when the definition omits it), in the definition's order.
    Raise CaseFileNotFoundError when the file does not exist or the user may
    see none of its tasks. Audited as ``casework.file.viewed`` (``purpose``:
    view or print).
    """
    try:
        key = uuid.UUID(str(file_id))
    except ValueError:
        raise errors.CaseFileNotFoundError(_("There is no file at this address, or you cannot see it")) from None
    visible = _file_tasks_visible(user, key)
    if not visible:
        raise errors.CaseFileNotFoundError(_("There is no file at this address, or you cannot see it"))
    case_file, has = _file_with_parts(key)
    application = case_file.application
    compiled = _compiled(case_file.service_id, case_file.version_number)
    definition = compiled.definition
    open_task = next((task for task in visible if task.is_open), None)
    seen_as = open_task or visible[0]
    role = _role(compiled, seen_as.role_id)
    assert role is not None  # noqa: S101 - tasks are created from the pinned flow
    fields = page_fields_by_id(definition)
    allowed = set(role.sees) if role.sees is not None else set(fields)
    # One key look-up for every sealed value of the file (answers, notes, messages...).
    data_keys_prefetch(owners=[case_file.crypto_owner])
    answers = answers_load(application, definition)
    first_original: dict[str, Correction] = {}
    for correction in _parts(has, "corrections", Correction.objects.filter(case_file=case_file)).order_by(
        "-created_at"
    ):
        first_original[correction.field_id] = correction  # ends on the earliest: the applicant's own answer
    corrections = first_original
    answer_rows = []
    for field_id, definition_field in fields.items():
        if field_id not in allowed or field_id not in answers:
            continue
        corrected_from = None
        if field_id in corrections:
            earliest = first_original[field_id]
            original = (
                from_json(
                    definition_field,
                    json.loads(_unseal(case_file, earliest.sealing_field("original"), earliest.original_sealed)),
                )
                if earliest.original_sealed is not None
                else None
            )
            corrected_from = _display(compiled, definition_field, original, language)
        answer_rows.append(
            AnswerRow(
                field_id=field_id,
                label=definition_field.label.get(language),
                value=_display(compiled, definition_field, answers[field_id], language),
                corrected_from=corrected_from,
            )
        )
    document_names = {
        document.id: document.name.get(language)
        for registration in definition.registrations
        for document in registration.documents
    }
    counters = {
        record.requirement_id: record
        for record in _parts(has, "counters", CounterRecord.objects.filter(case_file=case_file))
    }
    documents = []
    for document in _parts(has, "documents", ApplicationDocument.objects.filter(application=application)).order_by(
        "id"
    ):
        counter = counters.get(document.requirement_id)
        documents.append(
            DocumentRow(
                requirement_id=document.requirement_id,
                name=document_names.get(document.requirement_id, document.requirement_id),
                delivery=document.delivery,
                document_id=document.document_id,
                counter_kind=counter.kind if counter is not None else None,
                counter_recorded_at=counter.created_at if counter is not None else None,
                counter_note=_unseal(case_file, counter.note_field, counter.note_sealed)
                if counter is not None and counter.note_sealed is not None
                else "",
            )
        )
    messages = [
        MessageRow(
            message_id=message.id,
            sender=message.sender,
            author=_name(message.author_user),
            body=_unseal(case_file, message.body_field, message.body_sealed),
            sent_at=message.created_at,
        )
        for message in _parts(has, "messages", Message.objects.filter(case_file=case_file)).select_related(
            "author_user"
        )
    ]
    notes = [
        NoteRow(
            author=_name(note.author),
            body=_unseal(case_file, note.body_field, note.body_sealed),
            written_at=note.created_at,
        )
        for note in _parts(has, "notes", Note.objects.filter(case_file=case_file)).select_related("author")
    ]
    fees = _fee_rows(_parts(has, "fees", ApplicationFee.objects.filter(application=application)))
    role_fields = {
        (flow_role.id, definition_field.id): definition_field
        for flow_role in definition.flow.roles
        for definition_field in flow_role.fields
    }
    processing = []
    processing_values: dict[str, Any] = {}
    for row in _parts(has, "processing", ProcessingValue.objects.filter(case_file=case_file)).order_by("created_at"):
        processing_field = role_fields.get((row.role_id, row.field_id))
        if processing_field is None:
            continue
        value = from_json(processing_field, json.loads(_unseal(case_file, row.value_field, row.value_sealed)))
        if open_task is not None and row.role_id == open_task.role_id:
            processing_values[row.field_id] = value
        processing.append(
            ProcessingRow(
                role_id=row.role_id,
                field_id=row.field_id,
                label=processing_field.label.get(language),
                value=_display(compiled, processing_field, value, language),
            )
        )
    scope = scope_of(user)
    claiming = definition.flow.claiming
    may_act = (
        open_task is not None
        and open_task.kind == TaskKind.HUMAN
        and (
            open_task.assignee_id == user.pk
            or (
                open_task.status == TaskStatus.PENDING
                and claiming
                and scope.holds(open_task.institution.code, open_task.role_id, open_task.service_id)
            )
        )
    )
    open_role = _role(compiled, open_task.role_id) if open_task is not None else None
    with transaction.atomic():
        audit_record(
            actor=Actor.for_user(user),
            action="casework.file.viewed",
            subject_type="casework.file",
            subject_id=case_file.id,
            details={"purpose": purpose, "role": role.id},
        )
    return FileView(
        case_file=case_file,
        application=application,
        service_title=definition.title.get(language),
        seen_as_role_id=role.id,
        seen_as_role_name=role.name.get(language),
        answers=answer_rows,
        documents=documents,
        history=_history(case_file, compiled, language, decided=has["decisions"]),
        messages=messages,
        notes=notes,
        fees=fees,
        processing=processing,
        open_task=open_task,
        may_act=may_act,
        decisions=[decision for decision, _ in open_role.decisions.items()] if open_role is not None else [],
        processing_fields=list(open_role.fields) if open_role is not None else [],
        processing_values=processing_values,
        corrects=list(open_role.corrects) if open_role is not None else [],
        claiming=claiming,
        flagged_fields=list(case_file.sent_back_fields),
        flagged_documents=list(case_file.sent_back_documents),
        expected_decision_on=case_file.expected_decision_on,
        deliveries=hooks.deliveries_for(application),
        payments=hooks.payments_for(application, user=user, language=language),
    )


def _fee_rows(fees: QuerySet[ApplicationFee]) -> list[FeeRow]:
    return [
        FeeRow(
            registration_id=fee.registration_id,
            fee_id=fee.fee_id,
            amount_minor=fee.amount_minor,
            currency=fee.currency,
            paid_when=fee.paid_when,
            status=fee.status,
            kind=fee.kind,
            refund_due_minor=fee.refund_due_minor,
            refunded_minor=fee.refunded_minor,
        )
        for fee in fees
    ]


def file_fees_view(*, user: User, file_id: uuid.UUID | str, language: str = "en", purpose: str = "view") -> FileView:
    """Return the file's fees and payments for finance staff who work on none of its tasks; audited.

    For holders of :data:`~govserve.casework.permissions.FEES_ROLES` in the
    institution that owns the file's service (who may refund its payments):
    the summary, the fees and the payments (with the refund links payments
    gives them), nothing the definition gives a flow role (answers,
    documents, processing details, messages, notes, history). Raise
    CaseFileNotFoundError for anyone else, as for a file that does not
    exist. Audited as ``casework.file.viewed`` (``purpose``; ``part``: fees).
    """
    try:
        key = uuid.UUID(str(file_id))
    except ValueError:
        raise errors.CaseFileNotFoundError(_("There is no file at this address, or you cannot see it")) from None
    case_file = CaseFile.objects.select_related("application__service__owning_institution").filter(pk=key).first()
    if case_file is None or not may_see_fees(user, case_file.application.service.owning_institution.code):
        raise errors.CaseFileNotFoundError(_("There is no file at this address, or you cannot see it"))
    application = case_file.application
    compiled = _compiled(case_file.service_id, case_file.version_number)
    with transaction.atomic():
        audit_record(
            actor=Actor.for_user(user),
            action="casework.file.viewed",
            subject_type="casework.file",
            subject_id=case_file.id,
            details={"purpose": purpose, "part": "fees"},
        )
    return FileView(
        case_file=case_file,
        application=application,
        service_title=compiled.definition.title.get(language),
        seen_as_role_id="",
        seen_as_role_name="",
        answers=[],
        documents=[],
        history=[],
        messages=[],
        notes=[],
        fees=_fee_rows(ApplicationFee.objects.filter(application=application)),
        processing=[],
        open_task=None,
        may_act=False,
        decisions=[],
        processing_fields=[],
        processing_values={},
        corrects=[],
        claiming=False,
        expected_decision_on=case_file.expected_decision_on,
        payments=hooks.payments_for(application, user=user, language=language),
        fees_only=True,
    )


def decision_refusal(*, user: User, view: FileView) -> ApplicationError | None:
    """Return why ``user`` may not decide on the open task of ``view`` now, or None if they may.

    The same answer, in the same words, as the decision service's own check
    (``services._acting_task``), so that the decision form is refused before
    anyone fills it in: a colleague's claimed task (a team leader included),
    a task of a role the user does not hold, a bot's task, or a pending task
    of a service whose work is assigned. Deciding stays refused by the
    service, which checks again on the locked task. Not audited: it reads
    nothing beyond ``view``.
    """
    task = view.open_task
    if task is None:
        return errors.TaskClosedError(_("A decision has already been made on this task."))
    if view.may_act:
        return None
    if task.kind == TaskKind.BOT:
        return errors.DecisionNotAllowedError(_("This task is decided automatically by its rule"))
    if task.status == TaskStatus.CLAIMED:
        return errors.NotAssigneeError(_("This task is assigned to someone else: only they can work on it"))
    if not scope_of(user).holds(task.institution.code, task.role_id, task.service_id):
        return errors.NotAssigneeError(_("Only staff who hold this task's role can work on it"))
    return errors.ClaimingDisabledError(_("Work on this service is assigned: ask your team leader for this task"))


# --- For the journey (through its hooks) and the applicant's side ------------------------------------


def send_back_request_for(application: Application) -> SendBackRequest | None:
    """Return what a sent-back application's applicant must change (journeys' send-back provider)."""
    case_file = CaseFile.objects.filter(application=application, state=FileState.SENT_BACK).first()
    if case_file is None:
        return None
    return SendBackRequest(fields=tuple(case_file.sent_back_fields), documents=tuple(case_file.sent_back_documents))


# Asked by every confirmation and application page of a sent application: the ORM's statement built once per process.
_EXPECTED_DECISION = PreparedFilter(
    CaseFile,
    samples={"application_id": uuid.UUID(int=0xDEC1_5105_0000_4000_8000_0000_0000_0001)},
    constants={"state": FileState.OPEN},
    order_by=("-submitted_at",),
    limit=1,
    values=("expected_decision_on",),
)


def expected_decision_for(application: Application) -> dt.date | None:
    """Return the stored expected decision date of an open file (journeys' expected-decision provider)."""
    found = _EXPECTED_DECISION.tuples(application_id=application.id)
    return found[0][0] if found else None


@dataclass(frozen=True)
class ApplicantMessage:
    """A message as the applicant sees it (never the staff member's name)."""

    from_applicant: bool
    body: str
    sent_at: dt.datetime


def applicant_messages(application: Application) -> list[ApplicantMessage]:
    """Return the thread of ``application``'s file for its applicant (call after the journey's access check)."""
    case_file = CaseFile.objects.filter(application=application).first()
    if case_file is None:
        return []
    return [
        ApplicantMessage(
            from_applicant=message.sender == "applicant",
            body=_unseal(case_file, message.body_field, message.body_sealed),
            sent_at=message.created_at,
        )
        for message in Message.objects.filter(case_file=case_file)
    ]


@dataclass(frozen=True)
class ApplicantCorrection:
    """A correction as the applicant sees it: the answer, its original and corrected values."""

    field_id: str
    label: str
    original: str
    corrected: str
    corrected_at: dt.datetime


def applicant_corrections(application: Application, *, language: str = "en") -> list[ApplicantCorrection]:
    """Return the corrections staff made to ``application``'s answers (call after the journey's access check)."""
    case_file = CaseFile.objects.filter(application=application).first()
    if case_file is None:
        return []
    compiled = _compiled(case_file.service_id, case_file.version_number)
    fields: Mapping[str, AnyField] = page_fields_by_id(compiled.definition)
    rows = []
    for correction in Correction.objects.filter(case_file=case_file):
        definition_field = fields.get(correction.field_id)
        if definition_field is None:
            continue

        def shown(
            part: str, sealed: Any, definition_field: AnyField = definition_field, correction: Correction = correction
        ) -> str:
            if sealed is None:
                return ""
            value = from_json(definition_field, json.loads(_unseal(case_file, correction.sealing_field(part), sealed)))
            return _display(compiled, definition_field, value, language)

        rows.append(
            ApplicantCorrection(
                field_id=correction.field_id,
                label=definition_field.label.get(language),
                original=shown("original", correction.original_sealed),
                corrected=shown("corrected", correction.corrected_sealed),
                corrected_at=correction.created_at,
            )
        )
    return rows


def applicant_case_for(application: Application, language: str) -> ApplicantCase | None:
    """Return the messages and corrections the applicant sees (journeys' applicant-case provider)."""
    case_file = CaseFile.objects.filter(application=application).first()
    if case_file is None:
        return None
    messages = applicant_messages(application)
    applicant_can_start = _compiled(case_file.service_id, case_file.version_number).definition.flow.messages
    can_write = case_file.state != FileState.CLOSED and (
        applicant_can_start.applicant_can_start or any(not message.from_applicant for message in messages)
    )
    return ApplicantCase(
        messages=tuple(
            JourneyMessage(from_applicant=message.from_applicant, body=message.body, sent_at=message.sent_at)
            for message in messages
        ),
        corrections=tuple(
            JourneyCorrection(
                label=correction.label,
                original=correction.original,
                corrected=correction.corrected,
                corrected_at=correction.corrected_at,
            )
            for correction in applicant_corrections(application, language=language)
        ),
        can_write=can_write,
    )


def decision_reason_for_applicant(event: CaseEvent) -> str:
    """Return the reason of the decision behind a ``sent_back`` or ``file_closed`` event ("" when none).

    For notifications' ``((reason))`` (system use, inside the event's transaction: no access audit).
    """
    if event.kind not in {CaseEventKind.SENT_BACK, CaseEventKind.FILE_CLOSED}:
        return ""
    decisions = Decision.objects.filter(case_file_id=event.case_file_id)
    decision = (
        decisions.filter(task_id=event.task_id).first()
        if event.task_id is not None
        else decisions.order_by("-decided_at").first()
    )
    if decision is None or decision.reason_sealed is None:
        return ""
    return unseal_text(
        owner=f"application:{event.case_file.application_id}",
        field=decision.reason_field,
        sealed=bytes(decision.reason_sealed),
    )


def assisted_sent_citizen(*, user: User, application_id: uuid.UUID) -> Citizen | None:
    """Return the citizen of an application ``user`` filled in on their behalf and has sent; None otherwise.

    For the journey's confirmation page only (the reference to give the citizen): the staff session
    reads it once the application is sent, and can no longer change it (:func:`services.assisted_applicant`).
    """
    assisted = (
        AssistedApplication.objects.filter(application_id=application_id, staff_user=user)
        .select_related("application__citizen")
        .first()
    )
    if assisted is None or not account_usable(user) or assisted.application.status not in SUBMITTED_STATUSES:
        return None
    return assisted.application.citizen
