"""Repeating groups through the API: items added, changed and removed by the journey's own services."""

from __future__ import annotations

from typing import Any

import pytest

from govserve.accounts.citizens import citizen_create
from govserve.api.services import api_applicant_token_issue
from govserve.api.tests.conftest import Caller, MakeCaller, body
from govserve.audit.models import AuditEntry
from govserve.core import clock
from govserve.journeys import services as journey_services
from govserve.journeys.access import Applicant
from govserve.journeys.models import Application
from govserve.journeys.tests.support import STREET_TRADING, TRADING_FORMS, TRADING_PATH, examples_publish

ITEMS = "/api/v1/applications/{id}/pages/assistants/groups/assistants/items"
GROWN_UP = {"assistant_name": "Grace Hopper", "assistant_date_of_birth": "1990-12-09"}


@pytest.fixture
def trading(db: None) -> tuple[Caller, Application]:
    """A citizen's street trading draft answered up to its assistants page, and the citizen's own API caller."""
    examples_publish(STREET_TRADING)
    citizen = citizen_create(email="trader@example.org")
    person = Applicant(citizen=citizen)
    application = journey_services.application_start(
        service_id=STREET_TRADING, applicant=person, language="en"
    ).application
    for page_id in TRADING_PATH[: TRADING_PATH.index("assistants")]:
        journey_services.page_answers_save(
            application_id=application.id, applicant=person, page_id=page_id, data=TRADING_FORMS[page_id], language="en"
        )
    issued = api_applicant_token_issue(citizen=citizen)
    return Caller(token=issued.text, client=issued.token.client), application


def test_items_are_added_changed_listed_and_removed_through_the_journey(trading: tuple[Caller, Application]) -> None:
    caller, application = trading
    items = ITEMS.format(id=application.id)
    # when the citizen's app adds two assistants
    first = caller.call("POST", items, {"answers": GROWN_UP})
    second = caller.call(
        "POST", items, {"answers": {"assistant_name": "Alan Turing", "assistant_date_of_birth": "1985-06-23"}}
    )
    # then each is saved as the web's "Add another" page saves it, with an id
    assert first.status_code == second.status_code == 201, first.content
    added = body(second)
    assert [item["assistant_name"] for item in added["items"]] == ["Grace Hopper", "Alan Turing"]
    first_id, second_id = (item["_id"] for item in added["items"])
    assert body(first)["item_id"] == first_id
    assert added["items"][0] == {"_id": first_id, **GROWN_UP}
    assert AuditEntry.objects.filter(action="journeys.application.group_item_saved").count() == 2
    # when one is changed and the other removed
    changed = caller.call("PUT", f"{items}/{first_id}", {"answers": {**GROWN_UP, "assistant_name": "Grace B. Hopper"}})
    removed = caller.call("DELETE", f"{items}/{second_id}")
    assert changed.status_code == removed.status_code == 200, changed.content
    listed = caller.call("GET", items)
    assert body(listed)["items"] == [{"_id": first_id, **GROWN_UP, "assistant_name": "Grace B. Hopper"}]
    assert AuditEntry.objects.filter(action="journeys.application.group_item_removed").count() == 1
    # and once the page is confirmed, the answers read lists the items
    confirmed = caller.call("PUT", f"/api/v1/applications/{application.id}/pages/assistants", {"answers": {}})
    assert confirmed.status_code == 200, confirmed.content
    assert "assistants" in body(confirmed)["application"]["pages_completed"]
    answers = body(caller.call("GET", f"/api/v1/applications/{application.id}/answers"))["answers"]
    assert answers["assistants"] == [{"_id": first_id, **GROWN_UP, "assistant_name": "Grace B. Hopper"}]


@pytest.mark.parametrize(
    "case",
    [
        (
            {"assistant_name": "", "assistant_date_of_birth": "1990-12-09"},
            422,
            "answers_invalid",
            "assistant_name",
            None,
        ),
        ({"assistant_name": "Kid", "assistant_date_of_birth": "2020-01-01"}, 422, "answers_invalid", None, None),
        (
            {"assistant_name": "Ann", "assistant_date_of_birth": "9 May"},
            422,
            "answers_invalid",
            "assistant_date_of_birth",
            "/answers/assistant_date_of_birth",
        ),
        ({**GROWN_UP, "favourite_colour": "red"}, 422, "answers_unknown", "favourite_colour", None),
    ],
    ids=["required", "rule", "type", "unknown"],
)
def test_a_bad_item_is_refused_with_field_errors_and_nothing_is_saved(
    trading: tuple[Caller, Application], case: tuple[dict[str, Any], int, str, str | None, str | None]
) -> None:
    answers, status, code, field, pointer = case
    caller, application = trading
    response = caller.call("POST", ITEMS.format(id=application.id), {"answers": answers})
    assert response.status_code == status
    problem = body(response)
    assert response["Content-Type"] == "application/problem+json"
    assert problem["code"] == code
    if field is not None:
        assert field in [entry["field"] for entry in problem["errors"]]
    if pointer is not None:
        assert pointer in [entry["pointer"] for entry in problem["errors"]]
    if code == "answers_invalid" and field is None:
        # the web's own rule message (age(...) >= 16)
        assert "Assistants must be 16 or older" in [entry["detail"] for entry in problem["errors"]]
    assert not AuditEntry.objects.filter(action="journeys.application.group_item_saved").exists()


