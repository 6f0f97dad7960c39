"""What the web's confirmation (and exit) page offers, through the API: the satisfaction answer and the PDF copy.

* ``POST /applications/{id}/satisfaction`` records the answer the web asks
  for on the confirmation page of a sent application, or on the exit page
  a draft's answers stopped on ("very dissatisfied" 1 … 5 "very
  satisfied", optional comment), through
  :func:`govserve.journeys.services.satisfaction_record`, the web's own
  service: the same checks and messages (422 ``feedback_invalid``), the
  comment sealed, the KPI event and the audit entry, with the channel
  ``api``. The page it belongs to is the one the web would show:
  ``confirmation`` once sent, else the exit page; any other draft is
  refused (409 ``feedback_not_open``), as the web offers no question there.
* ``GET /applications/{id}/answers.pdf`` is the web's PDF copy of a sent
  application's answers (:func:`govserve.journeys.pdf.answers_pdf` over the
  check-answers rows), in the application's language; before the
  application is sent, 409 ``application_not_sent``.

Only the client's own applications (any other: 404 ``application_not_found``).
The routes join the applications router (imported at the end of
:mod:`govserve.api.v1.applications`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Schema
from pydantic import Field

from govserve.api import errors
from govserve.api.v1.applications import AUTH_PROBLEMS, READ, WRITE, owned, router
from govserve.api.v1.auth import principal_of
from govserve.api.v1.http import json_response
from govserve.api.v1.schemas import Problem, StrictBody
from govserve.journeys import services as journey_services
from govserve.journeys.models import Channel
from govserve.journeys.views.dashboard import answers_pdf_response


class SatisfactionIn(StrictBody):
    rating: int = Field(
        description=(
            "1 very dissatisfied, 2 dissatisfied, 3 neither satisfied nor dissatisfied, 4 satisfied, 5 very satisfied "
            "(anything else: 422 feedback_invalid)."
        )
    )
    comment: str = Field(
        "",
        description=f"How the service could be better (optional, {journey_services.FEEDBACK_COMMENT_MAX} characters "
        "or fewer; stored encrypted).",
    )


class SatisfactionOut(Schema):
    id: uuid.UUID = Field(description="The recorded answer (each call records one, as each web form sent does).")
    application_id: uuid.UUID
    page: str = Field(description="'confirmation' for a sent application, else the id of the exit page.")
    rating: int
    comment: bool = Field(description="Whether a comment was recorded (it is never returned).")
    recorded_at: dt.datetime


@router.post(
    "/applications/{application_id}/satisfaction",
    auth=WRITE,
    response={201: SatisfactionOut, **AUTH_PROBLEMS, 400: Problem, 404: Problem, 409: Problem, 422: Problem},
    url_name="application_satisfaction",
    summary="Say how satisfied the applicant is with the service (after sending, or on an exit page)",
)
def application_satisfaction(request: HttpRequest, application_id: uuid.UUID, payload: SatisfactionIn) -> HttpResponse:
    """Record the satisfaction answer of the confirmation page (sent) or of the exit page the draft stopped on.

    409 ``feedback_not_open`` for a draft not on an exit page (or an expired
    or deleted one); 422 ``feedback_invalid`` for a rating outside 1-5 or a
    comment too long, nothing recorded.
    """
    application = owned(principal_of(request), application_id)
    page_id = journey_services.satisfaction_page(application)
    if page_id is None:
        raise errors.FeedbackNotOpenError(
            "The satisfaction question is asked once the application is sent, or on a page that ends the application"
        )
    feedback = journey_services.satisfaction_record(
        service_id=application.service_id,
        version=application.version_number,
        page_id=page_id,
        rating=payload.rating,
        comment=payload.comment,
        application=application,
        language=application.language,
        channel=Channel.API,
    )
    return json_response(
        request,
        SatisfactionOut(
            id=feedback.id,
            application_id=application.id,
            page=page_id,
            rating=feedback.rating,
            comment=feedback.comment_sealed is not None,
            recorded_at=feedback.created_at,
        ),
        status=201,
    )


ANSWERS_PDF_RESPONSE: dict[str, Any] = {
    "responses": {
        200: {
            "description": "The tagged (PDF/UA-1) copy of the answers, as the web's confirmation page offers it.",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}


@router.get(
    "/applications/{application_id}/answers.pdf",
    auth=READ,
    response={200: None, **AUTH_PROBLEMS, 404: Problem, 409: Problem, 422: Problem},
    url_name="application_answers_pdf",
    summary="Download a PDF copy of a sent application's answers",
    openapi_extra=ANSWERS_PDF_RESPONSE,
)
def application_answers_pdf(request: HttpRequest, application_id: uuid.UUID) -> HttpResponse:
    """Send the web's PDF copy of the answers, in the application's language; 409 ``application_not_sent`` before."""
    application = owned(principal_of(request), application_id)
    if application.submitted_at is None:
        raise errors.AnswersCopyNotReadyError("The copy of the answers is ready once the application is sent")
    return answers_pdf_response(request, application, application.language)
