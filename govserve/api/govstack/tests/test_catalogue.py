"""GovStack catalogue reads (public): /services, /services/{id}, /services/{id}/eForms, /eForms/{id}."""

from __future__ import annotations

import uuid

import pytest

from govserve.api.govstack.selectors import service_uuid
from govserve.api.govstack.tests.conftest import (
    GovStackCaller,
    assert_conforms,
    body,
    conformance_data,
)
from govserve.audit.models import AuditEntry
from govserve.catalogue.models import ServiceVersion
from govserve.catalogue.services import service_retire
from govserve.journeys.tests.support import examples_publish

API = "registration-bb-api.json"
LIGHT_UUID = str(uuid.uuid5(uuid.UUID("6f1d7a52-4f55-5b7e-9a62-2f3c51c0a7e1"), "report-street-light"))


@pytest.fixture
def all_examples(db: None) -> None:
    examples_publish()


def test_the_services_are_listed_for_anyone_in_the_specifications_shape(
    all_examples: None, anonymous: GovStackCaller
) -> None:
    # given the three example services are live
    # when a caller with no identity lists them
    response = anonymous.get("/services")
    # then they are all there, by title, shaped as the specification's service
    assert response.status_code == 200
    services = body(response)
    assert_conforms(API, "/services", services)
    assert [service["name"] for service in services] == [
        "Apply for a street trading licence",
        "Register a birth and newborn care",
        "Report a problem with a street light",
    ]
    light = services[2]
    assert light == {
        "id": LIGHT_UUID,
        "name": "Report a problem with a street light",
        "version": "1",
        "type": "Public",
        "isExecutable": True,
        "isClosed": False,
        "description": (
            "Tell the council about a street light that is broken, flickering, on during the day or damaged."
        ),
        "serviceBody": [
            {"code": "serviceKey", "value": "report-street-light"},
            {"code": "signIn", "value": "anonymous"},
        ],
    }
    # and the call is audited as anonymous
    entry = AuditEntry.objects.filter(action="govstack.call.handled").latest("id")
    assert entry.actor_id == "govstack"
    assert entry.details == {"method": "GET", "operation": "getServiceList", "status": 200, "client": None}


def test_the_name_filter_matches_part_of_a_name_and_nothing_matching_is_an_empty_list(
    all_examples: None, anonymous: GovStackCaller
) -> None:
    found = body(anonymous.get("/services?name=BIRTH"))
    assert [service["name"] for service in found] == ["Register a birth and newborn care"]
    response = anonymous.get("/services?name=Mother%20and%20Child%20Registration")
    assert response.status_code == 200
    assert body(response) == []


@pytest.mark.parametrize("service_id", [LIGHT_UUID, "report-street-light"], ids=["uuid", "slug"])
def test_a_service_is_found_by_its_uuid_or_its_key(
    street_light: str, anonymous: GovStackCaller, service_id: str
) -> None:
    response = anonymous.get(f"/services/{service_id}")
    assert response.status_code == 200
    service = body(response)
    assert_conforms(API, "/services/{serviceId}", service)
    assert service["id"] == LIGHT_UUID
    assert service_uuid("report-street-light") == LIGHT_UUID


@pytest.mark.parametrize(
    "service_id",
    [
        "f7d33db0-2809-484e-a780-76b7ccd4ecbf",  # the specification's example, not a service here
        "P2c9280957e579ad7017e58a3399f0068",  # the conformance data's non-UUID id
        "no-such-service",
    ],
)
def test_an_unknown_service_is_404_whatever_the_form_of_its_id(
    street_light: str, anonymous: GovStackCaller, service_id: str
) -> None:
    for path in (f"/services/{service_id}", f"/services/{service_id}/eForms"):
        response = anonymous.get(path)
        assert response.status_code == 404
        problem = body(response)
        assert problem["status"] == 404
        assert problem["code"] == "not_found"


