"""One structured log line per request, without the query string.

Query strings carry search terms, tokens and sometimes personal values, so
the line has the path and the matched route pattern only. One-time links
carry their secret in the path (``/sign-in/link/<token>``, ``/apply/resume/<token>``):
a path argument named ``token`` is written as ``[token]``, so whoever reads
the logs cannot use a link its owner has not opened yet. The request id is
added by structlog's context (bound by RequestIdMiddleware, which must come
before this middleware).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import structlog
from django.http import HttpRequest, HttpResponse

logger = structlog.get_logger("govserve.access")
# URL arguments that hold a secret (one-time links); their value never reaches a log line.
SECRET_ARGUMENTS = frozenset({"token"})
_stdlib_logger = logging.getLogger("govserve.access")


class AccessLogMiddleware:
    """Log ``request.finished`` with method, path, route, status and duration in milliseconds."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        # structlog runs its processors (context, timestamp) before the stdlib logger filters by
        # level: ask first, so a deployment logging at WARNING pays nothing per request.
        if not _stdlib_logger.isEnabledFor(logging.INFO):
            return response
        match = getattr(request, "resolver_match", None)
        logger.info(
            "request.finished",
            method=request.method,
            path=_loggable_path(request.path, match.kwargs if match is not None else {}),
            route=match.route if match is not None else "",
            status=response.status_code,
            duration_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        return response


def _loggable_path(path: str, arguments: dict[str, object]) -> str:
    """Return ``path`` with the value of each secret URL argument replaced by its name in brackets."""
    for name in SECRET_ARGUMENTS & arguments.keys():
        value = arguments[name]
        if isinstance(value, str) and value:
            path = path.replace(value, f"[{name}]")
    return path
