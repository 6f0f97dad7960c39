"""``govserve jobs``: list, inspect and retry background jobs (the dead letter in particular)."""

from __future__ import annotations

import datetime as dt
import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from govserve.core import jobs
from govserve.core.errors import ApplicationError
from govserve.core.models import JobState


class Command(BaseCommand):
    help = (
        "Inspect background jobs: list [--state dead], dead, counts, inspect ID, retry ID | --all-dead, "
        "prune --older-than DAYS."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        listing = commands.add_parser("list", help="List jobs, newest first.")
        listing.add_argument("--state", choices=JobState.values, default=None)
        listing.add_argument("--name", default=None, help="Only jobs with this name.")
        listing.add_argument("--limit", type=int, default=50)
        dead = commands.add_parser("dead", help="List dead jobs (same as list --state dead).")
        dead.add_argument("--name", default=None)
        dead.add_argument("--limit", type=int, default=50)
        commands.add_parser("counts", help="Number of jobs in each state.")
        inspect = commands.add_parser("inspect", help="Show a job and its attempts (with tracebacks).")
        inspect.add_argument("job", help="Job id or idempotency key.")
        retry = commands.add_parser("retry", help="Retry a dead job (fresh attempts, due now).")
        target = retry.add_mutually_exclusive_group(required=True)
        target.add_argument("job", nargs="?", help="Job id or idempotency key.")
        target.add_argument("--all-dead", action="store_true", help="Retry every dead job.")
        retry.add_argument("--name", default=None, help="With --all-dead: only jobs with this name.")
        prune = commands.add_parser("prune", help="Delete succeeded jobs (and finished task rows) older than DAYS.")
        prune.add_argument("--older-than", type=int, required=True, metavar="DAYS")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if options.get("limit") is not None and not 1 <= options["limit"] <= 10_000:
            raise CommandError("--limit must be between 1 and 10000")
        try:
            if action in {"list", "dead"}:
                state = JobState.DEAD if action == "dead" else options["state"]
                self._list(state=state, name=options["name"], limit=options["limit"])
            elif action == "counts":
                for state, count in jobs.job_counts().items():
                    self.stdout.write(f"{state:<10} {count}")
            elif action == "inspect":
                self._inspect(options["job"])
            elif action == "prune":
                jobs_deleted, rows_deleted = jobs.job_prune(older_than=dt.timedelta(days=options["older_than"]))
                self.stdout.write(f"pruned {jobs_deleted} succeeded job(s) and {rows_deleted} finished task row(s)")
            elif options["all_dead"]:
                retried = jobs.job_retry_all_dead(name=options["name"])
                self.stdout.write(f"retried {retried} dead job(s)")
            else:
                record = jobs.job_retry(job_id=options["job"])
                self.stdout.write(f"retried {record.id} ({record.name}): queued, {record.attempts_left} attempt(s)")
        except ApplicationError as error:
            raise CommandError(f"{error.message} [{error.code}]") from error
        except ValueError as error:
            raise CommandError(str(error)) from error

    def _list(self, *, state: str | None, name: str | None, limit: int) -> None:
        records = jobs.job_list(state=state, name=name, limit=limit)
        if not records:
            self.stdout.write("no jobs")
            return
        self.stdout.write(f"{'id':<36}  {'state':<9}  {'att':>3}  {'created (UTC)':<19}  name / idempotency key")
        for record in records:
            self.stdout.write(
                f"{record.id}  {record.state:<9}  {record.attempts:>3}  "
                f"{record.created_at:%Y-%m-%d %H:%M:%S}  {record.name}  {record.idempotency_key}"
            )

    def _inspect(self, job_id: str) -> None:
        record = jobs.job_get(job_id=job_id)
        fields = {
            "id": str(record.id),
            "name": record.name,
            "idempotency_key": record.idempotency_key,
            "state": record.state,
            "kwargs": json.dumps(record.kwargs, sort_keys=True),
            "attempts": record.attempts,
            "attempts_left": record.attempts_left,
            "max_attempts": record.max_attempts,
            "manual_retries": record.manual_retries,
            "created_at": record.created_at.isoformat(),
            "run_after": record.run_after.isoformat() if record.run_after else "",
            "lease_expires_at": record.lease_expires_at.isoformat() if record.lease_expires_at else "",
            "finished_at": record.finished_at.isoformat() if record.finished_at else "",
            "task_result_id": str(record.task_result_id or ""),
            "last_error": record.last_error,
        }
        for key, value in fields.items():
            self.stdout.write(f"{key}: {value}")
        for attempt in jobs.job_attempts(job_id=record.id):
            finished = attempt.finished_at.isoformat() if attempt.finished_at else "-"
            self.stdout.write(
                f"\nattempt {attempt.number}: {attempt.outcome} worker={attempt.worker_id} "
                f"started={attempt.started_at.isoformat()} finished={finished}"
            )
            if attempt.error_class:
                self.stdout.write(f"  error: {attempt.error_class}: {attempt.error_message}")
            if attempt.retry_at:
                self.stdout.write(f"  retry at: {attempt.retry_at.isoformat()}")
            if attempt.traceback:
                self.stdout.write("  " + attempt.traceback.rstrip().replace("\n", "\n  "))
