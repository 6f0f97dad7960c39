"""Background work: jobs, the transactional outbox, retries, dead letters and schedules.

The one place where govserve runs work outside a request. It sits on Django 6's
``django.tasks`` API with the ``django-tasks-db`` ``DatabaseBackend``, and adds
what that API leaves to the application: job identity (idempotency keys),
retries with backoff, a dead-letter state, lost-worker recovery and schedules.

Declaring and enqueueing a job::

    from govserve.core.jobs import job, enqueue, current_job

    @job(name="notifications.email.send", max_attempts=10)
    def email_deliver(*, message_id: str) -> None:
        key = current_job().idempotency_key  # e.g. to derive the Message-ID
        ...

    with transaction.atomic():
        message = OutboundEmail.objects.create(...)
        enqueue(email_deliver, idempotency_key=f"email:{message.id}", message_id=str(message.id))

Contracts
- **Transactional outbox.** :func:`enqueue` must run inside ``transaction.atomic()``
  on the default database (``RuntimeError`` otherwise). It writes the job row
  and its django-tasks-db task row on that connection, in that transaction: they
  commit with the business change or not at all. Never ``transaction.on_commit``
  alone, which loses the work if the process dies between commit and callback.
- **Ids only.** Job keyword arguments are JSON scalars, or lists/dicts of
  scalars, checked at enqueue (:class:`JobArgumentError`); they are stored in
  clear in the job tables, so they are ids and codes, never personal values
  (names, addresses, answers): a job reads what it needs from the database.
- **Idempotency.** Every job has an idempotency key, unique for ever: enqueueing
  the same key again returns the existing job (and raises
  :class:`IdempotencyConflictError` if the name or arguments differ). The key is
  exposed to the running job through :func:`current_job`. Delivery is *at least
  once* (a worker may die after the side effect and before recording it), so a
  job makes its side effect idempotent with that key (a Message-ID, a request
  id sent to the other system, a unique constraint).
- **Retries.** An exception in a job fails the attempt; the job is retried
  after ``delay(n) = min(cap, base * 2 ** (n - 1)) * U(0.5, 1.0)`` seconds, ``n``
  the number of the failed attempt (1, 2, ...), ``U`` uniform jitter so failures
  of many jobs at once do not retry in lock step, never less than half the
  nominal backoff. ``base`` and ``cap`` come from the job or
  ``GOVSERVE_JOBS_BACKOFF_BASE_SECONDS`` (10) / ``GOVSERVE_JOBS_BACKOFF_CAP_SECONDS``
  (3600). After ``max_attempts`` attempts (the job's, else
  ``GOVSERVE_JOBS_MAX_ATTEMPTS``, 8) the job is *dead* (dead letter) until an
  operator retries it (``govserve jobs retry``). :class:`PermanentJobError`
  makes it dead at once (no retry can help).
- **Lost workers.** A running attempt holds a lease (the job's ``lease`` or
  ``GOVSERVE_JOBS_LEASE_SECONDS``, 900). A worker that finds an expired lease
  records the attempt as lost and schedules a retry as for a failure.
- **Schedules.** :func:`scheduled` jobs run once per period (periods are aligned
  on the Unix epoch, UTC, plus an optional offset) across any number of
  workers: the worker that first inserts the (name, period start) row in
  ``core_scheduledrun`` (unique) enqueues that period's job in the same
  transaction; the others see the conflict and do nothing. Missed periods are
  not replayed: a scheduled job processes everything due when it runs.
- **Signals.** :data:`job_dead_lettered` and :data:`job_retried` are sent inside
  the transaction of the change, for apps above core (audit) to record it.
- **Housekeeping.** The built-in schedule ``core.jobs.prune`` deletes succeeded
  jobs older than ``GOVSERVE_JOBS_RETENTION_DAYS`` (30) every day.

Tests run due jobs in-process with :func:`run_pending` (and test job functions
that read :func:`current_job` under :func:`job_context`); production runs
``govserve worker`` (any number of them; :class:`Worker`). Plain ``govserve
db_worker`` also runs these jobs correctly (with retries and dead letter) but
runs no schedules and recovers no lost attempts. Operators: ``govserve jobs``
and docs/operations.md, "Background work".
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import importlib
import inspect
import json
import math
import os
import random
import re
import socket
import threading
import traceback as traceback_module
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import structlog
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, InterfaceError, OperationalError, close_old_connections, connection, transaction
from django.db.models import Count, Q
from django.dispatch import Signal
from django.tasks import TaskContext, TaskResultStatus, task, task_backends
from django.tasks.signals import task_enqueued
from django.utils.json import normalize_json
from django.utils.module_loading import autodiscover_modules

from govserve.core import clock
from govserve.core.errors import ConflictError, NotFoundError
from govserve.core.models import AttemptOutcome, JobAttempt, JobRecord, JobState, ScheduledRun
from govserve.core.queries import row_insert, row_insert_unless_taken

if TYPE_CHECKING:
    from django_tasks_db.backend import DatabaseBackend

logger = structlog.get_logger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")  # printable ASCII, no spaces: safe in headers and logs
MAX_STRING_ARGUMENT = 1000
MAX_ARGUMENTS_BYTES = 16_384
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_DEFAULT_MAX_ATTEMPTS = 8
_DEFAULT_BACKOFF_BASE = 10.0
_DEFAULT_BACKOFF_CAP = 3600.0
_DEFAULT_LEASE = 900.0
_DEFAULT_POLL_INTERVAL = {"sqlite": 0.1, "postgresql": 1.0}
NOTIFY_CHANNEL = "govserve_jobs"
_SCHEDULE_KEY_PREFIX = "schedule:"


# --- Signals --------------------------------------------------------------------------
# Sent inside the transaction that makes the change, with ``record`` (the JobRecord):
# a receiver in an app above core (audit) writes its entry atomically with it.
# Core cannot import audit (layering), so these are the hooks.
job_dead_lettered = Signal()  # the job entered the dead letter (attempts exhausted or permanent error)
job_retried = Signal()  # an operator retried a dead job

# --- Errors ---------------------------------------------------------------------------


class PermanentJobError(Exception):
    """Raised by a job when retrying cannot help (the thing it works on is gone, the input is refused).

    The job goes to the dead-letter state at once. The message is stored: ids and
    codes only, never personal values.
    """


class JobArgumentError(TypeError):
    """The job's arguments are not ids: not JSON scalars or lists/dicts of scalars, or not its parameters."""


class IdempotencyConflictError(ConflictError):
    """The idempotency key is already used by a job with another name or other arguments."""

    code = "job_idempotency_conflict"


class JobNotFoundError(NotFoundError):
    code = "job_not_found"


class JobStateError(ConflictError):
    """The job is not in a state that allows the operation (only dead jobs are retried)."""

    code = "job_state_conflict"


# --- Declaring jobs -------------------------------------------------------------------


@dataclass(frozen=True)
class Job[**P, R]:
    """A registered job: a function run by workers under a stable dotted name.

    Calling the job runs the function directly (no retry, no context): for tests
    of the function itself. Enqueue it with :func:`enqueue`.
    """

    name: str
    func: Callable[P, R]
    max_attempts: int | None = None
    priority: int = 0
    lease: dt.timedelta | None = None
    backoff_base: dt.timedelta | None = None
    backoff_cap: dt.timedelta | None = None

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.func(*args, **kwargs)

    @property
    def module(self) -> str:
        return str(self.func.__module__)


