"""The applicant's own pages: their applications, one application's detail, delete a draft, withdraw."""

from __future__ import annotations

import contextlib

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from govserve.accounts.citizen_views import citizen_required
from govserve.journeys import errors, hooks, pdf, selectors, services
from govserve.journeys.access import session_revoke
from govserve.journeys.models import WITHDRAWABLE_STATUSES, Application, ApplicationStatus
from govserve.journeys.views.common import applicant_of, language_of, page
from govserve.journeys.views.journey import _state_first, _with_application, answer_rows

MESSAGE_ERRORS = {
    "message_invalid": gettext_lazy("Enter your message, in 5,000 characters or fewer"),
    "message_not_allowed": gettext_lazy("You can reply once the team has written to you"),
    "file_not_open": gettext_lazy("This application is closed: messages can no longer be sent"),
    "case_file_not_found": gettext_lazy("You can write to the team once they start working on your application"),
}
"""What the applicant is told when their message was refused (by the error's code)."""

STATUS_FILTERS = [
    ("", "All applications"),
    ("draft", "Not sent yet"),
    ("open", "Waiting for a decision"),
    ("decided", "Decided"),
    ("closed", "Withdrawn or expired"),
]


@never_cache
@require_GET
@citizen_required
def application_list(request: HttpRequest) -> HttpResponse:
    """List the signed-in citizen's applications, grouped by status, with search and a status filter."""
    citizen = applicant_of(request).citizen
    assert citizen is not None  # noqa: S101 - citizen_required
    status = request.GET.get("status", "")[:20]
    search = request.GET.get("q", "")[:100]
    applications = list(selectors.applications_for_citizen(citizen, status=status or None, search=search or None)[:200])
    language = language_of(request)
    titles = {}
    for application in applications:
        if application.service_id not in titles:
            titles[application.service_id] = selectors.compiled_for(application).definition.title.get(language)
    groups = [
        (key, label, [application for application in applications if application.status in statuses])
        for key, label, statuses in (
            ("draft", _("Not sent yet"), selectors.STATUS_GROUPS["draft"]),
            ("open", _("Waiting for a decision"), selectors.STATUS_GROUPS["open"]),
            ("decided", _("Decided"), selectors.STATUS_GROUPS["decided"]),
            ("closed", _("Withdrawn or expired"), selectors.STATUS_GROUPS["closed"]),
        )
    ]
    return page(
        request,
        "journeys/application_list.html",
        title=_("Your applications"),
        groups=[group for group in groups if group[2]],
        titles=titles,
        status_filter=status,
        search=search,
        filters=[(value, _(label)) for value, label in STATUS_FILTERS],
        filtered=bool(status or search),
    )


@never_cache
@require_GET
@_with_application
def application_detail(request: HttpRequest, application: Application) -> HttpResponse:
    """Show one application: status, expected decision date, history, answers, documents, messages, results."""
    language = language_of(request)
    state = _state_first(request, application)
    submitted = application.submitted_at is not None
    return page(
        request,
        "journeys/application_detail.html",
        title=_("Application %(reference)s") % {"reference": application.reference},
        service_name=state.definition.title.get(language),
        application=application,
        status_label=ApplicationStatus(application.status).label,
        decision_date=selectors.expected_decision_date(application, state),
        history=selectors.history_of(application),
        status_labels=dict(ApplicationStatus.choices),
        uploads=selectors.documents_of(application) if application.status != ApplicationStatus.EXPIRED else [],
        sections=answer_rows(application, state, language, links=False) if submitted else [],
        results=hooks.results_for(application, language),
        payment_link=hooks.payment_link_for(application, language),
        case=hooks.applicant_case(application, language),
        message_error=MESSAGE_ERRORS.get(request.GET.get("message_error", ""), ""),
        resent=request.GET.get("sent") == "1" and application.status == ApplicationStatus.IN_PROGRESS,
        can_withdraw=application.status in WITHDRAWABLE_STATUSES,
        can_continue=services.draft_open(application),
        can_delete=application.status == ApplicationStatus.DRAFT,
        signed_in=applicant_of(request).citizen is not None,
    )


