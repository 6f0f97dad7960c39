"""Error pages in GOV.UK style (400, 403, CSRF, 404, 429, 500), or problem+json for API clients.

Wired in config/urls.py (``handler400`` … ``handler500``) and
``CSRF_FAILURE_VIEW``. A request for ``/api/`` or ``/govstack/``, or one that
accepts JSON but not HTML, gets an RFC 9457 problem+json body instead of a
page. Pages never show exception text: only the request id, which support
staff can find in the logs.
"""

from __future__ import annotations

from typing import Any

import structlog
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext

logger = structlog.get_logger(__name__)

_API_PREFIXES = ("/api/", "/govstack/")
# Served if rendering the 500 page itself fails: no template, no context, nothing that can fail again.
_FALLBACK_500 = (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Sorry, there is a problem with the service'
    "</title></head><body><h1>Sorry, there is a problem with the service</h1><p>Try again later.</p></body></html>"
)


def wants_json(request: HttpRequest) -> bool:
    """Return whether the caller is a machine: an API path, or an Accept header with JSON and without HTML."""
    if request.path.startswith(_API_PREFIXES):
        return True
    accept = request.headers.get("Accept", "")
    return "json" in accept and "text/html" not in accept


def problem_response(
    *, status: int, code: str, title: str, detail: str, headers: dict[str, str] | None = None
) -> JsonResponse:
    """Return an RFC 9457 problem+json response with govserve's stable ``code``."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, "code": code}
    response = JsonResponse(body, status=status, content_type="application/problem+json")
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _page(request: HttpRequest, template: str, *, status: int, context: dict[str, Any] | None = None) -> HttpResponse:
    values = {"request_id": getattr(request, "request_id", ""), **(context or {})}
    return render(request, f"web/errors/{template}", values, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Answer 400 (``handler400``: suspicious or malformed requests refused before any view)."""
    if wants_json(request):
        return problem_response(
            status=400, code="bad_request", title="Bad request", detail=gettext("The request could not be read.")
        )
    return _page(request, "400.html", status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Answer 403 (``handler403``)."""
    if wants_json(request):
        return problem_response(
            status=403,
            code="permission_denied",
            title="Forbidden",
            detail=gettext("You do not have permission to do this."),
        )
    return _page(request, "403.html", status=403)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Answer 403 for a missing or stale CSRF token (``CSRF_FAILURE_VIEW``); log the reason code only."""
    logger.warning("csrf.refused", reason=reason[:100], method=request.method, path=request.path)
    if wants_json(request):
        return problem_response(
            status=403,
            code="csrf_failed",
            title="Forbidden",
            detail=gettext("The request was refused because its CSRF token was missing or out of date."),
        )
    return _page(request, "csrf.html", status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Answer 404 (``handler404``) without echoing the exception or the path."""
    if wants_json(request):
        return problem_response(
            status=404, code="not_found", title="Not found", detail=gettext("There is nothing at this address.")
        )
    return _page(request, "404.html", status=404)


def too_many_requests(request: HttpRequest, *, message: str, retry_after: int | None) -> HttpResponse:
    """Answer 429 with ``message`` and, when known, ``Retry-After`` (used by RateLimitMiddleware)."""
    headers = {"Retry-After": str(retry_after)} if retry_after else {}
    if wants_json(request):
        return problem_response(
            status=429, code="rate_limited", title="Too many requests", detail=message, headers=headers
        )
    response = _page(request, "429.html", status=429, context={"message": message})
    for name, value in headers.items():
        response[name] = value
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """Answer 500 (``handler500``); if even the page fails to render, a static page (the failure is logged)."""
    if wants_json(request):
        return problem_response(
            status=500,
            code="server_error",
            title="Internal server error",
            detail=gettext("Something went wrong on our side. Try again later."),
        )
    try:
        return _page(request, "500.html", status=500)
    except Exception:  # an error page must not raise: Django would answer with its own bare page
        logger.exception("error_page.render_failed", status=500)
        return HttpResponse(_FALLBACK_500, status=500, content_type="text/html; charset=utf-8")
