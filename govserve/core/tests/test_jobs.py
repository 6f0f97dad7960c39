"""Jobs: the transactional outbox, idempotency, argument checks, retries, dead letter, recovery."""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.tasks import TaskResultStatus, task
from django.tasks.signals import task_enqueued
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult
from hypothesis import given
from hypothesis import strategies as st
from structlog.testing import capture_logs

from govserve.core import clock, jobs
from govserve.core.jobs import (
    IdempotencyConflictError,
    JobArgumentError,
    JobContext,
    JobStateError,
    current_job,
    enqueue,
    job_context,
    retry_delay,
    run_pending,
)
from govserve.core.models import AttemptOutcome, JobAttempt, JobRecord, JobState
from govserve.core.tests import jobs_for_tests
from govserve.core.tests.jobs_for_tests import echo, flaky, permanent


@pytest.fixture(autouse=True)
def _fresh_calls() -> Iterator[None]:
    jobs_for_tests.CALLS.clear()
    jobs_for_tests.FAILURES_LEFT.clear()
    yield
    jobs_for_tests.CALLS.clear()
    jobs_for_tests.FAILURES_LEFT.clear()


class MovableClock:
    """Replace ``clock.now`` with a time the test moves forward."""

    def __init__(self, start: dt.datetime) -> None:
        self.current = start

    def now(self) -> dt.datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += dt.timedelta(**delta)


@pytest.fixture
def movable_clock(monkeypatch: pytest.MonkeyPatch) -> MovableClock:
    moving = MovableClock(dt.datetime.now(tz=dt.UTC))
    monkeypatch.setattr(clock, "now", moving.now)
    return moving


def _row_id(value: uuid.UUID | None) -> uuid.UUID:
    assert value is not None
    return value


def _begin(record: JobRecord, *, worker_id: str) -> Any:
    """Start an attempt as a worker does (then the test plays the worker's fate)."""
    row_id = _row_id(record.task_result_id)
    return jobs._attempt_begin(job_id=str(record.id), task_result_id=row_id, worker_id=worker_id)


def _ready_rows() -> list[DBTaskResult[Any, Any]]:
    return list(DBTaskResult.objects.filter(status=TaskResultStatus.READY).order_by("enqueued_at"))


# --- The transactional outbox ----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_enqueue_outside_a_transaction_raises_and_writes_nothing() -> None:
    # given no transaction.atomic() around the call
    # when a job is enqueued
    with pytest.raises(RuntimeError, match=r"inside transaction\.atomic\(\)"):
        enqueue(echo, idempotency_key="echo:outside", item_id="a1")
    # then neither a job nor a task row exists
    assert JobRecord.objects.count() == 0
    assert DBTaskResult.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_enqueue_then_raise_inside_atomic_leaves_no_task_row() -> None:
    # given a business transaction that enqueues and then fails
    def business_change() -> None:
        with transaction.atomic():
            enqueue(echo, idempotency_key="echo:rolled-back", item_id="a1")
            assert DBTaskResult.objects.count() == 1  # visible inside the transaction
            _ = 1 / 0

    with pytest.raises(ZeroDivisionError):
        business_change()
    # then the job rolled back with it
    assert JobRecord.objects.count() == 0
    assert DBTaskResult.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_enqueue_committed_writes_the_job_and_its_task_row(movable_clock: MovableClock) -> None:
    # given a business transaction that commits
    with transaction.atomic():
        record = enqueue(echo, idempotency_key="echo:committed", item_id="a1", tags=["x", "y"])
    # then the job and one READY task row pointing at it exist
    stored = JobRecord.objects.get()
    assert stored.id == record.id
    assert (stored.name, stored.state, stored.kwargs) == (
        "tests.echo",
        JobState.QUEUED,
        {"item_id": "a1", "tags": ["x", "y"]},
    )
    assert (stored.attempts, stored.attempts_left, stored.max_attempts) == (0, 8, 8)
    row = DBTaskResult.objects.get()
    assert row.id == stored.task_result_id
    assert row.status == TaskResultStatus.READY
    assert row.task_path == "govserve.core.jobs.run_job_task"
    assert row.args_kwargs == {"args": [], "kwargs": {"job_id": str(stored.id)}}
    assert row.run_after == movable_clock.current  # due now, so it sorts before deferred retries


