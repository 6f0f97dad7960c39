"""The applicant's side of a send-back, and the status changes casework makes on an application.

When casework sends an application back (status ``sent_back``), the applicant
may change the answers and documents the caseworker flagged, and only those
(what was flagged comes from casework through
:func:`govserve.journeys.hooks.send_back_request`), then send it again
(:func:`application_resubmit`): the same checks as the first submission (the
declaration, every page answered and valid, every required upload present
and clean), status ``in_progress`` with its history entry, and the
``application_resubmitted`` hooks, in one transaction (casework returns the
file to the role that sent it back).

:func:`application_status_record` is how casework moves an application's
status (in its own transaction, the row locked): the status and the
applicant's history entry together.

Kept in its own module, beside :mod:`govserve.journeys.services`, so the
send-back support stays apart from the journey's draft services.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import transaction

from govserve.audit.events import register_event
from govserve.audit.services import audit_record
from govserve.core import clock
from govserve.core.errors import ConflictError
from govserve.documents.services import UploadedFileLike
from govserve.journeys import errors, hooks
from govserve.journeys.access import Applicant
from govserve.journeys.answers import answers_write
from govserve.journeys.fields.parse import FormData
from govserve.journeys.models import (
    Answer,
    Application,
    ApplicationEvent,
    ApplicationEventKind,
    ApplicationStatus,
)
from govserve.journeys.registrations import fee_summary, registrations_applied, required_documents
from govserve.journeys.resubmission_records import records_recompute
from govserve.journeys.routing import JourneyState
from govserve.journeys.selectors import documents_of, state_load
from govserve.journeys.services import (
    SUBJECT,
    page_answers_parse,
    slot_document_store,
    submission_problems,
)

register_event(
    "journeys.application.resubmitted",
    description=(
        "The applicant sent a sent-back application again (details: answers; the registrations, fees and "
        "required documents the changed answers recomputed, by id and amount)."
    ),
)
register_event(
    "journeys.application.sent_back_answers_saved",
    description="The applicant changed flagged answers of a sent-back application (field ids only).",
)


class ApplicationNotResubmittableError(errors.JourneyError, ConflictError):
    """The application is not waiting for the applicant's changes."""

    code = "application_not_resubmittable"
    status = 409


def application_status_record(application: Application, *, to_status: str, actor_kind: str) -> None:
    """Set ``application``'s status with its history entry (casework; call inside a transaction, row locked)."""
    previous = application.status
    application.status = to_status
    application.save(update_fields=["status", "updated_at"])
    ApplicationEvent.objects.create(
        application=application,
        kind=ApplicationEventKind.STATUS_CHANGED,
        from_status=previous,
        to_status=to_status,
        actor_kind=actor_kind,
    )


@dataclass(frozen=True)
class SentBack:
    """What the applicant of a sent-back application may change (answer ids, document requirement ids)."""

    fields: frozenset[str]
    documents: frozenset[str]


def _sent_back(application_id: uuid.UUID, applicant: Applicant, *, lock: bool = False) -> tuple[Application, SentBack]:
    query = Application.objects.select_for_update() if lock else Application.objects
    application = query.filter(pk=application_id).first()
    if application is None or not applicant.may_act_on(application):
        raise errors.ApplicationNotFoundError("There is no application with this link")
    if application.status != ApplicationStatus.SENT_BACK:
        raise ApplicationNotResubmittableError("This application is not waiting for your changes")
    request = hooks.send_back_request(application)
    if request is None:
        return application, SentBack(fields=frozenset(), documents=frozenset())
    return application, SentBack(fields=frozenset(request.fields), documents=frozenset(request.documents))


def sent_back_changes(*, application_id: uuid.UUID, applicant: Applicant) -> SentBack:
    """Return what the applicant may change; raise ApplicationNotFoundError, ApplicationNotResubmittableError."""
    return _sent_back(application_id, applicant)[1]


def sent_back_page_of(state: JourneyState, field_id: str) -> str | None:
    """Return the page asking ``field_id`` (on the applicant's path), None if none."""
    for page_id in state.path:
        if field_id in state.visible.get(page_id, []):
            return page_id
    return None


