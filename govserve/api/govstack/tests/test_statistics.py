"""GovStack statistics (/data/statistics and /data/statistics/1.0): counted from the decisions casework recorded."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from govserve.api.govstack.tests.conftest import IDENTITY, GovStackCaller, assert_conforms, body, govstack_client
from govserve.api.models import ApiClient, ApiToken
from govserve.audit.models import AuditEntry
from govserve.casework import services
from govserve.casework.tests.support import at, newborn_submitted, open_task, staff
from govserve.core import clock
from govserve.journeys.tests.support import examples_publish

STATISTICS = "registration-bb-statistics-api.json"
PATHS = ["/data/statistics", "/data/statistics/1.0"]
REGISTRAR = ("civil-registry", "registrar")


def _on(monkeypatch: pytest.MonkeyPatch, day: dt.date) -> None:
    moment = at(day)
    monkeypatch.setattr(clock, "now", lambda: moment)


@pytest.fixture
def decisions(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Four decisions by two registrars: approve and reject on 10 June 2026, send back on 11 June, approve on 2 July."""
    examples_publish()
    ann = staff(REGISTRAR, name="ann")
    bob = staff(REGISTRAR, name="bob")

    def decide(day: dt.date, who: Any, decision: str, **extra: Any) -> None:
        _on(monkeypatch, day - dt.timedelta(days=3))
        application, _ = newborn_submitted()
        _on(monkeypatch, day)
        task = open_task(application)
        services.task_claim(user=who, task_id=task.id)
        services.decision_record(user=who, task_id=task.id, decision=decision, **extra)

    decide(dt.date(2026, 6, 10), ann, "approve", data={"register_entry_number": ["B-1"]})
    decide(dt.date(2026, 6, 10), ann, "reject", reason="Registered elsewhere")
    decide(
        dt.date(2026, 6, 11),
        bob,
        "send_back",
        reason="Names differ",
        message="Check the names",
        flagged_fields=["baby_given_names"],
    )
    decide(dt.date(2026, 7, 2), bob, "approve", data={"register_entry_number": ["B-2"]})
    monkeypatch.undo()


def _counts(item: dict[str, Any]) -> tuple[int, int, int, int]:
    return (item["processed"], item["approved"], item["sentBack"], item["rejected"])


@pytest.mark.parametrize("path", PATHS)
def test_all_decisions_are_counted_in_the_specifications_shape(
    decisions: None, caller: GovStackCaller, path: str
) -> None:
    response = caller.get(path)
    assert response.status_code == 200
    items = body(response)
    assert_conforms(STATISTICS, "/data/statistics", items)
    assert items == [
        {
            "processed": 4,
            "approved": 2,
            "sentBack": 1,
            "rejected": 1,
            "references": {
                "timeframeDay": False,
                "timeframeWeek": False,
                "timeframeMonth": False,
                "timeframeYear": False,
            },
        }
    ]


def test_dates_are_inclusive(decisions: None, caller: GovStackCaller) -> None:
    items = body(caller.get("/data/statistics/1.0?startDate=2026-06-10&endDate=2026-06-10"))
    assert [_counts(item) for item in items] == [(2, 1, 0, 1)]
    assert items[0]["references"]["startDate"] == "2026-06-10"
    assert items[0]["references"]["endDate"] == "2026-06-10"
    nothing = body(caller.get("/data/statistics?startDate=2027-01-01"))
    assert [_counts(item) for item in nothing] == [(0, 0, 0, 0)]


@pytest.mark.parametrize(
    ("timeframe", "periods"),
    [
        ("day", [("2026-06-10", "2026-06-10", (2, 1, 0, 1)), ("2026-06-11", "2026-06-11", (1, 0, 1, 0)),
                 ("2026-07-02", "2026-07-02", (1, 1, 0, 0))]),
        ("week", [("2026-06-08", "2026-06-14", (3, 1, 1, 1)), ("2026-06-29", "2026-07-05", (1, 1, 0, 0))]),
        ("month", [("2026-06-01", "2026-06-30", (3, 1, 1, 1)), ("2026-07-01", "2026-07-31", (1, 1, 0, 0))]),
        ("year", [("2026-01-01", "2026-12-31", (4, 2, 1, 1))]),
    ],
)  # fmt: skip
def test_a_timeframe_gives_one_item_per_period_with_decisions(
    decisions: None, caller: GovStackCaller, timeframe: str, periods: list[Any]
) -> None:
    items = body(caller.get(f"/data/statistics?timeframe={timeframe}"))
    assert_conforms(STATISTICS, "/data/statistics", items)
    assert [(i["references"]["startDate"], i["references"]["endDate"], _counts(i)) for i in items] == periods
    assert all(item["references"][f"timeframe{timeframe.title()}"] for item in items)


def test_a_period_is_clipped_to_the_dates_asked(decisions: None, caller: GovStackCaller) -> None:
    items = body(caller.get("/data/statistics?timeframe=month&startDate=2026-06-11&endDate=2026-07-01"))
    assert [(i["references"]["startDate"], i["references"]["endDate"], _counts(i)) for i in items] == [
        ("2026-06-11", "2026-06-30", (1, 0, 1, 0))
    ]


