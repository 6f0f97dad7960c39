"""Applications through the API: start a draft, answer pages, read fees and documents, submit, follow.

Every operation is thin: it checks that the calling client made the
application (anything else is ``application_not_found``, as for an id that
does not exist), then calls the journey's own services and selectors with
the client as the applicant, so the API and the web share every rule,
message, audit entry and event. The client is the audit actor
(``api_client:<id>``) and the application's channel is ``api``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from ninja import Router
from ninja.params.functions import Header, Query

from govserve.accounts.models import Citizen
from govserve.api import errors, submission
from govserve.api.selectors import (
    citizen_application_page,
    client_application_page,
    client_owns,
    submission_key_get,
)
from govserve.api.services import client_application_record, submission_key_record
from govserve.api.v1.answers import answer_json
from govserve.api.v1.auth import ClientToken, Principal, principal_of
from govserve.api.v1.http import cursor_decode, cursor_encode, json_response
from govserve.api.v1.schemas import (
    AnswersIn,
    AnswersOut,
    ApplicationCreate,
    ApplicationOut,
    ApplicationPage,
    DocumentOut,
    FeeOut,
    HistoryEntry,
    HistoryOut,
    MessageIn,
    MessageOut,
    MessagesOut,
    Problem,
    RequirementsOut,
    SaveOut,
    SubmitIn,
)
from govserve.catalogue.definitions.schema import FileField
from govserve.journeys import errors as journey_errors
from govserve.journeys import hooks as journey_hooks
from govserve.journeys import selectors as journeys
from govserve.journeys import services as journey_services
from govserve.journeys.models import Application, Channel
from govserve.journeys.routing import JourneyState

router = Router(tags=["applications"])
READ = ClientToken("applications:read")
WRITE = ClientToken("applications:write")
AUTH_PROBLEMS: dict[int, Any] = {401: Problem, 403: Problem, 429: Problem}
READ_PROBLEMS: dict[int, Any] = {**AUTH_PROBLEMS, 304: None, 404: Problem, 422: Problem}
PAGE_SIZE_MAX = 100
CURSOR_INVALID = "The cursor is not valid: use the next_cursor of the previous page"


def owned(principal: Principal, application_id: uuid.UUID) -> Application:
    """Return the application if the calling client made it (a citizen's token: any of theirs); else not found."""
    if principal.client.citizen_id is None and not client_owns(principal.client, application_id):
        raise journey_errors.ApplicationNotFoundError("There is no application at this address")
    return journeys.application_for_applicant(
        applicant=principal.applicant(application_id), application_id=application_id
    )


def application_out(application: Application, state: JourneyState | None = None) -> ApplicationOut:
    state = state or journeys.state_load(application)
    return ApplicationOut(
        id=application.id,
        reference=application.reference,
        service_id=application.service_id,
        version=application.version_number,
        status=application.status,
        language=application.language,
        channel=application.channel,
        created_at=application.created_at,
        updated_at=application.updated_at,
        submitted_at=application.submitted_at,
        expires_at=application.expires_at,
        pages_completed=list(application.pages_completed),
        path=list(state.path),
        next_page=state.first_unanswered,
        complete=state.complete,
    )


@router.post(
    "/applications",
    auth=WRITE,
    response={201: ApplicationOut, **AUTH_PROBLEMS, 400: Problem, 404: Problem, 409: Problem, 422: Problem},
    url_name="application_create",
    summary="Start a draft application",
)
def application_create(
    request: HttpRequest,
    payload: ApplicationCreate,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
) -> HttpResponse:
    """Start a draft on the service's latest published version (the web's application_start, channel ``api``).

    Services that need a signed-in citizen are refused (401 ``sign_in_required``)
    except with a citizen's own token (``/sign-in/token``), which starts the
    draft as that citizen. ``contact_email`` is required for anonymous
    services: the applicant is emailed the link to continue on the web.

    With ``answers`` the draft's pages are saved as ``PATCH …/answers`` saves
    them; with ``submit`` (and ``declaration``, and an ``Idempotency-Key``
    header) it is also sent, as ``POST …/submit`` sends it: what a partner
    system with every answer does in one call. Such a call is all or nothing:
    on any error (422 with the answers' errors, or the submission's
    problems) nothing is created. An anonymous applicant then gets one
    email, the confirmation, carrying the link to follow the application.
    The same key and body again return the same application; the key with
    another body is refused (409 ``idempotency_key_reused``).
    """
    principal = principal_of(request)
    digest = ""
    if payload.submit:
        if not idempotency_key or not journey_services.SUBMIT_KEY.match(idempotency_key):
            raise errors.IdempotencyKeyMissingError(
                "Send an Idempotency-Key header: 8 to 100 letters, digits, hyphens or underscores"
            )
        digest = _create_digest(payload)
        existing = submission_key_get(principal.client, idempotency_key)
        if existing is not None:
            return _created_again(request, principal, existing.application_id, existing.request_digest, digest)
    try:
        with transaction.atomic():  # all or nothing: an error rolls back the draft too
            application, state = _create_filled(principal, payload, idempotency_key, digest)
    except _KeyTakenError as taken:
        # A concurrent call with the same key sent its application first: this one's is rolled back.
        return _created_again(request, principal, taken.application_id, taken.request_digest, digest)
    return json_response(request, application_out(application, state), status=201)


class _KeyTakenError(Exception):
    """The Idempotency-Key was recorded by another call first (the one that counts)."""

    def __init__(self, application_id: uuid.UUID, request_digest: str) -> None:
        super().__init__("Idempotency-Key taken")
        self.application_id = application_id
        self.request_digest = request_digest


def _create_digest(payload: ApplicationCreate) -> str:
    canonical = json.dumps({"create": payload.model_dump()}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _created_again(
    request: HttpRequest, principal: Principal, application_id: uuid.UUID, recorded: str, digest: str
) -> HttpResponse:
    """Answer a repeated one-call submission: the same application, or 409 for the key used with another body."""
    if recorded != digest:
        raise errors.IdempotencyKeyReusedError("This Idempotency-Key was used for a different request")
    return json_response(request, application_out(owned(principal, application_id)), status=201)


def _create_filled(
    principal: Principal, payload: ApplicationCreate, idempotency_key: str | None, digest: str
) -> tuple[Application, JourneyState]:
    """Start the draft, save its answers (if any) and (``submit``) send it; return it and its state."""
    started = journey_services.application_start(
        service_id=payload.service_id,
        applicant=principal.applicant(),
        language=payload.language,
        channel=Channel.API,
        contact_email=payload.contact_email,
        link_email=not payload.submit,
        savepoint=False,  # the call's own transaction (application_create) rolls back with any error
    )
    application = started.application
    client_application_record(client=principal.client, application_id=application.id)
    state = journeys.state_from_rows(application, {})  # a draft just created has no answers to read
    applicant = principal.applicant(application.id)
    if payload.answers:
        known = {page_field.id for page in state.definition.pages for page_field in page.fields}
        submission.answers_unknown_check(payload.answers, known, "this service")
        walked = submission.answers_walk_save(applicant, application, state, payload.answers, created=started.created)
        application, state = walked.application, walked.state
    if not payload.submit:
        return application, state
    assert idempotency_key is not None  # noqa: S101 - checked by the caller before any write
    result = journey_services.application_submit(
        application_id=application.id,
        applicant=applicant,
        idempotency_key=idempotency_key,
        declaration_accepted=payload.declaration,
        language=application.language,
        access_token=started.access_token,
        loaded=application,
        walked=state,
        created=started.created,
    )
    record = submission_key_record(
        client=principal.client, key=idempotency_key, request_digest=digest, application_id=application.id
    )
    if record.application_id != application.id:
        raise _KeyTakenError(record.application_id, record.request_digest)
    return result.application, result.state or state


@router.get(
    "/applications",
    auth=READ,
    response={200: ApplicationPage, **READ_PROBLEMS, 400: Problem},
    url_name="application_list",
    summary="List the client's applications, newest first",
)
def application_list(
    request: HttpRequest, cursor: str | None = Query(None, max_length=500), limit: int = Query(20, ge=1, le=100)
) -> HttpResponse:
    """Return a page of the applications this client made; follow ``next_cursor`` for the next page.

    With a citizen's token: every application of the citizen, made on the web or through the API.
    """
    principal = principal_of(request)
    if principal.client.citizen is not None:
        return _citizen_application_list(request, principal.client.citizen, cursor, limit)
    after = None
    if cursor:
        position = cursor_decode(cursor, keys={"created_at", "id"})
        try:
            after = (dt.datetime.fromisoformat(str(position["created_at"])), int(position["id"]))
        except (TypeError, ValueError):
            raise errors.CursorInvalidError(
                "The cursor is not valid: use the next_cursor of the previous page"
            ) from None
        if after[0].tzinfo is None:
            raise errors.CursorInvalidError("The cursor is not valid: use the next_cursor of the previous page")
    rows = client_application_page(principal.client, after=after, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = (
        cursor_encode({"created_at": rows[-1].created_at.isoformat(), "id": rows[-1].id}) if more and rows else None
    )
    items = [application_out(row.application) for row in rows]
    return json_response(request, ApplicationPage(items=items, next_cursor=next_cursor))


def _citizen_application_list(request: HttpRequest, citizen: Citizen, cursor: str | None, limit: int) -> HttpResponse:
    after = None
    if cursor:
        position = cursor_decode(cursor, keys={"created_at", "id"})
        try:
            after = (dt.datetime.fromisoformat(str(position["created_at"])), uuid.UUID(str(position["id"])))
        except (TypeError, ValueError):
            raise errors.CursorInvalidError(CURSOR_INVALID) from None
        if after[0].tzinfo is None:
            raise errors.CursorInvalidError(CURSOR_INVALID)
    rows = citizen_application_page(citizen, after=after, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = (
        cursor_encode({"created_at": rows[-1].created_at.isoformat(), "id": str(rows[-1].id)})
        if more and rows
        else None
    )
    return json_response(
        request, ApplicationPage(items=[application_out(row) for row in rows], next_cursor=next_cursor)
    )


@router.get(
    "/applications/{application_id}",
    auth=READ,
    response={200: ApplicationOut, **READ_PROBLEMS},
    url_name="application_get",
    summary="An application's status and progress",
)
def application_get(request: HttpRequest, application_id: uuid.UUID) -> HttpResponse:
    """Return the application (ETag; If-None-Match answers 304)."""
    application = owned(principal_of(request), application_id)
    return json_response(request, application_out(application))


@router.get(
    "/applications/{application_id}/answers",
    auth=READ,
    response={200: AnswersOut, **READ_PROBLEMS},
    url_name="application_answers",
    summary="The answers that count, in the answers schema's JSON forms",
)
def application_answers(request: HttpRequest, application_id: uuid.UUID) -> HttpResponse:
    """Return the answers on the application's path (what would be sent), by field id.

    Fields hidden by their conditions and pages off the path are left out,
    as on the web's check-answers page.
    """
    application = owned(principal_of(request), application_id)
    state = journeys.state_load(application)
    fields = {page_field.id: page_field for page in state.definition.pages for page_field in page.fields}
    effective = state.effective_answers()
    return json_response(
        request,
        AnswersOut(
            application_id=application.id,
            answers={field_id: answer_json(fields[field_id], value) for field_id, value in effective.items()},
        ),
    )


def _page_saved(request: HttpRequest, result: journey_services.PageSaveResult, page_id: str) -> HttpResponse:
    """Answer a single page's save: the application as it is now, the page saved, what changed."""
    return json_response(
        request,
        SaveOut(
            application=application_out(result.application, result.state),
            saved_pages=[page_id],
            changed=result.changed,
            ignored=[],
        ),
    )


@router.put(
    "/applications/{application_id}/pages/{page_id}",
    auth=WRITE,
    response={200: SaveOut, **AUTH_PROBLEMS, 400: Problem, 404: Problem, 409: Problem, 422: Problem},
    url_name="application_page_save",
    summary="Answer one page",
)
def application_page_save(
    request: HttpRequest, application_id: uuid.UUID, page_id: str, payload: AnswersIn
) -> HttpResponse:
    """Save the answers of one page, all validated together: on any error nothing of the page is saved.

    The page must be on the application's path (404 ``page_not_found``); a
    field that is not on the page is refused (422 ``answers_unknown``); the
    answers' errors are the web's (422 ``answers_invalid``, one entry per field).
    """
    principal = principal_of(request)
    application = owned(principal, application_id)
    state = journeys.state_load(application)
    page = submission.page_of(state, page_id)
    submission.answers_unknown_check(
        payload.answers, {page_field.id for page_field in page.fields}, f"the page {page_id}"
    )
    result = submission.page_save(principal.applicant(application.id), application, state, page, payload.answers)
    return _page_saved(request, result, page_id)


UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "answers": {
                            "type": "string",
                            "description": "The page's other answers: a JSON object, as for PUT (optional).",
                        }
                    },
                    "additionalProperties": {
                        "type": "string",
                        "format": "binary",
                        "description": "One file per file field of the page, the part named by the field id.",
                    },
                }
            }
        },
    }
}