@pytest.mark.django_db
def test_enqueue_by_name_finds_the_registered_job() -> None:
    with transaction.atomic():
        record = enqueue("tests.echo", idempotency_key="echo:by-name", item_id="a1")
    assert record.name == "tests.echo"
    assert record.module == "govserve.core.tests.jobs_for_tests"


@pytest.mark.django_db
def test_enqueue_of_an_unknown_name_raises_lookup_error() -> None:
    with transaction.atomic(), pytest.raises(LookupError, match=r"tests\.nowhere"):
        enqueue("tests.nowhere", idempotency_key="x:1")
    assert JobRecord.objects.count() == 0


# --- Idempotency -----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_same_idempotency_key_twice_makes_one_job() -> None:
    with transaction.atomic():
        first = enqueue(echo, idempotency_key="echo:same", item_id="a1")
    with transaction.atomic():
        second = enqueue(echo, idempotency_key="echo:same", item_id="a1")
    assert second.id == first.id
    assert JobRecord.objects.count() == 1
    assert DBTaskResult.objects.count() == 1


@pytest.mark.django_db
def test_a_repeated_key_in_the_same_transaction_writes_nothing_and_leaves_it_usable() -> None:
    # given a job enqueued in this transaction
    with transaction.atomic():
        first = enqueue(echo, idempotency_key="echo:twice", item_id="a1")

        # when the same key is enqueued again in it, no savepoint around
        with CaptureQueriesContext(connection) as queries:
            again = enqueue(echo, idempotency_key="echo:twice", item_id="a1")
        counted = JobRecord.objects.count()  # PostgreSQL: the transaction was not aborted

    # then one conditional insert that wrote nothing and the read of the existing job
    assert again.id == first.id
    assert counted == 1
    assert DBTaskResult.objects.count() == 1
    assert not any("SAVEPOINT" in query["sql"] for query in queries)
    assert len(queries) == 2
    assert "ON CONFLICT" in queries[0]["sql"]


@pytest.mark.django_db
def test_a_new_job_is_two_inserts_and_its_task_row_is_the_one_the_backend_writes() -> None:
    # given the same attempt written by django-tasks-db's own enqueue and by ours, with a listener on its signal
    job_id = uuid.uuid4()
    due = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)
    heard: list[str] = []

    def listener(sender: Any, task_result: Any, **kwargs: Any) -> None:
        heard.append(str(task_result.id))

    task_enqueued.connect(listener)
    try:
        with transaction.atomic():
            theirs = jobs.run_job_task.using(priority=7, run_after=due).enqueue(job_id=str(job_id))
            ours = jobs._write_task_row(job_id=job_id, priority=7, run_after=due)
            with CaptureQueriesContext(connection) as queries:
                enqueue(echo, idempotency_key="echo:new", item_id="a1")
    finally:
        task_enqueued.disconnect(listener)

    # then the rows differ only in their ids and enqueue times, the signal was sent for both
    skipped = {"id", "enqueued_at"}
    fields = [f.attname for f in DBTaskResult._meta.concrete_fields if f.attname not in skipped]
    assert [getattr(DBTaskResult.objects.get(id=ours), name) for name in fields] == [
        getattr(DBTaskResult.objects.get(id=theirs.id), name) for name in fields
    ]
    assert heard[:2] == [str(theirs.id), str(ours)]
    inserts = [query["sql"] for query in queries if query["sql"].startswith("INSERT")]
    assert len(inserts) == 2
    assert not any("SAVEPOINT" in query["sql"] for query in queries)
    record = JobRecord.objects.get(idempotency_key="echo:new")
    assert record.task_result_id is not None
    assert DBTaskResult.objects.get(id=record.task_result_id).args_kwargs == {
        "args": [],
        "kwargs": {"job_id": str(record.id)},
    }


@pytest.mark.django_db
def test_the_same_key_after_the_job_ran_still_makes_no_second_job() -> None:
    with transaction.atomic():
        enqueue(echo, idempotency_key="echo:ran", item_id="a1")
    assert run_pending() == 1
    with transaction.atomic():
        again = enqueue(echo, idempotency_key="echo:ran", item_id="a1")
    assert again.state == JobState.SUCCEEDED
    assert run_pending() == 0
    assert len(jobs_for_tests.CALLS) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("target", "kwargs"),
    [("tests.echo", {"item_id": "other"}), ("tests.flaky", {"item_id": "a1"})],
)
def test_the_same_key_with_other_arguments_or_job_conflicts(target: str, kwargs: dict[str, Any]) -> None:
    with transaction.atomic():
        first = enqueue(echo, idempotency_key="echo:conflict", item_id="a1")
    with pytest.raises(IdempotencyConflictError) as raised, transaction.atomic():
        enqueue(target, idempotency_key="echo:conflict", **kwargs)
    assert raised.value.code == "job_idempotency_conflict"
    assert raised.value.extra == {"job_id": str(first.id)}
    assert list(JobRecord.objects.values_list("name", "kwargs")) == [("tests.echo", {"item_id": "a1"})]
    assert DBTaskResult.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "has space", "x" * 201, "caf\u00e9", "line\nbreak", 42])
