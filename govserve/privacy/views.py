"""Privacy pages: the applicant's "who has seen my application", and the staff subject access and data-protection pages.

Staff pages are for data protection officers (role
:data:`~govserve.privacy.access_report.DATA_PROTECTION_OFFICER_ROLE` in an
institution; administrators too for the data-protection reports). Anyone
else gets the ordinary "page not found": nothing says the page exists or
what a service holds. Subject access exports cover the applications of the
services owned by the officer's institutions.
"""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import formats
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from govserve.accounts.decorators import require_recent_authentication, staff_required
from govserve.accounts.models import PlatformRole, User
from govserve.accounts.policies import roles_of
from govserve.accounts.views import SENSITIVE_ACTION_MAX_AGE
from govserve.casework.views.common import staff_page, staff_user
from govserve.catalogue.errors import ServiceNotFoundError, ServiceRetiredError, VersionNotFoundError
from govserve.catalogue.models import Service
from govserve.journeys.views.common import AccessNeeded, access_needed, application_or_404, language_of, page
from govserve.privacy.access_report import (
    DATA_PROTECTION_OFFICER_ROLE,
    access_summary,
    accesses_for_applications,
)
from govserve.privacy.dp_report import dp_report
from govserve.privacy.errors import SubjectAccessRequestError
from govserve.privacy.subject_access_requests import (
    SubjectAccessRequestNotFoundError,
    SubjectAccessStatus,
    keep_for,
    subject_access_bundle,
    subject_access_request_create,
    subject_access_request_for_officer,
    subject_access_request_owned,
    subject_access_requests_of,
)

LOCAL_ZONE = ZoneInfo("Europe/London")


@never_cache
@require_GET
def application_access(request: HttpRequest, application_id: uuid.UUID) -> HttpResponse:
    """List which institution, in which role, looked at the applicant's application and when (never who)."""
    try:
        application = application_or_404(request, application_id)
    except AccessNeeded:
        return access_needed(request)
    language = language_of(request)
    rows = access_summary(accesses_for_applications([application], language=language), time_zone=LOCAL_ZONE)
    return page(
        request,
        "privacy/application_access.html",
        title=_("Who has seen your application"),
        application=application,
        rows=rows,
        back_url=f"/applications/{application.id}/",
    )


def _officer_institutions(request: HttpRequest) -> frozenset[str]:
    """Return the institutions the signed-in staff member is data protection officer of; 404 when none."""
    codes = frozenset(code for code, role in roles_of(staff_user(request)) if role == DATA_PROTECTION_OFFICER_ROLE)
    if not codes:
        raise Http404
    return codes


@never_cache
@require_http_methods(["GET", "POST"])
@staff_required
def subject_access(request: HttpRequest) -> HttpResponse:
    """Ask for a person's email address; the export is prepared in the background (see the request's page).

    The role is checked first (404 for anyone else, whether or not they
    signed in recently), then the officer must have proved password and
    code in the last few minutes: the export holds a person's whole file.
    """
    return _subject_access(request, _officer_institutions(request))


@require_recent_authentication(SENSITIVE_ACTION_MAX_AGE)
def _subject_access(request: HttpRequest, institutions: frozenset[str]) -> HttpResponse:
    email = ""
    field_errors: dict[str, str] = {}
    if request.method == "POST":
        email = request.POST.get("email", "").strip()[:320]
        try:
            asked = subject_access_request_create(
                user=staff_user(request),
                email=email,
                institutions=institutions,
                language="cy" if request.POST.get("language") == "cy" else "en",
            )
        except SubjectAccessRequestError as error:
            field_errors["email"] = error.message
        else:
            return HttpResponseRedirect(reverse("privacy:subject_access_request", args=[asked.id]), status=303)
    return staff_page(
        request,
        "privacy/subject_access.html",
        title=_("Subject access request"),
        field_errors=field_errors,
        email=email,
        institutions=sorted(institutions),
        keep_days=keep_for().days,
        requests=_request_rows(staff_user(request)),
    )


def _request_rows(user: User) -> list[list[dict[str, str]]]:
    """Return the officer's kept requests as the table's rows: when asked (a link to the page), address, status."""
    labels = {
        "preparing": _("Being prepared"),
        "ready": _("Ready"),
        "failed": _("Could not be prepared"),
        "removed": _("Removed"),
    }
    return [
        [
            {
                "html": format_html(
                    '<a class="govuk-link" href="{}">{}</a>',
                    reverse("privacy:subject_access_request", args=[row.request.id]),
                    _local(row.request.created_at),
                )
            },
            {"text": row.email or ""},
            {"text": labels[row.status]},
        ]
        for row in subject_access_requests_of(user=user)
    ]


