"""Fixtures of the GovStack API tests: the API tests' file store and published services, a GovStack client."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from django.test import Client

from govserve.api.models import ApiClient
from govserve.api.services import api_client_create, api_token_issue
from govserve.api.tests.conftest import _fresh_compiled_cache, media_root, street_light  # noqa: F401 - fixtures reused
from govserve.audit.actors import Actor

SPECIFICATION = Path(__file__).resolve().parents[1] / "specification"
IDENTITY = "eGovStack/GOV/90000009/eregistrations-dev"
"""The identity the conformance data set (registration-bb-test-data.json) calls with."""


def _spec_file(name: str) -> Path:
    return SPECIFICATION / name


@cache
def specification(name: str) -> dict[str, Any]:
    """Return a GovStack OpenAPI document (``registration-bb-api.json``, ``registration-bb-statistics-api.json``)."""
    return dict(json.loads(_spec_file(name).read_text(encoding="utf-8")))


def conformance_data() -> dict[str, Any]:
    """Return the published conformance data set."""
    return dict(json.loads(_spec_file("registration-bb-test-data.json").read_text(encoding="utf-8")))


def schema_of(name: str, schema: dict[str, Any]) -> jsonschema_rs.Validator:
    """Return a validator of ``schema`` (may ``$ref`` the document's components), formats checked."""
    document = specification(name)
    root = {"components": document["components"], **schema}
    return jsonschema_rs.Draft202012Validator(root, validate_formats=True)


def response_schema(name: str, path: str, status: str = "200", method: str = "get") -> dict[str, Any]:
    """Return the JSON schema of an operation's response body."""
    responses = specification(name)["paths"][path][method]["responses"]
    content = responses[status]["content"]
    return dict((content.get("application/json") or content["*/*"])["schema"])


def assert_conforms(name: str, path: str, body: Any, status: str = "200") -> None:
    """Assert ``body`` is valid for the operation's response and has no member the schema does not name."""
    schema = response_schema(name, path, status)
    errors = [error.message for error in schema_of(name, schema).iter_errors(body)]
    assert errors == [], errors
    items = body if isinstance(body, list) else [body]
    item_schema = schema.get("items", schema)
    ref = item_schema.get("$ref")
    properties = specification(name)["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else item_schema
    named = set(properties.get("properties", {})) | set(properties.get("required", []))  # required is not always listed
    for item in items:
        assert set(item) <= named, set(item) - named


class GovStackCaller:
    """An HTTP client of the GovStack API calling as ``identity`` (None: no header)."""

    def __init__(self, identity: str | None, header: str = "Information-Mediator-Client") -> None:
        self.identity = identity
        self.header = header

    def get(self, path: str) -> Any:
        headers = {self.header: self.identity} if self.identity is not None else {}
        return Client().get(f"/govstack{path}", headers=headers)


def govstack_client(identity: str = IDENTITY, *, scopes: tuple[str, ...] = ("govstack",)) -> ApiClient:
    """Register a client with ``identity`` and a token of ``scopes``."""
    operator = Actor.system("cli")
    client = api_client_create(name=f"govstack-{identity.rsplit('/', 1)[1]}", actor=operator)
    api_token_issue(client=client, scopes=scopes, actor=operator)
    ApiClient.objects.filter(pk=client.pk).update(govstack_identity=identity)
    client.refresh_from_db()
    return client


@pytest.fixture
def registered(db: None) -> ApiClient:
    """The conformance data set's identity registered as a GovStack client."""
    return govstack_client()


@pytest.fixture
def anonymous() -> GovStackCaller:
    return GovStackCaller(None)


@pytest.fixture
def caller(registered: ApiClient) -> GovStackCaller:
    return GovStackCaller(IDENTITY)


def body(response: Any) -> Any:
    """Return the JSON body of ``response`` (checking GovStack's content type first)."""
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(response.content)
