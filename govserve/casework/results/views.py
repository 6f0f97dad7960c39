"""Public verification of results (``/verify``, ``/verify/<code>``) and the PDF download.

The verification pages need no sign-in, work without JavaScript, are rate
limited per client address, and answer any input without an error page: a
code that is not ours (forged, altered, truncated, garbage) is "not genuine".
``Accept: application/json`` gets the same answer as JSON.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from govserve.accounts.decorators import staff_session_valid
from govserve.casework.results import errors, selectors
from govserve.journeys.access import applicant_from_request
from govserve.journeys.fields.formats import format_date
from govserve.web.ratelimit import client_ip_bucket, rate_limit

VERIFY_LIMIT = (60, 60)
"""Verifications per client address (or IPv6 /64) per minute; ``GOVSERVE_RATE_LIMITS["result-verify"]`` overrides."""
MAX_TYPED_LENGTH = 2000
_URL_CODE = re.compile(r"/verify/([^/?#\s]+)")


def _language() -> str:
    return "cy" if (translation.get_language() or "en").startswith("cy") else "en"


def _wants_json(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def _rate_limit(request: HttpRequest) -> None:
    from django.conf import settings  # noqa: PLC0415 - read at call time (tests change it)

    limit, window = (getattr(settings, "GOVSERVE_RATE_LIMITS", {}) or {}).get("result-verify", VERIFY_LIMIT)
    rate_limit(f"result-verify:ip:{client_ip_bucket(request)}", limit, window)


def _date(value: dt.date | None, language: str) -> str:
    return format_date(value, language) if value else ""


def _code_from_typed(text: str) -> str:
    """Return the code in what a person typed or pasted: the code itself, or an address ending /verify/<code>."""
    match = _URL_CODE.search(text)
    code = match.group(1) if match else text
    return re.sub(r"[\s-]+", "", code).lower()


@never_cache
@require_GET
def verify_form(request: HttpRequest) -> HttpResponse:
    """Show the form to type a code; with ``?code=`` go to its verification page (or explain what is wrong)."""
    typed = request.GET.get("code")
    error = ""
    if typed is not None:
        code = _code_from_typed(typed[:MAX_TYPED_LENGTH])
        if code and re.fullmatch(r"[a-z0-9]+", code):
            return HttpResponseRedirect(reverse("casework_results:verify_code", args=[code]))
        error = (
            _("Enter the code from the licence or certificate")
            if not code
            else _("Enter the code as it is printed, in letters and numbers only")
        )
    context: dict[str, Any] = {
        "page_title": _("Check a licence or certificate is genuine"),
        "error": error,
        "typed": typed or "",
    }
    if error:
        context["errors"] = [{"text": error, "href": "#code"}]
    return render(request, "results/verify_form.html", context, status=400 if error else 200)


@never_cache
@require_GET
def verify_code(request: HttpRequest, code: str) -> HttpResponse:
    """Say whether ``code`` is genuine and, if it is, the result's type, number, issuer, dates and status."""
    _rate_limit(request)
    language = _language()
    verification = selectors.result_verify(code, language=language)
    status = 200 if verification.genuine else 404
    if _wants_json(request):
        return JsonResponse(verification.as_json(), status=status, headers={"Cache-Control": "no-store"})
    context: dict[str, Any] = {
        "verification": verification,
        "issued_on": _date(verification.issued_on, language),
        "valid_until": _date(verification.valid_until, language),
        "revoked_on": _date(verification.revoked_on, language),
        "status_label": selectors.status_label(verification.status) if verification.status else "",
        "page_title": (
            _("This %(result)s is genuine") % {"result": verification.result_name}
            if verification.genuine
            else _("We cannot confirm this code is genuine")
        ),
    }
    response = render(request, "results/verify_result.html", context, status=status)
    response["X-Robots-Tag"] = "noindex"
    return response


@never_cache
@require_GET
def result_download(request: HttpRequest, result_id: uuid.UUID) -> HttpResponse:
    """Send the PDF of a result to its applicant, or to staff who may see its file (audited)."""
    user = request.user if staff_session_valid(request) else None
    try:
        downloaded = selectors.result_download(
            result_id=result_id, applicant=applicant_from_request(request), user=user
        )
    except errors.ResultNotFoundError:
        raise Http404("There is no result at this address") from None
    except errors.ResultNotReadyError as error:
        return render(
            request,
            "results/not_ready.html",
            {"page_title": _("Your result is being prepared"), "message": error.message},
            status=409,
        )
    response = HttpResponse(downloaded.content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{downloaded.filename}"'
    response["Cache-Control"] = "no-store, private"
    return response
