"""Writes of the API app: clients, tokens (issue, revoke, rotate), authentication, submission keys.

Tokens are ``gs_<prefix>_<secret>``: the prefix (12 characters) is public
and finds the row; the secret has 256 bits of entropy; only the SHA-256 of
the whole token is stored, so a database leak gives nobody a usable token
(SHA-256 suffices, unlike for passwords: the secret is random, not guessed).
The token is returned once, by :func:`api_token_issue` or
:func:`api_token_rotate`, and never again.

Operator and bot clients are bound to a staff account (models docstring):
:func:`api_operator_token_issue` gives an MFA-enrolled staff member a
client of their own and a token; :func:`api_bot_client_create` makes a bot's
client with its service account. Their tokens carry only the task scopes
and work only while the account may act (:func:`bound_account_problem`,
checked at every call).

Every write runs in one transaction with its audit entry; the actor is the
operator (``system:cli`` from the management commands).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction

from govserve.accounts.models import Citizen, User
from govserve.accounts.policies import account_usable
from govserve.accounts.services import staff_invite
from govserve.accounts.signin import confirmed_devices
from govserve.api import errors
from govserve.api.models import (
    APPLICANT_SCOPES,
    SCOPES,
    TASK_SCOPES,
    ApiClient,
    ApiToken,
    ClientApplication,
    ClientKind,
    SubmissionKey,
)
from govserve.audit.actors import Actor
from govserve.audit.services import audit_record
from govserve.core import clock
from govserve.core.queries import row_insert_unless_taken

TOKEN_PREFIX = "gs"  # noqa: S105 - the public marker of govserve tokens, not a secret
PREFIX_LENGTH = 12
SECRET_BYTES = 32
DEFAULT_LIFETIME = dt.timedelta(days=90)
MAX_LIFETIME = dt.timedelta(days=366)
LAST_USED_PRECISION = dt.timedelta(minutes=5)
_TOKEN = re.compile(r"^gs_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{40,60})$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,99}$")
_PREFIX_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CLIENT_SUBJECT = "api.client"
TOKEN_SUBJECT = "api.token"  # noqa: S105 - an audit subject type


@dataclass(frozen=True)
class IssuedToken:
    """A token as issued: the row, and the token text (shown once, never stored)."""

    token: ApiToken
    text: str


def token_digest(text: str) -> str:
    """Return the stored form of a token (SHA-256, hex)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _new_token_text() -> tuple[str, str]:
    prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))
    return prefix, f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"


def _scopes_checked(scopes: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(scopes))
    unknown = [scope for scope in chosen if scope not in SCOPES]
    if unknown or not chosen:
        msg = f"Give one or more of the scopes {', '.join(SCOPES)}" + (
            f" (unknown: {', '.join(unknown)})" if unknown else ""
        )
        raise errors.TokenRequestInvalidError(msg)
    return [scope for scope in SCOPES if scope in chosen]


def api_client_create(
    *,
    name: str,
    actor: Actor,
    description: str = "",
    rate_limit_per_minute: int = 600,
    kind: ClientKind = ClientKind.PARTNER,
    user: User | None = None,
) -> ApiClient:
    """Register an API client (a partner; an operator or bot with the staff ``user`` it acts as); return it.

    Raise ClientInvalidError (bad or taken name, bad limit, a staff account
    already bound to a client). Audited as ``api.client.created``.
    """
    if (kind == ClientKind.PARTNER) != (user is None):
        raise errors.ClientInvalidError("Operator and bot clients have a staff account; partners have none")
    if not isinstance(name, str) or not _NAME.match(name):
        raise errors.ClientInvalidError(
            "Name the client with 2 to 100 lower-case letters, digits and hyphens, like partner-portal"
        )
    if len(description) > 500:
        raise errors.ClientInvalidError("Describe the client in 500 characters or fewer")
    if not 1 <= rate_limit_per_minute <= 100_000:
        raise errors.ClientInvalidError("The rate limit is from 1 to 100000 calls a minute")
    try:
        with transaction.atomic():
            client = ApiClient.objects.create(
                name=name, description=description, rate_limit_per_minute=rate_limit_per_minute, kind=kind, user=user
            )
            audit_record(
                actor=actor,
                action="api.client.created",
                subject_type=CLIENT_SUBJECT,
                subject_id=client.id,
                details={
                    "name": name,
                    "rate_limit_per_minute": rate_limit_per_minute,
                    "kind": kind.value,
                    "user": str(user.pk) if user is not None else None,
                },
            )
    except IntegrityError:
        if user is not None and ApiClient.objects.filter(user=user).exists():
            raise errors.ClientInvalidError(f"The staff account {user.username} already has a client") from None
        raise errors.ClientInvalidError(f"There is already a client named {name}") from None
    return client


