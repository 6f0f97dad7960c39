"""The govserve API v1: one NinjaAPI at ``/api/v1/`` with its OpenAPI 3.1 document and offline docs.

The browsable docs (``/api/v1/docs``) are django-ninja's Swagger UI, whose
scripts and styles ship inside the django-ninja wheel (``ninja/static``) and
are served by whitenoise like every other static file: nothing is fetched
from a CDN.
"""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI, Swagger
from ninja.openapi.schema import OpenAPISchema

from govserve.api.v1 import applications, catalogue, signin, tasks
from govserve.api.v1.auth import audited
from govserve.api.v1.problems import PROBLEM_JSON, problem_handlers_install

DESCRIPTION = """\
The JSON API of govserve: the same services, rules and messages as the web journey.

Authenticate with `Authorization: Bearer gs_...` (an API client token with scopes).
The task operations need an operator's or a bot's token: they act as that staff account.
A citizen gets a token of their own by exchanging the web's one-time sign-in link (`/sign-in/...`).
Every error is `application/problem+json` with a stable `code` (docs/api.md).
Lists are cursor-paginated (`next_cursor`); reads carry an `ETag` (send
`If-None-Match` for a 304); submission needs an `Idempotency-Key` header.
"""


class GovserveAPI(NinjaAPI):
    """NinjaAPI whose document gives error responses their real media type, ``application/problem+json``."""

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: Any = None) -> OpenAPISchema:
        """Return ninja's document with every 4xx response's content under ``application/problem+json``."""
        document = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for item in document.get("paths", {}).values():
            for operation in item.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content")
                    if str(status).startswith("4") and content and "application/json" in content:
                        response["content"] = {PROBLEM_JSON: content.pop("application/json")}
        return document


def api_build() -> NinjaAPI:
    """Return the API v1 with its routers, its problem+json handlers and the audit of every call."""
    api = GovserveAPI(
        title="govserve API",
        version="1",
        description=DESCRIPTION,
        urls_namespace="api_v1",
        docs=Swagger(settings={"persistAuthorization": False}),
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    problem_handlers_install(api)
    api.add_decorator(audited, mode="view")
    api.add_router("", catalogue.router)
    api.add_router("", applications.router)
    api.add_router("", tasks.router)
    api.add_router("", signin.router)
    return api


api = api_build()