def test_a_retired_service_is_still_readable_but_not_executable(street_light: str, anonymous: GovStackCaller) -> None:
    service_retire(service_id=street_light, actor=None, reason="Replaced")
    service = body(anonymous.get(f"/services/{LIGHT_UUID}"))
    assert (service["isExecutable"], service["isClosed"]) == (False, True)
    assert body(anonymous.get("/services")) == []


def test_the_eforms_of_a_service_are_its_published_versions(street_light: str, anonymous: GovStackCaller) -> None:
    response = anonymous.get(f"/services/{LIGHT_UUID}/eForms")
    assert response.status_code == 200
    eforms = body(response)
    assert_conforms(API, "/services/{serviceId}/eForms", eforms)
    version = ServiceVersion.objects.get(service_id=street_light, number=1)
    assert eforms == [
        {
            "eFormId": str(version.id),
            "name": "Report a problem with a street light",
            "description": (
                "Tell the council about a street light that is broken, flickering, on during the day or damaged."
            ),
            "version": "1",
            "latest": True,
        }
    ]


def test_an_eform_carries_the_json_schema_of_the_answers(street_light: str, anonymous: GovStackCaller) -> None:
    version = ServiceVersion.objects.get(service_id=street_light, number=1)
    response = anonymous.get(f"/eForms/{version.id}")
    assert response.status_code == 200
    eform = body(response)
    assert_conforms(API, "/eForms/{eFormId}", eform)
    assert eform["eFormId"] == str(version.id)
    assert eform["latest"] is True
    schema = eform["schema"]
    assert schema["type"] == "object"
    assert {"problem", "street", "reporter_email"} <= set(schema["properties"])
    # a service's key names its latest e-form
    assert body(anonymous.get("/eForms/report-street-light")) == eform


@pytest.mark.parametrize("eform_id", ["d98a205a-679b-485b-823d-7a32a391e744", "w12a205a-679b-xx34-823d-7a32a391e744"])
def test_an_unknown_eform_is_404(street_light: str, anonymous: GovStackCaller, eform_id: str) -> None:
    response = anonymous.get(f"/eForms/{eform_id}")
    assert response.status_code == 404
    assert body(response)["code"] == "not_found"


def test_the_conformance_data_services_are_all_unknown_here_and_never_a_format_error(
    street_light: str, anonymous: GovStackCaller
) -> None:
    for service in conformance_data()["services"]:
        assert anonymous.get(f"/services/{service['id']}").status_code == 404
        for eform in service["eForms"]:
            assert anonymous.get(f"/eForms/{eform['eFormId']}").status_code == 404


def test_a_known_client_is_audited_as_itself(street_light: str, caller: GovStackCaller) -> None:
    from govserve.api.models import ApiClient  # noqa: PLC0415

    assert caller.get("/services").status_code == 200
    entry = AuditEntry.objects.filter(action="govstack.call.handled").latest("id")
    client = ApiClient.objects.get(govstack_identity=caller.identity)
    assert (entry.actor_kind, entry.actor_id) == ("api_client", str(client.id))
    assert entry.details["client"] == caller.identity


@pytest.mark.parametrize("header", ["Information-Mediator-Client", "X-Road-Client"])
def test_a_malformed_identity_is_refused_even_on_public_reads(street_light: str, header: str) -> None:
    response = GovStackCaller("eGovStack/GOV/90000009", header=header).get("/services")
    assert response.status_code == 400
    assert body(response)["code"] == "client_header_invalid"


def test_an_unknown_identity_still_reads_the_public_catalogue(street_light: str) -> None:
    response = GovStackCaller("eGovStack/GOV/1/stranger").get("/services")
    assert response.status_code == 200
    entry = AuditEntry.objects.filter(action="govstack.call.handled").latest("id")
    assert entry.actor_id == "govstack"
    assert entry.details["client"] == "eGovStack/GOV/1/stranger"


def test_other_methods_are_405_in_json(street_light: str) -> None:
    from django.test import Client  # noqa: PLC0415

    response = Client().delete("/govstack/services")
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert body(response)["code"] == "method_not_allowed"
