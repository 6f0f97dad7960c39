"""The sealer runs as the scheduled job ``audit.seal``."""

from __future__ import annotations

import datetime as dt

from govserve.audit.models import AuditEntry
from govserve.audit.tests.conftest import record
from govserve.core.jobs import registered_schedules, run_pending


def test_the_sealer_is_scheduled_every_five_seconds() -> None:
    schedule = registered_schedules()["audit.seal"]
    assert schedule.every == dt.timedelta(seconds=5)
    assert schedule.job.name == "audit.seal"


def test_the_scheduled_run_seals_pending_entries(chain: None) -> None:
    # given two entries awaiting their seal
    record(2)
    # when the workers run what is due, schedules included
    run_pending(include_scheduled=True)
    # then both are sealed in order
    assert list(AuditEntry.objects.filter(sealed_at__isnull=False).values_list("id", flat=True)) == [1, 2]