def test_a_malformed_idempotency_key_is_refused(key: Any) -> None:
    with transaction.atomic(), pytest.raises(ValueError, match="idempotency_key"):
        enqueue(echo, idempotency_key=key, item_id="a1")
    assert JobRecord.objects.count() == 0
    assert DBTaskResult.objects.count() == 0


# --- Arguments are ids -----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"item_id": {"nested": {"deeper": 1}}}, "argument 'item_id' must be an id"),
        ({"item_id": [["nested"]]}, "argument 'item_id' must be an id"),
        ({"item_id": b"bytes"}, "got bytes"),
        ({"item_id": uuid.UUID(int=1)}, "got UUID"),
        ({"item_id": dt.date(2024, 1, 1)}, "got date"),
        ({"item_id": float("nan")}, "got float"),
        ({"item_id": "x" * 1001}, "strings up to 1000 characters"),
        ({"item_id": {1: "int key"}}, "got dict"),
        ({"item_id": "a1", "tags": ["t" * 900] * 20}, "exceed 16384 bytes"),
        ({"item_id": "a1", "colour": "red"}, "do not match the function"),
        ({}, "do not match the function"),
    ],
)
def test_arguments_that_are_not_ids_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with transaction.atomic(), pytest.raises(JobArgumentError, match=message):
        enqueue(echo, idempotency_key="echo:bad-args", **kwargs)
    assert JobRecord.objects.count() == 0
    assert DBTaskResult.objects.count() == 0


@pytest.mark.django_db
def test_scalars_lists_and_flat_dicts_are_accepted_and_stored_as_json() -> None:
    with transaction.atomic():
        record = enqueue(
            echo,
            idempotency_key="echo:good-args",
            item_id="a1",
            tags=("t1", 2, 3.5, True, None),  # a tuple is stored as a list
        )
    assert JobRecord.objects.get(id=record.id).kwargs == {"item_id": "a1", "tags": ["t1", 2, 3.5, True, None]}


# --- Running, current_job ----------------------------------------------------------------


@pytest.mark.django_db
def test_run_pending_runs_the_job_with_its_context() -> None:
    with transaction.atomic():
        record = enqueue(echo, idempotency_key="echo:context", item_id="a1")
    assert run_pending() == 1
    name, context, kwargs = jobs_for_tests.CALLS[0]
    assert (name, kwargs) == ("tests.echo", {"item_id": "a1", "tags": None})
    assert context == JobContext(
        idempotency_key="echo:context", attempt=1, job_name="tests.echo", job_id=record.id, max_attempts=8
    )
    record.refresh_from_db()
    assert (record.state, record.attempts, record.attempts_left, record.lease_expires_at) == (
        JobState.SUCCEEDED,
        1,
        7,
        None,
    )
    attempt = JobAttempt.objects.get(job=record)
    assert (attempt.number, attempt.outcome, attempt.worker_id, attempt.error_class) == (
        1,
        AttemptOutcome.SUCCEEDED,
        "run_pending",
        "",
    )
    assert DBTaskResult.objects.get().status == TaskResultStatus.SUCCESSFUL


def test_current_job_outside_a_job_raises() -> None:
    with pytest.raises(RuntimeError, match="only available inside a running job"):
        current_job()


def test_job_context_sets_the_context_for_tests_of_job_functions() -> None:
    context = JobContext(idempotency_key="email:1", attempt=2, job_name="tests.echo")
    with job_context(context):
        assert current_job() == context
    with pytest.raises(RuntimeError):
        current_job()


@pytest.mark.django_db
def test_jobs_run_in_order() -> None:
    with transaction.atomic():
        enqueue(echo, idempotency_key="echo:1", item_id="first")
        enqueue(echo, idempotency_key="echo:2", item_id="second")
    assert run_pending() == 2
    assert [call[2]["item_id"] for call in jobs_for_tests.CALLS] == ["first", "second"]


