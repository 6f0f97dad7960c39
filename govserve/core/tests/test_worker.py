"""The worker: commands, clean shutdown, schedules once per period and no lock errors across processes.

Tests that need several processes start real ``govserve worker`` subprocesses
on a live database of the suite's backend (see ``conftest.live_database``).
"""

from __future__ import annotations

import collections
import datetime as dt
import signal
import subprocess
import time
from collections.abc import Iterator
from io import StringIO

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError, transaction
from django.tasks import TaskResultStatus
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from govserve.core import clock, jobs
from govserve.core.jobs import Schedule, enqueue
from govserve.core.models import JobAttempt, JobRecord, JobState, ScheduledRun
from govserve.core.tests import jobs_for_tests
from govserve.core.tests.conftest import PYTHON, LiveDatabase
from govserve.core.tests.jobs_for_tests import echo, permanent

TICK_MODULE = "govserve.core.tests.schedules_for_tests"
JOBS_FROM_WEB = 120


@pytest.fixture(autouse=True)
def _fresh_calls() -> Iterator[None]:
    jobs_for_tests.CALLS.clear()
    yield
    jobs_for_tests.CALLS.clear()


def _command(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


# --- Commands, in process -------------------------------------------------------------------


@pytest.mark.django_db
def test_worker_batch_drains_due_jobs_and_exits() -> None:
    with transaction.atomic():
        enqueue(echo, idempotency_key="echo:batch-1", item_id="1")
        enqueue(echo, idempotency_key="echo:batch-2", item_id="2")
    output = _command("worker", "--batch", "--no-schedules", "--worker-id", "batch-test")
    assert output == "worker batch-test: 2 succeeded, 0 failed, 0 scheduled runs claimed, 0 lost attempts recovered\n"
    assert set(JobRecord.objects.values_list("state", flat=True)) == {JobState.SUCCEEDED}
    assert [call[2]["item_id"] for call in jobs_for_tests.CALLS] == ["1", "2"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--interval", "-1"], "--interval must be between 0 and 3600 seconds"),
        (["--max-jobs", "0"], "--max-jobs must be at least 1"),
        (["--with-module", "govserve.nowhere"], "cannot import govserve.nowhere"),
    ],
)
def test_worker_refuses_bad_options(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("worker", "--batch", *args)


@pytest.mark.django_db
def test_jobs_list_inspect_and_retry_a_dead_job() -> None:
    # given a dead and a succeeded job
    with transaction.atomic():
        dead = enqueue(permanent, idempotency_key="permanent:cli", item_id="p9")
        alive = enqueue(echo, idempotency_key="echo:cli", item_id="e9")
    jobs.run_pending()
    # list --state dead shows only the dead one
    listing = _command("jobs", "list", "--state", "dead").splitlines()
    assert len(listing) == 2
    assert listing[1].startswith(f"{dead.id}  dead         1  ")
    assert listing[1].endswith("tests.permanent  permanent:cli")
    assert _command("jobs", "dead").splitlines()[1:] == listing[1:]
    assert len(_command("jobs", "list").splitlines()) == 3
    # inspect shows the attempt with its error
    inspected = _command("jobs", "inspect", str(dead.id))
    assert "state: dead\n" in inspected
    assert 'kwargs: {"item_id": "p9"}\n' in inspected
    assert "attempt 1: failed worker=run_pending" in inspected
    assert "  error: govserve.core.jobs.PermanentJobError: item p9 no longer exists\n" in inspected
    # retry queues it again; retrying a live job is refused
    assert _command("jobs", "retry", "permanent:cli") == f"retried {dead.id} (tests.permanent): queued, 5 attempt(s)\n"
    with pytest.raises(
        CommandError, match=r"is succeeded, not dead: only dead jobs are retried \[job_state_conflict\]"
    ):
        call_command("jobs", "retry", str(alive.id))
    assert _command("jobs", "counts") == "queued     1\nrunning    0\nretrying   0\nsucceeded  1\ndead       0\n"


@pytest.mark.django_db
def test_jobs_retry_all_dead_and_not_found() -> None:
    with transaction.atomic():
        enqueue(permanent, idempotency_key="permanent:all-1", item_id="1")
        enqueue(permanent, idempotency_key="permanent:all-2", item_id="2")
    jobs.run_pending()
    assert _command("jobs", "retry", "--all-dead") == "retried 2 dead job(s)\n"
    assert JobRecord.objects.filter(state=JobState.QUEUED).count() == 2
    assert _command("jobs", "list", "--state", "dead") == "no jobs\n"
    with pytest.raises(CommandError, match=r"no job 'missing' \[job_not_found\]"):
        call_command("jobs", "inspect", "missing")


# --- Schedules, in process ------------------------------------------------------------------


def test_periods_are_aligned_on_the_epoch() -> None:
    schedule = Schedule(job=jobs_for_tests.echo, every=dt.timedelta(minutes=10))  # type: ignore[arg-type]
    moment = dt.datetime(2025, 3, 30, 0, 59, 59, 999_999, tzinfo=dt.UTC)
    assert schedule.period_start(moment) == dt.datetime(2025, 3, 30, 0, 50, tzinfo=dt.UTC)
    assert schedule.period_start(moment + dt.timedelta(microseconds=1)) == dt.datetime(2025, 3, 30, 1, tzinfo=dt.UTC)


def test_an_offset_moves_the_period_starts() -> None:
    daily_at_two = Schedule(
        job=jobs_for_tests.echo,  # type: ignore[arg-type]
        every=dt.timedelta(days=1),
        offset=dt.timedelta(hours=2),
    )
    assert daily_at_two.period_start(dt.datetime(2025, 3, 30, 1, 59, tzinfo=dt.UTC)) == dt.datetime(
        2025, 3, 29, 2, tzinfo=dt.UTC
    )
    assert daily_at_two.period_start(dt.datetime(2025, 3, 30, 2, 0, tzinfo=dt.UTC)) == dt.datetime(
        2025, 3, 30, 2, tzinfo=dt.UTC
    )


def _no_arguments() -> None: ...


def _one_argument(*, item_id: str) -> None: ...


@pytest.mark.parametrize(
    ("options", "function", "message"),
    [
        ({"every": dt.timedelta(milliseconds=500)}, _no_arguments, "every must be at least one second"),
        ({"every": dt.timedelta(hours=1), "offset": dt.timedelta(hours=1)}, _no_arguments, "offset must be"),
        ({"every": dt.timedelta(hours=1)}, _one_argument, "must take no arguments"),
    ],
)
def test_bad_schedules_are_refused_and_not_registered(
    options: dict[str, dt.timedelta], function: object, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        jobs.scheduled(name="tests.bad_schedule", **options)(function)  # type: ignore[arg-type]
    assert "tests.bad_schedule" not in jobs.registered_jobs()
    assert "tests.bad_schedule" not in jobs.registered_schedules()


@pytest.mark.django_db
def test_a_period_is_claimed_once_and_its_job_enqueued() -> None:
    from govserve.core.tests import schedules_for_tests  # noqa: PLC0415 - registers tests.tick

    schedule = Schedule(job=schedules_for_tests.tick, every=dt.timedelta(seconds=1))
    period = dt.datetime(2025, 1, 1, 12, 0, 7, tzinfo=dt.UTC)
    assert jobs.schedule_claim(schedule, period_start=period, worker_id="w1") is True
    assert jobs.schedule_claim(schedule, period_start=period, worker_id="w2") is False
    run = ScheduledRun.objects.get()
    assert (run.name, run.period_start, run.worker_id) == ("tests.tick", period, "w1")
    assert run.job is not None
    assert run.job.idempotency_key == "schedule:tests.tick:2025-01-01T12:00:07+00:00"
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == 1


# --- Real processes -------------------------------------------------------------------------


def _wait(process: subprocess.Popen[bytes], timeout: float = 30) -> int:
    return process.wait(timeout=timeout)


def _enqueue_via_producer(live: LiveDatabase, *, count: int, per_transaction: int, prefix: str) -> None:
    producer = live.start(
        f"producer-{prefix}",
        [PYTHON, "-m", "govserve.core.tests.outbox_producer", str(count), str(per_transaction), prefix],
    )
    assert _wait(producer, timeout=120) == 0, live.stderr(f"producer-{prefix}")


@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_lets_the_running_job_finish_then_the_worker_exits(
    live_database: LiveDatabase, stop_signal: signal.Signals
) -> None:
    # given a worker running a job that takes a while
    producer = live_database.start(
        "producer",
        [
            PYTHON,
            "-c",
            "import django; django.setup()\n"
            "from django.db import transaction\n"
            "from govserve.core.jobs import enqueue\n"
            "from govserve.core.tests.jobs_for_tests import slow\n"
            "with transaction.atomic():\n"
            "    enqueue(slow, idempotency_key='slow:1', item_id='s1', seconds=1.5)\n"
            "    enqueue(slow, idempotency_key='slow:2', item_id='s2', seconds=0)\n",
        ],
    )
    assert _wait(producer) == 0, live_database.stderr("producer")
    worker = live_database.start_worker("w1", "--no-schedules")
    live_database.wait_for_log(lambda lines: ["slow-start", "s1"] in [line[:2] for line in lines])
    # when it is told to stop
    worker.send_signal(stop_signal)
    # then it finishes that job, starts no other, and exits cleanly
    assert _wait(worker) == 0, live_database.stderr("w1")
    assert [line[:2] for line in live_database.log_lines()] == [["slow-start", "s1"], ["slow-end", "s1"]]
    states = dict(live_database.query("SELECT idempotency_key, state FROM core_jobrecord"))
    assert states == {"slow:1": "succeeded", "slow:2": "queued"}
    assert '"event": "worker.stopping"' in live_database.stderr("w1")


@pytest.mark.slow
def test_two_workers_run_each_scheduled_period_exactly_once(live_database: LiveDatabase) -> None:
    # given two workers that both know the every-second schedule
    started = time.monotonic()
    workers = [live_database.start_worker(name, "--with-module", TICK_MODULE) for name in ("w1", "w2")]
    # when they run side by side for several periods
    live_database.wait_for_log(lambda lines: len({line[1] for line in lines if line[0] == "tick"}) >= 4)
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    assert [_wait(worker) for worker in workers] == [0, 0]
    elapsed = time.monotonic() - started
    # then each period ran exactly once, by one worker or the other
    ticks = collections.Counter(line[1] for line in live_database.log_lines() if line[0] == "tick")
    assert ticks, "no tick ran"
    assert set(ticks.values()) == {1}
    claimed = live_database.query("SELECT name, period_start, job_id FROM core_scheduledrun WHERE name = 'tests.tick'")
    assert len(claimed) == len(ticks)
    assert all(job_id is not None for _, _, job_id in claimed)
    assert len(ticks) <= elapsed + 1
    succeeded = live_database.query(
        "SELECT COUNT(*) FROM core_jobrecord WHERE name = 'tests.tick' AND state = 'succeeded' AND attempts = 1"
    )
    assert succeeded == [(len(ticks),)]
    for name in ("w1", "w2"):
        assert "Traceback" not in live_database.stderr(name)


@pytest.mark.slow
def test_two_worker_threads_on_their_own_connections_run_each_period_exactly_once(
    live_database: LiveDatabase,
) -> None:
    # given one process with two worker threads, each on its own connection, for about four periods
    process = live_database.start("threads", [PYTHON, "-m", "govserve.core.tests.threaded_workers", "4.5"])
    # when they have run side by side
    assert _wait(process, timeout=120) == 0, live_database.stderr("threads")
    # then each period ran exactly once, and nobody hit a lock error
    ticks = collections.Counter(line[1] for line in live_database.log_lines() if line[0] == "tick")
    assert len(ticks) >= 3
    assert set(ticks.values()) == {1}
    claimed = live_database.query(
        "SELECT COUNT(*), COUNT(DISTINCT period_start) FROM core_scheduledrun WHERE name = 'tests.tick'"
    )
    assert claimed == [(len(ticks), len(ticks))]
    stderr = live_database.stderr("threads")
    assert "database is locked" not in stderr
    assert "Traceback" not in stderr


@pytest.mark.slow
def test_two_workers_and_a_web_process_run_every_job_once_without_lock_errors(live_database: LiveDatabase) -> None:
    # given two workers polling while a web process commits jobs in business transactions
    workers = [live_database.start_worker(name, "--no-schedules") for name in ("w1", "w2")]
    # both polling before the first job exists: on a busy machine one worker could otherwise start
    # after the other had drained the queue, and "both took part" would not be a question of locks
    live_database.wait_until_started("w1", "w2")
    _enqueue_via_producer(live_database, count=JOBS_FROM_WEB, per_transaction=2, prefix="web")
    # when the workers drain the queue
    live_database.wait_for_log(lambda lines: len(lines) >= JOBS_FROM_WEB, timeout=90)
    time.sleep(0.3)  # a duplicate run, were there one, would show up now
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    assert [_wait(worker) for worker in workers] == [0, 0]
    # then every job ran exactly once, both workers took part, and nobody saw a lock error
    runs = collections.Counter(line[2] for line in live_database.log_lines() if line[0] == "echo")
    assert len(runs) == JOBS_FROM_WEB
    assert set(runs.values()) == {1}
    states = live_database.query("SELECT state, COUNT(*) FROM core_jobrecord GROUP BY state")
    assert states == [("succeeded", JOBS_FROM_WEB)]
    assert live_database.query("SELECT COUNT(*) FROM core_jobattempt") == [(JOBS_FROM_WEB,)]
    pids = {line[3] for line in live_database.log_lines()}
    assert len(pids) == 2
    for name in ("w1", "w2", "producer-web"):
        stderr = live_database.stderr(name)
        assert "database is locked" not in stderr
        assert "Traceback" not in stderr


@pytest.mark.django_db
def test_jobs_prune_deletes_old_succeeded_jobs_only(monkeypatch: pytest.MonkeyPatch) -> None:
    # given an old succeeded job, an old dead job and a recent succeeded job
    with transaction.atomic():
        old = enqueue(echo, idempotency_key="echo:old", item_id="1")
        dead = enqueue(permanent, idempotency_key="permanent:old", item_id="2")
    jobs.run_pending()
    later = clock.now() + dt.timedelta(days=31)
    monkeypatch.setattr(clock, "now", lambda: later)
    with transaction.atomic():
        recent = enqueue(echo, idempotency_key="echo:recent", item_id="3")
    jobs.run_pending()
    # when jobs older than 30 days are pruned
    assert _command("jobs", "prune", "--older-than", "30") == "pruned 1 succeeded job(s) and 1 finished task row(s)\n"
    # then only the old succeeded job and its task rows are gone; the dead job stays for the operator
    assert set(JobRecord.objects.values_list("id", flat=True)) == {dead.id, recent.id}
    assert not DBTaskResult.objects.filter(id=str(old.task_result_id)).exists()
    assert DBTaskResult.objects.filter(id=str(dead.task_result_id)).exists()
    assert JobAttempt.objects.filter(job_id=old.id).count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["prune", "--older-than", "0"], "older_than must be at least one day"),
        (["list", "--limit", "0"], "--limit must be between 1 and 10000"),
    ],
)
def test_jobs_command_refuses_bad_values(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("jobs", *args)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("GOVSERVE_JOBS_MAX_ATTEMPTS", 0, "GOVSERVE_JOBS_MAX_ATTEMPTS must be at least 1; got 0"),
        ("GOVSERVE_JOBS_BACKOFF_BASE_SECONDS", -5, "GOVSERVE_JOBS_BACKOFF_BASE_SECONDS must be a positive number"),
        ("GOVSERVE_JOBS_LEASE_SECONDS", 0, "GOVSERVE_JOBS_LEASE_SECONDS must be a positive number"),
    ],
)
def test_bad_job_settings_are_refused_by_name(setting: str, value: int, message: str) -> None:
    def enqueue_and_run() -> None:
        with transaction.atomic():
            enqueue("tests.defaults", idempotency_key="defaults:bad-setting", item_id="x")
        jobs.run_pending()

    with override_settings(**{setting: value}), pytest.raises(ImproperlyConfigured, match=message):
        enqueue_and_run()


