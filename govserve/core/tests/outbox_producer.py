"""Act as a web process for the worker tests: ``python -m govserve.core.tests.outbox_producer COUNT PER_TX PREFIX``.

Each business transaction reads, then enqueues ``PER_TX`` echo jobs, so it
competes for SQLite's write lock with the workers exactly as a request does.
Prints the wall-clock time of each commit (for commit-to-start latency).
"""

from __future__ import annotations

import sys
import time

import django


def produce(*, count: int, per_transaction: int, prefix: str, pause: float = 0.002) -> None:
    """Commit ``count`` echo jobs, ``per_transaction`` per transaction, ``pause`` seconds apart."""
    from django.db import transaction  # noqa: PLC0415 - after django.setup()

    from govserve.core.jobs import enqueue  # noqa: PLC0415
    from govserve.core.models import JobRecord  # noqa: PLC0415
    from govserve.core.tests.jobs_for_tests import echo  # noqa: PLC0415

    for start in range(0, count, per_transaction):
        with transaction.atomic():
            JobRecord.objects.filter(name="tests.echo").exists()
            for number in range(start, min(start + per_transaction, count)):
                enqueue(echo, idempotency_key=f"{prefix}:{number}", item_id=f"{prefix}-{number}")
        time.sleep(pause)


if __name__ == "__main__":
    django.setup()
    produce(count=int(sys.argv[1]), per_transaction=int(sys.argv[2]), prefix=sys.argv[3])
