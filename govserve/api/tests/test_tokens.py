"""API clients and tokens: hashed at rest, shown once, expiring, revocable, rotatable; the commands."""

from __future__ import annotations

import datetime as dt
import hashlib
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from govserve.api import errors
from govserve.api.models import ApiClient, ApiToken
from govserve.api.services import (
    api_client_create,
    api_token_authenticate,
    api_token_issue,
    api_token_revoke,
    api_token_rotate,
)
from govserve.api.tests.conftest import OPERATOR, Caller, body
from govserve.audit.models import AuditEntry
from govserve.core import clock


@pytest.mark.django_db
def test_a_token_is_stored_only_as_its_hash() -> None:
    # given a client
    client = api_client_create(name="partner-portal", actor=OPERATOR)
    # when a token is issued
    issued = api_token_issue(client=client, scopes=["applications:write", "services:read"], actor=OPERATOR)
    # then its text is gs_<prefix>_<secret> and only the SHA-256 of it is stored
    prefix = issued.text.split("_")[1]
    token = ApiToken.objects.get()
    assert issued.text.startswith(f"gs_{prefix}_")
    assert len(issued.text) == 3 + 12 + 1 + 43
    assert token.prefix == prefix
    assert token.token_hash == hashlib.sha256(issued.text.encode()).hexdigest()
    assert issued.text.split("_", 2)[2] not in str(ApiToken.objects.values_list().get())
    # and the scopes are kept in the platform's order, the lifetime 90 days
    assert token.scopes == ["services:read", "applications:write"]
    assert dt.timedelta(days=89, hours=23) < token.expires_at - clock.now() <= dt.timedelta(days=90)
    assert token.last_used_at is None
    # and the issue is audited with the prefix, never the secret
    entry = AuditEntry.objects.get(action="api.token.issued")
    assert entry.details == {
        "client": str(client.id),
        "prefix": prefix,
        "scopes": ["services:read", "applications:write"],
    }


@pytest.mark.django_db
@pytest.mark.parametrize("scopes", [[], ["services:read", "everything"]], ids=["none", "unknown"])
def test_unknown_or_no_scopes_are_refused_and_nothing_is_issued(scopes: list[str]) -> None:
    client = api_client_create(name="partner-portal", actor=OPERATOR)
    with pytest.raises(errors.TokenRequestInvalidError):
        api_token_issue(client=client, scopes=scopes, actor=OPERATOR)
    assert ApiToken.objects.count() == 0
    assert not AuditEntry.objects.filter(action="api.token.issued").exists()


@pytest.mark.django_db
def test_a_taken_or_malformed_client_name_is_refused() -> None:
    api_client_create(name="partner-portal", actor=OPERATOR)
    with pytest.raises(errors.ClientInvalidError, match="already a client named partner-portal"):
        api_client_create(name="partner-portal", actor=OPERATOR)
    with pytest.raises(errors.ClientInvalidError):
        api_client_create(name="Partner Portal!", actor=OPERATOR)
    assert list(ApiClient.objects.values_list("name", flat=True)) == ["partner-portal"]


def test_rotation_issues_a_new_token_and_revokes_the_old(caller: Caller) -> None:
    # given a working token
    old = ApiToken.objects.get(client=caller.client)
    # when it is rotated
    issued = api_token_rotate(prefix=old.prefix, actor=OPERATOR)
    # then the new token works with the same scopes, the old one is revoked and points to it
    old.refresh_from_db()
    assert old.revoked_at is not None
    assert old.replaced_by_id == issued.token.id
    assert issued.token.scopes == old.scopes
    assert caller.call("GET", "/api/v1/services").status_code == 401
    assert Caller(token=issued.text, client=caller.client).call("GET", "/api/v1/services").status_code == 200
    # and a revoked token cannot be rotated again
    with pytest.raises(errors.TokenNotActiveError):
        api_token_rotate(prefix=old.prefix, actor=OPERATOR)
    assert ApiToken.objects.filter(client=caller.client).count() == 2