def _request_status(request: HttpRequest, request_id: uuid.UUID) -> SubjectAccessStatus:
    """Return the officer's own request; 404 for anyone else, the same as for an id that names nothing."""
    try:
        return subject_access_request_for_officer(user=staff_user(request), request_id=request_id)
    except SubjectAccessRequestNotFoundError:
        raise Http404 from None


@never_cache
@require_GET
@staff_required
def subject_access_request(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    """Show where the officer's request stands: being prepared (refresh), ready (download), failed or removed."""
    status = _request_status(request, request_id)
    asked = status.request
    titles = {
        "preparing": _("Your subject access export is being prepared"),
        "ready": _("Your subject access export is ready"),
        "failed": _("Your subject access export could not be prepared"),
        "removed": _("Your subject access export has been removed"),
    }
    return staff_page(
        request,
        "privacy/subject_access_request.html",
        title=titles[status.status],
        state=status.status,
        email=status.email,
        asked=asked,
        asked_at=_local(asked.created_at),
        expires_at=_local(asked.expires_at),
        removed_at=_local(asked.removed_at or asked.expires_at),
        size_kb=max(1, round((asked.size_bytes or 0) / 1024)),
        back_link=reverse("privacy:subject_access"),
    )


def _local(moment: dt.datetime) -> str:
    return formats.date_format(moment.astimezone(LOCAL_ZONE), "j F Y, H:i")


@never_cache
@require_GET
@staff_required
def subject_access_download(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    """Send the prepared zip to the officer who asked (recent sign-in needed; audited); else back to its page."""
    try:  # 404 first, whether or not the officer signed in recently
        subject_access_request_owned(user=staff_user(request), request_id=request_id)
    except SubjectAccessRequestNotFoundError:
        raise Http404 from None
    return _subject_access_download(request, request_id)


@require_recent_authentication(SENSITIVE_ACTION_MAX_AGE)
def _subject_access_download(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    try:
        found = subject_access_bundle(user=staff_user(request), request_id=request_id)
    except SubjectAccessRequestNotFoundError:
        raise Http404 from None
    if found is None:
        return HttpResponseRedirect(reverse("privacy:subject_access_request", args=[request_id]), status=303)
    asked, bundle = found
    response = HttpResponse(bundle, content_type="application/zip")
    stamp = (asked.ready_at or asked.created_at).strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="subject-access-{stamp}.zip"'
    response["Cache-Control"] = "no-store, private"
    return response


def _report_institutions(request: HttpRequest) -> frozenset[str]:
    """Return the institutions whose reports the member may read (officer or administrator); 404 when none."""
    allowed = {DATA_PROTECTION_OFFICER_ROLE, PlatformRole.ADMINISTRATOR.value}
    codes = frozenset(code for code, role in roles_of(staff_user(request)) if role in allowed)
    if not codes:
        raise Http404
    return codes


@never_cache
@require_GET
@staff_required
def dp_reports(request: HttpRequest) -> HttpResponse:
    """List the services of the member's institutions, each linking to its data-protection report."""
    institutions = _report_institutions(request)
    services = list(
        Service.objects.filter(owning_institution__code__in=institutions)
        .select_related("owning_institution")
        .order_by("title")
    )
    return staff_page(request, "privacy/dp_reports.html", title=_("Data-protection reports"), services=services)


@never_cache
@require_GET
@staff_required
def dp_report_page(request: HttpRequest, service_id: str) -> HttpResponse:
    """Show one service's data-protection report (404 outside the member's institutions)."""
    institutions = _report_institutions(request)
    if not Service.objects.filter(pk=service_id, owning_institution__code__in=institutions).exists():
        raise Http404
    try:
        report = dp_report(service_id=service_id, language=language_of(request))
    except (ServiceNotFoundError, VersionNotFoundError, ServiceRetiredError):
        raise Http404 from None
    return staff_page(
        request,
        "privacy/dp_report.html",
        title=_("Data-protection report: %(service)s") % {"service": report.title},
        report=report,
        back_link="/staff/privacy/services/",
    )