# --- Retries and dead letter -------------------------------------------------------------


@pytest.mark.django_db
def test_a_failed_attempt_is_retried_after_a_jittered_backoff(movable_clock: MovableClock) -> None:
    # given a job that fails once, then succeeds
    jobs_for_tests.FAILURES_LEFT["a1"] = 1
    with transaction.atomic():
        record = enqueue(flaky, idempotency_key="flaky:a1", item_id="a1")
    first_row = record.task_result_id
    # when it runs
    assert run_pending() == 1
    # then the attempt failed and the retry is due 5-10 s later (base 10 s, jitter 0.5-1.0)
    record.refresh_from_db()
    assert record.state == JobState.RETRYING
    assert record.run_after is not None
    delay = (record.run_after - movable_clock.current).total_seconds()
    assert 5.0 <= delay <= 10.0
    assert record.last_error == "builtins.ConnectionError: remote system unavailable for a1"
    attempt = JobAttempt.objects.get(job=record, number=1)
    assert (attempt.outcome, attempt.error_class, attempt.retry_at) == (
        AttemptOutcome.FAILED,
        "builtins.ConnectionError",
        record.run_after,
    )
    assert "ConnectionError: remote system unavailable for a1" in attempt.traceback
    assert DBTaskResult.objects.get(id=_row_id(first_row)).status == TaskResultStatus.FAILED
    retry_row = DBTaskResult.objects.get(id=_row_id(record.task_result_id))
    assert (retry_row.status, retry_row.run_after) == (TaskResultStatus.READY, record.run_after)
    # and it does not run before its time
    movable_clock.advance(seconds=delay - 0.5)
    assert run_pending() == 0
    # when the backoff has passed it runs again and succeeds
    movable_clock.advance(seconds=1)
    assert run_pending() == 1
    record.refresh_from_db()
    assert (record.state, record.attempts, record.last_error) == (JobState.SUCCEEDED, 2, "")
    assert [call[1].attempt for call in jobs_for_tests.CALLS] == [1, 2]


@pytest.mark.django_db
def test_a_job_is_dead_after_its_max_attempts(movable_clock: MovableClock) -> None:
    with transaction.atomic():
        record = enqueue(flaky, idempotency_key="flaky:dead", item_id="dead")
    for _ in range(3):
        assert run_pending() == 1
        movable_clock.advance(hours=2)
    assert run_pending() == 0
    record.refresh_from_db()
    assert (record.state, record.attempts, record.attempts_left, record.run_after) == (JobState.DEAD, 3, 0, None)
    assert record.finished_at == movable_clock.current - dt.timedelta(hours=2)
    assert list(JobAttempt.objects.filter(job=record).values_list("number", "outcome")) == [
        (1, "failed"),
        (2, "failed"),
        (3, "failed"),
    ]
    assert _ready_rows() == []
    assert DBTaskResult.objects.filter(status=TaskResultStatus.FAILED).count() == 3


@pytest.mark.django_db
@override_settings(
    GOVSERVE_JOBS_MAX_ATTEMPTS=2, GOVSERVE_JOBS_BACKOFF_BASE_SECONDS=1, GOVSERVE_JOBS_BACKOFF_CAP_SECONDS=1
)
def test_the_settings_default_applies_to_jobs_without_their_own(movable_clock: MovableClock) -> None:
    with transaction.atomic():
        record = enqueue("tests.defaults", idempotency_key="defaults:1", item_id="a1")
    assert record.max_attempts == 2
    assert run_pending() == 1
    record.refresh_from_db()
    assert record.run_after is not None
    assert 0.5 <= (record.run_after - movable_clock.current).total_seconds() <= 1.0
    movable_clock.advance(seconds=1)
    assert run_pending() == 1
    record.refresh_from_db()
    assert (record.state, record.attempts) == (JobState.DEAD, 2)


@pytest.mark.django_db
def test_a_permanent_error_is_dead_at_once() -> None:
    with transaction.atomic():
        record = enqueue(permanent, idempotency_key="permanent:1", item_id="p1")
    with capture_logs() as logged:
        assert run_pending() == 1
    # the dead letter is logged as an error (operators alert on it); the failed attempt as a warning
    levels = {entry["event"]: entry["log_level"] for entry in logged}
    assert (levels["job.failed"], levels["job.dead"]) == ("warning", "error")
    record.refresh_from_db()
    assert (record.state, record.attempts, record.attempts_left) == (JobState.DEAD, 1, 4)
    assert record.last_error == "govserve.core.jobs.PermanentJobError: item p1 no longer exists"
    assert _ready_rows() == []


