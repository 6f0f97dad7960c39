"""What the web's dashboard and documents page offer on a draft besides answering: delete it, remove an upload.

Through the journey's own services: :func:`govserve.journeys.services.application_draft_delete`
(answers, uploads and the data key go; audited ``journeys.application.draft_deleted``)
and :func:`~govserve.journeys.services.requirement_remove` (the documents app
removes the file, audited).

The routes join the applications router (imported at the end of
:mod:`govserve.api.v1.applications`).
"""

from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse

from govserve.api.v1.applications import (
    AUTH_PROBLEMS,
    WRITE,
    application_requirements,
    owned,
    router,
)
from govserve.api.v1.auth import principal_of
from govserve.api.v1.schemas import Problem, RequirementsOut
from govserve.journeys import services as journey_services


@router.delete(
    "/applications/{application_id}",
    auth=WRITE,
    response={204: None, **AUTH_PROBLEMS, 404: Problem, 409: Problem, 422: Problem},
    url_name="application_delete",
    summary="Delete a draft",
)
def application_delete(request: HttpRequest, application_id: uuid.UUID) -> HttpResponse:
    """Delete a draft and everything in it, as the dashboard's "Delete" does; 409 ``not_deletable`` once sent."""
    principal = principal_of(request)
    owned(principal, application_id)
    journey_services.application_draft_delete(
        application_id=application_id, applicant=principal.applicant(application_id)
    )
    return HttpResponse(status=204)


@router.delete(
    "/applications/{application_id}/documents/{document_id}",
    auth=WRITE,
    response={200: RequirementsOut, **AUTH_PROBLEMS, 404: Problem, 409: Problem, 422: Problem},
    url_name="application_document_remove",
    summary="Remove the uploaded file of a required document",
)
def application_document_remove(request: HttpRequest, application_id: uuid.UUID, document_id: str) -> HttpResponse:
    """Remove the upload, as the documents page's "Remove" does; 404 ``document_not_found`` when none is there.

    Answers the requirements afterwards.
    """
    principal = principal_of(request)
    owned(principal, application_id)
    journey_services.requirement_remove(
        application_id=application_id, applicant=principal.applicant(application_id), document_id=document_id
    )
    return application_requirements(request, application_id)
