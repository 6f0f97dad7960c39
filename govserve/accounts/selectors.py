"""Reads of accounts, with the permission policies applied inside.

``viewer=None`` in a staff selector means a trusted system caller (the
``govserve staff`` command run by an operator with shell access); every web
caller passes the signed-in user.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet

from govserve.accounts import errors, policies, signin
from govserve.accounts.auditing import staff_actor
from govserve.accounts.citizens import citizen_email
from govserve.accounts.models import Citizen, Institution, PlatformRole, RoleAssignment, SupplierScope, User
from govserve.audit.actors import Actor
from govserve.audit.models import AuditEntry
from govserve.audit.services import audit_record
from govserve.core import clock
from govserve.core.queries import PreparedGet

if TYPE_CHECKING:
    from django.http import HttpRequest


@dataclass(frozen=True)
class RoleHeld:
    """A role as the staff landing page lists it."""

    institution_code: str
    institution_name: str
    role: str
    is_platform_role: bool

    @property
    def label(self) -> str:
        """Return a readable name: the platform role's label, or the flow role id in words."""
        if self.is_platform_role:
            return str(PlatformRole(self.role).label)
        return self.role.replace("_", " ").replace("-", " ").capitalize()


def staff_has_role(user: User | Any, institution_code: str, role: str) -> bool:
    """Return whether ``user`` may act as ``role`` in the institution ``institution_code`` now.

    False for anonymous, deactivated or expired supplier accounts.
    """
    return policies.can_act_in_role(user, institution_code, role)


def staff_roles_for_user(user: User) -> list[RoleHeld]:
    """Return the roles ``user`` holds, by institution then role (empty for an unusable account)."""
    if not policies.account_usable(user):
        return []
    platform = set(PlatformRole.values)
    rows = (
        RoleAssignment.objects.filter(user=user, institution__is_active=True)
        .select_related("institution")
        .order_by("institution__code", "role")
    )
    return [
        RoleHeld(
            institution_code=row.institution.code,
            institution_name=row.institution.name,
            role=row.role,
            is_platform_role=row.role in platform,
        )
        for row in rows
    ]


def institution_list_for_user(user: User) -> list[Institution]:
    """Return the active institutions in which ``user`` holds a role."""
    codes = {code for code, _ in policies.roles_of(user)} if policies.account_usable(user) else set()
    return list(Institution.objects.filter(code__in=codes, is_active=True).order_by("code"))


def staff_list(*, viewer: User | None, institution_code: str | None = None) -> QuerySet[User]:
    """Return staff accounts with their roles and units prefetched.

    A web ``viewer`` must be an administrator of ``institution_code`` (which
    is then required); ``viewer=None`` is the trusted command line. Raise
    AccountsPermissionDeniedError otherwise.
    """
    if viewer is not None and (institution_code is None or not policies.can_manage_staff(viewer, institution_code)):
        raise errors.AccountsPermissionDeniedError("Only an administrator of the institution may list its staff")
    users = User.objects.select_related("unit__institution").prefetch_related(
        Prefetch("role_assignments", queryset=RoleAssignment.objects.select_related("institution").order_by("role"))
    )
    if institution_code is not None:
        users = users.filter(role_assignments__institution__code=institution_code).distinct()
    return users.order_by("username")


_ACTIVE_CITIZEN = PreparedGet(Citizen, is_active=True)


def current_citizen(request: HttpRequest) -> Citizen | None:
    """Return the signed-in citizen of this request, or None (staff sessions and anonymous ones too)."""
    if request.session.get(signin.KIND) != signin.KIND_CITIZEN:
        return None
    cached: Citizen | None = getattr(request, "_govserve_citizen", None)
    if cached is not None:
        return cached
    raw = request.session.get(signin.CITIZEN_ID)
    try:
        citizen_id = uuid.UUID(str(raw))
    except ValueError:
        return None
    # Every citizen request reads the account: SQL built once (govserve.core.queries), not by the ORM each time.
    citizen = _ACTIVE_CITIZEN.get(citizen_id)
    if citizen is None:
        return None
    request._govserve_citizen = citizen  # type: ignore[attr-defined]
    return citizen


