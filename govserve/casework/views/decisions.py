"""The decision form: the role's allowed decisions, a reason, its processing fields, flags for send-back.

Processing fields are the definition's fields rendered with the journey field
components (``journeys/fields.html``) and validated by the decision service;
approval is refused while a required processing field is empty. A stale form
(someone else decided, claimed, or the task changed) is a clear 409 page.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from govserve.accounts.decorators import staff_required
from govserve.casework import errors, selectors, services
from govserve.casework.views import common, files

DECISION_TEXT = {
    "approve": gettext_noop("Approve"),
    "reject": gettext_noop("Reject"),
    "send_back": gettext_noop("Send back to the applicant for changes"),
}
DECISION_DONE = {
    "approve": gettext_noop("You approved %(reference)s."),
    "reject": gettext_noop("You rejected %(reference)s."),
    "send_back": gettext_noop("You sent %(reference)s back to the applicant."),
}
# What the service's errors are about: the field of the form they belong to.
ERROR_ANCHORS = {
    "decision_not_allowed": "decision",
    "reason_required": "reason",
    "flags_invalid": "flagged_fields",
}


def _form_values(request: HttpRequest) -> dict[str, Any]:
    return {
        "decision": request.POST.get("decision", ""),
        "reason": request.POST.get("reason", "").strip(),
        "message": request.POST.get("message", "").strip(),
        "flagged_fields": request.POST.getlist("flagged_fields"),
        "flagged_documents": request.POST.getlist("flagged_documents"),
    }


@never_cache
@require_http_methods(["GET", "POST"])
@staff_required
def decision(request: HttpRequest, task_id: uuid.UUID) -> HttpResponse:
    """Show the decision form of an open task (GET) and record the decision (POST)."""
    user = common.staff_user(request)
    language = common.language_of(request)
    try:
        task = selectors.task_for_staff(user=user, task_id=task_id)
    except errors.TaskNotFoundError as error:
        raise Http404(error.message) from error
    file_id = task.case_file_id
    view = files.file_view_for(request, file_id)
    back = reverse("casework:file", args=[file_id])
    if view.open_task is None or view.open_task.id != task.id:
        return common.problem_page(
            request,
            errors.TaskClosedError(_("A decision has already been made on this task.")),
            back_href=back,
            back_text=_("Back to the application"),
        )
    # Someone who may not decide now (a colleague's claimed task, a team leader's included) is told why before
    # filling the form in; the file page is where they read the application.
    refusal = selectors.decision_refusal(user=user, view=view)
    if refusal is not None:
        return common.problem_page(request, refusal, back_href=back, back_text=_("Back to the application"))
    summary: list[dict[str, str]] = []
    field_found: list[Any] = []
    values: dict[str, Any] = {
        "decision": "",
        "reason": "",
        "message": "",
        "flagged_fields": [],
        "flagged_documents": [],
    }
    raw = None
    if request.method == "POST":
        values = _form_values(request)
        raw = request.POST
        if not values["decision"]:
            summary.append({"text": _("Select a decision"), "href": "#decision"})
        else:
            try:
                version = int(request.POST.get("version", ""))
            except ValueError:
                version = None
            try:
                services.decision_record(
                    user=user,
                    task_id=task.id,
                    decision=values["decision"],
                    reason=values["reason"],
                    data=request.POST,
                    flagged_fields=values["flagged_fields"],
                    flagged_documents=values["flagged_documents"],
                    message=values["message"],
                    version=version,
                    language=language,
                )
            except errors.ProcessingFieldsInvalidError as error:
                field_found = list(error.extra.get("errors", []))
                if not field_found:
                    summary.append({"text": error.message, "href": "#processing"})
            except (errors.DecisionNotAllowedError, errors.ReasonRequiredError, errors.FlagsInvalidError) as error:
                summary.append({"text": error.message, "href": f"#{ERROR_ANCHORS.get(error.code, 'decision')}"})
            except (
                errors.TaskAlreadyClaimedError,
                errors.TaskClosedError,
                errors.TaskChangedError,
                errors.NotAssigneeError,
                errors.FileNotOpenError,
                errors.ClaimingDisabledError,
            ) as error:
                return common.problem_page(request, error, back_href=back, back_text=_("Back to the application"))
            else:
                text = DECISION_DONE.get(
                    values["decision"], gettext_noop("Your decision on %(reference)s is recorded.")
                )
                common.notice_success(request, _(text) % {"reference": task.reference})
                return HttpResponseRedirect(reverse("casework:my_tasks"))
    page = files.file_page_for(request, file_id, view=view)
    summary = [{"text": error.message, "href": f"#{error.anchor}"} for error in field_found] + summary
    field_errors = {item["href"].lstrip("#"): item["text"] for item in summary}
    return common.staff_page(
        request,
        "casework/decision.html",
        title=_("Decide on application %(reference)s") % {"reference": task.reference},
        summary=summary,
        field_errors=field_errors,
        file=page,
        task_version=view.open_task.version,
        decision_items=[
            {"value": kind, "text": _(DECISION_TEXT.get(kind, kind)), "checked": values["decision"] == kind}
            for kind in view.decisions
        ],
        processing_fields=list(view.processing_fields or []),
        processing_values=dict(getattr(view, "processing_values", None) or {}),
        processing_errors=field_found,
        raw=raw,
        values=values,
        flaggable_answers=list(page.answers),
        flaggable_documents=list(page.documents),
        back_link=reverse("casework:file", args=[file_id]),
    )
