"""A sent-back application through the API: what the team flagged, the corrections, and sending it again.

The web's changes pages (``govserve.journeys.views.changes``) through the same
services, :mod:`govserve.journeys.resubmission`: what may change is what
casework flagged (``sent_back_changes``); flagged answers are saved page by
page by ``sent_back_answers_save`` (the journey page's parsing, validation and
messages); a flagged document by ``sent_back_document_upload`` (the
documents app's checks); ``application_resubmit`` sends it again with the
first submission's checks, and casework returns the file to the role that
sent it back.

Unlike a browser form, which only shows the flagged questions, a JSON body
can name any field: an answer to a field that was not flagged is refused
(422 ``field_not_flagged``, one entry per field) and nothing is saved, and so
is a document that was not asked for again (422 ``document_not_flagged``).

The routes join the applications router (imported at the end of
:mod:`govserve.api.v1.applications`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from ninja import Schema
from pydantic import Field

from govserve.api import errors, submission
from govserve.api.v1.answers import answer_json, page_form_data
from govserve.api.v1.applications import (
    AUTH_PROBLEMS,
    DOCUMENT_BODY,
    READ,
    READ_PROBLEMS,
    WRITE,
    application_out,
    owned,
    router,
)
from govserve.api.v1.auth import Principal, principal_of
from govserve.api.v1.http import json_response
from govserve.api.v1.schemas import AnswersIn, ApplicationOut, Problem, SubmitIn
from govserve.core.errors import ValidationError
from govserve.journeys import errors as journey_errors
from govserve.journeys import hooks as journey_hooks
from govserve.journeys import resubmission
from govserve.journeys import selectors as journeys
from govserve.journeys.fields import FieldError
from govserve.journeys.models import Application

WRITE_PROBLEMS: dict[int, Any] = {**AUTH_PROBLEMS, 400: Problem, 404: Problem, 409: Problem, 422: Problem}


class FieldNotFlaggedError(errors.ApiError, ValidationError):
    """An answer to a field the team did not flag (only flagged answers may change after a send-back)."""

    code = "field_not_flagged"
    status = 422


class DocumentNotFlaggedError(errors.ApiError, ValidationError):
    """A document the team did not ask for again."""

    code = "document_not_flagged"
    status = 422


class FlaggedFieldOut(Schema):
    field: str
    page: str | None = Field(description="The page asking it (null if the answers no longer lead to it).")
    label: str
    answer: Any = Field(description="The answer as sent, in the answers schema's JSON form.")


class FlaggedDocumentOut(Schema):
    document: str
    name: str
    delivery: str
    uploaded: bool


class CorrectionsOut(Schema):
    application: ApplicationOut
    message: str | None = Field(description="The team's latest message to the applicant (what to change and why).")
    message_sent_at: dt.datetime | None
    fields: list[FlaggedFieldOut]
    documents: list[FlaggedDocumentOut]


class CorrectionsSaveOut(Schema):
    corrections: CorrectionsOut
    changed: list[str]


def _corrections_out(principal: Principal, application: Application) -> CorrectionsOut:
    changes = resubmission.sent_back_changes(
        application_id=application.id, applicant=principal.applicant(application.id)
    )
    state = journeys.state_load(application)
    language = application.language
    fields = {page_field.id: page_field for page in state.definition.pages for page_field in page.fields}
    case = journey_hooks.applicant_case(application, language)
    staff = [message for message in case.messages if not message.from_applicant]
    return CorrectionsOut(
        application=application_out(application, state),
        message=staff[-1].body if staff else None,
        message_sent_at=staff[-1].sent_at if staff else None,
        fields=[
            FlaggedFieldOut(
                field=field_id,
                page=resubmission.sent_back_page_of(state, field_id),
                label=fields[field_id].label.get(language),
                answer=answer_json(fields[field_id], state.answers.get(field_id)),
            )
            for field_id in fields
            if field_id in changes.fields
        ],
        documents=[
            FlaggedDocumentOut(
                document=row.requirement.id,
                name=row.requirement.document.name.get(language),
                delivery=row.requirement.delivery,
                uploaded=row.upload is not None,
            )
            for row in journeys.document_rows(application, state)
            if row.requirement.id in changes.documents
        ],
    )


@router.get(
    "/applications/{application_id}/corrections",
    auth=READ,
    response={200: CorrectionsOut, **READ_PROBLEMS, 409: Problem},
    url_name="application_corrections",
    summary="What the team asked to change on a sent-back application",
)
def application_corrections(request: HttpRequest, application_id: uuid.UUID) -> HttpResponse:
    """Return the flagged answers (with their current answers), the flagged documents and the team's message.

    409 ``application_not_resubmittable`` unless the application is sent back.
    """
    principal = principal_of(request)
    return json_response(request, _corrections_out(principal, owned(principal, application_id)))


@router.patch(
    "/applications/{application_id}/corrections/answers",
    auth=WRITE,
    response={200: CorrectionsSaveOut, **WRITE_PROBLEMS},
    url_name="application_corrections_save",
    summary="Change the flagged answers of a sent-back application",
)
def application_corrections_save(request: HttpRequest, application_id: uuid.UUID, payload: AnswersIn) -> HttpResponse:
    """Save the corrected answers (by field id), each page as the web's changes page saves it.

    All or nothing: an answer to a field that was not flagged (422
    ``field_not_flagged``), to no field of the service (422
    ``answers_unknown``), or any answer the journey refuses (422
    ``answers_invalid``, every page's errors) saves nothing.
    """
    principal = principal_of(request)
    application = owned(principal, application_id)
    applicant = principal.applicant(application.id)
    changes = resubmission.sent_back_changes(application_id=application.id, applicant=applicant)
    state = journeys.state_load(application)
    known = {page_field.id for page in state.definition.pages for page_field in page.fields}
    submission.answers_unknown_check(payload.answers, known, "this service")
    unflagged = [field_id for field_id in payload.answers if field_id not in changes.fields]
    if unflagged:
        raise FieldNotFlaggedError(
            "Only the answers the team asked you to change can be changed",
            errors=[
                FieldError(field_id, "field_not_flagged", f"{field_id} was not asked to be changed", field_id)
                for field_id in unflagged
            ],
        )
    by_page: dict[str, dict[str, Any]] = defaultdict(dict)
    for field_id, value in payload.answers.items():
        page_id = resubmission.sent_back_page_of(state, field_id)
        if page_id is None:
            raise journey_errors.PageNotFoundError(f"{field_id} is not asked by your answers any more")
        by_page[page_id][field_id] = value
    found: list[FieldError] = []
    changed: list[str] = []
    with transaction.atomic():
        for page_id, answers in by_page.items():
            data, problems = page_form_data(
                submission.page_of(state, page_id), answers, compiled=state.compiled, language=application.language
            )
            if problems:
                found.extend(problems)
                continue
            try:
                changed.extend(
                    resubmission.sent_back_answers_save(
                        application_id=application.id,
                        applicant=applicant,
                        page_id=page_id,
                        data=data,
                        language=application.language,
                    )
                )
            except journey_errors.AnswersInvalidError as refused:
                found.extend(refused.extra.get("errors") or [])
        if found:
            # Raised inside the transaction: the pages saved before are rolled back with it.
            raise journey_errors.AnswersInvalidError("There is a problem with your answers", errors=found)
    application.refresh_from_db()
    return json_response(
        request, CorrectionsSaveOut(corrections=_corrections_out(principal, application), changed=changed)
    )


@router.post(
    "/applications/{application_id}/corrections/documents/{document_id}",
    auth=WRITE,
    response={200: CorrectionsOut, **WRITE_PROBLEMS},
    url_name="application_corrections_document",
    summary="Upload a flagged document again (multipart, part file)",
    openapi_extra=DOCUMENT_BODY,
)
def application_corrections_document(request: HttpRequest, application_id: uuid.UUID, document_id: str) -> HttpResponse:
    """Replace the file of a document the team asked for again (the documents app's checks; 422 with its code).

    422 ``document_not_flagged`` for a document not asked for again.
    """
    principal = principal_of(request)
    application = owned(principal, application_id)
    applicant = principal.applicant(application.id)
    changes = resubmission.sent_back_changes(application_id=application.id, applicant=applicant)
    if document_id not in changes.documents:
        raise DocumentNotFlaggedError("This document was not asked for again")
    upload = request.FILES.get("file")
    if not isinstance(upload, UploadedFile):
        raise errors.DocumentFileMissingError("Send the document as the multipart part named file")
    resubmission.sent_back_document_upload(
        application_id=application.id, applicant=applicant, requirement_id=document_id, upload=upload
    )
    return json_response(request, _corrections_out(principal, application))


@router.post(
    "/applications/{application_id}/resubmit",
    auth=WRITE,
    response={200: ApplicationOut, **WRITE_PROBLEMS},
    url_name="application_resubmit",
    summary="Send a sent-back application again",
)
def application_resubmit(request: HttpRequest, application_id: uuid.UUID, payload: SubmitIn) -> HttpResponse:
    """Send it again with the first submission's checks (``declaration_required``, ``submission_incomplete``).

    409 ``application_not_resubmittable`` when it is not waiting for changes
    (so a second call changes nothing). The file returns to the role that
    sent it back.
    """
    principal = principal_of(request)
    application = owned(principal, application_id)
    resent = resubmission.application_resubmit(
        application_id=application.id,
        applicant=principal.applicant(application.id),
        declaration_accepted=payload.declaration,
        language=application.language,
    )
    return json_response(request, application_out(resent))