@dataclass(frozen=True)
class Schedule:
    """A job that runs once per ``every``; periods start at the Unix epoch (UTC) plus ``offset``."""

    job: Job[[], Any]
    every: dt.timedelta
    offset: dt.timedelta = dt.timedelta(0)

    def period_start(self, now: dt.datetime) -> dt.datetime:
        """Return the start of the period containing ``now``."""
        origin = _EPOCH + self.offset
        return origin + ((now - origin) // self.every) * self.every


_JOBS: dict[str, Job[..., Any]] = {}
_SCHEDULES: dict[str, Schedule] = {}
_registry_lock = threading.Lock()


def _register[**P, R](new: Job[P, R]) -> Job[P, R]:
    if not _NAME.match(new.name) or len(new.name) > 100:
        msg = f"job names are dotted lower-case words (at most 100 characters): {new.name!r}"
        raise ValueError(msg)
    if new.max_attempts is not None and new.max_attempts < 1:
        msg = f"max_attempts must be at least 1 for job {new.name!r}"
        raise ValueError(msg)
    if not -100 <= new.priority <= 100:  # django.tasks' priority range
        msg = f"priority must be between -100 and 100 for job {new.name!r}"
        raise ValueError(msg)
    parameters = inspect.signature(new.func).parameters.values()
    if any(p.kind in {p.POSITIONAL_ONLY, p.VAR_POSITIONAL} for p in parameters):
        msg = f"job {new.name!r} must take keyword arguments only"
        raise ValueError(msg)
    with _registry_lock:
        existing = _JOBS.get(new.name)
        if existing is not None and (existing.module, existing.func.__qualname__) != (
            new.module,
            new.func.__qualname__,
        ):
            msg = f"job name {new.name!r} is already used by {existing.module}.{existing.func.__qualname__}"
            raise ValueError(msg)
        _JOBS[new.name] = new
    return new


def job(
    *,
    name: str,
    max_attempts: int | None = None,
    priority: int = 0,
    lease: dt.timedelta | None = None,
    backoff_base: dt.timedelta | None = None,
    backoff_cap: dt.timedelta | None = None,
) -> Callable[[Callable[P, R]], Job[P, R]]:
    """Register the decorated function as the job ``name`` (dotted, stable: stored in queued rows).

    The function takes keyword arguments only (ids). ``max_attempts`` defaults to
    ``GOVSERVE_JOBS_MAX_ATTEMPTS``; ``priority`` (-100..100, higher first) orders
    due jobs; ``lease`` bounds one attempt before another worker may presume it
    lost and retry it; ``backoff_base``/``backoff_cap`` override the retry delays.
    Define jobs in ``<app>/jobs.py`` (imported by every worker at start) or in a
    module imported by the app's ``AppConfig.ready``.
    """

    def decorate(func: Callable[P, R]) -> Job[P, R]:
        return _register(
            Job(
                name=name,
                func=func,
                max_attempts=max_attempts,
                priority=priority,
                lease=lease,
                backoff_base=backoff_base,
                backoff_cap=backoff_cap,
            )
        )

    return decorate


def scheduled(
    *,
    name: str,
    every: dt.timedelta,
    offset: dt.timedelta = dt.timedelta(0),
    max_attempts: int = 1,
    lease: dt.timedelta | None = None,
    priority: int = 0,
) -> Callable[[Callable[[], R]], Job[[], R]]:
    """Register the decorated function (no arguments) to run once per ``every`` across all workers.

    Periods start at the Unix epoch (UTC) plus ``offset`` (below ``every``):
    ``every=timedelta(days=1), offset=timedelta(hours=2)`` runs daily at 02:00
    UTC. Each period's run is a job with the idempotency key
    ``schedule:<name>:<period start ISO>``. ``max_attempts`` defaults to 1: the
    next period is the retry, so a failure goes straight to the dead letter for
    the operator to see. A schedule must be defined in a module imported before
    the worker starts (``<app>/jobs.py`` or one imported by ``AppConfig.ready``).
    """
    if every < dt.timedelta(seconds=1):
        msg = f"scheduled job {name!r}: every must be at least one second"
        raise ValueError(msg)
    if not dt.timedelta(0) <= offset < every:
        msg = f"scheduled job {name!r}: offset must be at least zero and less than every"
        raise ValueError(msg)

    def decorate(func: Callable[[], R]) -> Job[[], R]:
        if inspect.signature(func).parameters:
            msg = f"scheduled job {name!r} must take no arguments"
            raise ValueError(msg)
        registered = _register(Job(name=name, func=func, max_attempts=max_attempts, priority=priority, lease=lease))
        with _registry_lock:
            _SCHEDULES[name] = Schedule(job=registered, every=every, offset=offset)
        return registered

    return decorate


def registered_jobs() -> dict[str, Job[..., Any]]:
    """Return the registered jobs by name (after importing every app's ``jobs`` module)."""
    autodiscover_modules("jobs")
    return dict(_JOBS)


def registered_schedules() -> dict[str, Schedule]:
    """Return the registered schedules by name (after importing every app's ``jobs`` module)."""
    autodiscover_modules("jobs")
    return dict(_SCHEDULES)


def _job_by_name(name: str, module: str = "") -> Job[..., Any]:
    found = _JOBS.get(name)
    if found is None and module:
        # The row names the module that defined the job: import it, which registers it.
        with contextlib.suppress(ImportError):
            importlib.import_module(module)
        found = _JOBS.get(name)
    if found is None:
        msg = f"no job is registered under the name {name!r}"
        raise LookupError(msg)
    return found


# --- The running job's context --------------------------------------------------------


@dataclass(frozen=True)
class JobContext:
    """What a running job knows about itself."""

    idempotency_key: str
    attempt: int  # 1 for the first attempt; counts every attempt, manual retries included
    job_name: str
    job_id: uuid.UUID | None = None
    max_attempts: int = 1


_current: contextvars.ContextVar[JobContext | None] = contextvars.ContextVar("govserve_current_job", default=None)


def current_job() -> JobContext:
    """Return the context of the job running in this thread; raise RuntimeError outside a job."""
    context = _current.get()
    if context is None:
        msg = "current_job() is only available inside a running job"
        raise RuntimeError(msg)
    return context


# --- Settings (read when used, never at import) ---------------------------------------


def _setting_float(name: str, default: float) -> float:
    value = float(getattr(settings, name, default))
    if not math.isfinite(value) or value <= 0:
        msg = f"{name} must be a positive number of seconds; got {value}"
        raise ImproperlyConfigured(msg)
    return value


def default_max_attempts() -> int:
    """Return ``GOVSERVE_JOBS_MAX_ATTEMPTS`` (8 when unset); raise ImproperlyConfigured below 1."""
    value = int(getattr(settings, "GOVSERVE_JOBS_MAX_ATTEMPTS", _DEFAULT_MAX_ATTEMPTS))
    if value < 1:
        msg = f"GOVSERVE_JOBS_MAX_ATTEMPTS must be at least 1; got {value}"
        raise ImproperlyConfigured(msg)
    return value


def _max_attempts(declared: Job[..., Any]) -> int:
    return declared.max_attempts if declared.max_attempts is not None else default_max_attempts()


def _lease(declared: Job[..., Any]) -> dt.timedelta:
    if declared.lease is not None:
        return declared.lease
    return dt.timedelta(seconds=_setting_float("GOVSERVE_JOBS_LEASE_SECONDS", _DEFAULT_LEASE))


def retry_delay(
    failed_attempt: int,
    *,
    base: dt.timedelta,
    cap: dt.timedelta,
    rng: random.Random | None = None,
) -> dt.timedelta:
    """Return the wait before the attempt after ``failed_attempt`` (1-based).

    ``min(cap, base * 2 ** (failed_attempt - 1)) * U(0.5, 1.0)``: exponential,
    capped, with jitter that never halves it more than once.
    """
    if failed_attempt < 1:
        msg = "failed_attempt counts from 1"
        raise ValueError(msg)
    # The exponent is bounded before it is used so a huge attempt count cannot overflow.
    exponent = min(failed_attempt - 1, 62)
    nominal = min(cap.total_seconds(), base.total_seconds() * (2**exponent))
    jitter = (rng or _rng).uniform(0.5, 1.0)
    return dt.timedelta(seconds=nominal * jitter)


_rng = random.Random()  # noqa: S311 - spreading retries needs no cryptographic randomness


def _backoff(declared: Job[..., Any] | None, failed_attempt: int) -> dt.timedelta:
    base = (declared.backoff_base if declared else None) or dt.timedelta(
        seconds=_setting_float("GOVSERVE_JOBS_BACKOFF_BASE_SECONDS", _DEFAULT_BACKOFF_BASE)
    )
    cap = (declared.backoff_cap if declared else None) or dt.timedelta(
        seconds=_setting_float("GOVSERVE_JOBS_BACKOFF_CAP_SECONDS", _DEFAULT_BACKOFF_CAP)
    )
    return retry_delay(failed_attempt, base=base, cap=cap)


# --- Enqueue (the transactional outbox) -----------------------------------------------


def _is_scalar(value: object) -> bool:
    if value is None or isinstance(value, bool | int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, str) and len(value) <= MAX_STRING_ARGUMENT


def check_job_arguments(declared: Job[..., Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Return ``kwargs`` if they are ids fit for a job row; raise :class:`JobArgumentError` otherwise.

    Allowed: ``None``, booleans, integers, finite floats, strings up to
    ``MAX_STRING_ARGUMENT`` characters, and lists of those or dicts of string
    keys to those; ``MAX_ARGUMENTS_BYTES`` of JSON in all; names the function
    accepts.
    """
    for key, value in kwargs.items():
        if _is_scalar(value):
            continue
        if isinstance(value, list | tuple) and all(_is_scalar(item) for item in value):
            continue
        if isinstance(value, dict) and all(isinstance(k, str) and _is_scalar(v) for k, v in value.items()):
            continue
        msg = (
            f"job {declared.name!r}: argument {key!r} must be an id: a JSON scalar (strings up to "
            f"{MAX_STRING_ARGUMENT} characters) or a list/dict of them, got {type(value).__name__}. "
            "Pass ids, never personal values."
        )
        raise JobArgumentError(msg)
    encoded = json.dumps(kwargs, sort_keys=True, separators=(",", ":"))
    if len(encoded.encode()) > MAX_ARGUMENTS_BYTES:
        msg = f"job {declared.name!r}: arguments exceed {MAX_ARGUMENTS_BYTES} bytes; pass ids, not content"
        raise JobArgumentError(msg)
    try:
        inspect.signature(declared.func).bind(**kwargs)
    except TypeError as error:
        msg = f"job {declared.name!r}: arguments do not match the function: {error}"
        raise JobArgumentError(msg) from None
    normalised: dict[str, Any] = json.loads(encoded)  # tuples become lists, as they will be stored
    return normalised


def _task_backend() -> DatabaseBackend:
    from django_tasks_db.backend import DatabaseBackend  # noqa: PLC0415 - needs the app registry

    backend = task_backends["default"]
    if not isinstance(backend, DatabaseBackend):
        msg = "govserve's jobs need TASKS['default'] to be django_tasks_db.DatabaseBackend (the outbox table)"
        raise ImproperlyConfigured(msg)
    return backend


def _task_backend_alias() -> str:
    return _task_backend().alias


def _write_task_row(
    *, job_id: uuid.UUID, priority: int, run_after: dt.datetime | None, task_result_id: uuid.UUID | None = None
) -> uuid.UUID:
    """Write the django-tasks-db row of the next attempt on the current transaction; return its id.

    The row ``DatabaseBackend.enqueue`` writes for ``run_job_task`` (the same
    checks, values, ``pre_save``/``post_save`` and ``task_enqueued`` signals),
    its INSERT built once (``core.queries.row_insert``) instead of by the ORM
    for each job: about 0.3 ms of CPU a job, three jobs a submission.
    ``task_result_id``: the row's id when the caller chose it (from
    :func:`_task_result_id_new`). A job due at once gets ``run_after = now``
    rather than django-tasks-db's "no date" (year 9999), so that in the ready
    index (priority, run_after, enqueued_at) every due row comes before every
    deferred retry, and a worker's claim query stops at the first row instead
    of skipping over waiting retries. On PostgreSQL a NOTIFY (delivered at
    commit, one per transaction: :func:`_workers_notify`) wakes idle workers at once.
    """
    from django_tasks_db.models import DBTaskResult  # noqa: PLC0415 - needs the app registry

    backend = _task_backend()
    due = run_after or clock.now()
    task_for_attempt = run_job_task.using(priority=priority, run_after=due)
    backend.validate_task(task_for_attempt)
    args: tuple[Any, ...] = ()
    row: DBTaskResult[Any, Any] = DBTaskResult(
        id=task_result_id or backend._get_id(),
        args_kwargs=normalize_json({"args": args, "kwargs": {"job_id": str(job_id)}}),
        priority=task_for_attempt.priority,
        task_path=task_for_attempt.module_path,
        queue_name=task_for_attempt.queue_name,
        run_after=due,
        backend_name=backend.alias,
    )
    row_insert(row)
    task_enqueued.send(type(backend), task_result=row.task_result)
    _workers_notify()
    return uuid.UUID(str(row.id))


def _workers_notify() -> None:
    """On PostgreSQL, NOTIFY idle workers at the commit of the current transaction, once per transaction.

    PostgreSQL delivers one notification for all of a transaction's identical
    NOTIFYs, so a second one is a statement for nothing (a submission enqueues
    several jobs). The NOTIFY of a savepoint rolled back is rolled back with
    it: the mark of this transaction's NOTIFY is an ``on_commit`` callback,
    which Django drops with that savepoint too, so the next enqueue sends it
    again.
    """
    if connection.vendor != "postgresql":
        return
    if any(entry[1] is _workers_notified for entry in connection.run_on_commit):
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, '')", [NOTIFY_CHANNEL])
    transaction.on_commit(_workers_notified)


def _workers_notified() -> None:
    """Mark the transaction's NOTIFY as sent (see :func:`_workers_notify`); nothing to do at the commit."""


def _task_result_id_new() -> uuid.UUID:
    """Return a new id for a django-tasks-db row, as its backend makes them (its ``id_function``)."""
    return uuid.UUID(str(_task_backend()._get_id()))


def enqueue(target: Job[..., Any] | str, /, *, idempotency_key: str, **kwargs: Any) -> JobRecord:
    """Enqueue ``target`` (a job or its name) with ``kwargs`` (ids only) and return its :class:`JobRecord`.

    Must run inside ``transaction.atomic()`` on the default database (raise
    RuntimeError otherwise): the job commits or rolls back with the caller's
    change. The same ``idempotency_key`` again returns the existing job (whatever
    its state) and writes nothing; with another name or other arguments it
    raises :class:`IdempotencyConflictError`. Raise :class:`JobArgumentError` for
    arguments that are not ids, LookupError for an unknown job name.
    """
    declared = _job_by_name(target) if isinstance(target, str) else target
    if not connection.in_atomic_block:
        msg = (
            f"enqueue({declared.name!r}) must run inside transaction.atomic() on the default database, "
            "so the job commits with the change that causes it (transactional outbox)"
        )
        raise RuntimeError(msg)
    if not isinstance(idempotency_key, str) or not _KEY.match(idempotency_key):
        msg = "idempotency_key must be 1-200 printable ASCII characters without spaces"
        raise ValueError(msg)
    arguments = check_job_arguments(declared, kwargs)
    return _enqueue_checked(declared, idempotency_key=idempotency_key, kwargs=arguments)


def _enqueue_checked(declared: Job[..., Any], *, idempotency_key: str, kwargs: dict[str, Any]) -> JobRecord:
    # No read first: almost every key is new, and the job row's unique key answers a repeated one. The job row
    # goes first, as INSERT ... ON CONFLICT DO NOTHING (no savepoint: a repeated or concurrent key writes nothing
    # and leaves the caller's transaction usable); its task row only once the job row is written.
    job_id = uuid.uuid4()
    task_result_id = _task_result_id_new()
    max_attempts = _max_attempts(declared)
    record = JobRecord(
        id=job_id,
        name=declared.name,
        module=declared.module,
        idempotency_key=idempotency_key,
        kwargs=kwargs,
        state=JobState.QUEUED,
        priority=declared.priority,
        attempts_left=max_attempts,
        max_attempts=max_attempts,
        task_result_id=task_result_id,
    )
    if row_insert_unless_taken(record, unique="idempotency_key"):
        _write_task_row(job_id=job_id, priority=declared.priority, run_after=None, task_result_id=task_result_id)
        logger.info("job.enqueued", job_id=str(record.id), job_name=record.name)
        return record
    existing = JobRecord.objects.filter(idempotency_key=idempotency_key).first()
    if existing is None:  # pragma: no cover - removed between the two statements
        msg = f"the job with idempotency key {idempotency_key!r} was removed while it was enqueued again"
        raise IntegrityError(msg)
    if existing.name != declared.name or existing.kwargs != kwargs:
        msg = f"idempotency key {idempotency_key!r} is already used by another job or other arguments"
        raise IdempotencyConflictError(msg, job_id=str(existing.id))
    return existing


# --- Running attempts -----------------------------------------------------------------


@dataclass(frozen=True)
class _Attempt:
    """A started attempt: what the job needs to run, and the rows that record it."""

    job_id: uuid.UUID
    attempt_id: int
    number: int
    name: str
    idempotency_key: str
    kwargs: dict[str, Any]
    max_attempts: int
    task_result_id: uuid.UUID
    lease_expires_at: dt.datetime
    declared: Job[..., Any] | None
    lookup_error: str = ""


# The worker's hot path (claim a task row, start an attempt, record a success) is
# hand-written SQL, valid on SQLite (3.35+: RETURNING) and PostgreSQL: through the
# ORM these few statements cost several milliseconds of CPU per job, mostly in
# query compilation and model instantiation. Values go through the fields'
# get_db_prep_value, so they are stored exactly as the ORM stores them.
# Rare paths (failures, retries, recovery, operations) stay on the ORM.


def _db_value(model: type[Any], field_name: str, value: object) -> Any:
    return model._meta.get_field(field_name).get_db_prep_value(value, connection, prepared=False)


def _json(value: object) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _tasks_table() -> str:
    from django_tasks_db.models import DBTaskResult  # noqa: PLC0415 - needs the app registry

    return str(DBTaskResult._meta.db_table)


def _attempt_begin(*, job_id: str, task_result_id: uuid.UUID, worker_id: str) -> _Attempt | None:
    """Start an attempt of ``job_id`` under ``task_result_id``; return None if that row is stale.

    Call inside a transaction. A row is stale when the job has moved on (it
    succeeded late after being presumed lost, or it was dead and retried by hand).
    The conditional UPDATE is the check and the row lock in one statement.
    """
    now = clock.now()
    default_lease = dt.timedelta(seconds=_setting_float("GOVSERVE_JOBS_LEASE_SECONDS", _DEFAULT_LEASE))
    jobs_table = JobRecord._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {jobs_table} SET state = %s, attempts = attempts + 1, "  # noqa: S608 - our table names
            "attempts_left = CASE WHEN attempts_left > 0 THEN attempts_left - 1 ELSE 0 END, "
            "lease_expires_at = %s, run_after = NULL, updated_at = %s "
            "WHERE id = %s AND state IN (%s, %s) AND task_result_id = %s "
            "RETURNING name, module, idempotency_key, kwargs, attempts, max_attempts",
            [
                JobState.RUNNING.value,
                _db_value(JobRecord, "lease_expires_at", now + default_lease),
                _db_value(JobRecord, "updated_at", now),
                _db_value(JobRecord, "id", uuid.UUID(job_id)),
                JobState.QUEUED.value,
                JobState.RETRYING.value,
                _db_value(JobRecord, "task_result_id", task_result_id),
            ],
        )
        started = cursor.fetchone()
        if started is None:
            return None
        name, module, idempotency_key, kwargs, number, max_attempts = started
        declared: Job[..., Any] | None
        lookup_error = ""
        try:
            declared = _job_by_name(name, module)
        except LookupError as error:
            declared, lookup_error = None, str(error)
        lease_expires_at = now + (_lease(declared) if declared else default_lease)
        if lease_expires_at != now + default_lease:
            cursor.execute(
                f"UPDATE {jobs_table} SET lease_expires_at = %s WHERE id = %s",  # noqa: S608 - our table name
                [_db_value(JobRecord, "lease_expires_at", lease_expires_at), _db_value(JobRecord, "id", job_id)],
            )
        cursor.execute(
            f"INSERT INTO {JobAttempt._meta.db_table} "  # noqa: S608 - our table name
            "(job_id, number, task_result_id, worker_id, started_at, outcome, error_class, error_message, traceback) "
            "VALUES (%s, %s, %s, %s, %s, %s, '', '', '') RETURNING id",
            [
                _db_value(JobRecord, "id", uuid.UUID(job_id)),
                number,
                _db_value(JobAttempt, "task_result_id", task_result_id),
                worker_id[:64],
                _db_value(JobAttempt, "started_at", now),
                AttemptOutcome.RUNNING.value,
            ],
        )
        (attempt_id,) = cursor.fetchone()
    return _Attempt(
        job_id=uuid.UUID(job_id),
        attempt_id=int(attempt_id),
        number=int(number),
        name=str(name),
        idempotency_key=str(idempotency_key),
        kwargs=_json(kwargs),
        max_attempts=int(max_attempts),
        task_result_id=task_result_id,
        lease_expires_at=lease_expires_at,
        declared=declared,
        lookup_error=lookup_error,
    )


def _call(claimed: _Attempt) -> BaseException | None:
    """Run the job function with its context; return the exception it raised, if any."""
    if claimed.declared is None:
        return PermanentJobError(claimed.lookup_error)
    context = JobContext(
        idempotency_key=claimed.idempotency_key,
        attempt=claimed.number,
        job_name=claimed.name,
        job_id=claimed.job_id,
        max_attempts=claimed.max_attempts,
    )
    token = _current.set(context)
    started = _monotonic()
    try:
        claimed.declared.func(**claimed.kwargs)
    except BaseException as error:
        logger.warning(
            "job.failed",
            job_id=str(claimed.job_id),
            job_name=claimed.name,
            attempt=claimed.number,
            error_class=_class_path(error),
            exc_info=True,
        )
        return error
    finally:
        _current.reset(token)
    logger.info(
        "job.succeeded",
        job_id=str(claimed.job_id),
        job_name=claimed.name,
        attempt=claimed.number,
        duration_ms=round((_monotonic() - started) * 1000, 1),
    )
    return None


def _class_path(error: BaseException) -> str:
    return f"{type(error).__module__}.{type(error).__qualname__}"


def _attempt_finish(claimed: _Attempt, error: BaseException | None) -> str:
    """Record the outcome of an attempt and move the job on; return the job's new state.

    Call inside a transaction. A failure schedules the retry (a new task row with
    ``run_after``) or moves the job to the dead letter. The outcome applies only
    if this attempt is still the job's current one; a success also applies to a
    job waiting to retry after this attempt was presumed lost (its retry row is
    then stale and skipped).
    """
    now = clock.now()
    if error is None:
        job_id = _db_value(JobRecord, "id", claimed.job_id)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {JobAttempt._meta.db_table} SET outcome = %s, finished_at = %s WHERE id = %s",  # noqa: S608
                [AttemptOutcome.SUCCEEDED.value, _db_value(JobAttempt, "finished_at", now), claimed.attempt_id],
            )
            # One conditional UPDATE, no read: the common path of every job.
            cursor.execute(
                f"UPDATE {JobRecord._meta.db_table} SET state = %s, finished_at = %s, "  # noqa: S608 - our table
                "lease_expires_at = NULL, run_after = NULL, last_error = '', updated_at = %s "
                "WHERE id = %s AND ((state = %s AND attempts = %s) OR state = %s)",
                [
                    JobState.SUCCEEDED.value,
                    _db_value(JobRecord, "finished_at", now),
                    _db_value(JobRecord, "updated_at", now),
                    job_id,
                    JobState.RUNNING.value,
                    claimed.number,
                    JobState.RETRYING.value,
                ],
            )
            if cursor.rowcount == 1:
                return str(JobState.SUCCEEDED)
        return str(JobRecord.objects.values_list("state", flat=True).get(id=claimed.job_id))
    record = JobRecord.objects.select_for_update().get(id=claimed.job_id)
    attempt = JobAttempt.objects.get(id=claimed.attempt_id)
    attempt.finished_at = now
    attempt.outcome = AttemptOutcome.FAILED
    attempt.error_class = _class_path(error)[:200]
    attempt.error_message = str(error)[:2000]
    attempt.traceback = "".join(traceback_module.format_exception(error))[:20000]
    if record.state == JobState.RUNNING and record.attempts == claimed.number:
        _fail(
            record,
            claimed.declared,
            error=attempt.error_class,
            message=attempt.error_message,
            now=now,
            permanent=isinstance(error, PermanentJobError),
        )
        attempt.retry_at = record.run_after
    attempt.save()
    return str(record.state)