def test_revocation_is_idempotent(caller: Caller) -> None:
    token = ApiToken.objects.get(client=caller.client)
    first = api_token_revoke(prefix=token.prefix, actor=OPERATOR).revoked_at
    second = api_token_revoke(prefix=token.prefix, actor=OPERATOR).revoked_at
    assert first == second
    assert AuditEntry.objects.filter(action="api.token.revoked").count() == 1
    with pytest.raises(errors.TokenNotFoundError):
        api_token_revoke(prefix="nosuchprefix", actor=OPERATOR)


@pytest.mark.django_db
def test_the_commands_create_issue_list_rotate_and_revoke() -> None:
    # when an operator creates a client and issues a token from the command line
    out = io.StringIO()
    call_command("api_client_create", "partner-portal", "--rate-limit", "120", "--description", "Partner", stdout=out)
    assert out.getvalue() == "Created API client partner-portal (120 calls a minute)\n"
    out = io.StringIO()
    call_command("api_token_issue", "partner-portal", "--scope", "services:read", "--days", "30", stdout=out)
    text = out.getvalue().splitlines()[0]
    token = ApiToken.objects.get()
    # then the token is printed once, on a line of its own, and it works
    assert text.startswith(f"gs_{token.prefix}_")
    assert Caller(token=text, client=None).call("GET", "/api/v1/services").status_code == 200
    # and the list shows the prefix and scopes, never the token
    out = io.StringIO()
    call_command("api_client_list", stdout=out)
    listing = out.getvalue()
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert (
        f"  {token.prefix}  active  services:read  expires {token.expires_at:%Y-%m-%d}"
        f"  last used {token.last_used_at:%Y-%m-%d %H:%M}"
    ) in listing
    assert text not in listing
    # when it is rotated, the new token is printed and the old one revoked
    out = io.StringIO()
    call_command("api_token_rotate", token.prefix, stdout=out)
    new_text = out.getvalue().splitlines()[0]
    assert Caller(token=new_text, client=None).call("GET", "/api/v1/services").status_code == 200
    assert Caller(token=text, client=None).call("GET", "/api/v1/services").status_code == 401
    # and revoking the new one stops it
    new_prefix = new_text.split("_")[1]
    out = io.StringIO()
    call_command("api_token_revoke", new_prefix, stdout=out)
    assert out.getvalue() == f"Revoked token {new_prefix}\n"
    assert Caller(token=new_text, client=None).call("GET", "/api/v1/services").status_code == 401
    assert body(Caller(token=new_text, client=None).call("GET", "/api/v1/services"))["code"] == "token_revoked"


@pytest.mark.django_db
def test_a_command_with_bad_input_fails_with_the_message() -> None:
    with pytest.raises(CommandError, match="There is no API client named nobody"):
        call_command("api_token_issue", "nobody", "--scope", "services:read")
    call_command("api_client_create", "partner-portal", stdout=io.StringIO())
    with pytest.raises(CommandError, match="unknown: everything"):
        call_command("api_token_issue", "partner-portal", "--scope", "everything")
    assert ApiToken.objects.count() == 0


@pytest.mark.django_db
def test_authentication_reads_the_token_and_its_client_in_one_statement_and_sees_a_revocation_at_once() -> None:
    # given a partner's token, used once
    client = api_client_create(name="partner-portal", actor=OPERATOR, rate_limit_per_minute=42)
    issued = api_token_issue(client=client, scopes=["applications:write"], actor=OPERATOR)
    api_token_authenticate(issued.text)

    # when it authenticates again
    with CaptureQueriesContext(connection) as queries:
        found = api_token_authenticate(issued.text)

    # then one statement read the token with its client, as the ORM would
    assert len(queries) == 1
    assert found.pk == issued.token.pk
    assert found.scopes == ["applications:write"]
    assert found.expires_at == ApiToken.objects.get().expires_at
    assert (found.client.pk, found.client.rate_limit_per_minute, found.client.is_active) == (client.pk, 42, True)
    assert found.client.user is None
    assert found.client.citizen is None
    # and once revoked (or its client switched off), the next call is refused
    api_token_revoke(prefix=issued.token.prefix, actor=OPERATOR)
    with pytest.raises(errors.TokenRevokedError):
        api_token_authenticate(issued.text)
    other = api_token_issue(client=client, scopes=["applications:write"], actor=OPERATOR)
    ApiClient.objects.filter(pk=client.pk).update(is_active=False)
    with pytest.raises(errors.TokenRevokedError):
        api_token_authenticate(other.text)
