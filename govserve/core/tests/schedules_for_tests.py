"""A scheduled job for the worker tests, imported only by worker subprocesses (``--with-module``).

Kept apart from ``jobs_for_tests`` so that in-process tests that claim
schedules do not see it.
"""

from __future__ import annotations

import datetime as dt
import os

from govserve.core.jobs import current_job, scheduled
from govserve.core.tests.jobs_for_tests import _log


@scheduled(name="tests.tick", every=dt.timedelta(seconds=1))
def tick() -> None:
    _log(f"tick {current_job().idempotency_key} {os.getpid()}")
