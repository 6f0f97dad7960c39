"""Repeating groups in GovStack: arrays of objects in the e-form's schema and in an application file's formData."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema_rs
import pytest

from govserve.api.govstack.selectors import service_uuid
from govserve.api.govstack.tests.conftest import body
from govserve.api.govstack.tests.test_writes import ANSWERS, conforms, send, submission
from govserve.api.models import ApiClient
from govserve.api.services import client_application_record
from govserve.api.submission import answers_walk_save
from govserve.api.v1.auth import ClientApplicant
from govserve.audit.models import AuditEntry
from govserve.journeys import selectors as journey_selectors
from govserve.journeys import services as journeys
from govserve.journeys.access import Applicant
from govserve.journeys.models import Application, ApplicationStatus
from govserve.journeys.routing import ITEM_ID
from govserve.journeys.tests.support import STREET_LIGHT, example_text, examples_publish, publish_text

CREATE = "/services/{serviceId}/applications"
FILE = "/applications/{fileId}"
WITNESSES_PAGE = """\
  - id: witnesses
    title:
      en: Who else saw the problem?
      cy: Pwy arall welodd y broblem?
    fields:
      - id: witnesses
        type: group
        label:
          en: Witnesses
          cy: Tystion
        item_label:
          en: witness
          cy: tyst
        classification: personal
        validation:
          min_items: 0
          max_items: 2
        fields:
          - id: witness_name
            type: text
            label:
              en: Witness's name
              cy: Enw'r tyst
            classification: personal
            validation:
              max_length: 50
          - id: witnessed_on
            type: date
            label:
              en: When did they see it?
              cy: Pryd welson nhw hi?
            classification: personal
            validation:
              before: today
