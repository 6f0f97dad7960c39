"""Scheduled housekeeping of accounts (discovered by the worker as ``<app>.jobs``)."""

from __future__ import annotations

import datetime as dt

import structlog

from govserve.accounts.citizens import citizens_unused_remove
from govserve.accounts.services import one_time_links_purge
from govserve.core.jobs import scheduled

logger = structlog.get_logger(__name__)


@scheduled(name="accounts.links.purge", every=dt.timedelta(hours=1))
def links_purge_job() -> None:
    """Delete one-time links that expired more than a week ago."""
    deleted = one_time_links_purge()
    logger.info("accounts.links.purged", deleted=deleted)


@scheduled(name="accounts.citizens.remove_unused", every=dt.timedelta(hours=1), offset=dt.timedelta(minutes=20))
def citizens_unused_remove_job() -> None:
    """Remove citizen accounts created by a link request and never used (GOVSERVE_CITIZEN_UNUSED_DAYS)."""
    removed = citizens_unused_remove()
    logger.info("accounts.citizens.unused_removed", removed=removed)
