"""Scheduled work of the citizen journey (discovered by the worker as ``<app>.jobs``)."""

from __future__ import annotations

import datetime as dt

import structlog

from govserve.core.jobs import scheduled
from govserve.journeys.services import drafts_expire

logger = structlog.get_logger(__name__)


@scheduled(name="journeys.drafts.expire", every=dt.timedelta(minutes=15))
def drafts_expire_job() -> None:
    """Expire the drafts past their expiry time (answers and uploads deleted, the key shredded)."""
    expired = drafts_expire()
    logger.info("journeys.drafts.expired", expired=expired)
