"""Permission policies: who may do what, as pure functions of the account and its roles.

Selectors and services call these (so no caller can forget them); views only
use them to decide what to show. A policy answers ``False`` for anonymous
users, deactivated accounts and supplier accounts whose access has expired:
an account that cannot sign in cannot do anything else either.

Roles are institution-scoped: ``administrator`` in ``city-council`` manages
that council's staff, not another institution's. The Django admin is a
platform-wide tool, open to any holder of ``administrator``.

Supplier staff are also held to their :class:`SupplierScope`: their roles
count only in the institutions it names, and :func:`service_scope` limits
them to its services (casework filters tasks and files by it); a supplier
limited to services holds none of :data:`INSTITUTION_WIDE_ROLES`.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any, TypeGuard

from govserve.accounts.models import Institution, PlatformRole, RoleAssignment, SupplierScope, User
from govserve.core import clock

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

INSTITUTION_WIDE_ROLES = frozenset({*PlatformRole.values, "finance", "data-protection-officer"})
"""Roles whose pages reach every service of the institution (the Django admin, staff management, audit,
payments' finance pages, privacy's officer pages): a supplier limited to named services holds none of them."""

_ROLE_CACHE_ATTRIBUTE = "_govserve_roles"
_SERVICE_CACHE_ATTRIBUTE = "_govserve_supplier_services"


def supplier_access_current(user: User, *, at: datetime.datetime | None = None) -> bool:
    """Return whether ``user`` is not a supplier, or a supplier whose access has not expired.

    A supplier account without an expiry date has no access: supplier access
    is time-limited by definition, so a missing date is an error in its
    set-up, and fails closed.
    """
    if not user.is_supplier:
        return True
    moment = at or clock.now()
    return user.access_expires_at is not None and moment < user.access_expires_at


def account_usable(user: User | AnonymousUser | Any) -> TypeGuard[User]:
    """Return whether ``user`` is a signed-in-able staff account: authenticated, active, supplier access current."""
    if not getattr(user, "is_authenticated", False) or not isinstance(user, User):
        return False
    return bool(user.is_active) and supplier_access_current(user)


def roles_of(user: User) -> frozenset[tuple[str, str]]:
    """Return the ``(institution code, role)`` pairs ``user`` holds, cached on the instance.

    Services that grant or remove roles clear the cache with :func:`forget_roles`.
    """
    cached: frozenset[tuple[str, str]] | None = getattr(user, _ROLE_CACHE_ATTRIBUTE, None)
    if cached is None:
        assignments = RoleAssignment.objects.filter(user=user, institution__is_active=True)
        if user.is_supplier:
            # A supplier's roles count only in the institutions its scope names (none without a scope).
            assignments = assignments.filter(institution__supplier_scopes__user=user)
        pairs = frozenset(assignments.values_list("institution__code", "role"))
        if pairs and service_scope(user) is not None:
            # Limited to named services: a role that reaches every service of the institution does not count.
            pairs = frozenset((code, role) for code, role in pairs if role not in INSTITUTION_WIDE_ROLES)
        cached = pairs
        setattr(user, _ROLE_CACHE_ATTRIBUTE, cached)
    return cached


def service_scope(user: User) -> frozenset[str] | None:
    """Return the service ids a supplier account is limited to, or None when not limited to named services.

    Civil servants and suppliers whose scope names no service: None (every
    service of the institutions where their roles count). Cached with the roles.
    """
    if not user.is_supplier:
        return None
    if hasattr(user, _SERVICE_CACHE_ATTRIBUTE):
        cached: frozenset[str] | None = getattr(user, _SERVICE_CACHE_ATTRIBUTE)
        return cached
    services = SupplierScope.objects.filter(user=user).values_list("services", flat=True).first()
    found = frozenset(str(service) for service in services) if services else None
    setattr(user, _SERVICE_CACHE_ATTRIBUTE, found)
    return found


def forget_roles(user: User) -> None:
    """Drop the cached roles (and supplier service scope) of ``user`` (after a change)."""
    for attribute in (_ROLE_CACHE_ATTRIBUTE, _SERVICE_CACHE_ATTRIBUTE):
        if hasattr(user, attribute):
            delattr(user, attribute)


def _code(institution: Institution | str) -> str:
    return institution if isinstance(institution, str) else institution.code


def can_act_in_role(user: User | AnonymousUser | Any, institution: Institution | str, role: str) -> bool:
    """Return whether ``user`` may act as ``role`` (a flow role id or platform role) in ``institution``."""
    if not account_usable(user):
        return False
    return (_code(institution), role) in roles_of(user)


def can_view_institution(user: User | AnonymousUser | Any, institution: Institution | str) -> bool:
    """Return whether ``user`` holds any role in ``institution``."""
    if not account_usable(user):
        return False
    code = _code(institution)
    return any(held_code == code for held_code, _ in roles_of(user))


def can_manage_staff(user: User | AnonymousUser | Any, institution: Institution | str) -> bool:
    """Return whether ``user`` may invite, change and deactivate staff of ``institution``."""
    return can_act_in_role(user, institution, PlatformRole.ADMINISTRATOR)


def can_use_admin(user: User | AnonymousUser | Any) -> bool:
    """Return whether ``user`` may open the Django admin (needs an OTP-verified session too)."""
    if not account_usable(user):
        return False
    return any(role == PlatformRole.ADMINISTRATOR for _, role in roles_of(user))


def can_read_audit(user: User | AnonymousUser | Any, institution: Institution | str) -> bool:
    """Return whether ``user`` may read the audit log of ``institution`` (auditors and administrators)."""
    return can_act_in_role(user, institution, PlatformRole.AUDITOR) or can_manage_staff(user, institution)


def can_view_supplier_report(user: User | AnonymousUser | Any, institution: Institution | str) -> bool:
    """Return whether ``user`` may see the supplier staff report of ``institution`` (service owners, administrators)."""
    return can_act_in_role(user, institution, PlatformRole.SERVICE_OWNER) or can_manage_staff(user, institution)