"""
WITNESSES = [
    {"witness_name": "Ada Lovelace", "witnessed_on": "2026-01-05"},
    {"witness_name": "Mary Somerville", "witnessed_on": "2025-12-24"},
]


@pytest.fixture
def with_witnesses(db: None, registered: ApiClient) -> str:
    """The street light report, version 2 with a last page asking for witnesses (a repeating group)."""
    examples_publish(STREET_LIGHT)
    text = example_text(STREET_LIGHT)
    text = text.replace("\nregistrations:\n", f"\n{WITNESSES_PAGE}\nregistrations:\n", 1)
    publish_text(text, "report-street-light-witnesses.yaml")
    return STREET_LIGHT


def _answers(witnesses: Any) -> dict[str, Any]:
    answers = copy.deepcopy(ANSWERS)
    answers["witnesses"] = {"witnesses": witnesses}
    return answers


def _eform_schema(service: str) -> dict[str, Any]:
    forms = body(send("GET", f"/services/{service_uuid(service)}/eForms"))
    latest = next(item for item in forms if item["latest"])
    schema: dict[str, Any] = body(send("GET", f"/eForms/{latest['eFormId']}"))["schema"]
    return schema


def test_the_eform_schema_gives_a_repeating_group_as_an_array_of_objects(with_witnesses: str) -> None:
    group = _eform_schema(with_witnesses)["properties"]["witnesses"]
    assert group["type"] == "array"
    assert "readOnly" not in group
    assert (group["minItems"], group["maxItems"], group["x-govserve-page"]) == (0, 2, "witnesses")
    assert group["items"]["type"] == "object"
    assert group["items"]["additionalProperties"] is False
    assert set(group["items"]["properties"]) == {"witness_name", "witnessed_on"}
    assert group["items"]["properties"]["witnessed_on"]["format"] == "date"
    assert "array of witness items" in group["description"]


def test_a_file_with_group_items_is_made_item_by_item_and_read_back_as_an_array(with_witnesses: str) -> None:
    # when a client sends a file whose formData holds the group's items
    response = send("POST", f"/services/{service_uuid(with_witnesses)}/applications", submission(_answers(WITNESSES)))
    # then the file is sent with the items, each saved as the web's "add another" saves it
    assert response.status_code == 200, response.content
    found = body(response)
    conforms(CREATE, "post", found)
    application = Application.objects.get(pk=found["fileId"])
    assert application.status == ApplicationStatus.SUBMITTED
    assert AuditEntry.objects.filter(action="journeys.application.group_item_saved").count() == 2
    # and the file reads them back as the array it was sent, which the e-form's schema accepts
    data = found["applicationData"]["formData"]["data"]
    assert data["witnesses"] == {"witnesses": WITNESSES}
    read = body(send("GET", f"/applications/{found['fileId']}"))
    assert read["applicationData"]["formData"]["data"]["witnesses"] == {"witnesses": WITNESSES}
    validator = jsonschema_rs.Draft202012Validator(_eform_schema(with_witnesses)["properties"]["witnesses"])
    assert list(validator.iter_errors(WITNESSES)) == []


def test_an_empty_or_missing_group_is_a_file_without_items(with_witnesses: str) -> None:
    for answers in (_answers([]), _answers(None), ANSWERS):
        response = send("POST", f"/services/{service_uuid(with_witnesses)}/applications", submission(answers))
        assert response.status_code == 200, response.content
        assert body(response)["applicationData"]["formData"]["data"]["witnesses"] == {"witnesses": []}
    assert not AuditEntry.objects.filter(action="journeys.application.group_item_saved").exists()


@pytest.mark.parametrize(
    ("witnesses", "code", "entry"),
    [
        (
            [WITNESSES[0], {"witness_name": "Ann", "witnessed_on": "2999-01-01"}],
            "answers_invalid",
            {"field": "witnessed_on", "pointer": "/formData/data/witnesses/witnesses/1/witnessed_on"},
        ),
        (
            [{"witness_name": "Ann", "witnessed_on": "5 January"}],
            "answers_invalid",
            {"field": "witnessed_on", "pointer": "/formData/data/witnesses/witnesses/0/witnessed_on"},
        ),
        (
            [{"witness_name": "Ann", "witnessed_on": "2026-01-05", "colour": "red"}],
            "answers_unknown",
            {"field": "colour", "code": "unknown_field", "pointer": "/formData/data/witnesses/witnesses/0/colour"},
        ),
        (
            "Ada and Mary",
            "malformed_body",
            {"field": "witnesses", "code": "type", "pointer": "/formData/data/witnesses/witnesses"},
        ),
        ([*WITNESSES, WITNESSES[0]], "answers_invalid", {"field": "witnesses", "code": "max_items"}),
    ],
    ids=["future-date", "not-a-date", "unknown-member", "not-an-array", "too-many"],
)
def test_a_refused_item_is_400_pointing_into_the_array_and_leaves_no_application(
    with_witnesses: str, witnesses: Any, code: str, entry: dict[str, str]
) -> None:
    response = send("POST", f"/services/{service_uuid(with_witnesses)}/applications", submission(_answers(witnesses)))
    assert response.status_code == 400, response.content
    found = body(response)
    assert found["code"] == code
    assert any(entry.items() <= error.items() for error in found["errors"]), found["errors"]
    assert Application.objects.count() == 0


def test_a_put_replaces_a_drafts_items(with_witnesses: str, registered: ApiClient) -> None:
    # given a client's draft with one witness already added (as the web's "add another" adds one)
    started = journeys.application_start(
        service_id=with_witnesses, applicant=Applicant(), language="en", contact_email="ann@example.org"
    )
    draft = started.application
    client_application_record(client=registered, application_id=draft.id)
    owner = ClientApplicant(granted=frozenset({draft.id}), client_id=registered.id)
    _one_witness_added(draft, owner)
    # when the client PUTs the whole file with two other witnesses
    response = send("PUT", f"/applications/{draft.id}", submission(_answers(WITNESSES)))
    # then the draft's list is the two sent, and the file is sent
    assert response.status_code == 200, response.content
    assert body(response)["applicationData"]["formData"]["data"]["witnesses"] == {"witnesses": WITNESSES}
    draft.refresh_from_db()
    assert draft.status == ApplicationStatus.SUBMITTED
    assert AuditEntry.objects.filter(action="journeys.application.group_item_removed").count() == 1


def _one_witness_added(draft: Application, owner: ClientApplicant) -> None:
    """Answer the draft's pages through the API's walk, then add one witness as the web's "add another" does."""
    state = journey_selectors.state_load(draft)
    answers = {field_id: value for page in ANSWERS.values() for field_id, value in page.items()}
    walked = answers_walk_save(owner, draft, state, answers)
    assert "witnesses" in walked.saved  # a list with no item is an answer (min_items 0)
    journeys.group_item_save(
        application_id=draft.id,
        applicant=owner,
        page_id="witnesses",
        group_id="witnesses",
        item_id=None,
        data={
            "witness_name": "Someone Else",
            "witnessed_on-day": "1",
            "witnessed_on-month": "2",
            "witnessed_on-year": "2026",
        },
        language="en",
    )
    draft.refresh_from_db()
    items = journey_selectors.state_load(draft).answers.get("witnesses") or []
    assert [item["witness_name"] for item in items] == ["Someone Else"]
    assert all(ITEM_ID in item for item in items)