def test_operator_role_and_registration_filters(decisions: None, caller: GovStackCaller) -> None:
    def counts(query: str) -> list[tuple[int, int, int, int]]:
        return [_counts(item) for item in body(caller.get(f"/data/statistics?{query}"))]

    assert counts("operator=Ann") == [(2, 1, 0, 1)]
    assert counts("operator=bob") == [(2, 1, 1, 0)]
    assert counts("operator=Nobody") == [(0, 0, 0, 0)]
    assert counts("role=registrar") == [(4, 2, 1, 1)]
    assert counts("role=health-visitor") == [(0, 0, 0, 0)]
    assert counts("registrationName=Register%20a%20birth") == [(4, 2, 1, 1)]
    assert counts("registrationName=register-newborn") == [(4, 2, 1, 1)]
    assert counts("registrationName=MCTS") == [(0, 0, 0, 0)]
    references = body(caller.get("/data/statistics?operator=Ann&role=registrar&registrationName=birth"))[0][
        "references"
    ]
    assert (references["operator"], references["role"], references["registrationName"]) == ("Ann", "registrar", "birth")


@pytest.mark.parametrize(
    "query",
    [
        "startDate=2026-13-01",
        "startDate=10/06/2026",
        "endDate=yesterday",
        "startDate=2026-06-11&endDate=2026-06-10",
        "timeframe=fortnight",
    ],
)
def test_invalid_filters_are_400(db: None, caller: GovStackCaller, query: str) -> None:
    response = caller.get(f"/data/statistics?{query}")
    assert response.status_code == 400
    problem = body(response)
    assert (problem["status"], problem["code"]) == (400, "request_invalid")


@pytest.mark.parametrize("path", PATHS)
def test_the_identity_is_required(db: None, anonymous: GovStackCaller, path: str) -> None:
    response = anonymous.get(path)
    assert response.status_code == 400
    assert body(response)["code"] == "client_header_missing"


@pytest.mark.parametrize("identity", ["eregistrations-dev", "eGovStack/GOV/90000009", "a/b/c/d/e", "a//c/d", " / / / "])
def test_a_malformed_identity_is_400(db: None, identity: str) -> None:
    response = GovStackCaller(identity).get("/data/statistics")
    assert response.status_code == 400
    assert body(response)["code"] == "client_header_invalid"


def test_an_unknown_identity_is_403_and_audited(db: None) -> None:
    response = GovStackCaller("eGovStack/GOV/1/stranger").get("/data/statistics")
    assert response.status_code == 403
    assert body(response)["code"] == "client_unknown"
    entry = AuditEntry.objects.filter(action="govstack.call.handled").latest("id")
    assert entry.details == {
        "method": "GET",
        "operation": "Statistics",
        "status": 403,
        "client": "eGovStack/GOV/1/stranger",
    }


def test_x_road_client_header_is_read_too(registered: ApiClient) -> None:
    assert GovStackCaller(IDENTITY, header="X-Road-Client").get("/data/statistics").status_code == 200


def test_a_client_without_a_usable_govstack_token_is_refused(db: None) -> None:
    # a client whose token lacks the scope
    govstack_client("eGovStack/GOV/2/reader", scopes=("services:read",))
    assert GovStackCaller("eGovStack/GOV/2/reader").get("/data/statistics").status_code == 403
    # a client whose govstack token was revoked, or who was switched off
    client = govstack_client("eGovStack/GOV/3/revoked")
    assert GovStackCaller("eGovStack/GOV/3/revoked").get("/data/statistics").status_code == 200
    ApiToken.objects.filter(client=client).update(revoked_at=clock.now())
    assert GovStackCaller("eGovStack/GOV/3/revoked").get("/data/statistics").status_code == 403
    other = govstack_client("eGovStack/GOV/4/off")
    ApiClient.objects.filter(pk=other.pk).update(is_active=False)
    assert GovStackCaller("eGovStack/GOV/4/off").get("/data/statistics").status_code == 403


def test_a_call_is_audited_with_the_client(registered: ApiClient, caller: GovStackCaller) -> None:
    assert caller.get("/data/statistics/1.0").status_code == 200
    entry = AuditEntry.objects.filter(action="govstack.call.handled").latest("id")
    assert (entry.actor_kind, entry.actor_id) == ("api_client", str(registered.id))
    assert entry.subject_id == str(registered.id)
    assert entry.details["client"] == IDENTITY


def test_a_client_over_its_rate_limit_is_429_with_retry_after(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    _on(monkeypatch, dt.date(2026, 6, 10))  # one fixed minute: no window ends between the calls
    client = govstack_client("eGovStack/GOV/5/busy")
    ApiClient.objects.filter(pk=client.pk).update(rate_limit_per_minute=2)
    busy = GovStackCaller("eGovStack/GOV/5/busy")
    assert [busy.get("/data/statistics").status_code for _ in range(2)] == [200, 200]
    refused = busy.get("/data/statistics")
    assert refused.status_code == 429
    assert body(refused)["code"] == "rate_limited"
    assert 1 <= int(refused["Retry-After"]) <= 60
    entry = AuditEntry.objects.filter(action="govstack.call.handled").latest("id")
    assert entry.details["status"] == 429
