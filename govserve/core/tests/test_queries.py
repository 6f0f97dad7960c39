"""PreparedGet: the ORM's row, statement and values, with the SQL built once."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from govserve.core.models import JobAttempt, JobRecord, JobState
from govserve.core.queries import PreparedGet, row_insert

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
