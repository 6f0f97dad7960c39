"""Which casework tasks a GovStack client may see and complete: the client's operator account.

A GovStack client is a machine, but casework's rules are written for staff:
who holds which role in which institution (``accounts.RoleAssignment``),
who may decide what (:mod:`govserve.casework.permissions`). So a client that
works on tasks is linked to an **operator account**: a staff account without
a password (nobody signs in with it on the web) whose role assignments say
which institution's roles the client works as. The link is an
``accounts.ExternalIdentity`` with the provider :data:`PROVIDER` and the
client's id as the subject. The client then sees exactly the tasks that
account would see in the staff queues, and completes them through
``casework.services.decision_record`` as that account: the same rules,
locks and audit as a decision on the web.

An operator or bot client of API v1 (``ApiClient.user``: a staff member's
client, or a bot's service account ``bot-<name>``) needs no link: it works
as that account, on GovStack as on API v1.

Scopes: every GovStack call needs a token with ``govstack`` (identity.py);
reading tasks also needs ``tasks:read``, completing them ``tasks:decide``
(on any usable token of the client).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from govserve.accounts.models import ExternalIdentity, User
from govserve.accounts.services import role_assign
from govserve.api.models import ApiClient, ApiToken
from govserve.audit.actors import Actor
from govserve.audit.events import register_event
from govserve.audit.services import audit_record
from govserve.core import clock
from govserve.core.errors import PermissionDeniedError, ValidationError

PROVIDER = "govstack-client"
"""The ``ExternalIdentity.provider`` of operator accounts; the subject is the API client's id."""

register_event(
    "govstack.operator.linked",
    description="A GovStack client was given its operator account (the staff account it works on tasks as).",
)
register_event(
    "govstack.task.completed",
    description=(
        "A GovStack client completed a casework task through POST /tasks/{taskId}/complete; details: the "
        "client's X-Road identity, the decision and the file (the decision itself is casework.decision.recorded)."
    ),
)

READ_SCOPE = "tasks:read"
DECIDE_SCOPE = "tasks:decide"


class ScopeMissingError(PermissionDeniedError):
    """The client's tokens do not carry the scope the operation needs."""

    code = "scope_missing"


class OperatorNotLinkedError(PermissionDeniedError):
    """The client has no operator account: it works on no tasks."""

    code = "operator_not_linked"


class OperatorLinkInvalidError(ValidationError):
    """The operator account cannot be linked as asked."""

    code = "operator_link_invalid"


def client_scopes(client: ApiClient) -> frozenset[str]:
    """Return the scopes of the client's usable tokens (not revoked, not expired)."""
    tokens = ApiToken.objects.filter(client=client, revoked_at__isnull=True, expires_at__gt=clock.now())
    return frozenset(scope for scopes in tokens.values_list("scopes", flat=True) for scope in scopes)


def scope_require(client: ApiClient, scope: str) -> None:
    """Raise ScopeMissingError unless a usable token of ``client`` carries ``scope``."""
    if scope not in client_scopes(client):
        raise ScopeMissingError(f"This client's tokens do not carry the {scope} scope")


def operator_of(client: ApiClient) -> User:
    """Return the client's operator account; raise OperatorNotLinkedError when it has none (or it is switched off).

    An operator or bot client (``ApiClient.user``, API v1's binding) works
    as its own staff account; any other client as the account linked to it.
    """
    if client.user_id is not None:
        bound = User.objects.get(pk=client.user_id)
        if not bound.is_active:
            raise OperatorNotLinkedError("This client's staff account is switched off: it works on no tasks")
        return bound
    link = ExternalIdentity.objects.filter(provider=PROVIDER, subject=str(client.id)).select_related("user").first()
    if link is None or link.user is None or not link.user.is_active:
        raise OperatorNotLinkedError(
            "This client works on no tasks: link it to an operator account (govserve govstack link-operator)"
        )
    return link.user


def operator_username(client: ApiClient) -> str:
    """Return the username of the client's operator account (``govstack-<client name>``)."""
    return f"govstack-{client.name}"[:150]


def operator_link(*, client: ApiClient, roles: Iterable[tuple[str, str]], actor: Actor) -> tuple[User, list[str]]:
    """Link ``client`` to its operator account (created if needed) holding ``roles`` ((institution, role) pairs).

    Idempotent: roles already held are kept, the missing ones granted
    (``accounts.services.role_assign``, audited there); return the account and
    the roles granted now as ``institution/role``. Raise
    OperatorLinkInvalidError (no roles, or the username is a person's
    account), InstitutionNotFoundError, InvalidRoleError. Audited as
    ``govstack.operator.linked`` when the link is made.
    """
    wanted = sorted(set(roles))
    if not wanted:
        raise OperatorLinkInvalidError("Give at least one institution/role the client works as")
    if client.user_id is not None:
        raise OperatorLinkInvalidError(
            f"{client.name} already works as its own staff account: change its roles with govserve staff"
        )
    granted: list[str] = []
    with transaction.atomic():
        link = ExternalIdentity.objects.filter(provider=PROVIDER, subject=str(client.id)).select_related("user").first()
        if link is not None and link.user is not None:
            user = link.user
        else:
            username = operator_username(client)
            if User.objects.filter(username=username).exists():
                raise OperatorLinkInvalidError(f"There is already a staff account {username}: it cannot be linked")
            user = User(username=username, first_name=client.name, last_name="(GovStack client)", is_active=True)
            user.set_unusable_password()
            user.save()
            ExternalIdentity.objects.create(provider=PROVIDER, subject=str(client.id), user=user)
            audit_record(
                actor=actor,
                action="govstack.operator.linked",
                subject_type="api.client",
                subject_id=client.id,
                details={"user": str(user.pk), "username": username},
            )
        held = set(user.role_assignments.values_list("institution__code", "role"))
        for institution_code, role in wanted:
            if (institution_code, role) in held:
                continue
            role_assign(actor=actor, user=user, institution_code=institution_code, role=role)
            granted.append(f"{institution_code}/{role}")
    return user, granted
