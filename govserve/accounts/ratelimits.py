"""Fixed-window rate limits kept in the database, so every web process shares them.

A limit is named by a scope (``citizen-link-email``) whose ``(hits, window)``
comes from :func:`govserve.accounts.conf.rate_limit`; the limited key (an IP
address, a blind index) is stored only as a keyed hash. Each hit is counted
in its own transaction *before* the business transaction, so a refused
request still counts and a rollback of the business change cannot erase it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.crypto import salted_hmac

from govserve.accounts import conf
from govserve.accounts.models import RateLimitCounter
from govserve.core import clock


@dataclass(frozen=True)
class RateLimitState:
    """The state of one limit after a hit or a look: allowed, hits so far, when the window ends."""

    scope: str
    hits: int
    limit: int
    retry_after_seconds: int

    @property
    def allowed(self) -> bool:
        """Return whether the hits so far are within the limit."""
        return self.hits <= self.limit


def _key_hash(scope: str, key: str) -> str:
    return salted_hmac("govserve.accounts.ratelimits", f"{scope}\x00{key}", algorithm="sha256").hexdigest()


def _window(scope: str) -> tuple[int, int, datetime.datetime, int]:
    limit, window_seconds = conf.rate_limit(scope)
    now = clock.now()
    epoch = int(now.timestamp())
    start_epoch = epoch - epoch % window_seconds
    window_start = datetime.datetime.fromtimestamp(start_epoch, tz=datetime.UTC)
    retry_after = start_epoch + window_seconds - epoch
    return limit, window_seconds, window_start, max(retry_after, 1)


def rate_limit_hit(*, scope: str, key: str) -> RateLimitState:
    """Count one hit of ``key`` under ``scope`` and return the state (``allowed`` is False past the limit).

    Safe under concurrent processes: an atomic ``UPDATE hits = hits + 1``,
    with an insert (and a retry on the unique constraint) for a new window.
    """
    limit, _, window_start, retry_after = _window(scope)
    key_hash = _key_hash(scope, key)
    counters = RateLimitCounter.objects.filter(scope=scope, key_hash=key_hash, window_start=window_start)
    with transaction.atomic():
        if not counters.update(hits=F("hits") + 1):
            try:
                with transaction.atomic():
                    RateLimitCounter.objects.create(scope=scope, key_hash=key_hash, window_start=window_start, hits=1)
            except IntegrityError:
                counters.update(hits=F("hits") + 1)
        hits = counters.values_list("hits", flat=True).get()
    return RateLimitState(scope=scope, hits=hits, limit=limit, retry_after_seconds=retry_after)


def rate_limit_peek(*, scope: str, key: str) -> RateLimitState:
    """Return the state of ``key`` under ``scope`` without counting a hit."""
    limit, _, window_start, retry_after = _window(scope)
    hits = (
        RateLimitCounter.objects.filter(scope=scope, key_hash=_key_hash(scope, key), window_start=window_start)
        .values_list("hits", flat=True)
        .first()
    ) or 0
    return RateLimitState(scope=scope, hits=hits, limit=limit, retry_after_seconds=retry_after)


def rate_limit_clear(*, scope: str, key: str) -> None:
    """Forget every hit of ``key`` under ``scope`` (after a successful sign-in, for failure counters)."""
    RateLimitCounter.objects.filter(scope=scope, key_hash=_key_hash(scope, key)).delete()


def rate_limit_purge(*, older_than: datetime.timedelta = datetime.timedelta(days=1)) -> int:
    """Delete windows that started before ``now - older_than``; return how many rows went."""
    deleted, _ = RateLimitCounter.objects.filter(window_start__lt=clock.now() - older_than).delete()
    return deleted
