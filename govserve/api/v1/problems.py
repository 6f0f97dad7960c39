"""One error shape for the whole API: problem+json (RFC 9457) with a stable ``code``.

::

    {"type": "urn:govserve:problem:answers_invalid", "title": "Unprocessable Content",
     "status": 422, "detail": "There is a problem with your answers", "code": "answers_invalid",
     "errors": [{"field": "street", "code": "required", "detail": "Enter the street name",
                 "pointer": "/answers/street"}]}

Handlers are registered for exactly these: every
:class:`~govserve.core.errors.ApplicationError` (its ``status`` and
``code``), django-ninja's request validation errors (422,
``request_invalid``, one entry per field with a JSON pointer into the
request), its HTTP errors (a malformed JSON body: 400 ``malformed_json``)
and its 404. Anything else is a bug: ninja's default handler re-raises it
and Django answers 500.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from http import HTTPStatus
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError

from govserve.core.errors import ApplicationError
from govserve.journeys.fields import FieldError
from govserve.journeys.services import SubmissionProblem

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:govserve:problem:"


def problem_response(
    *, status: int, code: str, detail: str, errors: Sequence[dict[str, Any]] = (), headers: dict[str, str] | None = None
) -> HttpResponse:
    """Return the problem+json response (``errors`` only when there are field errors)."""
    body: dict[str, Any] = {
        "type": f"{TYPE_PREFIX}{code}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = list(errors)
    response = HttpResponse(json.dumps(body), status=status, content_type=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _pointer(*parts: object) -> str:
    escaped = (str(part).replace("~", "~0").replace("/", "~1") for part in parts)
    return "/" + "/".join(escaped)


def field_errors(found: Iterable[object], *, base: str = "answers") -> list[dict[str, Any]]:
    """Return the ``errors`` entries of journey FieldErrors and SubmissionProblems (other objects: skipped)."""
    entries: list[dict[str, Any]] = []
    for error in found:
        if isinstance(error, FieldError):
            # A JSON answer's anchor is its path (children[1].name); a form's is an input id (dob-day).
            path = error.anchor if error.anchor and "-" not in error.anchor else error.field_id
            parts = [part for part in path.replace("[", ".").replace("]", "").split(".") if part]
            entries.append(
                {
                    "field": error.field_id,
                    "code": error.code,
                    "detail": error.message,
                    "pointer": _pointer(base, *parts),
                }
            )
        elif isinstance(error, SubmissionProblem):
            entries.append({"field": error.where, "code": error.code, "detail": error.message})
    return entries


def application_error_response(error: ApplicationError) -> HttpResponse:
    """Return the problem response of a typed application error."""
    found = list(error.extra.get("errors") or []) + list(error.extra.get("problems") or [])
    headers: dict[str, str] = {}
    retry_after = error.extra.get("retry_after")
    if error.status == HTTPStatus.TOO_MANY_REQUESTS and isinstance(retry_after, int):
        headers["Retry-After"] = str(retry_after)
    if error.status == HTTPStatus.UNAUTHORIZED:
        headers["WWW-Authenticate"] = f'Bearer error="invalid_token", error_description="{error.code}"'
    return problem_response(
        status=error.status, code=error.code, detail=error.message, errors=field_errors(found), headers=headers
    )


def _validation_errors(errors: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ())]
        # ninja's locations start with the source and the parameter's name: ("body", "payload", "answers").
        source = location[0] if location else ""
        path = location[2:] if source == "body" and len(location) > 1 else location[1:]
        entry: dict[str, Any] = {
            "field": ".".join(path) or source,
            "code": str(error.get("type", "invalid")),
            "detail": str(error.get("msg", "Invalid value")),
        }
        if source == "body":
            entry["pointer"] = _pointer(*path) if path else ""
        else:
            entry["parameter"] = path[0] if path else source
            entry["in"] = source
        entries.append(entry)
    return entries


def problem_handlers_install(api: NinjaAPI) -> None:
    """Register the problem+json handlers on ``api`` (and no catch-all)."""

    def on_application_error(request: HttpRequest, error: ApplicationError) -> HttpResponse:
        return application_error_response(error)

    def on_validation_error(request: HttpRequest, error: NinjaValidationError) -> HttpResponse:
        return problem_response(
            status=422,
            code="request_invalid",
            detail="The request does not match the operation's schema",
            errors=_validation_errors(error.errors),
        )

    def on_http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
        if error.status_code == HTTPStatus.BAD_REQUEST and str(error).startswith("Cannot parse request body"):
            return problem_response(status=400, code="malformed_json", detail="The request body is not valid JSON")
        status = HTTPStatus(error.status_code)
        return problem_response(status=status, code=status.phrase.lower().replace(" ", "_"), detail=str(error))

    def on_not_found(request: HttpRequest, error: Http404) -> HttpResponse:
        return problem_response(status=404, code="not_found", detail="There is nothing at this address")

    # ninja's stubs type a handler's exception as "the class or an instance": ours take instances.
    api.add_exception_handler(ApplicationError, on_application_error)  # type: ignore[arg-type]
    api.add_exception_handler(NinjaValidationError, on_validation_error)  # type: ignore[arg-type]
    api.add_exception_handler(HttpError, on_http_error)  # type: ignore[arg-type]
    api.add_exception_handler(Http404, on_not_found)  # type: ignore[arg-type]