def _fail(
    record: JobRecord,
    declared: Job[..., Any] | None,
    *,
    error: str,
    message: str,
    now: dt.datetime,
    permanent: bool = False,
) -> None:
    """Schedule the next attempt of a failed job, or move it to the dead letter when none is left.

    A job whose function is no longer registered (``declared`` None) cannot be
    retried by itself: it goes to the dead letter, for an operator to look at.
    """
    record.last_error = f"{error}: {message}"[:2000]
    record.lease_expires_at = None
    if permanent or record.attempts_left <= 0 or declared is None:
        _dead(record, now=now)
        return
    failed_in_budget = record.max_attempts - record.attempts_left
    record.run_after = now + _backoff(declared, failed_in_budget)
    record.state = JobState.RETRYING
    record.task_result_id = _write_task_row(job_id=record.id, priority=record.priority, run_after=record.run_after)
    record.save()
    logger.info("job.retry_scheduled", job_id=str(record.id), job_name=record.name, run_after=record.run_after)


def _dead(record: JobRecord, *, now: dt.datetime) -> None:
    record.state = JobState.DEAD
    record.run_after = None
    record.finished_at = now
    record.lease_expires_at = None
    record.save()
    # An error, not a warning: nothing will run it again until an operator acts (docs/operations.md).
    logger.error("job.dead", job_id=str(record.id), job_name=record.name, attempts=record.attempts)
    job_dead_lettered.send(sender=JobRecord, record=record)


