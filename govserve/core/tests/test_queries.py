"""PreparedGet: the ORM's row, statement and values, with the SQL built once."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from govserve.core.models import JobAttempt, JobRecord, JobState, ScheduledRun
from govserve.core.queries import PreparedFilter, PreparedGet, row_insert, row_insert_unless_taken, save_preparer

pytestmark = pytest.mark.django_db


def _job(**fields: object) -> JobRecord:
    defaults: dict[str, object] = {
        "name": "sample",
        "module": "govserve.core.tests.jobs_for_tests",
        "idempotency_key": uuid.uuid4().hex,
        "kwargs": {"answer": [1, "two", None]},
        "attempts_left": 3,
        "max_attempts": 3,
        "run_after": dt.datetime(2026, 11, 27, 22, 0, tzinfo=dt.UTC),
    }
    return JobRecord.objects.create(**{**defaults, **fields})


def test_a_row_reads_as_the_orm_reads_it() -> None:
    # given
    job = _job()
    prepared = PreparedGet(JobRecord, state=JobState.QUEUED)

    # when
    found = prepared.get(job.id)

    # then
    expected = JobRecord.objects.get(pk=job.id)
    assert found is not None
    assert [getattr(found, f.attname) for f in JobRecord._meta.concrete_fields] == [
        getattr(expected, f.attname) for f in JobRecord._meta.concrete_fields
    ]
    assert (found._state.adding, found._state.db) == (False, "default")
    assert found.kwargs == {"answer": [1, "two", None]}


def test_a_row_not_matching_the_constants_or_no_row_is_none() -> None:
    # given
    running = _job(state=JobState.RUNNING)
    prepared = PreparedGet(JobRecord, state=JobState.QUEUED)

    # when / then
    assert prepared.get(running.id) is None
    assert prepared.get(uuid.uuid4()) is None


def test_the_statement_is_the_orms_and_only_one_is_run() -> None:
    # given
    job = _job()
    prepared = PreparedGet(JobRecord, state=JobState.QUEUED)
    prepared.get(job.id)

    # when
    with CaptureQueriesContext(connection) as prepared_queries:
        prepared.get(job.id)
    with CaptureQueriesContext(connection) as orm_queries:
        list(JobRecord.objects.filter(pk=job.id, state=JobState.QUEUED).order_by())

    # then
    assert len(prepared_queries) == 1
    assert prepared_queries[0]["sql"] == orm_queries[0]["sql"]


_STARTED = dt.datetime(2026, 11, 27, 22, 1, tzinfo=dt.UTC)


def _job_fields(**fields: object) -> dict[str, object]:
    return {
        "name": "sample",
        "module": "govserve.core.tests.jobs_for_tests",
        "idempotency_key": uuid.uuid4().hex,
        "kwargs": {"answer": [1, "two", None]},
        "attempts_left": 3,
        "max_attempts": 3,
        "run_after": dt.datetime(2026, 11, 27, 22, 0, tzinfo=dt.UTC),
        **fields,
    }


def test_an_inserted_row_is_the_row_save_would_write() -> None:
    # given one job saved by the ORM and one inserted, with the same fields
    by_orm = JobRecord.objects.create(**_job_fields(idempotency_key="orm"))
    inserted = JobRecord(**_job_fields(idempotency_key="inserted"))

    # when
    with CaptureQueriesContext(connection) as queries:
        row_insert(inserted)

    # then one statement wrote every column as save() does, auto_now included, and the instance is saved
    assert len(queries) == 1
    stored = JobRecord.objects.get(pk=inserted.pk)
    skipped = {"id", "idempotency_key", "created_at", "updated_at"}
    columns = [f.attname for f in JobRecord._meta.concrete_fields if f.attname not in skipped]
    assert [getattr(stored, name) for name in columns] == [getattr(by_orm, name) for name in columns]
    assert stored.updated_at == inserted.updated_at
    assert stored.kwargs == {"answer": [1, "two", None]}
    assert (inserted._state.adding, inserted._state.db) == (False, "default")


def test_an_insert_reads_back_a_database_generated_id() -> None:
    # given a model whose id the database generates (a BigAutoField), after one saved by the ORM
    job = JobRecord.objects.create(**_job_fields())
    first = JobAttempt.objects.create(job=job, number=1, task_result_id=uuid.uuid4(), started_at=_STARTED)
    second = JobAttempt(job=job, number=2, task_result_id=uuid.uuid4(), started_at=_STARTED)

    # when
    row_insert(second)

    # then
    assert isinstance(second.pk, int)
    assert second.pk > first.pk
    assert JobAttempt.objects.get(pk=second.pk).number == 2


def test_an_insert_of_a_repeated_unique_key_raises_integrity_error_and_writes_nothing() -> None:
    # given
    JobRecord.objects.create(**_job_fields(idempotency_key="taken"))

    # when / then
    with pytest.raises(IntegrityError), transaction.atomic():
        row_insert(JobRecord(**_job_fields(idempotency_key="taken")))
    assert JobRecord.objects.filter(idempotency_key="taken").count() == 1


# --- PreparedFilter --------------------------------------------------------------------------------------

_SAMPLE_NAME = "sample.name.never.used"
_SAMPLE_AFTER = dt.datetime(1901, 2, 3, 4, 5, 6, tzinfo=dt.UTC)


def _by_name_after() -> PreparedFilter[JobRecord]:
    return PreparedFilter(
        JobRecord,
        samples={"name": _SAMPLE_NAME, "run_after__gte": _SAMPLE_AFTER},
        constants={"state": JobState.QUEUED},
        order_by=("-run_after",),
        limit=2,
    )


def test_a_filter_reads_the_rows_the_orm_reads_in_its_order() -> None:
    # given three queued jobs of one name, one of another name, one running
    for hour in (20, 21, 22):
        _job(name="wanted", run_after=dt.datetime(2026, 11, 27, hour, 0, tzinfo=dt.UTC))
    _job(name="other")
    _job(name="wanted", state=JobState.RUNNING)
    since = dt.datetime(2026, 11, 27, 20, 30, tzinfo=dt.UTC)
    prepared = _by_name_after()

    # when
    found = prepared.rows(name="wanted", run_after__gte=since)

    # then the two latest queued ones after ``since``, as the ORM's queryset gives them, field by field
    expected = list(
        JobRecord.objects.filter(name="wanted", run_after__gte=since, state=JobState.QUEUED).order_by("-run_after")[:2]
    )
    assert [job.run_after.hour for job in found if job.run_after is not None] == [22, 21]
    assert [[getattr(job, f.attname) for f in JobRecord._meta.concrete_fields] for job in found] == [
        [getattr(job, f.attname) for f in JobRecord._meta.concrete_fields] for job in expected
    ]
    assert all((job._state.adding, job._state.db) == (False, "default") for job in found)
    assert prepared.first(name="nothing", run_after__gte=since) is None


def test_a_filter_runs_the_orms_statement_once_with_the_values_given() -> None:
    # given
    _job(name="wanted")
    prepared = _by_name_after()
    since = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    prepared.rows(name="wanted", run_after__gte=since)

    # when
    with CaptureQueriesContext(connection) as prepared_queries:
        prepared.rows(name="wanted", run_after__gte=since)
    with CaptureQueriesContext(connection) as orm_queries:
        list(
            JobRecord.objects.filter(name="wanted", run_after__gte=since, state=JobState.QUEUED).order_by("-run_after")[
                :2
            ]
        )

    # then
    assert len(prepared_queries) == 1
    assert prepared_queries[0]["sql"] == orm_queries[0]["sql"]


def test_a_filter_of_named_values_reads_tuples_as_values_list() -> None:
    # given
    job = _job(name="wanted", priority=7)
    prepared = PreparedFilter(JobRecord, samples={"idempotency_key": _SAMPLE_NAME}, values=("priority", "kwargs"))

    # when
    found = prepared.tuples(idempotency_key=job.idempotency_key)

    # then
    assert found == [(7, {"answer": [1, "two", None]})]
    assert found == list(
        JobRecord.objects.filter(idempotency_key=job.idempotency_key).values_list("priority", "kwargs")
    )
    with pytest.raises(TypeError):
        prepared.rows(idempotency_key=job.idempotency_key)


def test_a_filter_refuses_other_values_than_its_samples_and_lookups_it_cannot_vary() -> None:
    # given
    prepared = PreparedFilter(JobRecord, samples={"name": _SAMPLE_NAME})

    # when / then
    with pytest.raises(TypeError):
        prepared.rows(idempotency_key="x")
    with pytest.raises(ValueError, match="comparison"):
        PreparedFilter(JobRecord, samples={"name__in": [_SAMPLE_NAME]})
    with pytest.raises(RuntimeError, match="appears 2 times"):
        PreparedFilter(JobRecord, samples={"name": "sample"}, constants={"module": "sample"}).rows(name="x")


# --- row_insert_unless_taken -----------------------------------------------------------------------------


def test_an_insert_unless_taken_writes_a_new_key_as_row_insert_would() -> None:
    # given
    inserted = JobRecord(**_job_fields(idempotency_key="new"))

    # when
    with CaptureQueriesContext(connection) as queries:
        written = row_insert_unless_taken(inserted, unique="idempotency_key")

    # then one statement, no savepoint, and the row is there
    assert written is True
    assert len(queries) == 1
    assert "ON CONFLICT" in queries[0]["sql"]
    assert JobRecord.objects.get(pk=inserted.pk).idempotency_key == "new"
    assert (inserted._state.adding, inserted._state.db) == (False, "default")


def test_an_insert_of_a_taken_key_writes_nothing_and_leaves_the_transaction_usable() -> None:
    # given
    first = JobRecord.objects.create(**_job_fields(idempotency_key="taken", name="first"))

    # when
    with transaction.atomic():
        written = row_insert_unless_taken(JobRecord(**_job_fields(idempotency_key="taken")), unique="idempotency_key")
        after = JobRecord.objects.filter(idempotency_key="taken").count()  # PostgreSQL: not an aborted transaction

    # then
    assert written is False
    assert after == 1
    assert JobRecord.objects.get(idempotency_key="taken").pk == first.pk


def test_an_insert_unless_taken_still_raises_for_another_constraint() -> None:
    # given a job whose id a new row repeats, with another key
    existing = JobRecord.objects.create(**_job_fields(idempotency_key="one"))

    # when / then
    with pytest.raises(IntegrityError), transaction.atomic():
        row_insert_unless_taken(
            JobRecord(**_job_fields(id=existing.pk, idempotency_key="two")), unique="idempotency_key"
        )
    with pytest.raises(ValueError, match="not a unique field"):
        row_insert_unless_taken(JobRecord(**_job_fields()), unique="name")
    assert list(JobRecord.objects.values_list("idempotency_key", flat=True)) == ["one"]


def test_an_insert_sends_the_save_signals_as_save_does() -> None:
    # given django-tasks-db's row, whose pre_save receiver fills an empty run_after, and a post_save listener
    from django.db.models.signals import post_save  # noqa: PLC0415
    from django_tasks_db.models import DBTaskResult, get_date_max  # noqa: PLC0415

    heard: list[tuple[Any, bool]] = []

    def listener(sender: Any, instance: Any, **kwargs: Any) -> None:
        heard.append((instance.pk, kwargs["created"]))

    fields: dict[str, Any] = {"args_kwargs": {"args": [], "kwargs": {}}, "task_path": "x.y", "run_after": None}
    row: Any = DBTaskResult(backend_name="default", **fields)
    post_save.connect(listener, sender=DBTaskResult)
    try:
        # when
        row_insert(row)
    finally:
        post_save.disconnect(listener, sender=DBTaskResult)

    # then the receiver's value was written, and post_save heard of a created row
    assert DBTaskResult.objects.get(pk=row.pk).run_after == get_date_max()
    assert heard == [(row.pk, True)]


def test_an_insert_unless_taken_on_a_unique_constraint_of_two_fields() -> None:
    # given a scheduled run of one period (unique: name and period start)
    period = dt.datetime(2026, 11, 28, 0, 0, tzinfo=dt.UTC)
    first = ScheduledRun(name="core.jobs.prune", period_start=period)
    assert row_insert_unless_taken(first, unique=("name", "period_start")) is True

    # when the same period, then the next one, are inserted in the same transaction
    with transaction.atomic():
        again = row_insert_unless_taken(
            ScheduledRun(name="core.jobs.prune", period_start=period), unique=("name", "period_start")
        )
        next_period = ScheduledRun(name="core.jobs.prune", period_start=period + dt.timedelta(days=1))
        written = row_insert_unless_taken(next_period, unique=("name", "period_start"))

    # then the first wrote nothing, the second was written and its id read back
    assert (again, written) == (False, True)
    assert isinstance(first.pk, int)
    assert isinstance(next_period.pk, int)
    assert next_period.pk > first.pk
    assert ScheduledRun.objects.count() == 2
    with pytest.raises(ValueError, match="unconditional unique constraint"):
        row_insert_unless_taken(ScheduledRun(name="x", period_start=period), unique=("period_start", "name"))


_SAMPLE_VALUES: list[Any] = [
    None,
    "",
    "text",
    "3f2b9c1e-0000-4000-8000-000000000001",
    uuid.UUID("3f2b9c1e-0000-4000-8000-000000000002"),
    dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC),
    dt.datetime(2026, 3, 29, 2, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    dt.date(2026, 3, 29),
    0,
    7,
    2**40,
    True,
    False,
    [1, "a"],
    {"queue": "x"},
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # a date given to a DateTimeField warns either way
def test_a_save_preparer_gives_what_get_db_prep_save_gives_for_every_value_it_takes() -> None:
    # given the fields of the models the hot inserts write (those with a quicker path), every kind of value
    fields = [
        field
        for label in ("audit.AuditEntry", "journeys.JourneyEvent", "journeys.Application", "core.JobRecord")
        for field in apps.get_model(label)._meta.concrete_fields
    ]
    compared = 0
    for field in fields:
        preparer = save_preparer(field)
        if preparer == field.get_db_prep_save:
            continue  # the field's own method: nothing to compare
        for value in _SAMPLE_VALUES:
            # when both prepare the value
            try:
                expected = field.get_db_prep_save(value, connection)
            except (TypeError, ValueError, ValidationError, AttributeError):
                with pytest.raises((TypeError, ValueError, ValidationError, AttributeError)):
                    preparer(value, connection)
                continue
            # then they agree, value and type
            got = preparer(value, connection)
            assert (type(got), got) == (type(expected), expected), (field, value)
            compared += 1
    assert compared > 200
