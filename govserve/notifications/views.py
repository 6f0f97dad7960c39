"""The demo-only mail page, and GOV.UK Notify's delivery callbacks."""

from __future__ import annotations

import hmac
import json

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from govserve.core.errors import NotFoundError
from govserve.notifications.errors import CallbackPayloadError
from govserve.notifications.selectors import demo_mail_list
from govserve.notifications.services import delivery_callback_record


@require_GET
def demo_mail(request: HttpRequest) -> HttpResponse:
    """Render the recent emails with the demo banner; 404 unless ``settings.GOVSERVE_DEMO``."""
    try:
        emails = demo_mail_list()
    except NotFoundError as error:
        raise Http404(error.message) from None
    response = render(request, "notifications/demo_mail.html", {"emails": emails})
    # Sign-in links are credentials: never keep this page in any cache.
    response["Cache-Control"] = "no-store"
    return response


def _problem(status: int, code: str, title: str, detail: str) -> JsonResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, "code": code}
    response = JsonResponse(body, status=status, content_type="application/problem+json")
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="govserve notify callbacks"'
    return response


@csrf_exempt  # a machine's POST with a bearer token, under api/ (no cookies, no session)
@require_POST
def notify_callback(request: HttpRequest) -> HttpResponse:
    """Accept a GOV.UK Notify delivery receipt: bearer token, then :func:`delivery_callback_record`.

    401 problem+json without the token ``NOTIFY_CALLBACK_TOKEN`` (compared in
    constant time; an unset token refuses every call); 400 problem+json for a
    body that is not a receipt; 204 otherwise, also for a message govserve
    does not know (so Notify does not retry it for hours).
    """
    expected = str(getattr(settings, "NOTIFY_CALLBACK_TOKEN", ""))
    given = request.headers.get("Authorization", "")
    scheme, _, token = given.partition(" ")
    if not expected or scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), expected.encode()):
        return _problem(401, "notification_callback_unauthorised", "Unauthorised", "A valid bearer token is required.")
    try:
        payload = json.loads(request.body)
    except (UnicodeDecodeError, ValueError):
        return _problem(400, "notification_callback_invalid", "Bad request", "The body must be a JSON object.")
    if not isinstance(payload, dict):
        return _problem(400, "notification_callback_invalid", "Bad request", "The body must be a JSON object.")
    try:
        delivery_callback_record(payload=payload)
    except CallbackPayloadError as error:
        return _problem(400, error.code, "Bad request", error.message)
    return HttpResponse(status=204)