def _task_row_succeeded(task_result_id: uuid.UUID) -> None:
    from django_tasks_db.models import DBTaskResult  # noqa: PLC0415 - needs the app registry

    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_tasks_table()} SET status = %s, finished_at = %s, "  # noqa: S608 - the backend's table
            "exception_class_path = '', traceback = '' WHERE id = %s",
            [
                TaskResultStatus.SUCCESSFUL.value,
                _db_value(DBTaskResult, "finished_at", clock.now()),
                _db_value(DBTaskResult, "id", task_result_id),
            ],
        )


def _task_row_failed(task_result_id: uuid.UUID, error: BaseException) -> None:
    """Mark a task row failed as django-tasks-db does (class path and traceback on the row)."""
    from django_tasks_db.models import DBTaskResult  # noqa: PLC0415 - needs the app registry

    DBTaskResult.objects.filter(id=task_result_id).update(
        status=TaskResultStatus.FAILED,
        finished_at=clock.now(),
        exception_class_path=_class_path(error),
        traceback="".join(traceback_module.format_exception(error)),
        return_value=None,
    )


def _task_row_fail_if_running(task_result_id: uuid.UUID) -> None:
    from django_tasks_db.models import DBTaskResult  # noqa: PLC0415 - needs the app registry

    DBTaskResult.objects.filter(id=task_result_id, status=TaskResultStatus.RUNNING).update(
        status=TaskResultStatus.FAILED,
        finished_at=clock.now(),
        exception_class_path="govserve.core.jobs.LostAttempt",
        traceback="",
    )


