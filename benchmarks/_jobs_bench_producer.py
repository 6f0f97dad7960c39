"""The jobs benchmark's business process: ``python -m benchmarks._jobs_bench_producer MODE COUNT OUT``.

``bulk``: one transaction enqueues COUNT jobs. ``paced``: one job per
transaction, 20 transactions a second, each commit's wall-clock time recorded.
Writes ``{"commits": {"<n>": epoch seconds}}`` to OUT.
"""

from __future__ import annotations

import json
import sys
import time

import django

PACE_SECONDS = 0.05


def main(mode: str, count: int, out: str) -> None:
    django.setup()
    from django.db import transaction  # noqa: PLC0415 - after django.setup()

    from benchmarks._jobs_bench_tasks import bench_noop  # noqa: PLC0415
    from govserve.core.jobs import enqueue  # noqa: PLC0415

    commits: dict[str, float] = {}
    if mode == "bulk":
        with transaction.atomic():
            for n in range(count):
                enqueue(bench_noop, idempotency_key=f"bench:{n}", n=n)
        committed = time.time()
        commits = dict.fromkeys((str(n) for n in range(count)), committed)
    else:
        for n in range(count):
            with transaction.atomic():
                enqueue(bench_noop, idempotency_key=f"bench:{n}", n=n)
            commits[str(n)] = time.time()  # right after COMMIT returned: the business change is durable
            time.sleep(PACE_SECONDS)
    with open(out, "w", encoding="utf-8") as handle:
        json.dump({"commits": commits}, handle)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
