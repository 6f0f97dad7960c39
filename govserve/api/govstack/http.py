"""The GovStack views' frame: the caller's identity, JSON answers, typed errors as problem bodies, the audit.

Every answer is ``application/json; charset=utf-8`` (errors too: GovStack
clients check for ``application/json``), and an error's body is shaped as
RFC 9457 problem details (``type``, ``title``, ``status``, ``detail``,
``code``). Only govserve's typed errors become 4xx; anything else is a bug
and stays a 500. A known client's calls count against its rate limit (the
same per-minute budget as its API v1 calls: 429 ``rate_limited`` with
``Retry-After``). Every call is audited (``govstack.call.handled``) with the
client as the actor, or ``system:govstack`` and the identity sent (if any)
for anonymous reads of the public catalogue.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from govserve.api.govstack import audit_events  # noqa: F401 - registers govstack.call.handled
from govserve.api.govstack.identity import Caller, caller_of, identity_of
from govserve.audit.actors import Actor
from govserve.audit.services import audit_record
from govserve.core.errors import ApplicationError
from govserve.journeys.fields import FieldError
from govserve.journeys.services import SubmissionProblem
from govserve.web.ratelimit import RateLimitedError, rate_limit

CONTENT_TYPE = "application/json; charset=utf-8"
RATE_WINDOW_SECONDS = 60

View = Callable[..., Any]


class RequestInvalidError(ApplicationError):
    """A parameter or body the operation cannot take (400, GovStack's 'invalid input')."""

    code = "request_invalid"
    status = 400


class MethodNotAllowedError(ApplicationError):
    """The path exists but not with this method."""

    code = "method_not_allowed"
    status = 405


def json_answer(body: Any, status: int = 200) -> HttpResponse:
    """Return ``body`` as UTF-8 JSON with ``status``."""
    return HttpResponse(json.dumps(body, ensure_ascii=False), status=status, content_type=CONTENT_TYPE)


STATUS_MAP = {422: 400, 401: 403}
"""GovStack's statuses for govserve's: refused input is 400 (not 422); no bearer auth here, so no 401 (403)."""


def _error_entries(error: ApplicationError) -> list[dict[str, str]]:
    """Return the field errors of ``error`` (journey FieldErrors, SubmissionProblems) as problem entries.

    ``extra["pages"]`` (field id to page id, set by the write operations)
    gives a FieldError its pointer into the body: ``/formData/data/<page>/<field>``.
    """
    pages = error.extra.get("pages") or {}
    entries: list[dict[str, str]] = []
    for found in list(error.extra.get("errors") or []) + list(error.extra.get("problems") or []):
        if isinstance(found, FieldError):
            entry = {"field": found.field_id, "code": found.code, "detail": found.message}
            page = pages.get(found.field_id)
            if page is not None:
                entry["pointer"] = f"/formData/data/{page}/{found.field_id}"
            entries.append(entry)
        elif isinstance(found, SubmissionProblem):
            entries.append({"field": found.where, "code": found.code, "detail": found.message})
        elif isinstance(found, dict):
            entries.append({str(key): str(value) for key, value in found.items()})
    return entries


def problem(error: ApplicationError) -> HttpResponse:
    """Return the problem body of a typed error (``message`` repeats ``detail``: GovStack's systemError)."""
    status = STATUS_MAP.get(error.status, error.status)
    body: dict[str, Any] = {
        "type": f"urn:govserve:problem:{error.code}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": error.message,
        "code": error.code,
        "message": error.message,
    }
    entries = _error_entries(error)
    if entries:
        body["errors"] = entries
    return json_answer(body, status)


def operation(
    name: str, *, methods: tuple[str, ...] = ("GET",), client_required: bool, allow: tuple[str, ...] | None = None
) -> Callable[[View], View]:
    """Make a view a GovStack operation: ``view(request, caller, **kwargs)`` returns the JSON body.

    ``client_required``: the caller must name itself (400) and be a known
    client (403); otherwise anonymous callers are served too. ``allow``: the
    methods of the path (when other operations share it), for a 405's ``Allow``.
    """

    def decorate(view: View) -> View:
        @csrf_exempt  # machine clients, no cookies: X-Road or mutual TLS authenticates them
        @functools.wraps(view)
        def wrapped(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            caller = Caller(identity=None, client=None)
            try:
                if request.method not in methods:
                    raise MethodNotAllowedError(f"{request.method} is not an operation on this path")
                caller = Caller(identity=identity_of(request), client=None)  # audited even when refused
                caller = caller_of(caller.identity, required=client_required)
                if caller.client is not None:
                    # The same counter as the client's API v1 calls: one budget per client.
                    client = caller.client
                    rate_limit(f"api-client:{client.id}", client.rate_limit_per_minute, RATE_WINDOW_SECONDS)
                answer = view(request, caller, **kwargs)
                response = answer if isinstance(answer, HttpResponse) else json_answer(answer)
            except ApplicationError as error:
                response = problem(error)
                if isinstance(error, MethodNotAllowedError):
                    response["Allow"] = ", ".join(allow or methods)
                if isinstance(error, RateLimitedError):
                    response["Retry-After"] = str(error.retry_after)
            _audit(request, name, caller, response.status_code)
            return response

        return wrapped

    return decorate


def _audit(request: HttpRequest, name: str, caller: Caller, status: int) -> None:
    actor = Actor.for_api_client(caller.client.id) if caller.client is not None else Actor.system("govstack")
    audit_record(
        actor=actor,
        action="govstack.call.handled",
        subject_type="api.client" if caller.client is not None else "",
        subject_id=caller.client.id if caller.client is not None else "",
        details={
            "method": request.method or "",
            "operation": name,
            "status": status,
            "client": caller.identity,
        },
    )