@task(takes_context=True)
def run_job_task(context: TaskContext[Any, Any], *, job_id: str) -> None:
    """The django.tasks entry point of every govserve job (what ``db_worker`` runs).

    ``govserve worker`` claims and finishes attempts itself (fewer
    transactions); this path lets Django's ``db_worker`` run the same rows:
    the task row fails when the attempt fails (its traceback is kept there too).
    """
    worker_ids = context.task_result.worker_ids
    with transaction.atomic():
        claimed = _attempt_begin(
            job_id=job_id,
            task_result_id=uuid.UUID(str(context.task_result.id)),
            worker_id=worker_ids[-1] if worker_ids else "",
        )
    if claimed is None:
        return
    error = _call(claimed)
    with transaction.atomic():
        _attempt_finish(claimed, error)
    if error is not None:
        raise error


# --- The worker -------------------------------------------------------------------------


def default_worker_id() -> str:
    """Return ``host:pid:random``: unique across a worker pool, readable in ``jobs inspect``."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class WorkerStats:
    """What a worker did: attempts run (by outcome), scheduled periods claimed, lost attempts recovered."""

    succeeded: int = 0
    failed: int = 0
    plain_tasks: int = 0
    schedules_claimed: int = 0
    recovered: int = 0
    errors: list[BaseException] = field(default_factory=list)

    @property
    def attempts(self) -> int:
        return self.succeeded + self.failed


class Worker:
    """Run due jobs, claim due schedule periods and recover lost attempts, until stopped.

    Any number of workers run against one database: a due task row is claimed
    under ``SELECT ... FOR UPDATE SKIP LOCKED`` (PostgreSQL) or inside an
    ``IMMEDIATE`` transaction (SQLite, one writer at a time), so each attempt
    runs in exactly one worker. The job function runs outside any transaction
    the worker holds: on SQLite a write lock held across an SMTP call would stall
    every other writer. :meth:`stop` (SIGTERM/SIGINT in ``govserve worker``)
    lets the running job finish, then returns.
    """

    def __init__(
        self,
        *,
        worker_id: str | None = None,
        batch: bool = False,
        interval: float | None = None,
        max_jobs: int | None = None,
        run_schedules: bool = True,
        recover_every: float = 30.0,
        raise_errors: bool = False,
    ) -> None:
        self.worker_id = (worker_id or default_worker_id())[:64]
        self.batch = batch
        self.interval = interval if interval is not None else default_poll_interval()
        self.max_jobs = max_jobs
        self.run_schedules = run_schedules
        self.recover_every = recover_every
        self.raise_errors = raise_errors
        self.stats = WorkerStats()
        self._stop = threading.Event()
        self._claimed_periods: dict[str, dt.datetime] = {}
        self._last_recovery: float | None = None
        self._idle = True
        self._database_failures = 0
        self._started = 0
        self._pending: tuple[_Attempt, BaseException | None] | None = None
        self.current_job_id: uuid.UUID | None = None

    def stop(self) -> None:
        """Ask the worker to stop after the job it is running (safe from a signal handler)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def run(self) -> WorkerStats:
        """Work until stopped (or, in batch mode, until no job is due); return what was done."""
        _task_backend_alias()
        schedules = registered_schedules() if self.run_schedules else {}
        _ = registered_jobs()
        logger.info("worker.started", worker_id=self.worker_id, batch=self.batch, schedules=sorted(schedules))
        listener = _Listener() if not self.batch and connection.vendor == "postgresql" else None
        try:
            while not self._stop.is_set():
                try:
                    self._tick_housekeeping(schedules)
                    ran = self._run_one()
                except (OperationalError, InterfaceError) as error:
                    if self.batch:
                        raise
                    self._database_trouble(error)
                    continue
                self._database_failures = 0
                self._idle = not ran
                if ran:
                    if self.max_jobs is not None and self._started >= self.max_jobs:
                        break
                    continue
                if self.batch:
                    break
                # Idle: drop a broken or expired connection before waiting (Django's request-end rule).
                _close_old_connections()
                if listener is not None:
                    listener.wait(self.interval)
                else:
                    self._stop.wait(self.interval)
        finally:
            if listener is not None:
                listener.close()
            self.flush()
            _close_old_connections()
            logger.info(
                "worker.stopped",
                worker_id=self.worker_id,
                succeeded=self.stats.succeeded,
                failed=self.stats.failed,
                schedules_claimed=self.stats.schedules_claimed,
                recovered=self.stats.recovered,
            )
        return self.stats

    def _database_trouble(self, error: Exception) -> None:
        """Survive a lost or unreachable database: log, drop the connection, wait longer each time.

        An outcome not yet committed stays pending and is written on the next try.
        """
        self._database_failures += 1
        wait = min(30.0, 0.5 * 2 ** min(self._database_failures - 1, 6))
        logger.warning(
            "worker.database_unavailable",
            error_class=_class_path(error),
            failures=self._database_failures,
            retry_in_seconds=wait,
            exc_info=error,
        )
        with contextlib.suppress(Exception):
            connection.close()
        self._stop.wait(wait)

    def _tick_housekeeping(self, schedules: dict[str, Schedule]) -> None:
        monotonic = _monotonic()
        if self._last_recovery is None or monotonic - self._last_recovery >= self.recover_every:
            self._last_recovery = monotonic
            self.stats.recovered += recover_lost_attempts()
        for schedule in schedules.values():
            if self._claim_period(schedule):
                self.stats.schedules_claimed += 1

    def _claim_period(self, schedule: Schedule) -> bool:
        period_start = schedule.period_start(clock.now())
        name = schedule.job.name
        if self._claimed_periods.get(name) == period_start:
            return False
        claimed = schedule_claim(schedule, period_start=period_start, worker_id=self.worker_id)
        self._claimed_periods[name] = period_start
        return claimed

    def _run_one(self) -> bool:
        """Record the last attempt's outcome, claim the next due task row and run it; False when none is due.

        The outcome of one attempt and the claim of the next share a transaction:
        one commit (one fsync, one round trip fewer) per job instead of two. The
        outcome counts as recorded only once that transaction has committed.
        """
        now = clock.now()
        if self._pending is None and self._idle and connection.vendor == "sqlite" and not _due_rows(now).exists():
            # When idle, a plain read first: BEGIN IMMEDIATE takes SQLite's one write lock,
            # which an idle poll has no reason to take from the web processes.
            return False
        claimed: _Attempt | None = None
        plain_id: uuid.UUID | None = None
        with transaction.atomic():
            self._record_pending()
            row = _claim_row(now, self.worker_id)
            if row is not None:
                row_id, task_path, args_kwargs = row
                if task_path != run_job_task.module_path:
                    plain_id = row_id
                else:
                    job_id = (args_kwargs.get("kwargs") or {}).get("job_id")
                    if isinstance(job_id, str) and _is_uuid(job_id):
                        claimed = _attempt_begin(job_id=job_id, task_result_id=row_id, worker_id=self.worker_id)
                    if claimed is None:
                        _task_row_succeeded(row_id)  # a stale row: the job has moved on without it
        self._pending_recorded()
        if row is None:
            return False
        if plain_id is not None:
            self._run_plain(plain_id)
        if claimed is None:
            return True
        self._started += 1
        self.current_job_id = claimed.job_id
        error = _call(claimed)
        self.current_job_id = None
        self._pending = (claimed, error)
        if error is not None and (not isinstance(error, Exception) or self.raise_errors):
            self.flush()
            raise error
        return True

    def flush(self) -> None:
        """Record the outcome of the attempt that ran last, in a transaction of its own."""
        if self._pending is not None:
            with transaction.atomic():
                self._record_pending()
            self._pending_recorded()

    def _record_pending(self) -> None:
        """Write the outcome of the attempt that ran last (inside the caller's transaction)."""
        if self._pending is None:
            return
        claimed, error = self._pending
        _attempt_finish(claimed, error)
        if error is None:
            _task_row_succeeded(claimed.task_result_id)
        else:
            _task_row_failed(claimed.task_result_id, error)

    def _pending_recorded(self) -> None:
        """Count the outcome written by :meth:`_record_pending`, now that it is committed."""
        if self._pending is None:
            return
        _, error = self._pending
        self._pending = None
        if error is None:
            self.stats.succeeded += 1
        else:
            self.stats.failed += 1
            self.stats.errors.append(error)

    def _run_plain(self, row_id: uuid.UUID) -> None:
        """Run a task row that is not a govserve job (a plain ``@task``), as ``db_worker`` does."""
        from django_tasks_db.models import DBTaskResult  # noqa: PLC0415 - needs the app registry

        self.stats.plain_tasks += 1
        row = DBTaskResult.objects.get(id=row_id)
        try:
            plain_task = row.task
            result = row.task_result
            if plain_task.takes_context:
                value = plain_task.call(TaskContext(task_result=result), *result.args, **result.kwargs)
            else:
                value = plain_task.call(*result.args, **result.kwargs)
            row.set_successful(value)
        except Exception as error:
            logger.warning("task.failed", task_id=str(row.id), exc_info=True)
            row.set_failed(error)


