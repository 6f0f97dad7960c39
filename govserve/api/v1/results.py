"""Results (licences, certificates) of an application through the API: the list and the PDF download.

What the applicant's page lists on the web (``govserve.casework.results``'
selectors, registered as the journey's results provider), with the ids an
app needs: each result's type, number, issue date, validity, status
(``valid``, ``expired`` or ``revoked``), its public verification address,
and the PDF through :func:`govserve.casework.results.selectors.result_download`,
the web download's own selector (the applicant's access check, the audit
entry ``casework.result.downloaded`` with the client as the actor). Only the
client's own applications (any other is 404 ``application_not_found``); a
result of another application is 404 ``result_not_found``.

The routes join the applications router (imported at the end of
:mod:`govserve.api.v1.applications`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Schema
from pydantic import Field

from govserve.api.v1.applications import AUTH_PROBLEMS, READ, READ_PROBLEMS, owned, router
from govserve.api.v1.auth import principal_of
from govserve.api.v1.http import json_response
from govserve.api.v1.schemas import Problem
from govserve.casework.results import errors as result_errors
from govserve.casework.results import selectors as results

RESULT_STATUS_HEADER = "Govserve-Result-Status"


class ResultOut(Schema):
    id: uuid.UUID
    name: str = Field(description="The result's type as the service names it, e.g. 'Street trading licence'.")
    number: str
    issued_on: dt.date
    valid_until: dt.date | None
    status: Literal["valid", "expired", "revoked"]
    revoked_at: dt.datetime | None
    pdf_ready: bool = Field(description="False while the PDF is being prepared (the download answers 409).")
    verify_url: str = Field(description="The public page (and JSON with Accept: application/json) that verifies it.")
    download_url: str | None = Field(description="This API's PDF download, null while it is prepared.")


class ResultsOut(Schema):
    application_id: uuid.UUID
    items: list[ResultOut]


def _download_path(application_id: uuid.UUID, result_id: uuid.UUID) -> str:
    return reverse("api_v1:application_result_pdf", args=[application_id, result_id])


@router.get(
    "/applications/{application_id}/results",
    auth=READ,
    response={200: ResultsOut, **READ_PROBLEMS},
    url_name="application_results",
    summary="The results issued for the application (licences, certificates)",
)
def application_results(request: HttpRequest, application_id: uuid.UUID) -> HttpResponse:
    """Return the issued results, oldest first, as the applicant's page lists them (revoked ones say so)."""
    application = owned(principal_of(request), application_id)
    rows = results.results_of_application(application, language=application.language)
    return json_response(
        request,
        ResultsOut(
            application_id=application.id,
            items=[
                ResultOut(
                    id=row.id,
                    name=row.name,
                    number=row.number,
                    issued_on=row.issued_on,
                    valid_until=row.valid_until,
                    status=row.status,
                    revoked_at=row.revoked_at,
                    pdf_ready=row.pdf_ready,
                    verify_url=row.verify_url,
                    download_url=_download_path(application.id, row.id) if row.pdf_ready else None,
                )
                for row in rows
            ],
        ),
    )


PDF_RESPONSE: dict[str, Any] = {
    "responses": {
        200: {
            "description": "The result's PDF (header Govserve-Result-Status: valid, expired or revoked).",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}


@router.get(
    "/applications/{application_id}/results/{result_id}/pdf",
    auth=READ,
    response={200: None, **AUTH_PROBLEMS, 404: Problem, 409: Problem, 422: Problem},
    url_name="application_result_pdf",
    summary="Download a result's PDF",
    openapi_extra=PDF_RESPONSE,
)
def application_result_pdf(request: HttpRequest, application_id: uuid.UUID, result_id: uuid.UUID) -> HttpResponse:
    """Send the PDF, as the web's download does (audited); 409 ``result_not_ready`` while it is prepared.

    A revoked result is still sent (it is the document that was issued), with
    ``Govserve-Result-Status: revoked``; the list says when it was revoked.
    """
    principal = principal_of(request)
    application = owned(principal, application_id)
    row = next(
        (
            row
            for row in results.results_of_application(application, language=application.language)
            if row.id == result_id
        ),
        None,
    )
    if row is None:
        raise result_errors.ResultNotFoundError("There is no result at this address")
    downloaded = results.result_download(result_id=result_id, applicant=principal.applicant(application.id))
    response = HttpResponse(downloaded.content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{downloaded.filename}"'
    response["Cache-Control"] = "no-store, private"
    response[RESULT_STATUS_HEADER] = row.status
    return response
