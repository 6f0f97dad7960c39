"""Request-scoped plumbing: a request id on every log line and response."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

import structlog
from django.http import HttpRequest, HttpResponse

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
# The request id itself, for audit entries: structlog's get_contextvars() walks every context variable.
_request_id: ContextVar[str | None] = ContextVar("govserve_request_id", default=None)


class RequestIdMiddleware:
    """Bind a request id (the caller's ``X-Request-ID`` if well-formed, else new) to logs and the response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        bound = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(bound)
            structlog.contextvars.clear_contextvars()
        response["X-Request-ID"] = request_id
        return response


def current_request_id() -> str | None:
    """Return the request id bound to this context, if any (for audit entries)."""
    return _request_id.get()