def api_client_get(name: str) -> ApiClient:
    """Return the client named ``name``; raise ClientNotFoundError."""
    client = ApiClient.objects.filter(name=name).first()
    if client is None:
        raise errors.ClientNotFoundError(f"There is no API client named {name}")
    return client


def _token_create(client: ApiClient, scopes: list[str], lifetime: dt.timedelta) -> IssuedToken:
    prefix, text = _new_token_text()
    token = ApiToken.objects.create(
        client=client,
        prefix=prefix,
        token_hash=token_digest(text),
        scopes=scopes,
        expires_at=clock.now() + lifetime,
    )
    return IssuedToken(token=token, text=text)


def api_token_issue(
    *, client: ApiClient, scopes: Iterable[str], actor: Actor, lifetime: dt.timedelta = DEFAULT_LIFETIME
) -> IssuedToken:
    """Issue a token with ``scopes`` to ``client``, valid for ``lifetime``; return it (its text shown once).

    Raise TokenRequestInvalidError for unknown or no scopes, scopes other
    than the task scopes for an operator (a person's token acts only on
    tasks), or a lifetime outside one minute to a year. Audited as ``api.token.issued``.
    """
    chosen = _scopes_checked(scopes)
    refused = [scope for scope in chosen if scope not in TASK_SCOPES]
    if client.kind == ClientKind.OPERATOR and refused:
        raise errors.TokenRequestInvalidError(
            f"An operator's token may carry only {', '.join(TASK_SCOPES)} (not {', '.join(refused)})"
        )
    if not dt.timedelta(minutes=1) <= lifetime <= MAX_LIFETIME:
        raise errors.TokenRequestInvalidError("A token lives from one minute to 366 days")
    with transaction.atomic():
        issued = _token_create(client, chosen, lifetime)
        audit_record(
            actor=actor,
            action="api.token.issued",
            subject_type=TOKEN_SUBJECT,
            subject_id=issued.token.id,
            details={"client": str(client.id), "prefix": issued.token.prefix, "scopes": chosen},
        )
    return issued


def api_token_revoke(*, prefix: str, actor: Actor) -> ApiToken:
    """Revoke the token with ``prefix`` at once; idempotent (a revoked token stays revoked, no new entry).

    Raise TokenNotFoundError. Audited as ``api.token.revoked``.
    """
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().filter(prefix=prefix).first()
        if token is None:
            raise errors.TokenNotFoundError(f"There is no token with the prefix {prefix}")
        if token.revoked_at is not None:
            return token
        token.revoked_at = clock.now()
        token.save(update_fields=["revoked_at", "updated_at"])
        audit_record(
            actor=actor,
            action="api.token.revoked",
            subject_type=TOKEN_SUBJECT,
            subject_id=token.id,
            details={"client": str(token.client_id), "prefix": token.prefix},
        )
    return token


