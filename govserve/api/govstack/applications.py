"""GovStack application files: the applications a GovStack client made, read through the journey's selectors.

A client reaches only the applications it made (``ClientApplication``,
through API v1 or GovStack), as in API v1. Only applications with a GovStack
status are application files (``GOVSTACK_STATUS`` in govserve/journeys/models.py):
drafts, withdrawn and expired applications are not listed and read as 404.

Writing (``POST /services/{serviceId}/applications``, ``PUT
/applications/{fileId}``) goes through the journey's services only: the
start, each page's save (govserve.api.submission, shared with API v1), the
required documents' uploads, the submission, and for a sent-back file the
journey's send-back services (govserve.journeys.resubmission).
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import QuerySet

from govserve.api.errors import AnswersUnknownError, IdempotencyKeyReusedError
from govserve.api.govstack.bodies import BodyMalformedError, FileSubmission, answers_by_field, form_answers_typed
from govserve.api.govstack.documents import as_upload, document_id_of, kept_document, kept_remove
from govserve.api.govstack.groups import group_items_save
from govserve.api.govstack.http import RequestInvalidError
from govserve.api.govstack.selectors import LANGUAGE, GovStackNotFoundError, service_slug, service_uuid
from govserve.api.models import ApiClient, ClientApplication
from govserve.api.selectors import submission_key_get
from govserve.api.services import client_application_record, submission_key_record
from govserve.api.submission import answers_walk_save, page_of
from govserve.api.v1.answers import UNSUPPORTED, page_form_data
from govserve.api.v1.auth import ClientApplicant
from govserve.casework.models import OPEN_TASK_STATUSES, CaseFile, Task
from govserve.catalogue.compiled import CompiledDefinition
from govserve.catalogue.definitions.schema import EmailField, FileField
from govserve.catalogue.errors import ServiceRetiredError
from govserve.catalogue.models import ServiceVersion
from govserve.catalogue.selectors import published_version_load
from govserve.core.errors import ApplicationError, NotFoundError
from govserve.documents.errors import UploadRefusedError
from govserve.documents.models import Document
from govserve.journeys import errors as journey_errors
from govserve.journeys import resubmission
from govserve.journeys import selectors as journeys
from govserve.journeys import services as journey_services
from govserve.journeys.fields import value_to_json
from govserve.journeys.models import GOVSTACK_STATUS, Application, ApplicationStatus, Channel
from govserve.journeys.routing import JourneyState

FILE_STATUSES = [status for status, code in GOVSTACK_STATUS.items() if code is not None]
TITLES = {"PENDING": "Pending", "APPROVED": "Approved", "SENDBACK": "Sent back", "REJECTED": "Rejected"}
ENDED = {ApplicationStatus.APPROVED, ApplicationStatus.REJECTED}
SORTS = {"created": "created_at", "registered": "submitted_at", "id": "reference", "name": "service__title"}
MAX_RESULTS = 100


def _moment(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _status(application: Application) -> dict[str, str]:
    code = GOVSTACK_STATUS[application.status] or ""
    return {"code": code, "title": TITLES[code]}


def _applicant_id(application: Application) -> str:
    """The citizen's id for a signed-in applicant, else the application's reference (an anonymous applicant)."""
    return str(application.citizen_id) if application.citizen_id else application.reference


def _files(client: ApiClient) -> QuerySet[Application]:
    made = ClientApplication.objects.filter(client=client).values("application_id")
    return Application.objects.filter(pk__in=made, status__in=FILE_STATUSES).select_related("service")


def _document_urls(applications: list[Application], base_url: str) -> dict[str, list[str]]:
    """Return the URLs of each application's current documents (field uploads and required ones), by owner."""
    owners = [application.crypto_owner for application in applications]
    rows = Document.objects.filter(owner__in=owners, removed_at__isnull=True).order_by("slot", "uploaded_at")
    found: dict[str, list[str]] = {owner: [] for owner in owners}
    for owner, document_id in rows.values_list("owner", "id"):
        found[owner].append(f"{base_url}{document_id}")
    return found


@dataclass(frozen=True)
class _Process:
    """A file's casework: its case file (GovStack's ``mainTaskId``, as the tasks give it) and its open task."""

    case_file_id: uuid.UUID
    task: Task | None


