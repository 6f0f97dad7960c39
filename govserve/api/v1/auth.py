"""Bearer authentication of API clients, scope checks, per-client rate limits and the audit of every call.

Each operation names the scope it needs (``auth=client_token("applications:write")``).
The token is checked first (401 ``token_missing``, ``token_invalid``,
``token_expired``, ``token_revoked``), then the call is counted against the
client's rate limit (429 ``rate_limited`` with ``Retry-After``; the
platform's fixed-window limiter, so the limit holds across processes), then
the scope (403 ``scope_missing``). Every call that presented a valid token
is audited (``api.call.handled``: method, operation, status) with the
client as the actor, refusals included (and, for an operator or bot
client, the staff account it acts as).

A call that may write (POST, PUT, PATCH, DELETE) to an operation with a
token runs in one transaction with its ``api.call.handled`` entry: the
operation's own transactions (a PATCH's page saves, a submission and its
idempotency key) become savepoints of it, so each keeps its all-or-nothing
and a typed refusal still keeps what was saved before it, but the request
commits once (on SQLite with ``synchronous=FULL`` and PostgreSQL with
synchronous commit, one wait for the disk instead of one per write). The
token is looked up and the call counted against the rate limit before that
transaction opens (:func:`_admit`): the counter's row is one per client and
window, and a transaction holding it would make a client's calls wait for
each other; the hit also stays counted when the operation fails. An
unexpected error (a 500) rolls back the whole call, audit entry included.
Uploads (multipart bodies) are left out: the documents services run outside
an outer transaction (their synchronous virus scan must not hold the
database's write lock, and a stored object must not outlive a rollback).

Task operations use :func:`operator_token`: the scope, and a client bound
to a staff account (an operator or a bot; a partner's token is refused with
403 ``operator_required``). The account's state is checked with the token
(401 ``token_account_unusable``); its roles are read by casework at the call.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponseBase
from ninja.security import HttpBearer

from govserve.accounts.models import User
from govserve.api import errors
from govserve.api.models import ApiClient, ApiToken
from govserve.api.services import api_token_authenticate
from govserve.audit.actors import Actor
from govserve.audit.services import audit_record
from govserve.core.errors import ApplicationError
from govserve.journeys.access import Applicant
from govserve.web.ratelimit import rate_limit

RATE_WINDOW_SECONDS = 60
_PRINCIPAL = "govserve_api_principal"
_ADMISSION = "govserve_api_admission"
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class ClientApplicant(Applicant):
    """An API client acting as the applicant of the applications it made (audited as the client)."""

    client_id: uuid.UUID | None = None

    @property
    def actor(self) -> Actor:
        """Return the client as the audit actor."""
        return Actor.for_api_client(self.client_id)

    @property
    def actor_kind(self) -> str:
        """Return ``api_client`` for the application's history."""
        return "api_client"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the client and the token it presented."""

    client: ApiClient
    token: ApiToken

    @property
    def actor(self) -> Actor:
        """Return the audit actor of the client."""
        return Actor.for_api_client(self.client.id)

    @property
    def user(self) -> User:
        """Return the staff account an operator or bot client acts as; raise OperatorRequiredError for a partner."""
        user = self.client.user
        if user is None:
            raise errors.OperatorRequiredError(
                "Tasks are for operator and bot tokens: this client acts for no staff account"
            )
        return user

    def applicant(self, application_id: uuid.UUID | None = None) -> Applicant:
        """Return the applicant the client is for ``application_id`` (checked by the caller to be its own).

        A citizen's token is that citizen, on their own applications (the
        journey's check), whatever ``application_id``.
        """
        if self.client.citizen is not None:
            return Applicant(citizen=self.client.citizen)
        granted = frozenset({application_id}) if application_id is not None else frozenset()
        return ClientApplicant(granted=granted, client_id=self.client.id)


class ClientToken(HttpBearer):
    """``Authorization: Bearer gs_...`` with the scope ``scope`` (and, with ``operator``, a staff account behind it).

    One class for every operation, so the OpenAPI document has one bearer scheme.
    """

    def __init__(self, scope: str, *, operator: bool = False) -> None:
        super().__init__()
        self.scope = scope
        self.operator = operator

    def __call__(self, request: HttpRequest) -> Principal:
        header = request.headers.get("Authorization", "")
        scheme, _, text = header.partition(" ")
        if not header:
            raise errors.TokenMissingError("Send a token in the Authorization header: Bearer gs_...")
        if scheme.lower() != "bearer" or not text.strip():
            raise errors.TokenInvalidError("The Authorization header is not a bearer token")
        return self.authenticate(request, text.strip())

    def authenticate(self, request: HttpRequest, token: str) -> Principal:
        """Return the principal of a usable token with this scope; raise the typed refusals (module docstring)."""
        admitted = getattr(request, _ADMISSION, None)
        if admitted is not None and admitted[0] == token:
            # Looked up and counted by audited() before the call's transaction: use that, never count twice.
            outcome = admitted[1]
            if isinstance(outcome, ApplicationError):
                raise outcome
            principal: Principal = outcome
        else:
            principal = _admit(request, token)
        if self.scope not in principal.token.scopes:
            raise errors.ScopeMissingError(f"This token does not have the scope {self.scope}")
        if self.operator:
            _ = principal.user  # a partner has none: 403 operator_required
        return principal


def _admit(request: HttpRequest, token: str) -> Principal:
    """Return the principal of the usable ``token``, its call counted against the client's rate limit.

    Raise the token's refusals and RateLimitedError (the principal is set on
    the request first, so a refused call is still audited with its client).
    """
    found = api_token_authenticate(token)
    principal = Principal(client=found.client, token=found)
    setattr(request, _PRINCIPAL, principal)
    rate_limit(f"api-client:{found.client_id}", found.client.rate_limit_per_minute, RATE_WINDOW_SECONDS)
    return principal


def _admit_early(request: HttpRequest) -> None:
    """Look the bearer token up and count the call now, outside the call's transaction; keep the outcome.

    The operation's :class:`ClientToken` then uses the kept principal or
    raises the kept refusal. A missing or malformed header is left to it.
    """
    scheme, _, text = request.headers.get("Authorization", "").partition(" ")
    token = text.strip()
    if scheme.lower() != "bearer" or not token:
        return
    try:
        outcome: Principal | ApplicationError = _admit(request, token)
    except ApplicationError as error:
        outcome = error
    setattr(request, _ADMISSION, (token, outcome))


def operator_token(scope: str) -> ClientToken:
    """Return a :class:`ClientToken` with ``scope`` that also needs a staff account behind the client."""
    return ClientToken(scope, operator=True)


def principal_of(request: HttpRequest) -> Principal:
    """Return the authenticated principal of the request (operations with ``auth`` only)."""
    principal = getattr(request, _PRINCIPAL, None)
    if not isinstance(principal, Principal):
        msg = "principal_of called on an operation without client authentication"
        raise TypeError(msg)
    return principal


def audited(run: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Wrap an operation's run: once answered, audit the call with its client (if a valid token was shown).

    A write to an operation with a token (not an upload) runs in one
    transaction with its audit entry, the token checked and counted before it
    (module docstring).
    """
    # ``run`` is the bound Operation.run: its url_name names the operation (two share a path, so resolve() cannot).
    operation = getattr(run, "__self__", None)
    operation_name = str(getattr(operation, "url_name", None) or run.__name__)

    def tokened() -> bool:
        return any(isinstance(callback, ClientToken) for callback in getattr(operation, "auth_callbacks", ()))

    @functools.wraps(run)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method in _WRITES and not (request.content_type or "").startswith("multipart/") and tokened():
            _admit_early(request)
            with transaction.atomic():
                response = run(request, *args, **kwargs)
                _call_audit(request, response, operation_name)
            return response
        response = run(request, *args, **kwargs)
        _call_audit(request, response, operation_name)
        return response

    return wrapped


def _call_audit(request: HttpRequest, response: HttpResponseBase, operation_name: str) -> None:
    principal = getattr(request, _PRINCIPAL, None)
    if isinstance(principal, Principal):
        audit_record(
            actor=principal.actor,
            action="api.call.handled",
            subject_type="api.client",
            subject_id=principal.client.id,
            details={
                "method": request.method or "",
                "operation": operation_name,
                "status": response.status_code,
                "token": principal.token.prefix,
                **({"user": str(principal.client.user_id)} if principal.client.user_id is not None else {}),
            },
        )