def api_token_rotate(*, prefix: str, actor: Actor, lifetime: dt.timedelta = DEFAULT_LIFETIME) -> IssuedToken:
    """Issue a new token with the scopes of the token ``prefix`` and revoke that one; return the new token.

    Raise TokenNotFoundError, TokenNotActiveError (already revoked), or
    TokenRequestInvalidError (lifetime). Audited as ``api.token.rotated``.
    """
    if not dt.timedelta(minutes=1) <= lifetime <= MAX_LIFETIME:
        raise errors.TokenRequestInvalidError("A token lives from one minute to 366 days")
    with transaction.atomic():
        old = ApiToken.objects.select_for_update().select_related("client").filter(prefix=prefix).first()
        if old is None:
            raise errors.TokenNotFoundError(f"There is no token with the prefix {prefix}")
        if old.revoked_at is not None:
            raise errors.TokenNotActiveError("This token is revoked: issue a new one instead")
        issued = _token_create(old.client, list(old.scopes), lifetime)
        old.revoked_at = clock.now()
        old.replaced_by = issued.token
        old.save(update_fields=["revoked_at", "replaced_by", "updated_at"])
        audit_record(
            actor=actor,
            action="api.token.rotated",
            subject_type=TOKEN_SUBJECT,
            subject_id=issued.token.id,
            details={"client": str(old.client_id), "old_prefix": old.prefix, "prefix": issued.token.prefix},
        )
    return issued


class _TokenRead:
    """Read a token with its client by prefix: the ORM's own ``SELECT … JOIN`` of the two, its SQL built once.

    Every API call reads its token; building this query in the ORM cost about
    as much as the rest of the call's authentication. The client's staff
    account or citizen, when it has one, is read when first used, as any
    foreign key is (a partner, the common caller, has neither).
    """

    _SAMPLE = "gs-sample-prefix"

    def __init__(self) -> None:
        self._compiled: dict[tuple[str, str], tuple[str, list[Any], int, list[tuple[int, list[Any], Any]]]] = {}

    def _compile(self, using: str) -> tuple[str, list[Any], int, list[tuple[int, list[Any], Any]]]:
        connection = connections[using]
        key = (using, connection.vendor)
        found = self._compiled.get(key)
        if found is not None:
            return found
        queryset = ApiToken.objects.using(using).select_related("client").filter(prefix=self._SAMPLE).order_by()
        compiler = queryset.query.get_compiler(using=using)
        sql, parameters = compiler.as_sql()
        parameters = list(parameters)
        positions = [position for position, value in enumerate(parameters) if value == self._SAMPLE]
        columns = [expression for expression, _, _ in compiler.select]
        names = [column.target.attname for column in columns]
        if len(positions) != 1 or names != _TOKEN_FIELDS + _CLIENT_FIELDS:  # pragma: no cover - a Django change
            msg = f"unexpected token read: {sql} {parameters!r}"
            raise RuntimeError(msg)
        converters = [
            (position, list(converters_of), expression)
            for position, (converters_of, expression) in compiler.get_converters(columns).items()
        ]
        compiled = (sql, parameters, positions[0], converters)
        self._compiled[key] = compiled
        return compiled

    def get(self, prefix: str, *, using: str = DEFAULT_DB_ALIAS) -> ApiToken | None:
        """Return the token with ``prefix``, its client loaded, or None."""
        sql, parameters, position, converters = self._compile(using)
        connection = connections[using]
        bound = list(parameters)
        bound[position] = prefix
        with connection.cursor() as cursor:
            cursor.execute(sql, bound)
            row = cursor.fetchone()
        if row is None:
            return None
        values = list(row)
        for index, converters_of, expression in converters:
            value = values[index]
            for converter in converters_of:
                value = converter(value, expression, connection)
            values[index] = value
        split = len(_TOKEN_FIELDS)
        token = ApiToken.from_db(using, _TOKEN_FIELDS, values[:split])
        token.client = ApiClient.from_db(using, _CLIENT_FIELDS, values[split:])
        return token


_TOKEN_FIELDS = [field.attname for field in ApiToken._meta.concrete_fields]
_CLIENT_FIELDS = [field.attname for field in ApiClient._meta.concrete_fields]
_TOKEN_READ = _TokenRead()