def _multipart_answers(request: HttpRequest) -> dict[str, Any]:
    text = request.POST.get("answers")
    if text is None:
        return {}
    try:
        answers = json.loads(text)
    except ValueError:
        raise errors.AnswersMalformedError("The answers part is not a JSON object") from None
    if not isinstance(answers, dict):
        raise errors.AnswersMalformedError("The answers part is not a JSON object")
    return answers


@router.post(
    "/applications/{application_id}/pages/{page_id}/upload",
    auth=WRITE,
    response={200: SaveOut, **AUTH_PROBLEMS, 400: Problem, 404: Problem, 409: Problem, 422: Problem},
    url_name="application_page_upload",
    summary="Answer one page with files (multipart)",
    openapi_extra=UPLOAD_BODY,
)
def application_page_upload(request: HttpRequest, application_id: uuid.UUID, page_id: str) -> HttpResponse:
    """Save a page with file fields: each file part is named by its field id, ``answers`` holds the rest.

    The page is validated and saved as one, as PUT does and as the web does
    (an upload is checked for its type, size and viruses by govserve.documents;
    a refused file refuses the page, 422 ``answers_invalid``). A file already
    uploaded for a field is replaced.
    """
    principal = principal_of(request)
    application = owned(principal, application_id)
    state = journeys.state_load(application)
    page = submission.page_of(state, page_id)
    answers = _multipart_answers(request)
    file_fields = {page_field.id for page_field in page.fields if isinstance(page_field, FileField)}
    submission.answers_unknown_check(
        answers, {page_field.id for page_field in page.fields} - file_fields, f"the page {page_id}"
    )
    submission.answers_unknown_check(
        dict.fromkeys(request.FILES), file_fields, f"the file fields of the page {page_id}"
    )
    files = {name: upload for name in request.FILES if isinstance(upload := request.FILES.get(name), UploadedFile)}
    result = submission.page_save(principal.applicant(application.id), application, state, page, answers, files=files)
    return _page_saved(request, result, page_id)


