"""The service catalogue through the API: live services, a service's published definition, its answers' JSON Schema."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema
from ninja.params.functions import Query

from govserve.api import errors
from govserve.api.v1.answers import answers_json_schema
from govserve.api.v1.auth import ClientToken
from govserve.api.v1.http import cursor_decode, cursor_encode, json_response
from govserve.api.v1.schemas import Problem, ServiceDefinitionOut, ServicePage, ServiceSummary
from govserve.catalogue.compiled import CompiledDefinition
from govserve.catalogue.selectors import published_version_load
from govserve.journeys.selectors import services_live

router = Router(tags=["services"])
READ = ClientToken("services:read")
PROBLEMS: dict[int, Any] = {
    304: None,
    401: Problem,
    403: Problem,
    404: Problem,
    409: Problem,
    422: Problem,
    429: Problem,
}


class AnswersSchema(Schema):
    """The JSON Schema of an answers object and the version it describes."""

    id: str
    version: int
    answers_schema: dict[str, Any]


VERSION_MAX = 2**31 - 1
"""The largest version number asked for (a bigger one is a 422, not a database overflow)."""


def _loaded(service_id: str, version: int | None) -> CompiledDefinition:
    """Return the published version (latest without ``version``); catalogue's typed errors pass through."""
    return published_version_load(service_id, version)


@router.get(
    "/services",
    auth=READ,
    response={200: ServicePage, **PROBLEMS, 400: Problem},
    url_name="service_list",
    summary="List the services taking applications, by title",
)
def service_list(
    request: HttpRequest,
    language: Literal["en", "cy"] = "en",
    search: str | None = Query(None, max_length=100),
    cursor: str | None = Query(None, max_length=500),
    limit: int = Query(20, ge=1, le=100),
) -> HttpResponse:
    """Return a page of the live services (the web's catalogue); follow ``next_cursor`` for the next page."""
    cards = services_live(language=language, search=search)
    start = 0
    if cursor:
        position = cursor_decode(cursor, keys={"after"})
        ids = [card.service_id for card in cards]
        if position["after"] not in ids:
            raise errors.CursorInvalidError("The cursor is not valid: use the next_cursor of the previous page")
        start = ids.index(position["after"]) + 1
    chosen = cards[start : start + limit]
    more = start + limit < len(cards)
    return json_response(
        request,
        ServicePage(
            items=[
                ServiceSummary(id=card.service_id, title=card.title, summary=card.summary, sign_in=card.sign_in)  # type: ignore[arg-type]
                for card in chosen
            ],
            next_cursor=cursor_encode({"after": chosen[-1].service_id}) if more and chosen else None,
        ),
    )


@router.get(
    "/services/{service_id}",
    auth=READ,
    response={200: ServiceDefinitionOut, **PROBLEMS},
    url_name="service_get",
    summary="A service's published definition",
)
def service_get(
    request: HttpRequest, service_id: str, version: int | None = Query(None, ge=1, le=VERSION_MAX)
) -> HttpResponse:
    """Return the latest published version of the definition (or ``version``), as JSON.

    404 ``service_not_found`` / ``version_not_found``; 409 ``service_retired``
    for the latest version of a retired service (a numbered version still loads).
    """
    compiled = _loaded(service_id, version)
    return json_response(
        request,
        ServiceDefinitionOut(
            id=compiled.service_id,
            version=compiled.version,
            definition=compiled.definition.model_dump(mode="json", exclude_none=True),
        ),
    )


@router.get(
    "/services/{service_id}/answers-schema",
    auth=READ,
    response={200: AnswersSchema, **PROBLEMS},
    url_name="service_answers_schema",
    summary="The JSON Schema of the answers to a service",
)
def service_answers_schema(
    request: HttpRequest,
    service_id: str,
    version: int | None = Query(None, ge=1, le=VERSION_MAX),
    language: Literal["en", "cy"] = "en",
) -> HttpResponse:
    """Return the JSON Schema (2020-12) of an answers object for the version, generated from its fields."""
    compiled = _loaded(service_id, version)
    return json_response(
        request,
        AnswersSchema(
            id=compiled.service_id,
            version=compiled.version,
            answers_schema=answers_json_schema(compiled, language=language),
        ),
    )