class _Listener:
    """A PostgreSQL connection LISTENing on :data:`NOTIFY_CHANNEL`, so idle workers wake at each enqueue.

    Optional: any error closes it and the worker falls back to polling, and it
    reconnects on the next wait.
    """

    # Keys of Django's connection parameters that are not libpq's.
    _NOT_LIBPQ = frozenset({"cursor_factory", "context", "prepare_threshold", "server_side_binding", "pool"})

    def __init__(self) -> None:
        self._connection: Any = None

    def _connect(self) -> Any:
        import psycopg  # noqa: PLC0415 - only PostgreSQL deployments need it

        params = {k: v for k, v in connection.get_connection_params().items() if k not in self._NOT_LIBPQ}
        listening = psycopg.connect(**params, autocommit=True)
        listening.execute(f"LISTEN {NOTIFY_CHANNEL}")
        return listening

    def wait(self, timeout: float) -> None:
        """Return at the next notification, or after ``timeout`` seconds."""
        try:
            if self._connection is None:
                self._connection = self._connect()
            for _ in self._connection.notifies(timeout=timeout, stop_after=1):
                pass
        except Exception:  # a lost listener only costs latency: poll instead
            logger.warning("worker.listener_failed", exc_info=True)
            self.close()
            _sleep(timeout)

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()
            self._connection = None