def api_token_authenticate(text: str) -> ApiToken:
    """Return the usable token ``text`` is, with its client.

    Raise TokenInvalidError, TokenExpiredError or TokenRevokedError.

    Compares digests in constant time. A client switched off counts as
    revoked. Records ``last_used_at`` (to the nearest five minutes). Not
    audited (the call it authenticates is).
    """
    match = _TOKEN.match(text or "")
    if match is None:
        raise errors.TokenInvalidError("The bearer token is not a govserve API token")
    token = _TOKEN_READ.get(match[1])
    if token is None or not hmac.compare_digest(token.token_hash, token_digest(text)):
        raise errors.TokenInvalidError("The bearer token is not a govserve API token")
    if token.revoked_at is not None or not token.client.is_active:
        raise errors.TokenRevokedError("This token has been revoked")
    now = clock.now()
    if token.expires_at <= now:
        raise errors.TokenExpiredError("This token has expired")
    problem = bound_account_problem(token.client)
    if problem is not None:
        raise errors.TokenAccountUnusableError(problem)
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        # At most one write per token per LAST_USED_PRECISION, not one per call.
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def bound_account_problem(client: ApiClient) -> str | None:
    """Return why the staff account behind an operator or bot client cannot act now (None: it can, or a partner).

    Read at every call, so deactivating the account, removing its MFA
    device, or setting a password on a bot's service account stops its
    tokens at once (roles are read at every call too, by casework's scope).
    """
    if client.citizen is not None and not client.citizen.is_active:
        return "The citizen account of this token is deactivated"
    user = client.user
    if user is None:
        return None
    if not account_usable(user):
        return "The staff account of this token is deactivated or its access has ended"
    if client.kind == ClientKind.OPERATOR and not confirmed_devices(user):
        return "The staff member of this token has no authenticator app (MFA) any more"
    if client.kind == ClientKind.BOT and user.has_usable_password():
        return "The bot's service account has a password: it is no longer a service account"
    return None


def _operator_client_name(user: User) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", user.username.lower()).strip("-")[:70] or "staff"
    return f"operator-{slug}-{user.pk.hex[:6]}"


def operator_find(who: str) -> User:
    """Return the staff account with the email address (or username) ``who``; raise OperatorNotFoundError."""
    text = (who or "").strip()
    matches = list(User.objects.filter(email__iexact=text)[:2]) if "@" in text else []
    if len(matches) > 1:
        raise errors.OperatorNotFoundError(f"Several staff accounts have the email address {text}: give the username")
    user = matches[0] if matches else User.objects.filter(username=text).first()
    if user is None:
        raise errors.OperatorNotFoundError(f"There is no staff account with the email address or username {text}")
    return user


def api_operator_token_issue(
    *,
    user: User,
    actor: Actor,
    scopes: Iterable[str] = TASK_SCOPES,
    lifetime: dt.timedelta = DEFAULT_LIFETIME,
) -> IssuedToken:
    """Issue a token that acts as the staff member ``user`` (their institution and roles); return it (shown once).

    The staff member must be active and enrolled in MFA (a confirmed
    authenticator app). Their operator client (``operator-<username>-<id>``)
    is created on first issue. Raise OperatorNotEligibleError, and
    TokenRequestInvalidError as :func:`api_token_issue`. Audited as
    ``api.client.created`` (first time) and ``api.token.issued``.
    """
    if not account_usable(user):
        raise errors.OperatorNotEligibleError(f"The staff account {user.username} is deactivated or has expired")
    if not confirmed_devices(user):
        raise errors.OperatorNotEligibleError(
            f"{user.username} has not set up an authenticator app: operator tokens are only for staff enrolled in MFA"
        )
    with transaction.atomic():
        client = ApiClient.objects.filter(user=user).first()
        if client is not None and client.kind != ClientKind.OPERATOR:
            raise errors.OperatorNotEligibleError(f"{user.username} is the service account of the bot {client.name}")
        if client is None:
            client = api_client_create(
                name=_operator_client_name(user),
                description=f"Operator tokens of the staff member {user.username}",
                kind=ClientKind.OPERATOR,
                user=user,
                actor=actor,
            )
        return api_token_issue(client=client, scopes=scopes, actor=actor, lifetime=lifetime)


APPLICANT_LIFETIME = dt.timedelta(days=30)