@pytest.mark.django_db
def test_retry_gives_a_dead_job_a_fresh_budget(movable_clock: MovableClock) -> None:
    # given a dead job
    with transaction.atomic():
        record = enqueue(permanent, idempotency_key="permanent:retry", item_id="p1")
    run_pending()
    # when the operator retries it (by id) after fixing the cause
    retried = jobs.job_retry(job_id=str(record.id))
    # then it is queued again with its history kept
    assert (retried.state, retried.attempts, retried.attempts_left, retried.manual_retries) == (
        JobState.QUEUED,
        1,
        5,
        1,
    )
    assert len(_ready_rows()) == 1
    assert run_pending() == 1
    record.refresh_from_db()
    assert (record.state, record.attempts) == (JobState.DEAD, 2)
    assert [call[1].attempt for call in jobs_for_tests.CALLS] == [1, 2]


@pytest.mark.django_db
def test_retry_by_idempotency_key_and_of_all_dead_jobs() -> None:
    with transaction.atomic():
        enqueue(permanent, idempotency_key="permanent:a", item_id="a")
        enqueue(permanent, idempotency_key="permanent:b", item_id="b")
        enqueue(echo, idempotency_key="echo:alive", item_id="c")
    run_pending()
    assert jobs.job_retry(job_id="permanent:a").state == JobState.QUEUED
    assert jobs.job_retry_all_dead() == 1  # only b is still dead
    assert jobs.job_counts() == {"queued": 2, "running": 0, "retrying": 0, "succeeded": 1, "dead": 0}


@pytest.mark.django_db
def test_retry_of_a_job_that_is_not_dead_is_refused_and_changes_nothing() -> None:
    with transaction.atomic():
        record = enqueue(echo, idempotency_key="echo:not-dead", item_id="a1")
    with pytest.raises(JobStateError, match="is queued, not dead"):
        jobs.job_retry(job_id=str(record.id))
    stored = JobRecord.objects.get(id=record.id)
    assert (stored.state, stored.manual_retries, stored.task_result_id) == (JobState.QUEUED, 0, record.task_result_id)
    assert DBTaskResult.objects.count() == 1


@pytest.mark.django_db
def test_retry_of_an_unknown_job_raises_not_found() -> None:
    with pytest.raises(jobs.JobNotFoundError, match="no job 'nothing'"):
        jobs.job_retry(job_id="nothing")


# --- The backoff formula -----------------------------------------------------------------


class _FixedRandom(random.Random):
    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def uniform(self, a: float, b: float) -> float:
        return a + (b - a) * self.value


@pytest.mark.parametrize(
    ("attempt", "jitter", "expected"),
    [
        (1, 1.0, 10.0),
        (1, 0.0, 5.0),
        (2, 1.0, 20.0),
        (4, 1.0, 80.0),
        (9, 1.0, 2560.0),
        (10, 1.0, 3600.0),
        (10, 0.0, 1800.0),
    ],
)
def test_retry_delay_is_exponential_capped_and_jittered(attempt: int, jitter: float, expected: float) -> None:
    delay = retry_delay(attempt, base=dt.timedelta(seconds=10), cap=dt.timedelta(hours=1), rng=_FixedRandom(jitter))
    assert delay == dt.timedelta(seconds=expected)


@given(
    attempt=st.integers(min_value=1, max_value=10_000),
    base=st.floats(min_value=0.001, max_value=1000),
    cap=st.floats(min_value=0.001, max_value=100_000),
)
def test_retry_delay_stays_between_half_and_all_of_the_capped_backoff(attempt: int, base: float, cap: float) -> None:
    delay = retry_delay(attempt, base=dt.timedelta(seconds=base), cap=dt.timedelta(seconds=cap)).total_seconds()
    nominal = min(cap, base * 2 ** min(attempt - 1, 62))
    assert nominal * 0.5 - 1e-6 <= delay <= nominal + 1e-6


def test_retry_delay_refuses_attempt_zero() -> None:
    with pytest.raises(ValueError, match="counts from 1"):
        retry_delay(0, base=dt.timedelta(seconds=1), cap=dt.timedelta(seconds=1))


# --- Registration ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["nodots", "Upper.case", "trailing.", "x." + "y" * 100, "with space.x", "1st.job"])
def test_job_names_must_be_dotted_lower_case(name: str) -> None:
    with pytest.raises(ValueError, match="dotted lower-case"):
        jobs.job(name=name)(_keyword_only)


