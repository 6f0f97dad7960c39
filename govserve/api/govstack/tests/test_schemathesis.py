"""Schemathesis over the GovStack specification (bounded examples, 15 per operation): no 5xx, answers as specified.

The operations tested are those govserve serves: an operation of the
specification whose path does not resolve in ``govstack/urls.py``, or whose
view does not take its method, is left out, so each operation joins this
test as soon as its view exists (no list of skips to forget).

The conformance data set is loaded first (``govserve govstack
load-test-data``): its client calls with every scope and an operator
account, so generated requests reach the operations' code.

GovStack's specification (a third party's, kept unchanged) documents few
error statuses: ``GET /tasks`` only 200, for instance, where govserve answers
a ``sortBy`` it cannot take with 400. So the status-code check is replaced by
ours: a status the specification does not name must be a 4xx with govserve's
problem body (``code``, ``status``); every documented answer is checked
against its schema by Schemathesis.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.urls import Resolver404, resolve
from hypothesis import HealthCheck, settings
from schemathesis.schemas import BaseSchema
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    positive_data_acceptance,
    status_code_conformance,
)

from govserve.api.govstack.tests.conftest import IDENTITY, specification

API = "registration-bb-api.json"
STATISTICS = "registration-bb-statistics-api.json"
PREFIX = "/govstack"
_PARAMETER = re.compile(r"\{[^}]+\}")


def _served_methods(view: Any) -> set[str] | None:
    """Return the methods a GovStack operation's view takes (its ``operation(methods=...)``), None if unknown."""
    function = view
    while function is not None:
        if inspect.isfunction(function):
            methods = inspect.getclosurevars(function).nonlocals.get("methods")
            if isinstance(methods, tuple):
                return {method.upper() for method in methods}
        function = getattr(function, "__wrapped__", None)
    return None


def served(path: str, method: str) -> bool:
    """Return whether govserve serves ``method path`` of the specification (the URL resolver, then the view)."""
    try:
        match = resolve(PREFIX + _PARAMETER.sub("some-id", path))
    except Resolver404:
        return False
    methods = _served_methods(match.func)
    return methods is None or method.upper() in methods


def _served_operations(name: str) -> set[tuple[str, str]]:
    document = specification(name)
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"} and served(path, method)
    }


SERVED = _served_operations(API)


def _schema(name: str) -> BaseSchema:
    """Return the Schemathesis schema of a specification, at ``/govstack``, limited to the served operations."""
    served_here = _served_operations(name)
    document = {**specification(name), "servers": [{"url": PREFIX}]}
    loaded = schemathesis.openapi.from_dict(json.loads(json.dumps(document))).include(
        lambda context: (context.operation.method.upper(), context.operation.path) in served_here
    )
    loaded.app = get_wsgi_application()
    return loaded


schema = _schema(API)
statistics_schema = _schema(STATISTICS)


def test_the_served_operations_are_found_by_the_resolver() -> None:
    # The selection must not be empty by mistake, and must follow the views' methods.
    assert {("GET", "/services"), ("GET", "/tasks"), ("POST", "/tasks/{taskId}/complete")} <= SERVED
    assert served("/tasks/{taskId}/complete", "post")
    assert not served("/tasks/{taskId}/complete", "get")
    assert not served("/no-such-operation", "get")
    assert _served_operations(STATISTICS) == {("GET", "/data/statistics")}


@pytest.fixture(autouse=True)
def _connections_kept_open() -> Iterator[None]:
    # As Django's test client does: a request must not close the test's connection.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def loaded(db: None) -> None:
    call_command("govstack", "load-test-data", stdout=StringIO())


def _documented(case: Any, status: int) -> bool:
    responses = case.operation.definition.raw.get("responses", {})
    return str(status) in responses or "default" in responses


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.django_db(transaction=False)
def test_govstack_api_conforms_to_its_specification(case: Any, loaded: None) -> None:
    _call_and_check(case)


@statistics_schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@pytest.mark.django_db(transaction=False)
def test_govstack_statistics_conform_to_their_specification(case: Any, loaded: None) -> None:
    _call_and_check(case)


def _call_and_check(case: Any) -> None:
    # The identity header is always the data set's client (the header rules have their own tests).
    response = case.call_and_validate(
        headers={"Information-Mediator-Client": IDENTITY},
        excluded_checks=[positive_data_acceptance, negative_data_rejection, status_code_conformance],
    )
    assert response.status_code < 500, response.text
    headers = {name.lower(): value for name, value in response.headers.items()}
    content_type = headers["content-type"]
    assert (content_type[0] if isinstance(content_type, list) else content_type) == "application/json; charset=utf-8"
    if not _documented(case, response.status_code):
        assert 400 <= response.status_code < 500, response.status_code
        problem = response.json()
        assert problem["status"] == response.status_code
        assert isinstance(problem["code"], str)