def _processes(applications: list[Application]) -> dict[uuid.UUID, _Process]:
    """Return each file's case file and open task, by application id (none before casework opens the file)."""
    ids = [application.id for application in applications]
    files = dict(CaseFile.objects.filter(application_id__in=ids).values_list("application_id", "id"))
    open_tasks = {
        task.application_id: task for task in Task.objects.filter(application_id__in=ids, status__in=OPEN_TASK_STATUSES)
    }
    return {
        application_id: _Process(case_file_id=case_file_id, task=open_tasks.get(application_id))
        for application_id, case_file_id in files.items()
    }


def _process_members(application: Application, process: _Process | None) -> dict[str, str]:
    """Return the list item's ``mainTaskId`` and, while a task is open, its role (and assignee)."""
    if process is None:
        return {}
    members = {"mainTaskId": str(process.case_file_id)}
    task = process.task
    if task is not None:
        role = published_version_load(application.service_id, application.version_number).definition.flow.roles[
            task.role_index
        ]
        members |= {"roleId": task.role_id, "roleName": role.name.get(LANGUAGE), "taskTitle": role.name.get(LANGUAGE)}
        if task.assignee_id is not None:
            members["assigneeId"] = str(task.assignee_id)
    return members


def _summary(application: Application) -> dict[str, Any]:
    item = {
        "fileId": str(application.id),
        "status": _status(application),
        "applicantId": _applicant_id(application),
        "created": _moment(application.created_at),
        "registered": _moment(application.submitted_at),
        "description": application.reference,
        "serviceName": application.service.title,
        "serviceId": service_uuid(application.service_id),
        "eformId": str(application.service_version_id),
    }
    return {key: value for key, value in item.items() if value is not None}


def application_list(
    client: ApiClient,
    *,
    service_id: str | None,
    applicant_id: str | None,
    first: int,
    count: int,
    sort_by: str | None,
    descending: bool,
    base_url: str,
) -> list[dict[str, Any]]:
    """Return the client's application files, filtered; an unknown service or applicant matches nothing."""
    files = _files(client)
    if service_id:
        try:
            files = files.filter(service_id=service_slug(service_id))
        except GovStackNotFoundError:
            return []
    if applicant_id:
        as_uuid = _uuid(applicant_id)
        files = files.filter(citizen_id=as_uuid) if as_uuid else files.filter(reference=applicant_id.upper())
    order = SORTS.get(sort_by or "created", "created_at")
    page = list(files.order_by(f"-{order}" if descending else order, "id")[first : first + count])
    urls = _document_urls(page, base_url)
    processes = _processes(page)
    items = []
    for application in page:
        item = _summary(application) | _process_members(application, processes.get(application.id))
        item["documentUrls"] = urls[application.crypto_owner]
        items.append(item)
    return items


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def application_get(client: ApiClient, file_id: str, *, base_url: str) -> dict[str, Any]:
    """Return an application file by id or reference, with its answers and documents; raise GovStackNotFoundError.

    ``base_url``: the address documents are named under (``.../documents/``).
    """
    as_uuid = _uuid(file_id)
    files = _files(client)
    found = files.filter(pk=as_uuid).first() if as_uuid else files.filter(reference=file_id.strip().upper()).first()
    if found is None:
        raise GovStackNotFoundError(f"There is no application file {file_id}")
    applicant = ClientApplicant(granted=frozenset({found.id}), client_id=client.id)
    application = journeys.application_for_applicant(applicant=applicant, application_id=found.id)
    state = journeys.state_load(application)
    effective = state.effective_answers()
    data: dict[str, dict[str, Any]] = {}
    for page in state.definition.pages:
        answered = {f.id: value_to_json(f, effective[f.id]) for f in page.fields if f.id in effective}
        if answered:
            data[page.id] = answered
    body = _summary(application)
    return {
        "fileId": body["fileId"],
        "applicantId": body["applicantId"],
        "registered": body.get("registered"),
        "serviceId": body["serviceId"],
        "serviceName": body["serviceName"],
        "status": body["status"],
        "ended": application.status in ENDED,
        "applicationData": {
            "applicantId": body["applicantId"],
            "applicationName": application.reference,
            "created": body["created"],
            "formData": {"eFormId": body["eformId"], "data": data},
            "documentUrls": _document_urls([application], base_url)[application.crypto_owner],
        },
    }


# --- Writing application files ----------------------------------------------------------------------


