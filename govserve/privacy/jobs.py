"""Scheduled work of govserve.privacy (discovered by the worker as ``<app>.jobs``)."""

from __future__ import annotations

import datetime as dt

import structlog

from govserve.core.jobs import scheduled
from govserve.privacy.retention import retention_run

logger = structlog.get_logger(__name__)


@scheduled(name="privacy.retention.run", every=dt.timedelta(days=1), offset=dt.timedelta(hours=2, minutes=30))
def retention_daily() -> None:
    """Every day at 02:30 UTC: remove the personal data of the files past their retention (audited per file)."""
    report = retention_run()
    logger.info("privacy.retention.files", files=report.files)