def test_the_list_is_refused_beyond_its_max_items(trading: tuple[Caller, Application]) -> None:
    caller, application = trading
    for _ in range(4):
        assert caller.call("POST", ITEMS.format(id=application.id), {"answers": GROWN_UP}).status_code == 201
    refused = caller.call("POST", ITEMS.format(id=application.id), {"answers": GROWN_UP})
    assert refused.status_code == 422
    assert [(entry["field"], entry["code"]) for entry in body(refused)["errors"]] == [("assistants", "max_items")]


@pytest.mark.parametrize(
    ("method", "path", "code"),
    [
        ("PUT", ITEMS + "/0000deadbeef", "group_item_not_found"),
        ("DELETE", ITEMS + "/0000deadbeef", "group_item_not_found"),
        ("POST", "/api/v1/applications/{id}/pages/assistants/groups/nope/items", "page_not_found"),
        ("POST", "/api/v1/applications/{id}/pages/photo/groups/assistants/items", "page_not_found"),
        ("POST", "/api/v1/applications/{id}/pages/nope/groups/assistants/items", "page_not_found"),
    ],
    ids=["change-unknown", "remove-unknown", "unknown-group", "group-of-another-page", "unknown-page"],
)
def test_unknown_items_groups_and_pages_are_not_found(
    trading: tuple[Caller, Application], method: str, path: str, code: str
) -> None:
    caller, application = trading
    response = caller.call(
        method, path.format(id=application.id), {"answers": GROWN_UP} if method != "DELETE" else None
    )
    assert response.status_code == 404
    assert body(response)["code"] == code


def test_another_clients_application_is_not_found(trading: tuple[Caller, Application], make_caller: MakeCaller) -> None:
    caller, application = trading
    added = body(caller.call("POST", ITEMS.format(id=application.id), {"answers": GROWN_UP}))
    other = make_caller()
    items = ITEMS.format(id=application.id)
    for method, path, payload in [
        ("GET", items, None),
        ("POST", items, {"answers": GROWN_UP}),
        ("PUT", f"{items}/{added['item_id']}", {"answers": GROWN_UP}),
        ("DELETE", f"{items}/{added['item_id']}", None),
    ]:
        response = other.call(method, path, payload)
        assert response.status_code == 404, (method, response.content)
        assert body(response)["code"] == "application_not_found"
    assert len(body(caller.call("GET", items))["items"]) == 1


def test_a_group_in_a_pages_json_is_refused_and_the_schema_describes_its_items(
    trading: tuple[Caller, Application],
) -> None:
    caller, application = trading
    refused = caller.call(
        "PUT", f"/api/v1/applications/{application.id}/pages/assistants", {"answers": {"assistants": [GROWN_UP]}}
    )
    assert refused.status_code == 422
    assert body(refused)["errors"][0]["code"] == "answer_unsupported"
    schema = body(caller.call("GET", f"/api/v1/services/{STREET_TRADING}/answers-schema"))["answers_schema"]
    group = schema["properties"]["assistants"]
    assert (group["type"], group["minItems"], group["maxItems"], group["readOnly"]) == ("array", 0, 4, True)
    assert list(group["items"]["properties"]) == ["_id", "assistant_name", "assistant_date_of_birth"]
    assert group["items"]["properties"]["assistant_date_of_birth"]["type"] == "string"
    assert group["items"]["additionalProperties"] is False


def test_a_sent_application_cannot_change_its_items(trading: tuple[Caller, Application]) -> None:
    caller, application = trading
    Application.objects.filter(pk=application.pk).update(status="submitted", submitted_at=clock.now())
    response = caller.call("POST", ITEMS.format(id=application.id), {"answers": GROWN_UP})
    assert response.status_code == 409
    assert body(response)["code"] == "application_not_editable"
