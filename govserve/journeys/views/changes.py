"""The applicant's side of casework: the changes asked for (sent back), sending again, and messages.

Thin views over :mod:`govserve.journeys.resubmission` and the casework hooks
(:func:`govserve.journeys.hooks.applicant_message_send`); each works without
JavaScript (plain forms, POST then redirect).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from govserve.catalogue.definitions.schema import FileField, GroupField
from govserve.core.errors import ApplicationError
from govserve.documents import errors as document_errors
from govserve.journeys import errors, hooks, resubmission, selectors
from govserve.journeys.fields import FieldError
from govserve.journeys.models import Application, ApplicationStatus
from govserve.journeys.routing import JourneyState, visible_fields
from govserve.journeys.views.common import applicant_of, language_of, page
from govserve.journeys.views.journey import _with_application, answer_rows

MESSAGE_FIELD = "message"
UPLOAD_ERROR = gettext_lazy("The file could not be used: upload a PDF, JPG or PNG file that is not too large")


def _detail(application: Application) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("journeys:application_detail", args=[application.id]))


def _flagged_rows(application: Application, state: JourneyState, flagged: frozenset[str], language: str) -> list[Any]:
    rows = []
    for section in answer_rows(application, state, language, links=False):
        for row in section["rows"]:
            if row["field"].id in flagged:
                page_id = section["page"].id
                rows.append({**row, "change_url": reverse("journeys:changes_page", args=[application.id, page_id])})
    return rows


@never_cache
@require_http_methods(["GET", "POST"])
@_with_application
def application_changes(request: HttpRequest, application: Application) -> HttpResponse:
    """Show what the team asked to change, with links to change it; send the application again."""
    if application.status != ApplicationStatus.SENT_BACK:
        return _detail(application)
    applicant = applicant_of(request)
    language = language_of(request)
    found: list[FieldError] = []
    if request.method == "POST":
        try:
            resubmission.application_resubmit(
                application_id=application.id,
                applicant=applicant,
                declaration_accepted=request.POST.get("declaration") == "yes",
                language=language,
            )
        except errors.DeclarationRequiredError as error:
            found = [FieldError(field_id="declaration", code="required", message=error.message, anchor="declaration")]
        except errors.SubmissionIncompleteError as error:
            found = [
                FieldError(field_id=problem.where, code=problem.code, message=problem.message, anchor="changes")
                for problem in error.extra.get("problems", [])
            ] or [FieldError(field_id="changes", code="incomplete", message=error.message, anchor="changes")]
        except resubmission.ApplicationNotResubmittableError:
            return _detail(application)
        else:
            return HttpResponseRedirect(reverse("journeys:application_detail", args=[application.id]) + "?sent=1")
    changes = resubmission.sent_back_changes(application_id=application.id, applicant=applicant)
    state = selectors.state_load(application)
    document_rows = [
        row for row in selectors.document_rows(application, state) if row.requirement.id in changes.documents
    ]
    case = hooks.applicant_case(application, language)
    upload_error = request.GET.get("upload_error", "")[:64]
    staff_messages = [message for message in case.messages if not message.from_applicant]
    return page(
        request,
        "journeys/changes.html",
        title=_("Change your application"),
        service_name=state.definition.title.get(language),
        application=application,
        rows=_flagged_rows(application, state, changes.fields, language),
        document_rows=document_rows,
        fee_changes=selectors.fee_changes_of(application, state, language),
        team_message=staff_messages[-1] if staff_messages else None,
        upload_error=UPLOAD_ERROR if upload_error else "",
        upload_error_for=request.GET.get("document", "")[:64],
        back_url=reverse("journeys:application_detail", args=[application.id]),
        field_errors=found,
    )


@never_cache
@require_http_methods(["GET", "POST"])
@_with_application
def changes_page(request: HttpRequest, application: Application, page_id: str) -> HttpResponse:
    """Change the flagged answers of one page of a sent-back application."""
    if application.status != ApplicationStatus.SENT_BACK:
        return _detail(application)
    applicant = applicant_of(request)
    language = language_of(request)
    changes = resubmission.sent_back_changes(application_id=application.id, applicant=applicant)
    state = selectors.state_load(application)
    number = next((index for index, page_ in enumerate(state.definition.pages) if page_.id == page_id), None)
    if number is None or not state.on_path(page_id):
        return HttpResponseRedirect(reverse("journeys:application_changes", args=[application.id]))
    shown = visible_fields(state.page_evaluator(page_id), state.definition, number, for_display=True)
    fields = [field for field in shown if field.id in changes.fields and not isinstance(field, GroupField | FileField)]
    if not fields:
        return HttpResponseRedirect(reverse("journeys:application_changes", args=[application.id]))
    found: list[FieldError] = []
    raw: Any = None
    if request.method == "POST":
        try:
            resubmission.sent_back_answers_save(
                application_id=application.id,
                applicant=applicant,
                page_id=page_id,
                data=dict(request.POST.lists()),
                language=language,
            )
        except errors.AnswersInvalidError as error:
            found, raw = list(error.extra.get("errors", [])), request.POST
        except (errors.PageNotFoundError, resubmission.ApplicationNotResubmittableError):
            return HttpResponseRedirect(reverse("journeys:application_changes", args=[application.id]))
        else:
            return HttpResponseRedirect(reverse("journeys:application_changes", args=[application.id]))
    definition_page = state.definition.pages[number]
    return page(
        request,
        "journeys/changes_page.html",
        title=definition_page.title.get(language),
        service_name=state.definition.title.get(language),
        application=application,
        fields=fields,
        values={field.id: state.answers.get(field.id) for field in fields},
        raw=raw,
        catalogues=state.compiled.catalogues,
        currency=state.definition.currency,
        back_url=reverse("journeys:application_changes", args=[application.id]),
        field_errors=found,
    )


@never_cache
@require_POST
@_with_application
def changes_upload(request: HttpRequest, application: Application, requirement_id: str) -> HttpResponse:
    """Upload a new file for a flagged document of a sent-back application."""
    target = HttpResponseRedirect(reverse("journeys:application_changes", args=[application.id]))
    try:
        resubmission.sent_back_document_upload(
            application_id=application.id,
            applicant=applicant_of(request),
            requirement_id=requirement_id,
            upload=request.FILES.get(f"file-{requirement_id}"),
        )
    except document_errors.UploadRefusedError as refused:
        return HttpResponseRedirect(
            reverse("journeys:application_changes", args=[application.id])
            + f"?upload_error={refused.code}&document={requirement_id}#documents"
        )
    except (errors.PageNotFoundError, resubmission.ApplicationNotResubmittableError):
        return target
    return target


@never_cache
@require_POST
@_with_application
def application_message(request: HttpRequest, application: Application) -> HttpResponse:
    """Send the applicant's message to the team working on the application."""
    body = request.POST.get(MESSAGE_FIELD, "")
    try:
        hooks.applicant_message_send(application, applicant_of(request).actor, body)
    except ApplicationError as error:
        # The team's rules refused it (empty, too long, closed, not yet allowed): say so on the page.
        return HttpResponseRedirect(
            reverse("journeys:application_detail", args=[application.id]) + f"?message_error={error.code}#messages"
        )
    return HttpResponseRedirect(
        reverse("journeys:application_detail", args=[application.id]) + "?message=sent#messages"
    )