def _keyword_only(*, item_id: str) -> None: ...


def _positional(item_id: str, /) -> None: ...


def test_jobs_take_keyword_arguments_only() -> None:
    with pytest.raises(ValueError, match="keyword arguments only"):
        jobs.job(name="tests.positional")(_positional)


def test_a_job_name_cannot_be_taken_by_another_function() -> None:
    with pytest.raises(ValueError, match=r"already used by govserve\.core\.tests\.jobs_for_tests\.echo"):
        jobs.job(name="tests.echo")(_keyword_only)


@pytest.mark.parametrize(
    ("options", "message"), [({"max_attempts": 0}, "max_attempts"), ({"priority": 101}, "priority")]
)
def test_job_options_are_checked(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        jobs.job(name="tests.options", **options)(_keyword_only)


# --- Lost attempts -----------------------------------------------------------------------


@pytest.mark.django_db
def test_an_attempt_whose_lease_expired_is_retried(movable_clock: MovableClock) -> None:
    # given an attempt that began (its worker then died)
    jobs_for_tests.FAILURES_LEFT["lost"] = 0
    with transaction.atomic():
        record = enqueue(flaky, idempotency_key="flaky:lost", item_id="lost")
        DBTaskResult.objects.filter(id=_row_id(record.task_result_id)).update(status=TaskResultStatus.RUNNING)
        claimed = _begin(record, worker_id="w1")
    assert claimed is not None
    # when nobody looks before the lease ends, nothing is recovered
    movable_clock.advance(seconds=899)
    assert jobs.recover_lost_attempts() == 0
    # when a worker looks after the lease (900 s by default)
    movable_clock.advance(seconds=2)
    assert jobs.recover_lost_attempts() == 1
    # then the attempt is lost and a retry is scheduled
    record.refresh_from_db()
    assert record.state == JobState.RETRYING
    assert record.last_error.startswith("govserve.core.jobs.LostAttempt: the attempt's lease expired")
    attempt = JobAttempt.objects.get(job=record)
    assert (attempt.outcome, attempt.worker_id) == (AttemptOutcome.LOST, "w1")
    assert DBTaskResult.objects.get(id=_row_id(attempt.task_result_id)).status == TaskResultStatus.FAILED
    movable_clock.advance(hours=1)
    assert run_pending() == 1
    record.refresh_from_db()
    assert (record.state, record.attempts) == (JobState.SUCCEEDED, 2)


@pytest.mark.django_db
def test_a_late_success_after_recovery_counts_and_the_retry_is_skipped(movable_clock: MovableClock) -> None:
    # given an attempt presumed lost while it was in fact still running
    jobs_for_tests.FAILURES_LEFT["late"] = 0
    with transaction.atomic():
        record = enqueue(flaky, idempotency_key="flaky:late", item_id="late")
        claimed = _begin(record, worker_id="w1")
    assert claimed is not None
    movable_clock.advance(seconds=901)
    assert jobs.recover_lost_attempts() == 1
    # when that attempt finishes successfully after all
    with transaction.atomic():
        assert jobs._attempt_finish(claimed, None) == JobState.SUCCEEDED
    # then the job succeeded and its pending retry row runs nothing
    movable_clock.advance(hours=1)
    assert run_pending() == 0
    record.refresh_from_db()
    assert (record.state, record.attempts) == (JobState.SUCCEEDED, 1)
    assert jobs_for_tests.CALLS == []
    assert _ready_rows() == []


# --- Other runners -----------------------------------------------------------------------


@task()
def plain_task(value: int) -> int:
    """A plain django.tasks task (not a govserve job)."""
    return value * 2


@pytest.mark.django_db
def test_the_worker_also_runs_plain_django_tasks() -> None:
    with transaction.atomic():
        result = plain_task.enqueue(21)
    assert run_pending() == 0  # plain tasks are not job attempts
    row = DBTaskResult.objects.get(id=result.id)
    assert (row.status, row.return_value) == (TaskResultStatus.SUCCESSFUL, 42)


@pytest.mark.django_db(transaction=True)  # db_worker closes "old" connections: no test transaction around it
def test_djangos_db_worker_runs_jobs_with_retries() -> None:
    # given a succeeding and a failing job
    jobs_for_tests.FAILURES_LEFT["w"] = 5
    with transaction.atomic():
        ok = enqueue(echo, idempotency_key="echo:db-worker", item_id="a1")
        failing = enqueue(flaky, idempotency_key="flaky:db-worker", item_id="w")
    # when django-tasks-db's own worker drains them
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    # then the job ran, the failure was recorded and its retry scheduled
    ok.refresh_from_db()
    failing.refresh_from_db()
    assert ok.state == JobState.SUCCEEDED
    assert (failing.state, failing.attempts) == (JobState.RETRYING, 1)
    first = JobAttempt.objects.get(job=failing)
    assert DBTaskResult.objects.get(id=_row_id(first.task_result_id)).status == TaskResultStatus.FAILED


# --- Unusual paths ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_job_whose_function_is_gone_is_dead_with_the_reason() -> None:
    # given a queued job whose name no longer maps to any function (renamed in a release)
    with transaction.atomic():
        record = enqueue(echo, idempotency_key="echo:gone", item_id="g1")
    JobRecord.objects.filter(id=record.id).update(name="tests.renamed_away", module="")
    # when a worker reaches it
    assert run_pending() == 1
    # then it is dead at once, saying why, and nothing ran
    record.refresh_from_db()
    assert (record.state, record.attempts) == (JobState.DEAD, 1)
    assert record.last_error == (
        "govserve.core.jobs.PermanentJobError: no job is registered under the name 'tests.renamed_away'"
    )
    assert jobs_for_tests.CALLS == []


@pytest.mark.django_db
def test_run_pending_can_raise_the_failure_after_recording_it() -> None:
    with transaction.atomic():
        record = enqueue(flaky, idempotency_key="flaky:raise", item_id="r1")
    with pytest.raises(ConnectionError, match="remote system unavailable for r1"):
        run_pending(raise_errors=True)
    record.refresh_from_db()
    assert (record.state, record.attempts) == (JobState.RETRYING, 1)


@task()
def plain_failing_task() -> None:
    """A plain django.tasks task that fails."""
    msg = "plain failure"
    raise ValueError(msg)


@pytest.mark.django_db
def test_a_failing_plain_task_is_marked_failed_like_db_worker_does() -> None:
    with transaction.atomic():
        result = plain_failing_task.enqueue()
    run_pending()
    row = DBTaskResult.objects.get(id=result.id)
    assert (row.status, row.exception_class_path) == (TaskResultStatus.FAILED, "builtins.ValueError")
    assert "ValueError: plain failure" in row.traceback


@pytest.mark.django_db
def test_a_jobs_own_lease_is_used(movable_clock: MovableClock) -> None:
    @jobs.job(name="tests.short_lease", lease=dt.timedelta(seconds=30))
    def short_lease(*, item_id: str) -> None: ...  # pragma: no cover - never called

    with transaction.atomic():
        record = enqueue(short_lease, idempotency_key="lease:1", item_id="l1")
        claimed = _begin(record, worker_id="w1")
    assert claimed.lease_expires_at == movable_clock.current + dt.timedelta(seconds=30)
    movable_clock.advance(seconds=31)
    assert jobs.recover_lost_attempts() == 1


@pytest.mark.django_db
def test_run_pending_with_schedules_claims_the_current_period_once(movable_clock: MovableClock) -> None:
    from govserve.core.tests import schedules_for_tests  # noqa: PLC0415 - registers tests.tick

    schedules = {"tests.tick": jobs.Schedule(job=schedules_for_tests.tick, every=dt.timedelta(seconds=1))}
    movable_clock.current = dt.datetime(2025, 6, 1, 9, 30, 15, 250_000, tzinfo=dt.UTC)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jobs, "registered_schedules", lambda: schedules)
        assert run_pending(include_scheduled=True) == 1
        assert run_pending(include_scheduled=True) == 0  # same period: claimed already
        movable_clock.advance(seconds=1)
        assert run_pending(include_scheduled=True) == 1
    keys = list(JobRecord.objects.order_by("created_at").values_list("idempotency_key", "state"))
    assert keys == [
        ("schedule:tests.tick:2025-06-01T09:30:15+00:00", "succeeded"),
        ("schedule:tests.tick:2025-06-01T09:30:16+00:00", "succeeded"),
    ]