DOCUMENT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            }
        },
    }
}


@router.post(
    "/applications/{application_id}/documents/{document_id}",
    auth=WRITE,
    response={200: RequirementsOut, **AUTH_PROBLEMS, 400: Problem, 404: Problem, 409: Problem, 422: Problem},
    url_name="application_document_upload",
    summary="Upload a required document (multipart, part file)",
    openapi_extra=DOCUMENT_BODY,
)
def application_document_upload(request: HttpRequest, application_id: uuid.UUID, document_id: str) -> HttpResponse:
    """Upload (or replace) the file of a document the answers require, as the web's documents page does.

    404 ``page_not_found`` until every question is answered or for a document
    not required (or not delivered by upload); 422 with govserve.documents'
    code (``types``, ``max_size_mb``, ...) for a refused file, nothing stored.
    Answers the requirements afterwards.
    """
    principal = principal_of(request)
    owned(principal, application_id)
    upload = request.FILES.get("file")
    if not isinstance(upload, UploadedFile):
        raise errors.DocumentFileMissingError("Send the document as the multipart part named file")
    journey_services.requirement_upload(
        application_id=application_id,
        applicant=principal.applicant(application_id),
        document_id=document_id,
        upload=upload,
    )
    return application_requirements(request, application_id)


@router.patch(
    "/applications/{application_id}/answers",
    auth=WRITE,
    response={200: SaveOut, **AUTH_PROBLEMS, 400: Problem, 404: Problem, 409: Problem, 422: Problem},
    url_name="application_answers_save",
    summary="Answer several pages at once",
)
def application_answers_save(request: HttpRequest, application_id: uuid.UUID, payload: AnswersIn) -> HttpResponse:
    """Save answers for any number of pages, page by page along the path (validated in turn, written together).

    Pages are saved in path order, the path recomputed after each (answers
    change it); a page with no answers in the body ends the walk unless it
    was answered before (or asks only for optional uploads). On the first
    page with errors the call answers 422 with them; the pages before it stay
    saved. Answers for pages off the path, or for fields their conditions hide,
    are not saved and listed in ``ignored``.
    """
    principal = principal_of(request)
    application = owned(principal, application_id)
    state = journeys.state_load(application)
    known = {page_field.id for page in state.definition.pages for page_field in page.fields}
    submission.answers_unknown_check(payload.answers, known, "this service")
    walked = submission.answers_walk_save(principal.applicant(application.id), application, state, payload.answers)
    application, state, saved, changed = walked.application, walked.state, walked.saved, walked.changed
    # Saved means shown: a field hidden by its condition on a saved page is not kept (the web drops it too).
    used = {field_id for page_id in saved for field_id in state.visible.get(page_id, [])}
    return json_response(
        request,
        SaveOut(
            application=application_out(application, state),
            saved_pages=saved,
            changed=changed,
            ignored=[field_id for field_id in payload.answers if field_id not in used],
        ),
    )


