"""Bearer tokens, scopes, rate limits and the audit of every call."""

from __future__ import annotations

import datetime as dt

import pytest

from govserve.api.models import ApiToken
from govserve.api.services import api_token_revoke
from govserve.api.tests.conftest import OPERATOR, Caller, MakeCaller, body
from govserve.audit.models import AuditEntry


def _problem(code: str, status: int, detail: str) -> dict[str, object]:
    titles = {401: "Unauthorized", 403: "Forbidden", 429: "Too Many Requests"}
    return {
        "type": f"urn:govserve:problem:{code}",
        "title": titles[status],
        "status": status,
        "detail": detail,
        "code": code,
    }


@pytest.mark.django_db
def test_no_token_is_refused_with_token_missing() -> None:
    # when a call has no Authorization header
    response = Caller(token=None, client=None).call("GET", "/api/v1/services")
    # then it is refused as a problem with the stable code, and a bearer challenge
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"] == 'Bearer error="invalid_token", error_description="token_missing"'
    assert body(response) == _problem("token_missing", 401, "Send a token in the Authorization header: Bearer gs_...")
    # and nothing is audited (no client is known)
    assert not AuditEntry.objects.filter(action="api.call.handled").exists()


@pytest.mark.parametrize(
    "token",
    ["nonsense", "gs_abcdefghijkm_" + "x" * 43, "Basic dXNlcjpwYXNz"],
    ids=["malformed", "unknown-prefix", "two-words"],
)
def test_a_token_govserve_did_not_issue_is_invalid(token: str, caller: Caller) -> None:
    # given a client with a real token, and a caller presenting something else
    forged = Caller(token=token, client=None)
    # when it calls
    response = forged.call("GET", "/api/v1/services")
    # then it is refused as an invalid token
    assert response.status_code == 401
    assert body(response)["code"] == "token_invalid"


def test_a_token_with_a_wrong_secret_is_invalid(caller: Caller) -> None:
    # given the real prefix with another secret
    assert caller.token is not None
    prefix = caller.token.split("_")[1]
    response = Caller(token=f"gs_{prefix}_{'y' * 43}", client=None).call("GET", "/api/v1/services")
    # then it is refused
    assert response.status_code == 401
    assert body(response)["code"] == "token_invalid"


def test_an_expired_token_is_refused(caller: Caller) -> None:
    # given the token's lifetime has ended
    ApiToken.objects.filter(client=caller.client).update(expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    # when it calls
    response = caller.call("GET", "/api/v1/services")
    # then it is refused as expired
    assert response.status_code == 401
    assert body(response) == _problem("token_expired", 401, "This token has expired")


def test_a_revoked_token_is_refused(caller: Caller) -> None:
    # given the operator revoked the token
    token = ApiToken.objects.get(client=caller.client)
    api_token_revoke(prefix=token.prefix, actor=OPERATOR)
    # when it calls
    response = caller.call("GET", "/api/v1/services")
    # then it is refused as revoked
    assert response.status_code == 401
    assert body(response) == _problem("token_revoked", 401, "This token has been revoked")


def test_a_switched_off_client_is_refused_as_revoked(caller: Caller) -> None:
    assert caller.client is not None
    caller.client.is_active = False
    caller.client.save()
    response = caller.call("GET", "/api/v1/services")
    assert response.status_code == 401
    assert body(response)["code"] == "token_revoked"


def test_a_token_without_the_scope_is_forbidden_and_the_refusal_audited(make_caller: MakeCaller) -> None:
    # given a token that may read applications only
    reader = make_caller("applications:read")
    # when it lists services
    response = reader.call("GET", "/api/v1/services")
    # then it is forbidden with the scope named
    assert response.status_code == 403
    assert body(response) == _problem("scope_missing", 403, "This token does not have the scope services:read")
    # and the refused call is audited with the client as the actor
    assert reader.client is not None
    entry = AuditEntry.objects.get(action="api.call.handled")
    assert (entry.actor_kind, entry.actor_id) == ("api_client", str(reader.client.id))
    assert entry.details == {
        "method": "GET",
        "operation": "service_list",
        "status": 403,
        "token": ApiToken.objects.get(client=reader.client).prefix,
    }


def test_every_call_is_audited_with_its_client(street_light: str, caller: Caller) -> None:
    # when a client makes two calls
    caller.call("GET", "/api/v1/services")
    caller.call("GET", f"/api/v1/services/{street_light}")
    # then each is one audit entry naming the client, the operation and the status
    assert caller.client is not None
    entries = AuditEntry.objects.filter(action="api.call.handled").order_by("id")
    assert [(entry.actor_id, entry.details["operation"], entry.details["status"]) for entry in entries] == [
        (str(caller.client.id), "service_list", 200),
        (str(caller.client.id), "service_get", 200),
    ]


def test_a_client_over_its_rate_limit_is_refused_with_retry_after(
    make_caller: MakeCaller, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a client allowed 2 calls a minute, the clock at the start of a minute
    moment = dt.datetime.now(tz=dt.UTC).replace(second=1, microsecond=0)
    monkeypatch.setattr("govserve.core.clock.now", lambda: moment)
    limited = make_caller(rate_limit_per_minute=2)
    assert [limited.call("GET", "/api/v1/services").status_code for _ in range(2)] == [200, 200]
    # when it calls a third time in that minute
    response = limited.call("GET", "/api/v1/services")
    # then it is refused until the minute ends
    assert response.status_code == 429
    assert response["Retry-After"] == "59"
    assert body(response)["code"] == "rate_limited"
    # and another client is not affected
    assert make_caller().call("GET", "/api/v1/services").status_code == 200