class EFormNotCurrentError(RequestInvalidError):
    """``formData.eFormId`` is not the e-form the file is (or would be) made with."""

    code = "eform_not_current"


class DocumentNotNeededError(RequestInvalidError):
    """``documentUrls`` lists more documents than the answers ask for."""

    code = "document_not_needed"


class DocumentRefusedError(RequestInvalidError):
    """A document the file names was refused by the definition's checks (type, size, virus)."""

    code = "document_refused"


UPLOAD = "upload"
SUBMIT_KEY_PREFIX = "govstack-"
EDITABLE = {ApplicationStatus.DRAFT, ApplicationStatus.SENT_BACK}


@dataclass
class _Prepared:
    """A body read against the definition: JSON answers by field id, files by field id, documents to attach."""

    answers: dict[str, Any]
    pages: dict[str, str]
    files: dict[str, ContentFile[bytes]] = field(default_factory=dict)
    documents: list[tuple[int, Document]] = field(default_factory=list)
    used: list[Document] = field(default_factory=list)


@contextmanager
def _pointed(pages: dict[str, str]) -> Iterator[None]:
    """Give the field errors raised inside their page (their pointer into ``formData.data``)."""
    try:
        yield
    except ApplicationError as error:
        error.extra.setdefault("pages", pages)
        raise


def _eform_check(compiled: CompiledDefinition, version_id: uuid.UUID, eform_id: str | None) -> None:
    if eform_id is None:
        return
    wanted = eform_id.strip()
    if wanted in {str(version_id), compiled.service_id, service_uuid(compiled.service_id)}:
        return
    message = f"formData.eFormId {wanted[:100]} is not this file's e-form ({version_id})"
    raise EFormNotCurrentError(message, errors=[{"field": "formData.eFormId", "code": "eform_not_current"}])


def _prepare(
    client: ApiClient, compiled: CompiledDefinition, body: FileSubmission, own: set[uuid.UUID] | None = None
) -> _Prepared:
    """Read ``body`` against the definition: refuse unknown questions and documents before anything is saved.

    A file question's answer is the URL (or id) of a document the client
    uploaded; an object (a file already answered, as the reads give it) keeps
    the file. ``own``: the file's current documents (named again in
    ``documentUrls`` by a client sending back what it read: kept as they are).
    """
    answers, pages, unknown = answers_by_field(compiled, body.data)
    if unknown:
        raise AnswersUnknownError("Some answers are not questions of this e-form", errors=unknown)
    if body.form_encoded:
        answers = form_answers_typed(compiled, answers)
    prepared = _Prepared(answers=answers, pages=pages)
    fields = {page_field.id: page_field for page in compiled.definition.pages for page_field in page.fields}
    for field_id, value in list(answers.items()):
        if not isinstance(fields[field_id], FileField):
            continue
        del answers[field_id]
        if isinstance(value, str) and value.strip():
            document = kept_document(client, value, f"formData.data.{pages[field_id]}.{field_id}")
            prepared.files[field_id] = as_upload(document)
            prepared.used.append(document)
        elif value is not None and not isinstance(value, dict):
            message = f"{field_id}: answer a file question with the URL POST /documents gave"
            raise BodyMalformedError(message, errors=[{"field": field_id, "code": "type", "detail": message}])
    for index, url in enumerate(body.document_urls):
        if own is not None and document_id_of(url) in own:
            continue
        document = kept_document(client, url, f"documentUrls[{index}]")
        prepared.documents.append((index, document))
        prepared.used.append(document)
    return prepared


def _contact_email(compiled: CompiledDefinition, body: FileSubmission, answers: dict[str, Any]) -> str | None:
    """Return the address the journey emails an anonymous applicant: ``contactEmail``, applicantId, or the form's."""
    if body.contact_email:
        return body.contact_email
    if "@" in body.applicant_id:
        return body.applicant_id
    for page in compiled.definition.pages:
        for page_field in page.fields:
            value = answers.get(page_field.id)
            if isinstance(page_field, EmailField) and isinstance(value, str) and value.strip():
                return value
    return None


