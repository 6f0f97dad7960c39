"""Who may see and act on which tasks and files (pure functions over accounts' role assignments).

A staff user *holds* ``(institution code, role id)`` pairs
(``accounts.RoleAssignment``). A **team leader** holds the role
:data:`TEAM_LEADER_ROLE` in an institution; their scope is the tasks of that
institution whose role is held by at least one member of the leader's unit
(every role of the institution for a leader without a unit). A user may see a
task they hold the role of or lead; a file, when they may see at least one of
its tasks. Selectors and services apply these as query filters, so what is
not visible is indistinguishable from what does not exist. A supplier
account limited to named services (``accounts.SupplierScope``) sees only the
tasks of those services: pass the task's ``service_id`` to the checks.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from govserve.accounts.models import PlatformRole, RoleAssignment, User
from govserve.accounts.policies import account_usable, can_act_in_role, service_scope

TEAM_LEADER_ROLE = "team-leader"
"""The role (in ``accounts.RoleAssignment``) that makes a staff member a team leader of their institution."""
FEES_ROLES = ("finance", PlatformRole.ADMINISTRATOR)
"""Roles of the service's owning institution that see a file's fees and payments without working on it: who may
refund its payments (``payments.refunds.refund_allowed``). They see no answers, documents, messages or notes."""


@dataclass(frozen=True)
class Scope:
    """What a staff user may see: the (institution, role) pairs they hold and those they lead."""

    held: frozenset[tuple[str, str]]
    led: frozenset[tuple[str, str]]
    leader_of: frozenset[str]
    institution_ids: Mapping[str, uuid.UUID] = field(default_factory=dict)
    services: frozenset[str] | None = None
    """The only service ids in reach (a supplier limited to named services), or None for every service."""

    @property
    def visible(self) -> frozenset[tuple[str, str]]:
        """Return every (institution code, role id) pair whose tasks the user may see."""
        return self.held | self.led

    @property
    def empty(self) -> bool:
        """Return whether the user may see nothing at all."""
        return not self.visible

    def task_q(self, prefix: str = "") -> Q:
        """Return the filter of the tasks in scope (``prefix`` for a related lookup, e.g. ``tasks__``)."""
        query = Q(pk__in=[])
        for institution_code, role_id in sorted(self.visible):
            institution_id = self.institution_ids.get(institution_code)
            if institution_id is not None:
                query |= Q(**{f"{prefix}institution_id": institution_id, f"{prefix}role_id": role_id})
        if self.services is not None:
            query &= Q(**{f"{prefix}service_id__in": sorted(self.services)})
        return query

    def _service_in_reach(self, service_id: str | None) -> bool:
        # A scope limited to named services answers no for a task whose service the caller did not say.
        return self.services is None or (service_id is not None and service_id in self.services)

    def may_see(self, institution_code: str, role_id: str, service_id: str | None = None) -> bool:
        """Return whether tasks of ``role_id`` in ``institution_code`` (of ``service_id``) are in scope."""
        return (institution_code, role_id) in self.visible and self._service_in_reach(service_id)

    def holds(self, institution_code: str, role_id: str, service_id: str | None = None) -> bool:
        """Return whether the user holds ``role_id`` in ``institution_code`` (may claim and decide)."""
        return (institution_code, role_id) in self.held and self._service_in_reach(service_id)

    def leads(self, institution_code: str, role_id: str, service_id: str | None = None) -> bool:
        """Return whether the user is team leader over ``role_id`` in ``institution_code``."""
        return (institution_code, role_id) in self.led and self._service_in_reach(service_id)


_SCOPE_ATTRIBUTE = "_govserve_casework_scope"


def scope_of(user: User | Any) -> Scope:
    """Return the scope of ``user`` (empty for an unusable account), cached on the instance for the request."""
    if not account_usable(user):
        return Scope(held=frozenset(), led=frozenset(), leader_of=frozenset())
    cached: Scope | None = getattr(user, _SCOPE_ATTRIBUTE, None)
    if cached is not None:
        return cached
    # The roles held and their institutions' ids in one query (as roles_of reads them: active institutions only;
    # a supplier's roles only in the institutions its scope names, none without a scope).
    assignments = RoleAssignment.objects.filter(user=user, institution__is_active=True)
    if user.is_supplier:
        assignments = assignments.filter(institution__supplier_scopes__user=user)
    rows = list(assignments.values_list("institution__code", "role", "institution_id"))
    pairs = {(code, role) for code, role, _ in rows}
    leader_of = frozenset(code for code, role in pairs if role == TEAM_LEADER_ROLE)
    held = frozenset((code, role) for code, role in pairs if role != TEAM_LEADER_ROLE)
    led: set[tuple[str, str]] = set()
    if leader_of:
        assignments = RoleAssignment.objects.filter(institution__code__in=leader_of, institution__is_active=True)
        if user.unit_id is not None:
            assignments = assignments.filter(user__unit_id=user.unit_id)
        led = {
            (code, role)
            for code, role in assignments.exclude(role=TEAM_LEADER_ROLE).values_list("institution__code", "role")
        }
    # Every institution in scope is one of the user's own (a leader leads in the institutions they lead in).
    codes = {code for code, _ in held | led}
    institution_ids = {code: institution_id for code, _, institution_id in rows if code in codes}
    scope = Scope(
        held=held,
        led=frozenset(led),
        leader_of=leader_of,
        institution_ids=institution_ids,
        services=service_scope(user),
    )
    setattr(user, _SCOPE_ATTRIBUTE, scope)
    return scope


def may_see_fees(user: User | Any, owning_institution_code: str) -> bool:
    """Return whether ``user`` holds one of :data:`FEES_ROLES` in the institution that owns the file's service.

    Through ``accounts.policies``: a supplier limited to named services holds neither (institution-wide roles).
    """
    return any(can_act_in_role(user, owning_institution_code, role) for role in FEES_ROLES)


def scope_forget(user: User) -> None:
    """Drop the cached scope of ``user`` (after a change of roles)."""
    if hasattr(user, _SCOPE_ATTRIBUTE):
        delattr(user, _SCOPE_ATTRIBUTE)


def holders_of(institution_code: str, role_id: str, service_id: str | None = None) -> list[User]:
    """Return the usable staff accounts holding ``role_id`` in ``institution_code`` for ``service_id``, by name.

    Who :func:`scope_of` says holds it, in one query: a supplier account only
    while its access lasts, where its scope names the institution and, when it
    names services, ``service_id`` among them (without ``service_id``, no
    supplier limited to services).
    """
    users = (
        User.objects.filter(
            role_assignments__institution__code=institution_code,
            role_assignments__role=role_id,
            role_assignments__institution__is_active=True,
            is_active=True,
        )
        .filter(Q(is_supplier=False) | Q(supplier_scope__institutions__code=institution_code))
        .select_related("supplier_scope")
        .order_by("first_name", "last_name", "username")
    )
    return [user for user in users if account_usable(user) and _supplier_serves(user, service_id)]


def _supplier_serves(user: User, service_id: str | None) -> bool:
    if not user.is_supplier:
        return True
    services = {str(service) for service in user.supplier_scope.services or []}
    return not services or (service_id is not None and service_id in services)