@pytest.mark.django_db(transaction=True)  # the worker closes its connection: no test transaction around it
def test_a_worker_survives_a_lost_database_and_carries_on(monkeypatch: pytest.MonkeyPatch) -> None:
    # given a due job, and a database that fails the worker's first query
    with transaction.atomic():
        record = enqueue(echo, idempotency_key="echo:db-down", item_id="d1")
    real_claim_row = jobs._claim_row
    calls = {"n": 0}

    def failing_once(now: dt.datetime, worker_id: str) -> object:
        calls["n"] += 1
        if calls["n"] == 1:
            msg = "server closed the connection unexpectedly"
            raise OperationalError(msg)
        return real_claim_row(now, worker_id)

    monkeypatch.setattr(jobs, "_claim_row", failing_once)
    # when a long-running worker meets it
    stats = jobs.Worker(worker_id="survivor", interval=0.01, max_jobs=1, run_schedules=False).run()
    # then it waited, reconnected and ran the job
    assert calls["n"] >= 2
    assert (stats.succeeded, stats.failed) == (1, 0)
    record.refresh_from_db()
    assert record.state == JobState.SUCCEEDED


@pytest.mark.django_db
def test_in_batch_mode_a_database_error_is_raised() -> None:
    def broken(now: dt.datetime, worker_id: str) -> object:
        msg = "no such table"
        raise OperationalError(msg)

    with transaction.atomic():
        enqueue(echo, idempotency_key="echo:batch-error", item_id="b1")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jobs, "_claim_row", broken)
        with pytest.raises(OperationalError, match="no such table"):
            jobs.run_pending()


