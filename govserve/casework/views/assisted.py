"""Assisted digital: a staff member starts an application on a citizen's behalf, then fills in the same journey.

The application is recorded as the ``assisted`` channel (the take-up figures
count it apart from online applications). The start page asks for the service
and the citizen's email address (and name); the continue page checks that the
staff member may still act for that application and opens the journey pages.
"""

from __future__ import annotations

import uuid

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from govserve.accounts.decorators import staff_required
from govserve.casework import errors, services
from govserve.casework.views import common, names

SESSION_KEY = "gs.casework.assisted"
MAX_ASSISTED = 20
EMAIL_MAX_LENGTH = 254


@never_cache
@require_http_methods(["GET", "POST"])
@staff_required
def assisted_start(request: HttpRequest) -> HttpResponse:
    """Choose the service and say who the application is for; start it in the assisted channel."""
    user = common.staff_user(request)
    language = common.language_of(request)
    options = names.assisted_service_options(user=user, language=language)
    field_errors: dict[str, str] = {}
    values = {"service": "", "email": "", "language": language}
    if request.method == "POST":
        values = {
            "service": request.POST.get("service", ""),
            "email": request.POST.get("email", "").strip(),
            "language": request.POST.get("application_language", "en"),
        }
        if values["service"] not in {service_id for service_id, _title in options}:
            field_errors["service"] = _("Select the service the citizen is applying for")
        if not values["email"]:
            field_errors["email"] = _("Enter the citizen's email address")
        elif len(values["email"]) > EMAIL_MAX_LENGTH or "@" not in values["email"]:
            field_errors["email"] = _("Enter an email address in the correct format, like name@example.com")
        if values["language"] not in ("en", "cy"):
            values["language"] = "en"
        if not field_errors:
            try:
                started = services.assisted_application_start(
                    user=user,
                    service_id=values["service"],
                    citizen_email=values["email"],
                    language=values["language"],
                )
            except errors.AssistedStartInvalidError as error:
                field_errors[str(error.extra.get("field", "email"))] = error.message
            else:
                return HttpResponseRedirect(reverse("casework:assisted_continue", args=[started.application.id]))
    return common.staff_page(
        request,
        "casework/assisted_start.html",
        title=_("Apply on behalf of a citizen"),
        field_errors=field_errors,
        form_values=values,
        service_items=[{"value": "", "text": _("Choose a service")}]
        + [{"value": value, "text": text, "selected": value == values["service"]} for value, text in options],
    )


@never_cache
@require_http_methods(["GET"])
@staff_required
def assisted_continue(request: HttpRequest, application_id: uuid.UUID) -> HttpResponse:
    """Let this staff session fill in the assisted application, then open its journey pages."""
    try:
        services.assisted_applicant(user=common.staff_user(request), application_id=application_id)
    except errors.CaseFileNotFoundError as error:
        raise Http404(error.message) from error
    kept = [raw for raw in request.session.get(SESSION_KEY, []) if raw != str(application_id)]
    kept.append(str(application_id))
    request.session[SESSION_KEY] = kept[-MAX_ASSISTED:]
    return HttpResponseRedirect(reverse("journeys:application_resume", args=[application_id]))
