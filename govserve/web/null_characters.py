"""Refuse requests carrying a NUL character in their path, query string or text body, before any view.

PostgreSQL's text cannot hold NUL (``\\x00``): a value with one reaching a
lookup (a service id, a filter, a reference) makes the driver raise
``DataError``, which would be a 500. No field of govserve accepts NUL, so
the request is refused where it enters, the same way on both databases:

- API v1 (``/api/v1/``): 422 ``request_invalid`` in the API's problem shape
  (every operation documents 422), naming where the character was;
- GovStack (``/govstack/``, or its own port): 400 in GovStack's error shape (``request_invalid``);
- any other machine caller: 400 problem+json;
- pages: the 400 page.

Checked: the path, the raw query string (``%00``), form-encoded bodies
(``%00`` or a raw NUL) and JSON bodies (a raw NUL, or a string holding
``\\u0000``, found by parsing only when the escape appears). Multipart
bodies are not read here (uploaded files hold NUL bytes); their text fields
are few and go through the forms' own parsing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext

from govserve.api.govstack import http as govstack_http
from govserve.api.v1 import problems as api_problems
from govserve.web import errors

_API_V1 = "/api/v1/"
_GOVSTACK = "/govstack/"
GOVSTACK_URLCONF = "config.urls_govstack"
"""``govserve serve --govstack`` routes its requests by this URLconf (config/wsgi_govstack.py), GovStack at ``/``."""


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(key) or _holds_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_holds_nul(item) for item in value)
    return False


def _where(request: HttpRequest) -> str | None:
    """Return where the request carries a NUL character ("path", "query", "body"), or None."""
    if "\x00" in request.path:
        return "path"
    query = request.META.get("QUERY_STRING", "")
    if "%00" in query or "\x00" in query:
        return "query"
    if request.method not in {"GET", "HEAD", "OPTIONS"} and _body_holds_nul(request):
        return "body"
    return None


def _body_holds_nul(request: HttpRequest) -> bool:
    content_type = request.content_type or ""
    form = content_type == "application/x-www-form-urlencoded"
    if not form and content_type != "application/json" and not content_type.endswith("+json"):
        return False
    try:
        body = request.body
    except RequestDataTooBig:
        return False  # over the size limit: the view's own refusal of an oversize request says so
    if form:
        return b"%00" in body or b"\x00" in body
    if b"\x00" in body:
        return True
    return b"\\u0000" in body and _json_holds_nul(body)


def _json_holds_nul(body: bytes) -> bool:
    try:
        return _holds_nul(json.loads(body))
    except ValueError:
        return False  # not JSON: the API's own parser says so


def _refusal(request: HttpRequest, where: str) -> HttpResponse:
    detail = gettext("The request contains a null character, which no field accepts.")
    if request.path.startswith(_API_V1):
        errors_found = [{"field": where, "code": "null_character", "detail": detail}]
        return api_problems.problem_response(status=422, code="request_invalid", detail=detail, errors=errors_found)
    if request.path.startswith(_GOVSTACK) or getattr(request, "urlconf", None) == GOVSTACK_URLCONF:
        return govstack_http.problem(govstack_http.RequestInvalidError(detail))  # its own JSON content type
    if errors.wants_json(request):
        return errors.problem_response(status=400, code="null_character", title="Bad request", detail=detail)
    return errors.bad_request(request)


class NullCharacterMiddleware:
    """Answer a request carrying a NUL character with 422/400 (module docstring) instead of calling the view."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        where = _where(request)
        if where is not None:
            return _refusal(request, where)
        return self.get_response(request)
