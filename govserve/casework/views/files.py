"""The application file: the page, its printable version, messages, internal notes, counter work, corrections.

Every read goes through :func:`govserve.casework.selectors.file_view`, which
checks the person may see the file (else the 404 page, the same as for an id
that does not exist) and writes the access audit entry.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from govserve.accounts.decorators import require_recent_authentication, staff_required
from govserve.accounts.views import SENSITIVE_ACTION_MAX_AGE
from govserve.casework import errors, selectors, services
from govserve.casework.forms import text_read
from govserve.casework.views import common, presenters, results_bridge
from govserve.catalogue.definitions.schema import AnyField
from govserve.catalogue.selectors import published_version_load
from govserve.journeys.answers import page_fields_by_id


def file_view_for(
    request: HttpRequest, file_id: uuid.UUID, *, purpose: str = "view", fees: bool = False
) -> selectors.FileView:
    """Return the selector's view of the file for the signed-in person; the 404 page if they may not see it.

    ``fees``: someone who works on none of its tasks but handles its fees (finance staff, administrators of the
    service's owner) gets its fees and payments part (``fees_only``).
    """
    user = common.staff_user(request)
    language = common.language_of(request)
    try:
        return selectors.file_view(user=user, file_id=file_id, language=language, purpose=purpose)
    except errors.CaseFileNotFoundError as error:
        if not fees:
            raise Http404(error.message) from error
    try:
        return selectors.file_fees_view(user=user, file_id=file_id, language=language, purpose=purpose)
    except errors.CaseFileNotFoundError as error:
        raise Http404(error.message) from error


def _colleagues(request: HttpRequest, view: selectors.FileView, *, leads: bool) -> list[selectors.Assignee]:
    """Return who the open task may be given to, when the person may assign it at all (else no look-up)."""
    task = view.open_task
    if task is None or task.kind != "human":
        return []
    user = common.staff_user(request)
    holder_may_assign = view.claiming and view.may_act and (task.status == "pending" or task.assignee_id == user.pk)
    if not (leads or holder_may_assign):
        return []
    return selectors.open_task_assignees(view)


def file_page_for(
    request: HttpRequest,
    file_id: uuid.UUID,
    *,
    purpose: str = "view",
    view: selectors.FileView | None = None,
    fees: bool = False,
) -> presenters.FilePage:
    """Return the file page of ``file_id`` for the signed-in person (404 if they may not see it).

    ``view``: the selector's view already read in this request (one read, one access audit entry).
    ``fees``: finance staff get the fees part (:func:`file_view_for`).
    """
    if view is None:
        view = file_view_for(request, file_id, purpose=purpose, fees=fees)
    user = common.staff_user(request)
    language = common.language_of(request)
    if view.fees_only:
        return presenters.file_page(view, user=user, language=language)
    leads = view.open_task is not None and view.open_task.institution.code in selectors.team_leader_institutions(user)
    # Results are issued on final approval only: no look-up for a file still being worked on.
    approved = view.case_file.outcome == "approved"
    return presenters.file_page(
        view,
        user=user,
        language=language,
        colleagues=_colleagues(request, view, leads=leads),
        results=results_bridge.results_for_file(user=user, file_id=view.case_file.id, language=language)
        if approved
        else [],
        leads=leads,
    )


def _render_file(
    request: HttpRequest,
    file_id: uuid.UUID,
    *,
    field_errors: dict[str, str] | None = None,
    form_values: dict[str, str] | None = None,
    fees: bool = False,
) -> HttpResponse:
    page = file_page_for(request, file_id, fees=fees)
    return common.staff_page(
        request,
        "casework/file_fees.html" if page.fees_only else "casework/file.html",
        title=_("Application %(reference)s") % {"reference": page.reference},
        field_errors=field_errors,
        form_values=form_values or {},
        file=page,
    )


@never_cache
@require_http_methods(["GET"])
@staff_required
def file_detail(request: HttpRequest, file_id: uuid.UUID) -> HttpResponse:
    """The file as the person's role sees it, with the task box and the forms for messages and notes."""
    return _render_file(request, file_id, fees=True)


@never_cache
@require_http_methods(["GET"])
@staff_required
def file_print(request: HttpRequest, file_id: uuid.UUID) -> HttpResponse:
    """A printable version of the file: the same parts, no forms or actions (audited as a print)."""
    page = file_page_for(request, file_id, purpose="print", fees=True)
    return common.staff_page(
        request,
        "casework/file_print.html",
        title=_("Application %(reference)s") % {"reference": page.reference},
        file=page,
        back_link=reverse("casework:file", args=[file_id]),
    )


@require_POST
@staff_required
def message_send(request: HttpRequest, file_id: uuid.UUID) -> HttpResponse:
    """Send a message to the applicant (shown on their application and emailed to them)."""
    body, problem = text_read(request.POST, "message", empty_message=_("Enter a message to the applicant"))
    if not problem:
        try:
            services.message_send_staff(user=common.staff_user(request), file_id=file_id, body=body)
        except errors.CaseFileNotFoundError as error:
            raise Http404(error.message) from error
        except (errors.MessageInvalidError, errors.MessageNotAllowedError, errors.FileNotOpenError) as error:
            problem = error.message
        else:
            common.notice_success(request, _("Your message has been sent to the applicant."))
            return HttpResponseRedirect(reverse("casework:file", args=[file_id]) + "#messages-heading")
    return _render_file(request, file_id, field_errors={"message": problem}, form_values={"message": body})


@require_POST
@staff_required
def note_add(request: HttpRequest, file_id: uuid.UUID) -> HttpResponse:
    """Add an internal note (never shown to the applicant)."""
    body, problem = text_read(request.POST, "note", empty_message=_("Enter the note"))
    if not problem:
        try:
            services.note_add(user=common.staff_user(request), file_id=file_id, body=body)
        except errors.CaseFileNotFoundError as error:
            raise Http404(error.message) from error
        except (errors.NoteInvalidError, errors.FileNotOpenError) as error:
            problem = error.message
        else:
            common.notice_success(request, _("Your note has been added."))
            return HttpResponseRedirect(reverse("casework:file", args=[file_id]) + "#notes-heading")
    return _render_file(request, file_id, field_errors={"note": problem}, form_values={"note": body})


@never_cache
@require_http_methods(["GET", "POST"])
@staff_required
def counter(request: HttpRequest, file_id: uuid.UUID) -> HttpResponse:
    """Record documents presented in person and signatures made in front of an operator."""
    page = file_page_for(request, file_id)
    due = [document for document in page.documents if document.needs_counter]
    field_errors: dict[str, str] = {}
    values = {"requirement": "", "note": ""}
    if request.method == "POST":
        values = {"requirement": request.POST.get("requirement", ""), "note": request.POST.get("note", "").strip()}
        if values["requirement"] not in {document.requirement_id for document in due if not document.counter_done}:
            field_errors["requirement"] = _("Select the document presented or signed")
        else:
            try:
                services.counter_record(
                    user=common.staff_user(request),
                    file_id=file_id,
                    requirement_id=values["requirement"],
                    note=values["note"],
                )
            except errors.CaseFileNotFoundError as error:
                raise Http404(error.message) from error
            except (errors.CounterRecordInvalidError, errors.FileNotOpenError) as error:
                field_errors["requirement"] = error.message
            else:
                common.notice_success(request, _("The counter record has been saved."))
                return HttpResponseRedirect(reverse("casework:file", args=[file_id]) + "#counter-heading")
    return common.staff_page(
        request,
        "casework/counter.html",
        title=_("Record counter work"),
        field_errors=field_errors,
        form_values=values,
        file=page,
        due_documents=due,
        back_link=reverse("casework:file", args=[file_id]),
    )


@never_cache
@require_http_methods(["GET", "POST"])
@staff_required
def correction(request: HttpRequest, file_id: uuid.UUID, field_id: str) -> HttpResponse:
    """Correct one answer where the role may (shown original → corrected to staff and the applicant)."""
    view = file_view_for(request, file_id)
    language = common.language_of(request)
    if field_id not in (view.corrects or []) or not view.may_act:
        raise Http404("There is no answer to correct at this address")
    definition_field = _definition_field(view, field_id)
    answer = next((row for row in view.answers if row.field_id == field_id), None)
    found: list[Any] = []
    summary: list[dict[str, str]] = []
    reason = ""
    if request.method == "POST":
        reason, problem = text_read(request.POST, "reason", empty_message=_("Enter why you are correcting this answer"))
        if problem:
            # Nothing is sent to the service without a reason: the correction must say why.
            summary.append({"text": problem, "href": "#reason"})
        else:
            try:
                services.correction_make(
                    user=common.staff_user(request),
                    file_id=file_id,
                    field_id=field_id,
                    data=request.POST,
                    reason=reason,
                    language=language,
                )
            except errors.CorrectionInvalidError as error:
                found = list(error.extra.get("errors", []))
                if not found:
                    summary.append({"text": error.message, "href": f"#{field_id}"})
            except errors.ReasonRequiredError as error:
                summary.append({"text": error.message, "href": "#reason"})
            except (errors.CorrectionNotPermittedError, errors.FileNotOpenError, errors.NotAssigneeError) as error:
                return common.problem_page(
                    request,
                    error,
                    back_href=reverse("casework:file", args=[file_id]),
                    back_text=_("Back to the application"),
                )
            except errors.CaseFileNotFoundError as error:
                raise Http404(error.message) from error
            else:
                common.notice_success(request, _("The answer has been corrected."))
                return HttpResponseRedirect(reverse("casework:file", args=[file_id]) + "#answers-heading")
    summary = [{"text": error.message, "href": f"#{error.anchor}"} for error in found] + summary
    return common.staff_page(
        request,
        "casework/correction.html",
        title=_("Correct an answer"),
        summary=summary,
        field_errors={item["href"].lstrip("#"): item["text"] for item in summary},
        definition_field=definition_field,
        current_text=answer.value if answer else "",
        raw=request.POST if request.method == "POST" else None,
        found=found,
        reason=reason,
        reference=view.case_file.reference,
        back_link=reverse("casework:file", args=[file_id]),
    )


def _definition_field(view: selectors.FileView, field_id: str) -> AnyField:
    compiled = published_version_load(view.case_file.service_id, view.case_file.version_number)
    definition_field = page_fields_by_id(compiled.definition).get(field_id)
    if definition_field is None:
        raise Http404("There is no answer to correct at this address")
    return definition_field


@never_cache
@require_http_methods(["GET", "POST"])
@require_recent_authentication(SENSITIVE_ACTION_MAX_AGE)
def result_revoke(request: HttpRequest, file_id: uuid.UUID, result_id: uuid.UUID) -> HttpResponse:
    """Revoke an issued result, with the reason the public verification page gives (re-authenticated first)."""
    user = common.staff_user(request)
    language = common.language_of(request)
    page = file_page_for(request, file_id)
    row = results_bridge.result_for_file(user=user, file_id=file_id, result_id=result_id, language=language)
    if row is None:
        raise Http404("There is no result at this address")
    result = presenters.result_line(row, file_id=file_id, language=language)
    back = reverse("casework:file", args=[file_id])
    if not result.revoke_url:
        return common.problem_page(
            request,
            results_bridge.result_errors.ResultAlreadyRevokedError(_("This result was revoked already")),
            back_href=back,
            back_text=_("Back to the application"),
        )
    field_errors: dict[str, str] = {}
    reason = ""
    if request.method == "POST":
        reason = request.POST.get("reason", "").strip()
        try:
            results_bridge.result_revoke(user=user, result_id=result_id, reason=reason)
        except results_bridge.result_errors.RevocationReasonError as error:
            field_errors["reason"] = error.message
        except results_bridge.result_errors.ResultAlreadyRevokedError as error:
            return common.problem_page(request, error, back_href=back, back_text=_("Back to the application"))
        except results_bridge.result_errors.ResultNotFoundError as error:
            raise Http404(error.message) from error
        else:
            common.notice_success(
                request, _("%(name)s %(number)s is revoked.") % {"name": result.name, "number": result.number}
            )
            return HttpResponseRedirect(back + "#results-heading")
    return common.staff_page(
        request,
        "casework/result_revoke.html",
        title=_("Revoke %(name)s %(number)s") % {"name": result.name, "number": result.number},
        field_errors=field_errors,
        form_values={"reason": reason},
        file=page,
        result=result,
        back_link=back,
    )