def citizen_email_for_staff(*, viewer: User, citizen: Citizen, institution_code: str, purpose: str) -> str:
    """Return ``citizen``'s email address to a staff member working for ``institution_code``; audited.

    The caller (casework, for an application of this citizen to that
    institution) states the ``purpose`` code; this checks that ``viewer`` may
    act for the institution and writes ``accounts.citizen.email_read``
    (a read of personal data) before returning the value. Raise
    AccountsPermissionDeniedError otherwise (nothing is read).
    """
    if not policies.can_view_institution(viewer, institution_code):
        raise errors.AccountsPermissionDeniedError("You may not see the contact details of this applicant")
    with transaction.atomic():
        audit_record(
            actor=staff_actor(viewer),
            action="accounts.citizen.email_read",
            subject_type="accounts.citizen",
            subject_id=citizen.id,
            details={"institution": institution_code, "purpose": purpose},
        )
    return citizen_email(citizen)


@dataclass(frozen=True)
class SupplierRow:
    """One supplier account in a service owner's report (no email address: the username names the person)."""

    user_id: uuid.UUID
    username: str
    name: str
    company: str
    status: str
    """``current``, ``expired``, ``deactivated`` or ``no_scope`` (reaches nothing until its scope is set)."""
    access_expires_at: datetime.datetime | None
    institutions: tuple[str, ...]
    services: tuple[str, ...]
    roles: tuple[str, ...]
    """The roles held in the report's institution."""
    last_login: datetime.datetime | None
    audit_entries_30_days: int


def supplier_report(*, viewer: User | None, institution_code: str, actor: Actor | None = None) -> list[SupplierRow]:
    """Return the supplier accounts that hold a role in, or are scoped to, ``institution_code``; audit the read.

    A web ``viewer`` must be a service owner or administrator of the
    institution (AccountsPermissionDeniedError otherwise); ``viewer=None`` is
    the trusted command line, whose ``actor`` is recorded instead. Audited as
    ``accounts.supplier.report_viewed``. Expired and deactivated accounts stay
    listed (with their status) so the owner sees every supplier that had access.
    """
    if viewer is not None and not policies.can_view_supplier_report(viewer, institution_code):
        raise errors.AccountsPermissionDeniedError(
            "Only a service owner or administrator of the institution may see its supplier staff"
        )
    users = (
        User.objects.filter(is_supplier=True)
        .filter(
            Q(role_assignments__institution__code=institution_code)
            | Q(supplier_scope__institutions__code=institution_code)
        )
        .distinct()
        .order_by("username")
    )
    since = clock.now() - datetime.timedelta(days=30)
    rows = [_supplier_row(user, institution_code, since) for user in users]
    with transaction.atomic():
        audit_record(
            actor=staff_actor(viewer) if viewer is not None else (actor or Actor.system("cli")),
            action="accounts.supplier.report_viewed",
            subject_type="accounts.institution",
            subject_id=institution_code,
            details={"institution": institution_code, "rows": len(rows)},
        )
    return rows


def _supplier_row(user: User, institution_code: str, since: datetime.datetime) -> SupplierRow:
    scope = SupplierScope.objects.filter(user=user).prefetch_related("institutions").first()
    if not user.is_active:
        status = "deactivated"
    elif scope is None or not scope.institutions.exists():
        status = "no_scope"
    elif not policies.supplier_access_current(user):
        status = "expired"
    else:
        status = "current"
    roles = RoleAssignment.objects.filter(user=user, institution__code=institution_code).order_by("role")
    return SupplierRow(
        user_id=user.pk,
        username=user.username,
        name=user.get_full_name() or user.username,
        company=scope.company if scope is not None else "",
        status=status,
        access_expires_at=user.access_expires_at,
        institutions=tuple(sorted(i.code for i in scope.institutions.all())) if scope is not None else (),
        services=tuple(sorted(scope.services)) if scope is not None else (),
        roles=tuple(roles.values_list("role", flat=True)),
        last_login=user.last_login,
        audit_entries_30_days=AuditEntry.objects.filter(
            actor_kind="user", actor_id=str(user.pk), occurred_at__gte=since
        ).count(),
    )


def supplier_report_institutions(user: User) -> list[Institution]:
    """Return the active institutions whose supplier report ``user`` may see, by name."""
    codes = [code for code, _role in policies.roles_of(user) if policies.can_view_supplier_report(user, code)]
    return list(Institution.objects.filter(code__in=codes, is_active=True).order_by("name"))
