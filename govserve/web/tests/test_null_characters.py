"""A NUL character anywhere a request carries text is refused where it enters: 422 on API v1, 400 elsewhere.

PostgreSQL's text cannot hold NUL: without the refusal a service id or a
filter holding one reached a lookup and the driver's DataError was a 500
(found by schemathesis on PostgreSQL).
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_api_v1_refuses_a_json_string_holding_nul_with_its_problem_shape() -> None:
    body = json.dumps({"service_id": "report-street-light\x00", "answers": {}})
    assert "\\u0000" in body

    response = Client().post("/api/v1/applications", body, content_type="application/json")

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert (problem["code"], problem["errors"][0]["field"], problem["errors"][0]["code"]) == (
        "request_invalid",
        "body",
        "null_character",
    )


def test_api_v1_refuses_nul_in_the_query_string() -> None:
    response = Client().get("/api/v1/services?cursor=%00abc")

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query"


def test_govstack_refuses_nul_in_a_filter_with_a_400_problem() -> None:
    response = Client().get("/govstack/tasks?search=a%00b")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json()["code"] == "request_invalid"


def test_a_page_refuses_nul_in_a_search_or_a_form_with_the_400_page() -> None:
    searched = Client().get("/services/?q=light%00")
    posted = Client().post("/sign-in", "email=a%00@example.org", content_type="application/x-www-form-urlencoded")

    for response in (searched, posted):
        assert response.status_code == 400
        assert response["Content-Type"].startswith("text/html")
        assert "govuk-template" in response.content.decode()


def test_text_that_only_spells_the_escape_is_not_refused() -> None:
    # a JSON string holding a backslash followed by "u0000" is six ordinary characters
    body = json.dumps({"service_id": "report-street-light", "note": "\\u0000"})
    assert "\\\\u0000" in body

    response = Client().post("/api/v1/applications", body, content_type="application/json")

    assert response.status_code == 401  # reached the API: no token


def test_an_ordinary_request_reaches_its_view() -> None:
    assert Client().get("/services/").status_code == 200