@router.get(
    "/applications/{application_id}/requirements",
    auth=READ,
    response={200: RequirementsOut, **READ_PROBLEMS},
    url_name="application_requirements",
    summary="The documents and fees the answers lead to",
)
def application_requirements(request: HttpRequest, application_id: uuid.UUID) -> HttpResponse:
    """Return the fees and documents computed from the answers (none until every question is answered)."""
    application = owned(principal_of(request), application_id)
    state = journeys.state_load(application)
    fees = journeys.fees_of(state)
    language = application.language
    rows = journeys.document_rows(application, state)
    return json_response(
        request,
        RequirementsOut(
            complete=state.complete,
            currency=fees.currency,
            total_minor=fees.total_minor,
            due_before_submission_minor=fees.due_before_submission_minor,
            fees=[
                FeeOut(
                    registration=item.registration.id,
                    name=item.fee.name.get(language),
                    amount_minor=item.amount_minor,
                    paid=item.fee.paid,
                )
                for item in fees.items
            ],
            documents=[
                DocumentOut(
                    registration=",".join(row.requirement.registration_ids),
                    document=row.requirement.id,
                    name=row.requirement.document.name.get(language),
                    delivery=row.requirement.delivery,
                    slot=row.requirement.slot,
                    uploaded=row.upload is not None,
                )
                for row in rows
            ],
        ),
    )


