"""The services on offer, each service's start page, and starting an application."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from govserve.documents.access import owner_access_grant
from govserve.journeys import errors, selectors, services
from govserve.journeys.access import session_grant
from govserve.journeys.models import JourneyEventKind
from govserve.journeys.views.common import applicant_of, language_of, page
from govserve.web.ratelimit import client_ip_bucket, rate_limit

START_LIMIT = 30
START_WINDOW = dt.timedelta(hours=1)
EMAIL_MAX_LENGTH = 254


@require_GET
def service_list(request: HttpRequest) -> HttpResponse:
    """List the services taking applications, with a search box (GET ``q``)."""
    search = request.GET.get("q", "")[:100]
    cards = selectors.services_live(language=language_of(request), search=search)
    return page(request, "journeys/service_list.html", title=_("Services"), services=cards, search=search)


@require_GET
def service_start(request: HttpRequest, service_id: str) -> HttpResponse:
    """Show a service's start page: what it is for, who can use it, what you need, how long, fees."""
    language = language_of(request)
    try:
        info = selectors.service_start_info(service_id, language=language)
    except errors.ApplicationNotFoundError as error:
        raise Http404(error.message) from error
    except errors.ServiceClosedError as error:
        return page(
            request,
            "journeys/service_closed.html",
            title=_("This service is closed"),
            message=error.message,
            status=410,
        )
    definition = info.compiled.definition
    services.page_view_record(
        kind=JourneyEventKind.START_PAGE_VIEW,
        service_id=service_id,
        version=info.compiled.version,
        language=language,
        is_test=info.compiled.preview,
    )
    return page(
        request,
        "journeys/start.html",
        title=definition.title.get(language),
        service_name=definition.title.get(language),
        definition=definition,
        info=info,
        start_key=secrets.token_urlsafe(24),
        signed_in=applicant_of(request).citizen is not None,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def application_new(request: HttpRequest, service_id: str) -> HttpResponse:
    """Start an application (POST from the start page); anonymous applicants give their email address first."""
    language = language_of(request)
    try:
        info = selectors.service_start_info(service_id, language=language)
    except errors.ApplicationNotFoundError as error:
        raise Http404(error.message) from error
    except errors.ServiceClosedError as error:
        return page(
            request,
            "journeys/service_closed.html",
            title=_("This service is closed"),
            message=error.message,
            status=410,
        )
    definition = info.compiled.definition
    applicant = applicant_of(request)
    if applicant.citizen is None and definition.sign_in == "required":
        query = urlencode({"next": reverse("journeys:service_start", args=[service_id])})
        return HttpResponseRedirect(f"{reverse('accounts:citizen_sign_in')}?{query}")
    start_key = request.POST.get("start_key", "")[:64] or None
    anonymous = applicant.citizen is None
    email = request.POST.get("email", "")[:EMAIL_MAX_LENGTH] if anonymous else ""
    context: dict[str, Any] = {
        "service_name": definition.title.get(language),
        "definition": definition,
        "start_key": start_key or secrets.token_urlsafe(24),
        "email": email,
    }
    title = _("Enter your email address")
    if request.method == "GET" or (anonymous and "email" not in request.POST):
        if not anonymous:
            return HttpResponseRedirect(reverse("journeys:service_start", args=[service_id]))
        return page(request, "journeys/start_email.html", title=title, **context)
    rate_limit(f"journeys.start:ip:{client_ip_bucket(request)}", limit=START_LIMIT, window=START_WINDOW)
    try:
        result = services.application_start(
            service_id=service_id,
            applicant=applicant,
            language=language,
            start_key=start_key,
            contact_email=email or None,
        )
    except errors.ContactEmailInvalidError:
        message = _("Enter an email address in the correct format, like name@example.com")
        return page(
            request,
            "journeys/start_email.html",
            title=title,
            summary_errors=[{"text": message, "href": "#email"}],
            email_error=message,
            **context,
        )
    application = result.application
    if anonymous:
        session_grant(request, application.id)
        owner_access_grant(request, owner=application.crypto_owner)
    return HttpResponseRedirect(reverse("journeys:application_resume", args=[application.id]))
