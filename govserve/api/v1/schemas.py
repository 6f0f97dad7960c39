"""Request and response bodies of API v1 (pydantic v2, published in the OpenAPI document)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field


class StrictBody(Schema):
    """A request body that refuses unknown members (a typo is an error, not a silently ignored field)."""

    model_config = ConfigDict(extra="forbid")


class ProblemFieldError(Schema):
    field: str
    code: str
    detail: str
    pointer: str | None = None
    parameter: str | None = None
    in_: str | None = Field(default=None, alias="in")


class Problem(Schema):
    """An RFC 9457 problem: ``code`` is stable (docs/api.md lists every code)."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[ProblemFieldError] | None = None


class ServiceSummary(Schema):
    id: str
    title: str
    summary: str
    sign_in: Literal["required", "anonymous"]


class ServicePage(Schema):
    items: list[ServiceSummary]
    next_cursor: str | None


class ServiceDefinitionOut(Schema):
    id: str
    version: int
    definition: dict[str, Any]


class ApplicationCreate(StrictBody):
    service_id: str = Field(min_length=1, max_length=100)
    language: Literal["en", "cy"] = "en"
    contact_email: str | None = Field(
        default=None,
        max_length=320,
        description=(
            "The applicant's email address: the link to continue on the web is sent there (with `submit`, the"
            " confirmation, carrying the link to follow the application)."
        ),
    )
    answers: dict[str, Any] | None = Field(
        default=None,
        description=(
            "Answers by field id, saved along the path as `PATCH …/answers` saves them. With answers or `submit`"
            " the call is all or nothing: on any error nothing is created."
        ),
    )
    submit: bool = Field(
        default=False,
        description=(
            "Send the application in the same call, as `POST …/submit` does: needs `declaration` and an"
            " `Idempotency-Key` header (the same key and body again return the same application)."
        ),
    )
    declaration: bool = Field(
        default=False, description="With `submit`: the applicant confirmed the declaration of the check-answers page."
    )


class AnswersIn(StrictBody):
    answers: dict[str, Any]


class AnswersOut(Schema):
    application_id: uuid.UUID
    answers: dict[str, Any]


class SubmitIn(StrictBody):
    declaration: bool = Field(description="The applicant confirmed the declaration of the check-answers page.")


class ApplicationOut(Schema):
    id: uuid.UUID
    reference: str
    service_id: str
    version: int
    status: str
    language: str
    channel: str
    created_at: dt.datetime
    updated_at: dt.datetime
    submitted_at: dt.datetime | None
    expires_at: dt.datetime | None
    pages_completed: list[str]
    path: list[str] = Field(description="The pages the answers so far lead through, in order.")
    next_page: str | None = Field(description="The first page on the path still to answer (null: all answered).")
    complete: bool


class ApplicationPage(Schema):
    items: list[ApplicationOut]
    next_cursor: str | None


class SaveOut(Schema):
    application: ApplicationOut
    saved_pages: list[str]
    changed: list[str]
    ignored: list[str] = Field(description="Answers given for pages that are not on the path (not saved).")


class FeeOut(Schema):
    registration: str
    name: str
    amount_minor: int
    paid: str


class DocumentOut(Schema):
    registration: str
    document: str
    name: str
    delivery: str
    slot: str
    uploaded: bool


class RequirementsOut(Schema):
    complete: bool = Field(description="False until every question is answered: no documents or fees before.")
    currency: str
    total_minor: int
    due_before_submission_minor: int
    fees: list[FeeOut]
    documents: list[DocumentOut]


class HistoryEntry(Schema):
    occurred_at: dt.datetime
    kind: str
    from_status: str
    to_status: str
    actor_kind: str


class HistoryOut(Schema):
    application_id: uuid.UUID
    status: str
    items: list[HistoryEntry]


class MessageIn(StrictBody):
    body: str = Field(max_length=10_000)


class MessageOut(Schema):
    from_applicant: bool
    body: str
    sent_at: dt.datetime


class MessagesOut(Schema):
    application_id: uuid.UUID
    items: list[MessageOut]