def _submit_digest(application_id: uuid.UUID, payload: SubmitIn) -> str:
    canonical = json.dumps({"application": str(application_id), "body": payload.model_dump()}, sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@router.post(
    "/applications/{application_id}/submit",
    auth=WRITE,
    response={200: ApplicationOut, **AUTH_PROBLEMS, 400: Problem, 404: Problem, 409: Problem, 422: Problem},
    url_name="application_submit",
    summary="Submit the application (idempotent on Idempotency-Key)",
)
def application_submit(
    request: HttpRequest,
    application_id: uuid.UUID,
    payload: SubmitIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key"),
) -> HttpResponse:
    """Send the application, as the check-answers page does (declaration, every answer valid, uploads present).

    The same ``Idempotency-Key`` again returns the same application and
    changes nothing; the key used for another application or another body
    is refused (409 ``idempotency_key_reused``).
    """
    principal = principal_of(request)
    if not idempotency_key or not journey_services.SUBMIT_KEY.match(idempotency_key):
        raise errors.IdempotencyKeyMissingError(
            "Send an Idempotency-Key header: 8 to 100 letters, digits, hyphens or underscores"
        )
    if principal.client.citizen_id is None and not client_owns(principal.client, application_id):
        raise journey_errors.ApplicationNotFoundError("There is no application at this address")
    digest = _submit_digest(application_id, payload)
    reused = errors.IdempotencyKeyReusedError("This Idempotency-Key was used for a different request")
    existing = submission_key_get(principal.client, idempotency_key)
    if existing is not None and (existing.application_id != application_id or existing.request_digest != digest):
        raise reused
    # The submission reads the application (locked) and checks the applicant may act on it, as owned() would.
    result = journey_services.application_submit(
        application_id=application_id,
        applicant=principal.applicant(application_id),
        idempotency_key=idempotency_key,
        declaration_accepted=payload.declaration,
        language=None,
    )
    record = submission_key_record(
        client=principal.client, key=idempotency_key, request_digest=digest, application_id=application_id
    )
    if record.application_id != application_id or record.request_digest != digest:
        raise reused
    return json_response(request, application_out(result.application, result.state))


@router.get(
    "/applications/{application_id}/history",
    auth=READ,
    response={200: HistoryOut, **READ_PROBLEMS},
    url_name="application_history",
    summary="The application's history, oldest first",
)
def application_history(request: HttpRequest, application_id: uuid.UUID) -> HttpResponse:
    """Return the status changes of the application, as the applicant's dashboard shows them."""
    application = owned(principal_of(request), application_id)
    return json_response(
        request,
        HistoryOut(
            application_id=application.id,
            status=application.status,
            items=[
                HistoryEntry(
                    occurred_at=event.occurred_at,
                    kind=event.kind,
                    from_status=event.from_status,
                    to_status=event.to_status,
                    actor_kind=event.actor_kind,
                )
                for event in journeys.history_of(application)
            ],
        ),
    )


@router.post(
    "/applications/{application_id}/withdraw",
    auth=WRITE,
    response={200: ApplicationOut, **AUTH_PROBLEMS, 404: Problem, 409: Problem, 422: Problem},
    url_name="application_withdraw",
    summary="Withdraw a sent application before a decision",
)
def application_withdraw(request: HttpRequest, application_id: uuid.UUID) -> HttpResponse:
    """Withdraw the application (the web's withdrawal: casework closes its tasks).

    409 ``not_withdrawable`` once decided, already withdrawn, or never sent.
    """
    principal = principal_of(request)
    owned(principal, application_id)
    application = journey_services.application_withdraw(
        application_id=application_id, applicant=principal.applicant(application_id)
    )
    return json_response(request, application_out(application))


MESSAGES = ClientToken("messages:write")


def _messages_out(application: Application) -> MessagesOut:
    case = journey_hooks.applicant_case(application, application.language)
    return MessagesOut(
        application_id=application.id,
        items=[
            MessageOut(from_applicant=message.from_applicant, body=message.body, sent_at=message.sent_at)
            for message in case.messages
        ],
    )


@router.get(
    "/applications/{application_id}/messages",
    auth=READ,
    response={200: MessagesOut, **READ_PROBLEMS},
    url_name="application_messages",
    summary="The messages between the applicant and the team, oldest first",
)
def application_messages(request: HttpRequest, application_id: uuid.UUID) -> HttpResponse:
    """Return the thread as the applicant's page shows it (never a staff member's name)."""
    return json_response(request, _messages_out(owned(principal_of(request), application_id)))


@router.post(
    "/applications/{application_id}/messages",
    auth=MESSAGES,
    response={201: MessagesOut, **AUTH_PROBLEMS, 400: Problem, 404: Problem, 409: Problem, 422: Problem},
    url_name="application_message_send",
    summary="Write to the team working on the application",
)
def application_message_send(request: HttpRequest, application_id: uuid.UUID, payload: MessageIn) -> HttpResponse:
    """Send the applicant's message, as the application's page does (casework's rules apply).

    404 ``case_file_not_found`` before the application is sent; 409
    ``file_not_open`` once closed; 403 ``message_not_allowed`` where the team
    writes first; 422 ``message_invalid`` (empty, too long). Answers the thread.
    """
    principal = principal_of(request)
    application = owned(principal, application_id)
    journey_hooks.applicant_message_send(application, principal.actor, payload.body)
    return json_response(request, _messages_out(application), status=201)


# The operations of other modules join this router (each imports it): confirmation, corrections, drafts, groups,
# results.
from govserve.api.v1 import confirmation, corrections, drafts, groups, results  # noqa: E402, F401