@never_cache
@require_GET
@_with_application
def answers_pdf(request: HttpRequest, application: Application) -> HttpResponse:
    """Download a PDF copy of a sent application's answers."""
    if application.submitted_at is None:
        return HttpResponseRedirect(reverse("journeys:application_detail", args=[application.id]))
    return answers_pdf_response(request, application, language_of(request))


def answers_pdf_response(request: HttpRequest, application: Application, language: str) -> HttpResponse:
    """Return the PDF copy of a sent application's answers in ``language`` as a private download (web and API)."""
    state = _state_first(request, application)
    with translation.override(language):
        content = pdf.answers_pdf(
            request=request,
            application=application,
            title=state.definition.title.get(language),
            sections=answer_rows(application, state, language, links=False),
        )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="application-{application.reference}.pdf"'
    response["Cache-Control"] = "no-store, private"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
@_with_application
def application_delete(request: HttpRequest, application: Application) -> HttpResponse:
    """Ask to confirm, then delete a draft and everything in it."""
    if application.status != ApplicationStatus.DRAFT:
        return HttpResponseRedirect(reverse("journeys:application_detail", args=[application.id]))
    error = ""
    if request.method == "POST":
        choice = request.POST.get("confirm", "")
        if choice == "no":
            return HttpResponseRedirect(reverse("journeys:application_detail", args=[application.id]))
        if choice == "yes":
            applicant = applicant_of(request)
            try:
                services.application_draft_delete(application_id=application.id, applicant=applicant)
            except errors.NotDeletableError:
                return HttpResponseRedirect(reverse("journeys:application_detail", args=[application.id]))
            session_revoke(request, application.id)
            target = "journeys:application_list" if applicant.citizen is not None else "journeys:service_list"
            return HttpResponseRedirect(reverse(target) + "?deleted=1")
        error = _("Select yes if you want to delete this application")
    return page(
        request,
        "journeys/confirm_action.html",
        title=_("Are you sure you want to delete this application?"),
        application=application,
        action_url=reverse("journeys:application_delete", args=[application.id]),
        hint=_("Your answers and uploaded files will be deleted. You cannot undo this."),
        button=_("Delete application"),
        confirm_error=error,
        summary_errors=[{"text": error, "href": "#confirm"}] if error else [],
        back_url=reverse("journeys:application_detail", args=[application.id]),
    )


@never_cache
@require_http_methods(["GET", "POST"])
@_with_application
def application_withdraw(request: HttpRequest, application: Application) -> HttpResponse:
    """Ask to confirm, then withdraw a sent application that has no decision yet."""
    if application.status not in WITHDRAWABLE_STATUSES:
        return HttpResponseRedirect(reverse("journeys:application_detail", args=[application.id]))
    error = ""
    if request.method == "POST":
        choice = request.POST.get("confirm", "")
        if choice == "no":
            return HttpResponseRedirect(reverse("journeys:application_detail", args=[application.id]))
        if choice == "yes":
            # Decided meanwhile: NotWithdrawableError, and the detail page says what happened.
            with contextlib.suppress(errors.NotWithdrawableError):
                services.application_withdraw(application_id=application.id, applicant=applicant_of(request))
            return HttpResponseRedirect(reverse("journeys:application_detail", args=[application.id]))
        error = _("Select yes if you want to withdraw this application")
    return page(
        request,
        "journeys/confirm_action.html",
        title=_("Are you sure you want to withdraw this application?"),
        application=application,
        action_url=reverse("journeys:application_withdraw", args=[application.id]),
        hint=_("We will stop working on it. To apply again you will need to start a new application."),
        button=_("Withdraw application"),
        confirm_error=error,
        summary_errors=[{"text": error, "href": "#confirm"}] if error else [],
        back_url=reverse("journeys:application_detail", args=[application.id]),
    )
