"""Scheduled housekeeping of accounts (discovered by the worker as ``<app>.jobs``)."""

from __future__ import annotations

import datetime as dt

import structlog

from govserve.accounts.services import one_time_links_purge
from govserve.core.jobs import scheduled

logger = structlog.get_logger(__name__)


@scheduled(name="accounts.links.purge", every=dt.timedelta(hours=1))
def links_purge_job() -> None:
    """Delete one-time links that expired more than a week ago."""
    deleted = one_time_links_purge()
    logger.info("accounts.links.purged", deleted=deleted)