@pytest.mark.django_db(transaction=True)
def test_concurrent_enqueues_of_one_key_make_one_job() -> None:
    from django.db import connection  # noqa: PLC0415

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers (IMMEDIATE): two transactions cannot insert at once")
    barrier = threading.Barrier(2)
    results: dict[str, Any] = {}

    def first() -> None:
        with transaction.atomic():
            results["first"] = enqueue(echo, idempotency_key="echo:race", item_id="a1").id
            barrier.wait(timeout=10)
            time.sleep(0.3)  # the second transaction's insert now waits on this one's key
        connection.close()

    def second() -> None:
        barrier.wait(timeout=10)
        with transaction.atomic():
            results["second"] = enqueue(echo, idempotency_key="echo:race", item_id="a1").id
        connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert results["first"] == results["second"]
    assert JobRecord.objects.count() == 1
    assert DBTaskResult.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_commit_that_enqueues_wakes_a_listening_worker_at_once() -> None:
    from django.db import connection  # noqa: PLC0415

    if connection.vendor != "postgresql":
        pytest.skip("NOTIFY is PostgreSQL's; SQLite workers poll")
    listener = jobs._Listener()
    listener.wait(0)  # connect and LISTEN
    try:
        with transaction.atomic():
            enqueue(echo, idempotency_key="echo:notify", item_id="n1")
        started = time.monotonic()
        listener.wait(10)
        assert time.monotonic() - started < 2
    finally:
        listener.close()