def _documents_attach(
    application: Application, applicant: ClientApplicant, state: JourneyState, prepared: _Prepared
) -> None:
    """Give the required uploads without a file the listed documents, in order, through the journey's upload.

    Nothing to do before every question is answered: the submission then says what is missing.
    """
    if not state.complete:
        return
    waiting = [
        row.requirement.id
        for row in journeys.document_rows(application, state)
        if row.requirement.delivery == UPLOAD and row.upload is None
    ]
    for (index, document), requirement_id in zip(prepared.documents, waiting, strict=False):
        try:
            journey_services.requirement_upload(
                application_id=application.id,
                applicant=applicant,
                document_id=requirement_id,
                upload=as_upload(document),
            )
        except UploadRefusedError as error:
            entry = {"field": f"documentUrls[{index}]", "code": error.code, "detail": error.message}
            raise DocumentRefusedError(error.message, errors=[entry]) from error
    for index, _document in prepared.documents[len(waiting) :]:
        message = "The answers do not ask for this document (or for this many)"
        entry = {"field": f"documentUrls[{index}]", "code": "document_not_needed", "detail": message}
        raise DocumentNotNeededError(message, errors=[entry])


def _fill_and_submit(application: Application, applicant: ClientApplicant, prepared: _Prepared) -> None:
    """Save the answers page by page and the documents, then send the file, all through the journey's services."""
    with _pointed(prepared.pages):
        state = journeys.state_load(application)
        walked = answers_walk_save(
            applicant,
            application,
            state,
            prepared.answers,
            files=prepared.files,
            groups=functools.partial(group_items_save, applicant),
        )
        _documents_attach(walked.application, applicant, walked.state, prepared)
        journey_services.application_submit(
            application_id=application.id,
            applicant=applicant,
            idempotency_key=f"{SUBMIT_KEY_PREFIX}{application.id.hex}",
            declaration_accepted=True,
            language=application.language,
        )


def _loadable(slug: str) -> CompiledDefinition:
    try:
        return published_version_load(slug)
    except ServiceRetiredError as error:
        raise journey_errors.ServiceClosedError("This service is closed: it no longer takes applications") from error
    except NotFoundError as error:
        raise journey_errors.ServiceClosedError("This service is not open for applications yet") from error


@dataclass(frozen=True)
class Idempotency:
    """A create's ``Idempotency-Key`` and the digest of its request (service and body)."""

    key: str
    digest: str


def file_create(
    client: ApiClient,
    service_id: str,
    body: FileSubmission,
    *,
    base_url: str,
    idempotency: Idempotency | None = None,
) -> dict[str, Any]:
    """Start, fill and send an application file to ``service_id`` for the client; return the file.

    The journey's own services do it all (start on the latest published
    version, each page's save, the required documents' uploads, the
    submission), the client acting as the applicant (channel ``api``). When
    any of it is refused, the draft is deleted again (the journey's draft
    deletion): a refused call leaves no application. The client's documents
    the file used are removed from its uploads once it is sent.

    ``idempotency``: the same key with the same request answers the file it
    made, changing nothing; with another request, 409 ``idempotency_key_reused``.
    """
    slug = service_slug(service_id)
    reused = IdempotencyKeyReusedError("This Idempotency-Key was used for a different request")
    if idempotency is not None:
        existing = submission_key_get(client, idempotency.key)
        if existing is not None:
            if existing.request_digest != idempotency.digest:
                raise reused
            return application_get(client, str(existing.application_id), base_url=base_url)
    compiled = _loadable(slug)
    version_id = ServiceVersion.objects.values_list("id", flat=True).get(service_id=slug, number=compiled.version)
    _eform_check(compiled, version_id, body.eform_id)
    prepared = _prepare(client, compiled, body)
    with transaction.atomic():
        started = journey_services.application_start(
            service_id=slug,
            applicant=ClientApplicant(client_id=client.id),
            language=LANGUAGE,
            channel=Channel.API,
            contact_email=_contact_email(compiled, body, prepared.answers),
        )
        client_application_record(client=client, application_id=started.application.id)
    application = started.application
    applicant = ClientApplicant(granted=frozenset({application.id}), client_id=client.id)
    try:
        _fill_and_submit(application, applicant, prepared)
    except ApplicationError:
        journey_services.application_draft_delete(application_id=application.id, applicant=applicant)
        raise
    kept_remove(client, prepared.used)
    if idempotency is not None:
        record = submission_key_record(
            client=client, key=idempotency.key, request_digest=idempotency.digest, application_id=application.id
        )
        if record.application_id != application.id:  # a concurrent call with this key made its own file first
            raise reused
    return application_get(client, str(application.id), base_url=base_url)


