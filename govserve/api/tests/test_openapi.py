"""The OpenAPI 3.1 document, the offline docs, and the error handling that is not a catch-all."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR

from govserve.api.tests.conftest import Caller, body


@pytest.mark.django_db
def test_the_openapi_document_is_valid_openapi_3_1() -> None:
    # when anyone fetches the document (it is public: it holds no data)
    response = Client().get("/api/v1/openapi.json")
    # then it validates against the OpenAPI 3.1 meta-schema (schemathesis ships it)
    assert response.status_code == 200
    document = body(response)
    assert document["openapi"].startswith("3.1")
    assert [error.message for error in OPENAPI_31_VALIDATOR.iter_errors(document)] == []
    # and it lists every operation, each with the bearer scheme and its refusals declared
    operations = {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    assert sorted(operations) == [
        ("DELETE", "/api/v1/applications/{application_id}"),
        ("DELETE", "/api/v1/applications/{application_id}/documents/{document_id}"),
        ("DELETE", "/api/v1/applications/{application_id}/pages/{page_id}/groups/{group_id}/items/{item_id}"),
        ("GET", "/api/v1/applications"),
        ("GET", "/api/v1/applications/{application_id}"),
        ("GET", "/api/v1/applications/{application_id}/answers"),
        ("GET", "/api/v1/applications/{application_id}/answers.pdf"),
        ("GET", "/api/v1/applications/{application_id}/corrections"),
        ("GET", "/api/v1/applications/{application_id}/history"),
        ("GET", "/api/v1/applications/{application_id}/messages"),
        ("GET", "/api/v1/applications/{application_id}/pages/{page_id}/groups/{group_id}/items"),
        ("GET", "/api/v1/applications/{application_id}/requirements"),
        ("GET", "/api/v1/applications/{application_id}/results"),
        ("GET", "/api/v1/applications/{application_id}/results/{result_id}/pdf"),
        ("GET", "/api/v1/services"),
        ("GET", "/api/v1/services/{service_id}"),
        ("GET", "/api/v1/services/{service_id}/answers-schema"),
        ("GET", "/api/v1/tasks"),
        ("GET", "/api/v1/tasks/{task_id}"),
        ("GET", "/api/v1/tasks/{task_id}/assignees"),
        ("PATCH", "/api/v1/applications/{application_id}/answers"),
        ("PATCH", "/api/v1/applications/{application_id}/corrections/answers"),
        ("POST", "/api/v1/applications"),
        ("POST", "/api/v1/applications/{application_id}/corrections/documents/{document_id}"),
        ("POST", "/api/v1/applications/{application_id}/documents/{document_id}"),
        ("POST", "/api/v1/applications/{application_id}/messages"),
        ("POST", "/api/v1/applications/{application_id}/pages/{page_id}/groups/{group_id}/items"),
        ("POST", "/api/v1/applications/{application_id}/pages/{page_id}/upload"),
        ("POST", "/api/v1/applications/{application_id}/resubmit"),
        ("POST", "/api/v1/applications/{application_id}/satisfaction"),
        ("POST", "/api/v1/applications/{application_id}/submit"),
        ("POST", "/api/v1/applications/{application_id}/withdraw"),
        ("POST", "/api/v1/sign-in/link"),
        ("POST", "/api/v1/sign-in/token"),
        ("POST", "/api/v1/tasks/{task_id}/assign"),
        ("POST", "/api/v1/tasks/{task_id}/claim"),
        ("POST", "/api/v1/tasks/{task_id}/counter-records"),
        ("POST", "/api/v1/tasks/{task_id}/decision"),
        ("POST", "/api/v1/tasks/{task_id}/messages"),
        ("POST", "/api/v1/tasks/{task_id}/notes"),
        ("POST", "/api/v1/tasks/{task_id}/release"),
        ("POST", "/api/v1/team/reassign"),
        ("PUT", "/api/v1/applications/{application_id}/pages/{page_id}"),
        ("PUT", "/api/v1/applications/{application_id}/pages/{page_id}/groups/{group_id}/items/{item_id}"),
        ("PUT", "/api/v1/tasks/{task_id}/processing"),
    ]
    public = {("POST", "/api/v1/sign-in/link"), ("POST", "/api/v1/sign-in/token")}
    for key, operation in operations.items():
        if key in public:
            # the sign-in exchange happens before there is a token: no scheme, but its rate limit is declared
            assert "security" not in operation, key
            assert "429" in operation["responses"], key
        else:
            assert operation["security"] == [{"ClientToken": []}], key
            assert {"401", "403", "429"} <= set(operation["responses"]), key
        # and errors are documented with the media type they are served with
        for status, response in operation["responses"].items():
            if status.startswith("4"):
                assert list(response["content"]) == ["application/problem+json"], (key, status)
    assert document["components"]["securitySchemes"]["ClientToken"] == {"type": "http", "scheme": "bearer"}


@pytest.mark.django_db
def test_the_docs_page_uses_only_assets_served_here() -> None:
    # when the docs page is opened
    response = Client().get("/api/v1/docs")
    # then it loads its scripts and styles from this site's static files, never a CDN
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert "/static/ninja/swagger-ui-bundle.js" in assets
    assert "/static/ninja/swagger-ui.css" in assets
    assert not [asset for asset in assets if asset.startswith(("http:", "https:", "//"))]
    # and each one is a file the static files finders serve (from the django-ninja wheel)
    for asset in assets:
        if asset.startswith("/static/"):
            assert finders.find(asset.removeprefix("/static/")) is not None, asset


def test_a_bug_is_not_turned_into_a_problem(street_light: str, caller: Caller, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a selector that fails with an unexpected exception (a bug)
    def broken(**_: object) -> None:
        msg = "a bug"
        raise RuntimeError(msg)

    monkeypatch.setattr("govserve.api.v1.catalogue.services_live", broken)
    # then the exception is not caught by the API's handlers: Django answers 500
    with pytest.raises(RuntimeError, match="a bug"):
        caller.call("GET", "/api/v1/services")