@pytest.mark.django_db
def test_prune_works_in_batches_and_runs_daily_by_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    # given three succeeded jobs, 31 days old
    with transaction.atomic():
        for n in range(3):
            enqueue(echo, idempotency_key=f"echo:batch-prune-{n}", item_id=str(n))
    jobs.run_pending()
    later = clock.now() + dt.timedelta(days=31)
    monkeypatch.setattr(clock, "now", lambda: later)
    # when pruned one row per transaction
    assert jobs.job_prune(older_than=dt.timedelta(days=30), batch_size=1) == (3, 3)
    # then all are gone
    assert JobRecord.objects.count() == 0
    assert DBTaskResult.objects.count() == 0
    # and the daily prune is a registered schedule at 03:00 UTC
    daily = jobs.registered_schedules()["core.jobs.prune"]
    assert (daily.every, daily.offset) == (dt.timedelta(days=1), dt.timedelta(hours=3))


@pytest.mark.django_db
@pytest.mark.parametrize(("retention_days", "remaining"), [(30, 0), (0, 1)])
def test_the_daily_prune_follows_the_retention_setting(
    monkeypatch: pytest.MonkeyPatch, retention_days: int, remaining: int
) -> None:
    with transaction.atomic():
        enqueue(echo, idempotency_key="echo:retention", item_id="r")
    jobs.run_pending()
    later = clock.now() + dt.timedelta(days=31)
    monkeypatch.setattr(clock, "now", lambda: later)
    with override_settings(GOVSERVE_JOBS_RETENTION_DAYS=retention_days):
        jobs.jobs_prune_daily()
    assert JobRecord.objects.filter(idempotency_key="echo:retention").count() == remaining