def _editable(client: ApiClient, file_id: str) -> Application:
    """Return the client's application named by id or reference, if a file or a draft; raise GovStackNotFoundError."""
    made = ClientApplication.objects.filter(client=client).values("application_id")
    rows = Application.objects.filter(pk__in=made, status__in=[*FILE_STATUSES, ApplicationStatus.DRAFT])
    as_uuid = _uuid(file_id)
    found = rows.filter(pk=as_uuid).first() if as_uuid else rows.filter(reference=file_id.strip().upper()).first()
    if found is None:
        raise GovStackNotFoundError(f"There is no application file {file_id}")
    applicant = ClientApplicant(granted=frozenset({found.id}), client_id=client.id)
    return journeys.application_for_applicant(applicant=applicant, application_id=found.id)


def _sent_back_update(application: Application, applicant: ClientApplicant, prepared: _Prepared) -> None:
    """Change what the team flagged (answers, documents) and send the file again, as the applicant's page does."""
    allowed = resubmission.sent_back_changes(application_id=application.id, applicant=applicant)
    state = journeys.state_load(application)
    with _pointed(prepared.pages):
        for page_id in state.path:
            page = page_of(state, page_id)
            flagged = [
                page_field
                for page_field in page.fields
                if page_field.id in allowed.fields and page_field.id in prepared.answers
            ]
            if not flagged:
                continue
            current = {
                page_field.id: value_to_json(page_field, state.answers.get(page_field.id))
                for page_field in page.fields
                if not isinstance(page_field, UNSUPPORTED)
            }
            merged = current | {page_field.id: prepared.answers[page_field.id] for page_field in flagged}
            data, found = page_form_data(page, merged, compiled=state.compiled, language=application.language)
            if found:
                raise journey_errors.AnswersInvalidError("There is a problem with your answers", errors=found)
            resubmission.sent_back_answers_save(
                application_id=application.id,
                applicant=applicant,
                page_id=page_id,
                data=data,
                language=application.language,
            )
        waiting = sorted(allowed.documents)
        for (index, document), requirement_id in zip(prepared.documents, waiting, strict=False):
            try:
                resubmission.sent_back_document_upload(
                    application_id=application.id,
                    applicant=applicant,
                    requirement_id=requirement_id,
                    upload=as_upload(document),
                )
            except UploadRefusedError as error:
                entry = {"field": f"documentUrls[{index}]", "code": error.code, "detail": error.message}
                raise DocumentRefusedError(error.message, errors=[entry]) from error
        for index, _document in prepared.documents[len(waiting) :]:
            message = "The team did not ask for this document again (or for this many)"
            entry = {"field": f"documentUrls[{index}]", "code": "document_not_needed", "detail": message}
            raise DocumentNotNeededError(message, errors=[entry])
        resubmission.application_resubmit(
            application_id=application.id,
            applicant=applicant,
            declaration_accepted=True,
            language=application.language,
        )


def file_update(client: ApiClient, file_id: str, body: FileSubmission, *, base_url: str) -> dict[str, Any]:
    """Update the client's draft (then send it) or sent-back file (then send it again); return the file.

    A draft's answers are saved page by page as on create; a sent-back
    file changes only what the team flagged (other answers stay as sent),
    its flagged documents taking ``documentUrls`` in order. A file waiting
    for (or past) a decision cannot change: 409 ``application_not_editable``.
    """
    application = _editable(client, file_id)
    if application.status not in EDITABLE:
        raise journey_errors.ApplicationNotEditableError("This application file is with the team: it cannot change")
    applicant = ClientApplicant(granted=frozenset({application.id}), client_id=client.id)
    compiled = journeys.state_load(application).compiled
    _eform_check(compiled, application.service_version_id, body.eform_id)
    own = set(
        Document.objects.filter(owner=application.crypto_owner, removed_at__isnull=True).values_list("id", flat=True)
    )
    prepared = _prepare(client, compiled, body, own)
    if application.status == ApplicationStatus.DRAFT:
        _fill_and_submit(application, applicant, prepared)
    else:
        _sent_back_update(application, applicant, prepared)
    kept_remove(client, prepared.used)
    return application_get(client, str(application.id), base_url=base_url)
