"""Scheduled housekeeping of the web layer."""

from __future__ import annotations

import datetime as dt

import structlog

from govserve.core.jobs import scheduled
from govserve.web.ratelimit import rate_limit_prune

logger = structlog.get_logger(__name__)


@scheduled(name="web.ratelimit.prune", every=dt.timedelta(minutes=10))
def ratelimit_prune_job() -> None:
    """Delete the rate-limit counters of windows that have ended."""
    deleted = rate_limit_prune()
    logger.info("ratelimit.pruned", deleted=deleted)