def _sleep(seconds: float) -> None:
    threading.Event().wait(seconds)


def default_poll_interval() -> float:
    """Return ``GOVSERVE_JOBS_POLL_INTERVAL_SECONDS``, else 0.1 s on SQLite and 1 s on PostgreSQL.

    An idle SQLite poll is one read of an index (WAL readers block nobody); on
    PostgreSQL the NOTIFY sent with each enqueue wakes idle workers, so the poll
    only bounds how late retries and schedule periods start.
    """
    configured = getattr(settings, "GOVSERVE_JOBS_POLL_INTERVAL_SECONDS", None)
    if configured is not None:
        return float(configured)
    return _DEFAULT_POLL_INTERVAL.get(connection.vendor, 1.0)


def _close_old_connections() -> None:
    # Inside an atomic block (run_pending in a test transaction) the connection is
    # the caller's: Django would close it for not being in autocommit mode.
    if not connection.in_atomic_block:
        close_old_connections()


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _monotonic() -> float:
    import time  # noqa: PLC0415 - kept local so tests patch clock.now, not this

    return time.monotonic()


def _claim_row(now: dt.datetime, worker_id: str) -> tuple[uuid.UUID, str, dict[str, Any]] | None:
    """Claim the first due task row for ``worker_id``; return (id, task path, args) or None.

    Call inside a transaction. PostgreSQL skips rows other workers hold
    (``FOR UPDATE SKIP LOCKED``); SQLite has one writer at a time (``IMMEDIATE``).
    The claim is what django-tasks-db's own worker writes: RUNNING, started_at,
    the worker id appended to ``worker_ids``.
    """
    from django_tasks_db.models import DBTaskResult, get_date_max  # noqa: PLC0415 - needs the app registry

    table = _tasks_table()
    lock = " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, task_path, args_kwargs, worker_ids FROM {table} "  # noqa: S608 - the backend's table
            "WHERE status = %s AND backend_name = %s AND (run_after = %s OR run_after <= %s) "
            f"ORDER BY priority DESC, run_after ASC, enqueued_at ASC LIMIT 1{lock}",
            [
                TaskResultStatus.READY.value,
                _task_backend_alias(),
                _db_value(DBTaskResult, "run_after", get_date_max()),
                _db_value(DBTaskResult, "run_after", now),
            ],
        )
        found = cursor.fetchone()
        if found is None:
            return None
        raw_id, task_path, args_kwargs, worker_ids = found
        cursor.execute(
            f"UPDATE {table} SET status = %s, started_at = %s, worker_ids = %s WHERE id = %s",  # noqa: S608
            [
                TaskResultStatus.RUNNING.value,
                _db_value(DBTaskResult, "started_at", clock.now()),
                _db_value(DBTaskResult, "worker_ids", [*(_json(worker_ids) or []), worker_id]),
                raw_id,
            ],
        )
    return uuid.UUID(str(raw_id)), str(task_path), _json(args_kwargs) or {}


def _due_rows(now: dt.datetime) -> Any:
    from django_tasks_db.models import DBTaskResult, get_date_max  # noqa: PLC0415 - needs the app registry

    return DBTaskResult.objects.filter(status=TaskResultStatus.READY, backend_name=_task_backend_alias()).filter(
        Q(run_after=get_date_max()) | Q(run_after__lte=now)
    )


def schedule_claim(schedule: Schedule, *, period_start: dt.datetime, worker_id: str = "") -> bool:
    """Claim ``period_start`` of ``schedule`` and enqueue its job; return False if already claimed.

    The insert of (name, period start) under the unique constraint is the claim:
    ``INSERT ... ON CONFLICT DO NOTHING`` so concurrent workers neither fail nor
    log errors; exactly one of them gets the row back and enqueues the job in
    the same transaction.
    """
    name = schedule.job.name
    if ScheduledRun.objects.filter(name=name, period_start=period_start).exists():
        return False  # the common case: read only, no write lock taken on SQLite
    table = ScheduledRun._meta.db_table
    ops = connection.ops
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (name, period_start, claimed_at, worker_id) VALUES (%s, %s, %s, %s) "  # noqa: S608 - table name is ours
                "ON CONFLICT (name, period_start) DO NOTHING RETURNING id",
                [
                    name,
                    ops.adapt_datetimefield_value(period_start),
                    ops.adapt_datetimefield_value(clock.now()),
                    worker_id[:64],
                ],
            )
            inserted = cursor.fetchone()
        if inserted is None:
            return False
        key = f"{_SCHEDULE_KEY_PREFIX}{name}:{period_start.isoformat()}"
        record = _enqueue_checked(schedule.job, idempotency_key=key, kwargs={})
        ScheduledRun.objects.filter(id=inserted[0]).update(job=record)
    logger.info("schedule.claimed", job_name=name, period_start=period_start, worker_id=worker_id)
    return True


def recover_lost_attempts(*, now: dt.datetime | None = None, limit: int = 100) -> int:
    """Treat running attempts whose lease expired as lost: retry them (or dead-letter); return how many.

    Rows are locked with SKIP LOCKED so concurrent workers share the work.
    """
    now = now or clock.now()
    recovered = 0
    if not JobRecord.objects.filter(state=JobState.RUNNING, lease_expires_at__lt=now).exists():
        return 0  # the common case, answered by a read: no write lock taken on SQLite
    with transaction.atomic():
        lost = list(
            JobRecord.objects.select_for_update(skip_locked=True)
            .filter(state=JobState.RUNNING, lease_expires_at__lt=now)
            .order_by("lease_expires_at")[:limit]
        )
        for record in lost:
            attempt = JobAttempt.objects.filter(job=record, number=record.attempts).first()
            message = "the attempt's lease expired: its worker stopped or the job ran longer than its lease"
            if attempt is not None:
                attempt.outcome = AttemptOutcome.LOST
                attempt.finished_at = now
                attempt.error_class = "govserve.core.jobs.LostAttempt"
                attempt.error_message = message
                if attempt.task_result_id is not None:
                    _task_row_fail_if_running(attempt.task_result_id)
            declared: Job[..., Any] | None
            try:
                declared = _job_by_name(record.name, record.module)
            except LookupError:
                declared = None
            _fail(record, declared, error="govserve.core.jobs.LostAttempt", message=message, now=now)
            if attempt is not None:
                attempt.retry_at = record.run_after
                attempt.save()
            recovered += 1
            logger.warning("job.attempt_lost", job_id=str(record.id), job_name=record.name, attempt=record.attempts)
    return recovered


