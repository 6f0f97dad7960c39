"""GovStack application files: the applications a GovStack client made, read through the journey's selectors.

A client reaches only the applications it made (``ClientApplication``,
through API v1 or GovStack), as in API v1. Only applications with a GovStack
status are application files (``GOVSTACK_STATUS`` in govserve/journeys/models.py):
drafts, withdrawn and expired applications are not listed and read as 404.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db.models import QuerySet

from govserve.api.govstack.selectors import GovStackNotFoundError, service_slug, service_uuid
from govserve.api.models import ApiClient, ClientApplication
from govserve.api.v1.auth import ClientApplicant
from govserve.journeys import selectors as journeys
from govserve.journeys.fields import value_to_json
from govserve.journeys.models import GOVSTACK_STATUS, Application, ApplicationStatus

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
    field = SORTS.get(sort_by or "created", "created_at")
    files = files.order_by(f"-{field}" if descending else field, "id")
    return [_summary(application) for application in files[first : first + count]]


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def application_get(client: ApiClient, file_id: str) -> dict[str, Any]:
    """Return an application file by id or reference, with its answers; raise GovStackNotFoundError."""
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
        },
    }
