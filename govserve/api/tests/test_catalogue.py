"""The catalogue through the API: live services (cursor pages), a published definition, its answers' JSON Schema."""

from __future__ import annotations

import pytest

from govserve.api.tests.conftest import Caller, body
from govserve.catalogue.services import service_retire
from govserve.journeys.tests.support import examples_publish


@pytest.fixture
def all_examples(db: None) -> None:
    examples_publish()


def test_services_are_listed_by_title_a_page_at_a_time(all_examples: None, caller: Caller) -> None:
    # given the three example services are live
    # when a client lists them two at a time
    first = caller.call("GET", "/api/v1/services?limit=2")
    # then the first page has two, by title, and a cursor
    assert first.status_code == 200
    page = body(first)
    assert [item["id"] for item in page["items"]] == ["street-trading-licence", "register-newborn"]
    # and the cursor gives the rest, with no further cursor
    second = body(caller.call("GET", f"/api/v1/services?limit=2&cursor={page['next_cursor']}"))
    assert second["items"] == [
        {
            "id": "report-street-light",
            "title": "Report a problem with a street light",
            "summary": (
                "Tell the council about a street light that is broken, flickering, on during the day or damaged."
            ),
            "sign_in": "anonymous",
        }
    ]
    assert second["next_cursor"] is None


def test_the_list_is_in_welsh_on_request(street_light: str, caller: Caller) -> None:
    page = body(caller.call("GET", "/api/v1/services?language=cy"))
    assert page["items"][0]["title"] == "Rhoi gwybod am broblem gyda golau stryd"


@pytest.mark.parametrize(
    "cursor", ["nonsense!", "eyJ4IjoxfQ", "eyJhZnRlciI6Im5vLXN1Y2gifQ"], ids=["garbage", "other-keys", "unknown-id"]
)
def test_a_cursor_the_api_did_not_give_is_refused(street_light: str, caller: Caller, cursor: str) -> None:
    response = caller.call("GET", f"/api/v1/services?cursor={cursor}")
    assert response.status_code == 400
    assert body(response)["code"] == "cursor_invalid"


def test_a_limit_out_of_range_is_a_validation_problem(street_light: str, caller: Caller) -> None:
    response = caller.call("GET", "/api/v1/services?limit=0")
    assert response.status_code == 422
    assert body(response) == {
        "type": "urn:govserve:problem:request_invalid",
        "title": "Unprocessable Content",
        "status": 422,
        "detail": "The request does not match the operation's schema",
        "code": "request_invalid",
        "errors": [
            {
                "field": "limit",
                "code": "greater_than_equal",
                "detail": "Input should be greater than or equal to 1",
                "parameter": "limit",
                "in": "query",
            }
        ],
    }


def test_a_service_definition_is_served_with_an_etag(street_light: str, caller: Caller) -> None:
    # when a client reads the published definition
    response = caller.call("GET", f"/api/v1/services/{street_light}")
    # then it has the version and the definition as JSON
    assert response.status_code == 200
    served = body(response)
    assert (served["id"], served["version"]) == (street_light, 1)
    assert served["definition"]["sign_in"] == "anonymous"
    assert [page["id"] for page in served["definition"]["pages"]] == [
        "private-land",
        "not-council",
        "problem",
        "location",
        "photo",
        "your-details",
    ]
    # and reading it again with its ETag answers 304 with no body
    again = caller.call("GET", f"/api/v1/services/{street_light}", if_none_match=response["ETag"])
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == response["ETag"]
    # and another tag gets the whole body
    assert caller.call("GET", f"/api/v1/services/{street_light}", if_none_match='"other"').status_code == 200


def test_an_unknown_service_or_version_is_not_found(street_light: str, caller: Caller) -> None:
    missing = caller.call("GET", "/api/v1/services/no-such-service")
    assert missing.status_code == 404
    assert body(missing)["code"] == "service_not_found"
    version = caller.call("GET", f"/api/v1/services/{street_light}?version=7")
    assert version.status_code == 404
    assert body(version)["code"] == "version_not_found"


def test_a_retired_service_is_closed_but_its_versions_still_load(street_light: str, caller: Caller) -> None:
    service_retire(service_id=street_light, actor=None, reason="test")
    latest = caller.call("GET", f"/api/v1/services/{street_light}")
    assert latest.status_code == 409
    assert body(latest)["code"] == "service_retired"
    assert caller.call("GET", f"/api/v1/services/{street_light}?version=1").status_code == 200
    assert body(caller.call("GET", "/api/v1/services"))["items"] == []


def test_the_answers_json_schema_follows_the_fields(street_light: str, caller: Caller) -> None:
    # when a client reads the JSON Schema of the answers
    response = caller.call("GET", f"/api/v1/services/{street_light}/answers-schema")
    # then it is a 2020-12 schema with one property per field, typed as the API reads answers
    assert response.status_code == 200
    schema = body(response)["answers_schema"]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    properties = schema["properties"]
    assert list(properties) == [
        "on_private_land",
        "problem",
        "exposed_wires",
        "lamp_post_number",
        "street",
        "postcode",
        "location_details",
        "photo",
        "reporter_name",
        "reporter_email",
        "reporter_phone",
        "contact_preference",
    ]
    assert properties["problem"] == {
        "title": "What is wrong with the light?",
        "type": "string",
        "enum": ["out", "flickering", "day", "damaged"],
        "x-govserve-page": "problem",
    }
    assert properties["lamp_post_number"]["anyOf"] == [
        {"type": "string", "pattern": "^WM-[0-9]{5}$"},
        {"type": "null"},
    ]
    assert properties["on_private_land"]["type"] == "boolean"
    assert properties["reporter_email"]["format"] == "email"
    assert properties["photo"]["readOnly"] is True


@pytest.mark.parametrize(
    "path", ["/api/v1/services/{id}", "/api/v1/services/{id}/answers-schema"], ids=["get", "schema"]
)
def test_a_version_too_big_for_the_database_is_a_request_problem(path: str, street_light: str, caller: Caller) -> None:
    # when a version number beyond any the database can hold is asked for (Schemathesis found a 500 here)
    response = caller.call("GET", path.format(id=street_light) + "?version=6836857616076412234498048")
    # then it is refused as a parameter out of range, not a server error
    assert response.status_code == 422
    assert body(response)["code"] == "request_invalid"
