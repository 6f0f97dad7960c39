"""Fixed-window rate limits that hold across every web and worker process.

::

    from govserve.web.ratelimit import rate_limit, rate_limited, client_ip_bucket

    rate_limit(f"sign-in-link:email:{email_index}", limit=5, window=dt.timedelta(minutes=15))

    @rate_limited(key=lambda request: f"sign-in:ip:{client_ip_bucket(request)}", limit=20, window=300)
    def sign_in(request): ...

A key's hits are counted per fixed window (``window_start = now // window *
window``, Unix seconds); the hit that takes the count above ``limit`` raises
:class:`RateLimitedError` (HTTP 429, with ``retry_after`` seconds until the
window ends), and so does every further hit in that window. Refused hits
are counted too, so hammering does not reopen the window early.

Storage: a row per (key, window) in the database, incremented with one
``INSERT … ON CONFLICT DO UPDATE … RETURNING`` statement, atomic on SQLite
(3.35+) and PostgreSQL alike. Django's cache was the other candidate and
fails the "several processes" requirement in its default forms: the
local-memory cache is per process, and the database cache's ``incr`` is a
read followed by a write, which loses hits under concurrency. Keys are
stored as an HMAC (under SECRET_KEY, with the window length), never in clear, because they often
contain an address. Expired windows are deleted by the scheduled job
``web.ratelimit.prune`` (:mod:`govserve.web.jobs`).

Count hits outside the business transaction when the business change may
roll back (a refused sign-in raises): a counter written inside a
transaction that rolls back is rolled back with it. The decorator counts
before the view runs, so views using it are safe.

:class:`RateLimitMiddleware` turns a 429 ApplicationError raised by any view
into the GOV.UK-style "too many attempts" page (or problem+json for API
clients) with a ``Retry-After`` header.

This module is shared infrastructure: apps above ``web`` may import it
(tests/test_layering.py); it imports only ``core``, Django and its own app.
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import math
from collections.abc import Callable, Collection
from typing import Concatenate, ParamSpec

import structlog
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext, ngettext

from govserve.core import clock
from govserve.core.errors import ApplicationError
from govserve.web.models import RateLimitCounter

logger = structlog.get_logger(__name__)

P = ParamSpec("P")
View = Callable[Concatenate[HttpRequest, P], HttpResponse]

_KEY_SALT = "govserve.web.ratelimit"
_MAX_KEY_LENGTH = 500


class RateLimitedError(ApplicationError):
    """Too many hits for one key in the current window; ``retry_after`` is the seconds until it ends."""

    code = "rate_limited"
    status = 429

    def __init__(self, message: str, *, retry_after: int, scope: str) -> None:
        super().__init__(message, retry_after=retry_after, scope=scope)
        self.retry_after = retry_after
        self.scope = scope


def _window_seconds(window: int | dt.timedelta) -> int:
    seconds = window.total_seconds() if isinstance(window, dt.timedelta) else window
    if seconds != int(seconds) or seconds < 1:
        msg = f"a rate-limit window is a whole number of seconds, at least 1; got {window!r}"
        raise ValueError(msg)
    return int(seconds)


def rate_limit(key: str, limit: int, window: int | dt.timedelta) -> int:
    """Count one hit for ``key`` in the current window and return the hits so far, this one included.

    Raise RateLimitedError when the count exceeds ``limit`` (the hit is still
    counted). ``key`` is ``<scope>:<anything>``; only the scope is logged.
    ``window`` is seconds or a timedelta (whole seconds). Raise ValueError for
    an empty or over-long key, a limit below 1 or a bad window.
    """
    if not isinstance(key, str) or not key or len(key) > _MAX_KEY_LENGTH:
        msg = f"a rate-limit key is a non-empty string of at most {_MAX_KEY_LENGTH} characters"
        raise ValueError(msg)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        msg = f"a rate limit is a whole number of hits, at least 1; got {limit!r}"
        raise ValueError(msg)
    seconds = _window_seconds(window)
    now = clock.now().timestamp()
    window_start = int(now // seconds) * seconds
    expires_at = window_start + seconds
    # The window length is part of the digest: two limits on one key with different windows never share a row.
    digest = salted_hmac(_KEY_SALT, f"{seconds}:{key}", algorithm="sha256").hexdigest()
    hits = _count_hit(digest, window_start=window_start, expires_at=expires_at)
    if hits > limit:
        retry_after = max(1, math.ceil(expires_at - now))
        scope = key.split(":", 1)[0][:64]
        logger.info("ratelimit.refused", scope=scope, hits=hits, limit=limit, retry_after=retry_after)
        raise RateLimitedError(too_many_attempts_message(retry_after), retry_after=retry_after, scope=scope)
    return hits


def _count_hit(digest: str, *, window_start: int, expires_at: int) -> int:
    table = connection.ops.quote_name(RateLimitCounter._meta.db_table)
    sql = (
        f"INSERT INTO {table} (key_digest, window_start, expires_at, hits) VALUES (%s, %s, %s, 1) "  # noqa: S608 - our table name
        f"ON CONFLICT (key_digest, window_start) DO UPDATE SET hits = {table}.hits + 1 RETURNING hits"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [digest, window_start, expires_at])
        row = cursor.fetchone()
    return int(row[0])


def too_many_attempts_message(retry_after: int) -> str:
    """Return the person-facing message for a refusal lasting ``retry_after`` seconds."""
    if retry_after < 60:
        wait = ngettext("%(count)d second", "%(count)d seconds", retry_after) % {"count": retry_after}
    else:
        minutes = math.ceil(retry_after / 60)
        wait = ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
    return gettext("You have tried too many times. Wait %(wait)s, then try again.") % {"wait": wait}


def rate_limit_prune(*, now: dt.datetime | None = None) -> int:
    """Delete the counters of windows that have ended; return how many rows went."""
    cutoff = int((now or clock.now()).timestamp())
    deleted, _ = RateLimitCounter.objects.filter(expires_at__lte=cutoff).delete()
    return deleted


def rate_limited(
    *,
    key: Callable[[HttpRequest], str],
    limit: int,
    window: int | dt.timedelta,
    methods: Collection[str] = ("POST",),
) -> Callable[[View[P]], View[P]]:
    """Decorate a view so each request with one of ``methods`` counts a hit for ``key(request)`` first.

    Raise RateLimitedError before the view runs once the limit is exceeded
    (RateLimitMiddleware renders it). Other methods are not counted.
    """
    _window_seconds(window)
    counted = frozenset(method.upper() for method in methods)

    def decorate(view: View[P]) -> View[P]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
            if request.method in counted:
                rate_limit(key(request), limit, window)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def client_ip(request: HttpRequest) -> str:
    """Return the client's IP address.

    ``REMOTE_ADDR``, unless ``GOVSERVE_TRUSTED_PROXY_COUNT`` (n) proxies sit in
    front: then the n-th ``X-Forwarded-For`` entry from the right, the one the
    outermost trusted proxy wrote (entries further left are whatever the
    client sent). A missing or malformed entry falls back to ``REMOTE_ADDR``.
    """
    remote = str(request.META.get("REMOTE_ADDR", ""))
    proxies = int(getattr(settings, "GOVSERVE_TRUSTED_PROXY_COUNT", 0) or 0)
    if proxies > 0:
        forwarded = [part.strip() for part in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
        if len(forwarded) >= proxies:
            candidate = forwarded[-proxies]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                pass
    return remote


def client_ip_bucket(request: HttpRequest) -> str:
    """Return the rate-limit bucket of the client's address: the IPv4 address, or the IPv6 /64 network.

    One IPv6 subscriber usually holds a whole /64, so limiting single IPv6
    addresses would limit nothing.
    """
    address = client_ip(request)
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


class RateLimitMiddleware:
    """Render a 429 ApplicationError from any view as the "too many attempts" page, with Retry-After."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """Answer 429 for a rate-limit error (ours or any ApplicationError with status 429); else let it pass."""
        if not isinstance(exception, ApplicationError) or exception.status != 429:
            return None
        from govserve.web.errors import too_many_requests  # noqa: PLC0415 - pages load templates lazily

        raw = getattr(exception, "retry_after", None) or exception.extra.get("retry_after")
        retry_after = int(raw) if isinstance(raw, int | float) and raw > 0 else None
        return too_many_requests(request, message=exception.message, retry_after=retry_after)
