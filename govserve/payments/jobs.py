"""Scheduled work of payments (discovered by the worker as ``<app>.jobs``)."""

from __future__ import annotations

import datetime as dt

import structlog

from govserve.core.jobs import scheduled
from govserve.payments import reconciliation  # noqa: F401 - registers its payments.refunds.refresh schedule
from govserve.payments.services import payments_refresh_unfinished

logger = structlog.get_logger(__name__)


@scheduled(name="payments.unfinished.refresh", every=dt.timedelta(minutes=10))
def payments_refresh_unfinished_job() -> None:
    """Ask the provider about attempts left unfinished (the applicant never came back) and apply the answers."""
    refreshed = payments_refresh_unfinished()
    logger.info("payments.unfinished.refreshed", refreshed=refreshed)
