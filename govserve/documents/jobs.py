"""Background work of govserve.documents (autodiscovered by every worker).

- ``documents.document.scan``: scan a document stored *pending* because the
  scanner was unreachable, slow or gave no verdict at upload. Retried with
  backoff (15 s doubling to 10 min, 12 attempts: about an hour and a half);
  the last attempt records *failed* instead of raising, so the person is told
  to upload again rather than waiting for ever.
- ``documents.document.purge``: delete the stored bytes of a removed,
  replaced or infected document.
"""

from __future__ import annotations

import datetime as dt
import uuid

from govserve.core.jobs import current_job, job
from govserve.documents import services

SCAN_MAX_ATTEMPTS = 12


@job(
    name=services.SCAN_JOB,
    max_attempts=SCAN_MAX_ATTEMPTS,
    backoff_base=dt.timedelta(seconds=15),
    backoff_cap=dt.timedelta(minutes=10),
    lease=dt.timedelta(minutes=10),
)
def document_scan(*, document_id: str) -> None:
    """Scan the pending document ``document_id`` and record its verdict."""
    context = current_job()
    services.document_scan_run(document_id=uuid.UUID(document_id), last_attempt=context.attempt >= context.max_attempts)


@job(name=services.PURGE_JOB, max_attempts=20)
def document_purge(*, document_id: str) -> None:
    """Delete the stored bytes of the removed or infected document ``document_id``."""
    services.document_purge(document_id=uuid.UUID(document_id))
