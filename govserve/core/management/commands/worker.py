"""``govserve worker``: run background jobs and schedules until stopped (``--batch``: drain and exit)."""

from __future__ import annotations

import importlib
import signal
from argparse import ArgumentParser
from types import FrameType
from typing import Any

import structlog
from django.core.management.base import BaseCommand, CommandError

from govserve.core.jobs import Worker

logger = structlog.get_logger(__name__)


class Command(BaseCommand):
    help = (
        "Run background jobs: due jobs with retries and dead letter, scheduled jobs once per period "
        "across all workers. Start as many workers as needed. SIGTERM/SIGINT finish the running job, "
        "then exit; a second signal interrupts it (the attempt is recorded as failed and retried)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--batch", action="store_true", help="Run every due job (and due schedules), then exit.")
        parser.add_argument(
            "--interval", type=float, default=None, help="Seconds between polls when idle (default: setting, 0.5)."
        )
        parser.add_argument("--max-jobs", type=int, default=None, help="Exit after this many attempts.")
        parser.add_argument("--worker-id", default=None, help="Unique id of this worker (default: host:pid:random).")
        parser.add_argument("--no-schedules", action="store_true", help="Do not claim scheduled jobs' periods.")
        parser.add_argument(
            "--with-module",
            action="append",
            default=[],
            metavar="MODULE",
            help="Import MODULE first (jobs defined outside <app>/jobs.py and AppConfig.ready); repeatable.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        interval = options["interval"]
        if interval is not None and not 0 <= interval <= 3600:
            raise CommandError("--interval must be between 0 and 3600 seconds")
        if options["max_jobs"] is not None and options["max_jobs"] < 1:
            raise CommandError("--max-jobs must be at least 1")
        for module in options["with_module"]:
            try:
                importlib.import_module(module)
            except ImportError as error:
                raise CommandError(f"cannot import {module}: {error}") from error
        worker = Worker(
            worker_id=options["worker_id"],
            batch=options["batch"],
            interval=interval,
            max_jobs=options["max_jobs"],
            run_schedules=not options["no_schedules"],
        )

        def stop(signum: int, frame: FrameType | None) -> None:
            if worker.stopping:
                # A second signal: interrupt the running job (recorded as a failed attempt, retried).
                raise KeyboardInterrupt
            logger.info("worker.stopping", signal=signal.Signals(signum).name, job_id=str(worker.current_job_id or ""))
            worker.stop()

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            stats = worker.run()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if options["verbosity"] >= 1:
            self.stdout.write(
                f"worker {worker.worker_id}: {stats.succeeded} succeeded, {stats.failed} failed, "
                f"{stats.schedules_claimed} scheduled runs claimed, {stats.recovered} lost attempts recovered"
            )