def run_pending(*, include_scheduled: bool = False, raise_errors: bool = False, max_jobs: int | None = None) -> int:
    """Run every due job in this process and thread, then return the number of attempts run.

    For tests: jobs enqueued earlier in the same test transaction are visible.
    Retries are due only once their backoff has passed (move
    ``govserve.core.clock.now`` to run them). ``include_scheduled`` also claims
    the current period of every schedule first. ``raise_errors`` re-raises the
    first job failure (after recording it) instead of leaving it for retry.
    """
    worker = Worker(
        worker_id="run_pending",
        batch=True,
        run_schedules=include_scheduled,
        max_jobs=max_jobs,
        raise_errors=raise_errors,
        recover_every=math.inf,
    )
    worker._last_recovery = _monotonic()
    return worker.run().attempts


# --- Operations: list, inspect, retry -------------------------------------------------


def job_list(*, state: str | None = None, name: str | None = None, limit: int = 100) -> list[JobRecord]:
    """Return jobs, newest first, optionally in one state or with one name."""
    jobs = JobRecord.objects.all()
    if state:
        if state not in JobState.values:
            msg = f"unknown job state {state!r}; one of {', '.join(JobState.values)}"
            raise ValueError(msg)
        jobs = jobs.filter(state=state)
    if name:
        jobs = jobs.filter(name=name)
    return list(jobs.order_by("-created_at")[:limit])


def job_get(*, job_id: str) -> JobRecord:
    """Return the job ``job_id`` (or the job with that idempotency key); raise JobNotFoundError."""
    found: JobRecord | None = None
    with contextlib.suppress(ValueError):
        found = JobRecord.objects.filter(id=uuid.UUID(job_id)).first()
    if found is None:
        found = JobRecord.objects.filter(idempotency_key=job_id).first()
    if found is None:
        msg = f"no job {job_id!r}"
        raise JobNotFoundError(msg)
    return found


def job_attempts(*, job_id: uuid.UUID) -> list[JobAttempt]:
    """Return the attempts of a job in order."""
    return list(JobAttempt.objects.filter(job_id=job_id).order_by("number"))


def job_retry(*, job_id: str) -> JobRecord:
    """Give the dead job ``job_id`` a fresh budget of attempts, due now; return it.

    Only dead jobs are retried (JobStateError otherwise): a job that is still
    retrying runs again by itself. Its idempotency key and attempt history stay.
    """
    with transaction.atomic():
        record = job_get(job_id=job_id)
        record = JobRecord.objects.select_for_update().get(id=record.id)
        if record.state != JobState.DEAD:
            msg = f"job {record.id} is {record.state}, not dead: only dead jobs are retried"
            raise JobStateError(msg)
        return _retry_locked(record)


def _retry_locked(record: JobRecord) -> JobRecord:
    declared: Job[..., Any] | None
    try:
        declared = _job_by_name(record.name, record.module)
    except LookupError:
        declared = None
    record.max_attempts = _max_attempts(declared) if declared else record.max_attempts
    record.attempts_left = record.max_attempts
    record.state = JobState.QUEUED
    record.finished_at = None
    record.run_after = None
    record.manual_retries += 1
    record.task_result_id = _write_task_row(job_id=record.id, priority=record.priority, run_after=None)
    record.save()
    logger.info("job.retried", job_id=str(record.id), job_name=record.name)
    job_retried.send(sender=JobRecord, record=record)
    return record


def job_retry_all_dead(*, name: str | None = None) -> int:
    """Retry every dead job (optionally only those named ``name``); return how many."""
    retried = 0
    with transaction.atomic():
        dead = JobRecord.objects.select_for_update().filter(state=JobState.DEAD)
        if name:
            dead = dead.filter(name=name)
        for record in dead.order_by("created_at"):
            _retry_locked(record)
            retried += 1
    return retried


def job_counts() -> dict[str, int]:
    """Return the number of jobs in each state (every state present, zero included)."""
    counts = dict.fromkeys(JobState.values, 0)
    for row in JobRecord.objects.values("state").order_by().annotate(n=Count("id")):
        counts[str(row["state"])] = int(row["n"])
    return counts


def job_prune(*, older_than: dt.timedelta, batch_size: int = 1000) -> tuple[int, int]:
    """Delete succeeded jobs finished more than ``older_than`` ago, and finished task rows as old.

    Return (jobs deleted, task rows deleted). Deletes ``batch_size`` rows per
    transaction, so a large first prune never holds SQLite's write lock for
    long. Dead jobs are never pruned: they wait for an operator. A pruned job's
    idempotency key is free again, so keep ``older_than`` longer than any
    producer might re-send the same key.
    """
    if older_than < dt.timedelta(days=1):
        msg = "older_than must be at least one day: recent keys still guard against duplicates"
        raise ValueError(msg)
    from django_tasks_db.models import DBTaskResult  # noqa: PLC0415 - needs the app registry

    cutoff = clock.now() - older_than
    jobs_deleted = rows_deleted = 0
    while True:
        with transaction.atomic():
            ids = list(
                JobRecord.objects.filter(state=JobState.SUCCEEDED, finished_at__lt=cutoff)
                .order_by("finished_at")
                .values_list("id", flat=True)[:batch_size]
            )
            if not ids:
                break
            ScheduledRun.objects.filter(job_id__in=ids).delete()
            JobAttempt.objects.filter(job_id__in=ids).delete()
            JobRecord.objects.filter(id__in=ids).delete()
        jobs_deleted += len(ids)
    current_rows = JobRecord.objects.exclude(task_result_id=None).values("task_result_id")
    while True:
        with transaction.atomic():
            row_ids = list(
                DBTaskResult.objects.filter(
                    status__in=[TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED], finished_at__lt=cutoff
                )
                .exclude(id__in=current_rows)
                .values_list("id", flat=True)[:batch_size]
            )
            if not row_ids:
                break
            DBTaskResult.objects.filter(id__in=row_ids).delete()
        rows_deleted += len(row_ids)
    logger.info("jobs.pruned", jobs=jobs_deleted, task_rows=rows_deleted, cutoff=cutoff)
    return jobs_deleted, rows_deleted


@contextlib.contextmanager
def job_context(context: JobContext) -> Iterator[None]:
    """Run a block as if inside a job: for tests of job functions that read :func:`current_job`."""
    token = _current.set(context)
    try:
        yield
    finally:
        _current.reset(token)


@scheduled(name="core.jobs.prune", every=dt.timedelta(days=1), offset=dt.timedelta(hours=3))
def jobs_prune_daily() -> None:
    """Every day at 03:00 UTC: prune succeeded jobs older than ``GOVSERVE_JOBS_RETENTION_DAYS`` (0: never)."""
    days = int(getattr(settings, "GOVSERVE_JOBS_RETENTION_DAYS", 30))
    if days > 0:
        job_prune(older_than=dt.timedelta(days=days))
