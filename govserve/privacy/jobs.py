"""Scheduled work of govserve.privacy (discovered by the worker as ``<app>.jobs``)."""

from __future__ import annotations

import datetime as dt
import uuid

import structlog

from govserve.core.jobs import job, scheduled
from govserve.privacy import subject_access_requests
from govserve.privacy.retention import retention_run

logger = structlog.get_logger(__name__)


@scheduled(name="privacy.retention.run", every=dt.timedelta(days=1), offset=dt.timedelta(hours=2, minutes=30))
def retention_daily() -> None:
    """Every day at 02:30 UTC: remove the personal data of the files past their retention (audited per file)."""
    report = retention_run()
    logger.info("privacy.retention.files", files=report.files)


@job(
    name=subject_access_requests.PREPARE_JOB,
    max_attempts=3,
    backoff_base=dt.timedelta(seconds=30),
    lease=dt.timedelta(minutes=30),
)
def subject_access_prepare(*, request_id: str) -> None:
    """Prepare the zip of a data protection officer's subject access request (the id is the only argument).

    Failures are raised for the worker to record, retry and, after the third
    attempt, put in the dead letter: the officer's page then says it failed.
    The lease is well above the slowest export measured (about a minute for
    100 applications with the PDF).
    """
    subject_access_requests.subject_access_prepare(request_id=uuid.UUID(request_id))


@scheduled(name="privacy.subject_access.remove_expired", every=dt.timedelta(hours=1), offset=dt.timedelta(minutes=20))
def subject_access_remove_expired() -> None:
    """Every hour at :20: crypto-shred and delete the subject access requests kept past their time (audited)."""
    removed = subject_access_requests.subject_access_requests_remove_expired()
    logger.info("privacy.subject_access.expired_removed", requests=removed)