def api_applicant_token_issue(*, citizen: Citizen, lifetime: dt.timedelta = APPLICANT_LIFETIME) -> IssuedToken:
    """Issue a token acting as ``citizen`` on their own applications (after a one-time link exchange); return it.

    The citizen's applicant client (``applicant-<id>``) is created on first
    issue. Audited as ``api.client.created`` (first time) and
    ``api.token.issued``, with the citizen as the actor.
    """
    actor = Actor.for_citizen(citizen.id)
    with transaction.atomic():
        client = ApiClient.objects.filter(citizen=citizen).first()
        if client is None:
            try:
                with transaction.atomic():
                    client = ApiClient.objects.create(
                        name=f"applicant-{citizen.id.hex[:24]}",
                        description="A citizen's own tokens (one-time-link exchange)",
                        kind=ClientKind.APPLICANT,
                        citizen=citizen,
                    )
            except IntegrityError:
                # A concurrent exchange by the same citizen made it a moment ago.
                client = ApiClient.objects.get(citizen=citizen)
            else:
                audit_record(
                    actor=actor,
                    action="api.client.created",
                    subject_type=CLIENT_SUBJECT,
                    subject_id=client.id,
                    details={"name": client.name, "kind": ClientKind.APPLICANT.value},
                )
        return api_token_issue(client=client, scopes=APPLICANT_SCOPES, actor=actor, lifetime=lifetime)


def bot_username(name: str) -> str:
    """Return the username of the service account of the bot client ``name``."""
    return f"bot-{name}"


def api_bot_client_create(
    *,
    name: str,
    roles: Iterable[tuple[str, str]],
    actor: Actor,
    description: str = "",
    rate_limit_per_minute: int = 600,
) -> ApiClient:
    """Register a bot client and its service account ``bot-<name>`` holding ``roles``; return the client.

    ``roles`` are (institution code, role id) pairs, at least one; the
    account is made by accounts' ``staff_invite`` (no password; the
    invitation link is never shown) and its roles change later with
    ``govserve staff assign-role|remove-role bot-<name> ...``. Raise
    ClientInvalidError, and accounts' errors (username taken, unknown
    institution or role). Audited as ``accounts.staff.invited`` and ``api.client.created``.
    """
    chosen = list(dict.fromkeys(roles))
    if not chosen:
        raise errors.ClientInvalidError("Give the bot one or more roles, like city-council:street-lighting-engineer")
    if not isinstance(name, str) or not _NAME.match(name):
        raise errors.ClientInvalidError(
            "Name the client with 2 to 100 lower-case letters, digits and hyphens, like partner-portal"
        )
    with transaction.atomic():
        staff_invite(actor=actor, username=bot_username(name), first_name=name, last_name="(bot)", roles=chosen)
        user = User.objects.get(username=bot_username(name))
        return api_client_create(
            name=name,
            description=description or f"Bot acting as {bot_username(name)}",
            rate_limit_per_minute=rate_limit_per_minute,
            kind=ClientKind.BOT,
            user=user,
            actor=actor,
        )


def client_application_record(*, client: ApiClient, application_id: uuid.UUID) -> None:
    """Record that ``client`` made the application (idempotent: a repeated start keeps the first record)."""
    # One INSERT ... ON CONFLICT DO NOTHING on the unique application: no read, no savepoint (was four statements).
    ClientApplication.objects.bulk_create(
        [ClientApplication(application_id=application_id, client=client)], ignore_conflicts=True
    )


def submission_key_record(
    *, client: ApiClient, key: str, request_digest: str, application_id: uuid.UUID
) -> SubmissionKey:
    """Keep the submission's ``Idempotency-Key``; return the key's record (the first one if it exists).

    The caller compares the returned record with its request: a record of
    another application or digest means the key was reused.
    """
    record = SubmissionKey(client=client, key=key, request_digest=request_digest, application_id=application_id)
    if row_insert_unless_taken(record, unique=("client", "key")):
        return record
    return SubmissionKey.objects.get(client=client, key=key)