def sent_back_answers_save(
    *, application_id: uuid.UUID, applicant: Applicant, page_id: str, data: FormData, language: str
) -> list[str]:
    """Save the flagged answers posted on ``page_id`` of a sent-back application; return the field ids changed.

    Only flagged fields are written (the page's other answers stay as they
    were sent). The answers are validated as on the journey's page; raise
    AnswersInvalidError (nothing saved), PageNotFoundError (the page has no
    flagged answer), ApplicationNotResubmittableError, ApplicationNotFoundError.
    A file answer is not changed here (caseworkers flag the document, changed
    with :func:`sent_back_document_upload`). Audited as ``journeys.application.sent_back_answers_saved``.
    """
    application, allowed = _sent_back(application_id, applicant)
    state = state_load(application)
    if not state.on_path(page_id):
        raise errors.PageNotFoundError("This page is not part of your application")
    values, shown, found = page_answers_parse(state=state, page_id=page_id, data=data, language=language)
    flagged = [page_field for page_field in shown if page_field.id in allowed.fields]
    if not flagged:
        raise errors.PageNotFoundError("Nothing on this page was asked to be changed")
    found = [error for error in found if error.field_id in allowed.fields]
    if found:
        raise errors.AnswersInvalidError("There is a problem with your answers", errors=found)
    with transaction.atomic():
        application, allowed = _sent_back(application_id, applicant, lock=True)
        changed = answers_write(application, flagged, values)
        audit_record(
            actor=applicant.actor,
            action="journeys.application.sent_back_answers_saved",
            subject_type=SUBJECT,
            subject_id=application.id,
            details={"page": page_id, "fields": changed},
        )
    return changed


def sent_back_document_upload(
    *, application_id: uuid.UUID, applicant: Applicant, requirement_id: str, upload: UploadedFileLike | None
) -> uuid.UUID:
    """Replace (or give) the upload of a flagged document of a sent-back application; return the document id.

    Raise PageNotFoundError (not flagged, or not an upload), the documents
    app's UploadRefusedError, ApplicationNotResubmittableError. Audited by documents.
    """
    application, allowed = _sent_back(application_id, applicant)
    if requirement_id not in allowed.documents:
        raise errors.PageNotFoundError("This document was not asked for again")
    state = state_load(application)
    requirement = next(
        (
            found
            for found in required_documents(state.final_evaluator())
            if found.id == requirement_id and found.delivery == "upload"
        ),
        None,
    )
    if requirement is None:
        raise errors.PageNotFoundError("This document is not uploaded")
    document = slot_document_store(
        application,
        applicant,
        slot=requirement.slot,
        upload=upload,
        allowed_types=requirement.document.types,
        max_size_mb=requirement.document.max_size_mb,
    )
    return document.id


def application_resubmit(
    *, application_id: uuid.UUID, applicant: Applicant, declaration_accepted: bool, language: str
) -> Application:
    """Send a sent-back application again; return it (status ``in_progress``; casework reopens its file).

    The same checks as the first submission; the registrations, fees and
    required documents recorded at the first submission are recomputed from
    the changed answers (:mod:`govserve.journeys.resubmission_records`: a paid
    fee keeps what was paid, the difference is an increase due after the
    decision or an amount to refund). Raise DeclarationRequiredError,
    SubmissionIncompleteError (``problems``), ApplicationNotResubmittableError
    (not sent back: sending twice is refused the same way), ApplicationNotFoundError.
    Audited as ``journeys.application.resubmitted``.
    """
    with transaction.atomic():
        application, _ = _sent_back(application_id, applicant, lock=True)
        if not declaration_accepted:
            raise errors.DeclarationRequiredError("Confirm that the information you have given is correct and complete")
        state = state_load(application)
        problems = submission_problems(application, state, language=language)
        if problems:
            raise errors.SubmissionIncompleteError("Your application is not ready to send", problems=problems)
        effective = state.effective_answers()
        Answer.objects.filter(application=application).exclude(field_id__in=list(effective)).delete()
        evaluator = state.final_evaluator()
        changed = records_recompute(
            application,
            registrations=[registration.id for _, registration in registrations_applied(evaluator)],
            fees=fee_summary(evaluator),
            requirements=required_documents(evaluator),
            uploads=documents_of(application),
        )
        previous = application.status
        application.status = ApplicationStatus.IN_PROGRESS
        application.save(update_fields=["status", "updated_at"])
        ApplicationEvent.objects.create(
            application=application,
            kind=ApplicationEventKind.SUBMITTED,
            occurred_at=clock.now(),
            from_status=previous,
            to_status=application.status,
            actor_kind=applicant.actor_kind,
        )
        audit_record(
            actor=applicant.actor,
            action="journeys.application.resubmitted",
            subject_type=SUBJECT,
            subject_id=application.id,
            details={"answers": len(effective), **changed.as_details()},
        )
        hooks.resubmitted_hooks_run(application)
    return application
