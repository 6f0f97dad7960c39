"""``govserve serve --govstack``: the GovStack API at ``/`` of its own port (config.wsgi_govstack)."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIRequest
from django.test import RequestFactory
from django.urls import set_urlconf

from govserve.api.govstack.tests.conftest import IDENTITY
from govserve.api.models import ApiClient
from govserve.catalogue.management.commands.serve import gunicorn_command


def _call(path: str, **headers: str) -> Any:
    from config.wsgi_govstack import application  # noqa: PLC0415 - the production entry point itself

    request: WSGIRequest = RequestFactory().get(path, headers=headers)
    response = application.get_response(request)
    # What request_finished does after a real request (not sent here: it would close the test's connection).
    set_urlconf(None)
    return response


@pytest.fixture(autouse=True)
def _urlconf_restored() -> Iterator[None]:
    yield
    set_urlconf(None)  # never leave config.urls_govstack to the next test, even when one fails


def test_the_api_answers_at_the_root(street_light: str) -> None:
    response = _call("/services")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert [service["serviceBody"][0]["value"] for service in json.loads(response.content)] == ["report-street-light"]


def test_statistics_at_both_paths_need_the_identity(registered: ApiClient) -> None:
    for path in ("/data/statistics", "/data/statistics/1.0"):
        assert _call(path).status_code == 400
        assert _call(path, **{"Information-Mediator-Client": IDENTITY}).status_code == 200


def test_the_health_checks_answer_and_nothing_else_of_the_site(db: None) -> None:
    assert _call("/healthz").status_code == 200
    for path in ("/", "/govstack/services", "/staff/", "/api/v1/services"):
        response = _call(path)
        assert response.status_code == 404, path
        assert response["Content-Type"] == "application/json; charset=utf-8"
        assert json.loads(response.content)["code"] == "not_found"


def test_serve_govstack_runs_gunicorn_on_the_govstack_entry_point() -> None:
    assert gunicorn_command(host="127.0.0.1", port=3333, workers=2, govstack=True)[3:6] == [
        "config.wsgi_govstack:application",
        "--bind",
        "127.0.0.1:3333",
    ]
    assert gunicorn_command(host="127.0.0.1", port=8000, workers=2)[3] == "config.wsgi:application"


def test_the_command_takes_the_option(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    from django.core.management import call_command  # noqa: PLC0415

    settings.GOVSERVE_DEMO = True  # the deployment checks are the production settings' business, not this test's
    ran: list[list[str]] = []
    monkeypatch.setattr("os.execv", lambda program, argv: ran.append(argv))
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    call_command("serve", "--govstack", "--port", "3333", "--workers", "1", stderr=io.StringIO())
    assert ran[0][3:6] == ["config.wsgi_govstack:application", "--bind", "127.0.0.1:3333"]
