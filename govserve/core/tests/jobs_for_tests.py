"""Jobs used by the job and worker tests (imported by test modules and by worker subprocesses).

Each call is appended to ``CALLS`` (in-process tests) and, when the environment
names one, as a line to ``GOVSERVE_TEST_JOBS_LOG`` (worker subprocesses): lines
are short single ``write`` calls on an ``O_APPEND`` file, so concurrent
processes never interleave them.
"""

from __future__ import annotations

import os
import time

from govserve.core.jobs import JobContext, PermanentJobError, current_job, job

CALLS: list[tuple[str, JobContext, dict[str, object]]] = []
# item_id -> how many more attempts of tests.flaky fail before one succeeds
FAILURES_LEFT: dict[str, int] = {}


def _log(line: str) -> None:
    path = os.environ.get("GOVSERVE_TEST_JOBS_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(f"{line}\n")


@job(name="tests.echo")
def echo(*, item_id: str, tags: list[str] | None = None) -> None:
    context = current_job()
    CALLS.append(("tests.echo", context, {"item_id": item_id, "tags": tags}))
    _log(f"echo {item_id} {context.idempotency_key} {os.getpid()}")


@job(name="tests.flaky", max_attempts=3)
def flaky(*, item_id: str) -> None:
    CALLS.append(("tests.flaky", current_job(), {"item_id": item_id}))
    left = FAILURES_LEFT.get(item_id, 1_000)
    if left > 0:
        FAILURES_LEFT[item_id] = left - 1
        msg = f"remote system unavailable for {item_id}"
        raise ConnectionError(msg)


@job(name="tests.defaults")
def defaults(*, item_id: str) -> None:
    CALLS.append(("tests.defaults", current_job(), {"item_id": item_id}))
    msg = "always fails"
    raise RuntimeError(msg)


@job(name="tests.permanent", max_attempts=5)
def permanent(*, item_id: str) -> None:
    CALLS.append(("tests.permanent", current_job(), {"item_id": item_id}))
    msg = f"item {item_id} no longer exists"
    raise PermanentJobError(msg)


@job(name="tests.slow")
def slow(*, item_id: str, seconds: float) -> None:
    _log(f"slow-start {item_id} {os.getpid()}")
    time.sleep(seconds)
    _log(f"slow-end {item_id} {os.getpid()}")
