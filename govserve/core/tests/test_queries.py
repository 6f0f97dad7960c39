"""PreparedGet: the ORM's row, statement and values, with the SQL built once."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from govserve.core.models import JobRecord, JobState
from govserve.core.queries import PreparedGet

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
