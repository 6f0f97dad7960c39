"""The job the jobs benchmark runs (imported by its workers with ``--with-module``).

Each run appends one line (``<n> <pid>``) to ``GOVSERVE_BENCH_JOBS_LOG``: a
single short write on an ``O_APPEND`` file, so concurrent workers never
interleave lines, and the benchmark can prove that every job ran exactly once.
"""

from __future__ import annotations

import os

from govserve.core.jobs import job


@job(name="bench.jobs.noop")
def bench_noop(*, n: int) -> None:
    """Do nothing but leave proof of the run: the benchmark measures the job machinery."""
    path = os.environ.get("GOVSERVE_BENCH_JOBS_LOG")
    if path:
        with open(path, "a", encoding="ascii") as log:
            log.write(f"{n} {os.getpid()}\n")