@pytest.mark.django_db(transaction=True)  # no test transaction: in_atomic_block must be the job's own
def test_dead_letter_and_retry_signals_carry_the_job_inside_its_transaction() -> None:
    seen: list[tuple[str, str, str, bool]] = []

    def on_dead(sender: object, record: JobRecord, **kwargs: object) -> None:
        from django.db import connection  # noqa: PLC0415

        seen.append(("dead", record.idempotency_key, record.state, connection.in_atomic_block))

    def on_retried(sender: object, record: JobRecord, **kwargs: object) -> None:
        from django.db import connection  # noqa: PLC0415

        seen.append(("retried", record.idempotency_key, record.state, connection.in_atomic_block))

    jobs.job_dead_lettered.connect(on_dead)
    jobs.job_retried.connect(on_retried)
    try:
        with transaction.atomic():
            enqueue(permanent, idempotency_key="permanent:signals", item_id="s1")
        run_pending()
        jobs.job_retry(job_id="permanent:signals")
    finally:
        jobs.job_dead_lettered.disconnect(on_dead)
        jobs.job_retried.disconnect(on_retried)
    assert seen == [("dead", "permanent:signals", "dead", True), ("retried", "permanent:signals", "queued", True)]


def _enqueued_in_a_failed_savepoint(*keys: str) -> None:
    """Enqueue ``keys`` (the later ones in nested savepoints) in a savepoint that then rolls back."""
    with transaction.atomic():
        for number, key in enumerate(keys):
            with transaction.atomic():
                enqueue(echo, idempotency_key=key, item_id=f"a{number}")
        msg = "rolls the savepoint back"
        raise RuntimeError(msg)


@pytest.mark.django_db
def test_a_transaction_notifies_the_workers_once_and_again_after_a_rolled_back_savepoint() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("NOTIFY is PostgreSQL's; SQLite workers poll")

    # given a transaction that enqueues three jobs, the second inside a savepoint rolled back
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        enqueue(echo, idempotency_key="echo:n1", item_id="a1")
        enqueue(echo, idempotency_key="echo:n2", item_id="a2")
        with pytest.raises(RuntimeError):
            _enqueued_in_a_failed_savepoint("echo:n3", "echo:n4")

    # then one NOTIFY for the first two, none inside the savepoint (the first still stands), and the jobs kept
    notifies = [query["sql"] for query in queries if "pg_notify" in query["sql"]]
    assert len(notifies) == 1
    assert sorted(JobRecord.objects.values_list("idempotency_key", flat=True)) == ["echo:n1", "echo:n2"]


@pytest.mark.django_db
def test_a_notify_rolled_back_with_its_savepoint_is_sent_again() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("NOTIFY is PostgreSQL's; SQLite workers poll")

    # given a transaction whose first enqueue (and its NOTIFY) is in a savepoint rolled back
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        with pytest.raises(RuntimeError):
            _enqueued_in_a_failed_savepoint("echo:r1")
        # when another job is enqueued
        enqueue(echo, idempotency_key="echo:r2", item_id="a2")

    # then it notifies again
    notifies = [query["sql"] for query in queries if "pg_notify" in query["sql"]]
    assert len(notifies) == 2
    assert list(JobRecord.objects.values_list("idempotency_key", flat=True)) == ["echo:r2"]
