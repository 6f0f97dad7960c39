"""Writes of accounts: staff, roles, MFA devices, password links, calendars, citizens.

Every function here is keyword-only, runs in one transaction and writes its
audit entry in that transaction. ``actor`` is who asked: ``Actor.system("cli")``
for ``govserve staff``, ``staff_actor(request.user)`` in the web. Sign-in
itself (checking passwords and codes, opening sessions) is in
:mod:`govserve.accounts.signin`; citizen accounts in
:mod:`govserve.accounts.citizens`.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY, password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.contrib.sessions.models import Session
from django.core import exceptions as django_exceptions
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from govserve.accounts import conf, email_templates, errors, mail, policies, signin
from govserve.accounts.auditing import staff_actor
from govserve.accounts.models import (
    CitizenLink,
    Institution,
    InstitutionHoliday,
    RoleAssignment,
    StaffPasswordLink,
    StaffPasswordLinkPurpose,
    SupplierScope,
    Unit,
    User,
)
from govserve.accounts.tokens import token_hash, token_new, token_well_formed
from govserve.audit.actors import Actor
from govserve.audit.services import audit_record
from govserve.core import clock
from govserve.core.errors import ValidationError

ROLE_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
USER_SUBJECT = "accounts.user"


@dataclass(frozen=True)
class PasswordLinkIssued:
    """A freshly issued one-time staff link: the only moment the token exists in clear."""

    user: User
    token: str
    url: str
    expires_at: datetime.datetime
    link_id: str
    purpose: StaffPasswordLinkPurpose = StaffPasswordLinkPurpose.INVITATION


@dataclass(frozen=True)
class PasswordSet:
    """A password set from a one-time link: who, and which link (an enrolment grant names it)."""

    user: User
    link_id: str
    purpose: str


@dataclass(frozen=True)
class MfaReset:
    """What :func:`staff_mfa_reset` did: devices removed, and the one-time link to set up a new app."""

    devices_removed: int
    link: PasswordLinkIssued


_PASSWORD_PURPOSES = (StaffPasswordLinkPurpose.INVITATION, StaffPasswordLinkPurpose.RESET)


# --- look-ups shared by the services --------------------------------------------------


def institution_get(code: str) -> Institution:
    """Return the institution with ``code``; raise InstitutionNotFoundError."""
    try:
        return Institution.objects.get(code=code)
    except Institution.DoesNotExist:
        raise errors.InstitutionNotFoundError(
            _("There is no institution with the code %(code)s") % {"code": code}
        ) from None


def staff_user_get(username: str) -> User:
    """Return the staff user ``username``; raise StaffUserNotFoundError."""
    try:
        return User.objects.get(username=username)
    except User.DoesNotExist:
        raise errors.StaffUserNotFoundError(
            _("There is no staff user with the username %(username)s") % {"username": username}
        ) from None


def _validate_role(role: str) -> str:
    if not ROLE_PATTERN.match(role):
        raise errors.InvalidRoleError(
            _(
                "A role is a lower-case id of letters, digits, '_' and '-', starting with a letter "
                "(for example licensing_officer or administrator), not %(role)r"
            )
            % {"role": role}
        )
    return role


def _link_url(token: str, purpose: StaffPasswordLinkPurpose) -> str:
    name = (
        "accounts:staff_enrolment_link"
        if purpose == StaffPasswordLinkPurpose.MFA_ENROLMENT
        else "accounts:staff_set_password"
    )
    return f"{conf.public_base_url()}{reverse(name, args=[token])}"


def _email_password_link(issued: PasswordLinkIssued) -> None:
    user = issued.user
    if not user.email:
        raise ValidationError(
            _("%(username)s has no email address to send the link to") % {"username": user.username},
            code="no_email_address",
        )
    hours = int(conf.staff_password_link_lifetime().total_seconds() // 3600)
    enrolment = issued.purpose == StaffPasswordLinkPurpose.MFA_ENROLMENT
    mail.send(
        to=user.email,
        template=email_templates.STAFF_MFA_ENROLMENT if enrolment else email_templates.STAFF_INVITATION,
        context={
            "service_name": mail.site_name(),
            ("set_up_url" if enrolment else "password_url"): issued.url,
            "expiry_hours": str(hours),
        },
        language="en",
        key=f"staff-password-link:{issued.link_id}",
        owner=f"staff:{user.pk}",
        purpose="staff_mfa_link" if enrolment else "staff_password_link",
    )


def _issue_password_link(*, user: User, purpose: StaffPasswordLinkPurpose) -> PasswordLinkIssued:
    # A new link replaces any earlier one still unused: only the latest works.
    now = clock.now()
    StaffPasswordLink.objects.filter(user=user, used_at__isnull=True).update(expires_at=now)
    token, hashed = token_new()
    expires_at = now + conf.staff_password_link_lifetime()
    link = StaffPasswordLink.objects.create(user=user, purpose=purpose, token_hash=hashed, expires_at=expires_at)
    return PasswordLinkIssued(
        user=user,
        token=token,
        url=_link_url(token, purpose),
        expires_at=expires_at,
        link_id=str(link.id),
        purpose=purpose,
    )


# --- staff accounts -----------------------------------------------------------------------


@transaction.atomic
def staff_invite(
    *,
    actor: Actor,
    username: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    unit: tuple[str, str] | None = None,
    roles: Iterable[tuple[str, str]] = (),
    is_supplier: bool = False,
    access_expires_at: datetime.datetime | None = None,
    send_email: bool = False,
    supplier_company: str = "",
    supplier_institutions: Iterable[str] = (),
    supplier_services: Iterable[str] = (),
) -> PasswordLinkIssued:
    """Create a staff account without a usable password and return its one-time set-password link.

    ``unit`` is ``(institution code, unit code)``; ``roles`` are ``(institution
    code, role)`` pairs. A supplier account needs an ``access_expires_at`` in
    the future. The person sets a password from the link, then sets up an
    authenticator app in the same session (the only way to enrol one; see
    :mod:`govserve.accounts.signin`). With ``send_email`` the link is also
    emailed to ``email`` (through the outbox, in this transaction). Audited as ``accounts.staff.invited``.
    Raise StaffUsernameTakenError, ValidationError, InstitutionNotFoundError,
    UnitNotFoundError or InvalidRoleError; nothing is created then.
    """
    username = username.strip()
    try:
        UnicodeUsernameValidator()(username)
    except django_exceptions.ValidationError:
        raise ValidationError(
            _("A username has 1 to 150 letters, digits and @ . + - _ only"), code="invalid_username"
        ) from None
    if not username or len(username) > 150:
        raise ValidationError(_("A username has 1 to 150 letters, digits and @ . + - _ only"), code="invalid_username")
    if email:
        try:
            validate_email(email)
        except django_exceptions.ValidationError:
            raise ValidationError(
                _("Enter an email address in the correct format, like name@example.gov.uk"), code="invalid_email"
            ) from None
    if is_supplier and (access_expires_at is None or access_expires_at <= clock.now()):
        raise ValidationError(
            _("A supplier account needs an access expiry date in the future"), code="supplier_expiry_required"
        )
    if User.objects.filter(username__iexact=username).exists():
        raise errors.StaffUsernameTakenError(_("The username %(username)s is taken") % {"username": username})
    unit_row = None
    if unit is not None:
        institution = institution_get(unit[0])
        try:
            unit_row = Unit.objects.get(institution=institution, code=unit[1])
        except Unit.DoesNotExist:
            raise errors.UnitNotFoundError(
                _("%(institution)s has no unit with the code %(unit)s") % {"institution": unit[0], "unit": unit[1]}
            ) from None
    role_rows = [(institution_get(code), _validate_role(role)) for code, role in roles]

    user = User(
        username=username,
        email=email,
        first_name=first_name,
        last_name=last_name,
        unit=unit_row,
        is_supplier=is_supplier,
        access_expires_at=access_expires_at,
        is_active=True,
    )
    user.set_unusable_password()
    user.save()
    for institution, role in role_rows:
        RoleAssignment.objects.get_or_create(user=user, institution=institution, role=role)
    if is_supplier:
        codes = list(supplier_institutions) or sorted({institution.code for institution, _role in role_rows})
        _supplier_scope_store(user=user, company=supplier_company, institutions=codes, services=supplier_services)
    issued = _issue_password_link(user=user, purpose=StaffPasswordLinkPurpose.INVITATION)
    if send_email:
        _email_password_link(issued)
    audit_record(
        actor=actor,
        action="accounts.staff.invited",
        subject_type=USER_SUBJECT,
        subject_id=user.pk,
        details={
            "roles": sorted(f"{institution.code}:{role}" for institution, role in role_rows),
            "unit": f"{unit[0]}/{unit[1]}" if unit else "",
            "is_supplier": is_supplier,
            **(_supplier_details(user) if is_supplier else {}),
        },
    )
    return issued


_SERVICE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def _supplier_scope_store(*, user: User, company: str, institutions: Iterable[str], services: Iterable[str]) -> None:
    """Create or replace ``user``'s supplier scope; raise ValidationError or InstitutionNotFoundError."""
    company = company.strip()
    if len(company) > 200:
        raise ValidationError(_("A supplier's company name has 200 characters or fewer"), code="supplier_company")
    rows = [institution_get(code) for code in dict.fromkeys(institutions)]
    if not rows:
        raise ValidationError(
            _("A supplier account needs the institutions it may work in"), code="supplier_institutions_required"
        )
    service_ids = list(dict.fromkeys(str(service).strip() for service in services))
    for service_id in service_ids:
        if not _SERVICE_ID.match(service_id):
            raise ValidationError(
                _("%(service)s is not a service id (lower-case letters, digits and hyphens)") % {"service": service_id},
                code="supplier_service_invalid",
            )
    scope, _created = SupplierScope.objects.update_or_create(
        user=user, defaults={"company": company, "services": service_ids}
    )
    scope.institutions.set(rows)
    policies.forget_roles(user)


def _supplier_details(user: User) -> dict[str, Any]:
    scope = SupplierScope.objects.prefetch_related("institutions").get(user=user)
    return {
        "supplier_institutions": sorted(institution.code for institution in scope.institutions.all()),
        "supplier_services": sorted(scope.services),
        "access_expires_at": user.access_expires_at.isoformat() if user.access_expires_at else None,
    }


@transaction.atomic
def supplier_scope_set(
    *,
    actor: Actor,
    user: User,
    institutions: Iterable[str],
    services: Iterable[str] = (),
    company: str | None = None,
    access_expires_at: datetime.datetime | None = None,
) -> SupplierScope:
    """Set what supplier ``user`` may reach (and optionally a new access expiry); return the scope.

    Raise ValidationError for a civil servant's account, no institutions, a
    bad service id or an expiry not in the future; InstitutionNotFoundError
    for an unknown institution. Audited as ``accounts.supplier.scope_set``.
    """
    if not user.is_supplier:
        raise ValidationError(_("Only a supplier account has a supplier scope"), code="not_supplier")
    if access_expires_at is not None:
        if access_expires_at <= clock.now():
            raise ValidationError(
                _("A supplier account needs an access expiry date in the future"), code="supplier_expiry_required"
            )
        user.access_expires_at = access_expires_at
        user.save(update_fields=["access_expires_at"])
    current = SupplierScope.objects.filter(user=user).values_list("company", flat=True).first()
    _supplier_scope_store(
        user=user,
        company=company if company is not None else (current or ""),
        institutions=institutions,
        services=services,
    )
    audit_record(
        actor=actor,
        action="accounts.supplier.scope_set",
        subject_type=USER_SUBJECT,
        subject_id=user.pk,
        details=_supplier_details(user),
    )
    return SupplierScope.objects.get(user=user)


@transaction.atomic
def staff_password_link_issue(*, actor: Actor, user: User, send_email: bool = False) -> PasswordLinkIssued:
    """Issue a one-time set-password (reset) link for ``user``; earlier unused links stop working.

    With ``send_email`` the link is also emailed to the user's address.
    """
    issued = _issue_password_link(user=user, purpose=StaffPasswordLinkPurpose.RESET)
    if send_email:
        _email_password_link(issued)
    audit_record(
        actor=actor, action="accounts.staff.password_link_issued", subject_type=USER_SUBJECT, subject_id=user.pk
    )
    return issued


def staff_password_link_get(
    *, token: str, purposes: Iterable[StaffPasswordLinkPurpose] = _PASSWORD_PURPOSES
) -> StaffPasswordLink:
    """Return the usable one-time link for ``token`` if it has one of ``purposes`` (default: set a password).

    Raise LinkInvalidError (unknown, altered, or of another purpose),
    LinkExpiredError or LinkUsedError.
    """
    if not token_well_formed(token):
        raise errors.LinkInvalidError(_("This link is not valid"))
    try:
        link = StaffPasswordLink.objects.select_related("user").get(
            token_hash=token_hash(token), purpose__in=[str(purpose) for purpose in purposes]
        )
    except StaffPasswordLink.DoesNotExist:
        raise errors.LinkInvalidError(_("This link is not valid")) from None
    if link.used_at is not None:
        raise errors.LinkUsedError(_("This link has already been used"))
    if link.expires_at <= clock.now() or not link.user.is_active:
        raise errors.LinkExpiredError(_("This link has expired"))
    return link


def _validate_password(password: str, user: User) -> None:
    try:
        password_validation.validate_password(password, user)
    except django_exceptions.ValidationError as error:
        raise errors.WeakPasswordError(" ".join(str(message) for message in error.messages)) from None


@transaction.atomic
def staff_password_set_from_link(*, token: str, password: str) -> PasswordSet:
    """Set the password of the link's user and use the link up; return the user and the link.

    Raise LinkInvalidError, LinkExpiredError, LinkUsedError (nothing changes)
    or WeakPasswordError (the link stays usable). Audited as
    ``accounts.staff.password_set``. The caller may then grant its session
    enrolment of an authenticator app (:func:`govserve.accounts.signin.enrolment_grant`)
    when the user has none.
    """
    link = staff_password_link_get(token=token)
    link = StaffPasswordLink.objects.select_for_update().select_related("user").get(pk=link.pk)
    if link.used_at is not None:
        raise errors.LinkUsedError(_("This link has already been used"))
    user = link.user
    _validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    link.used_at = clock.now()
    link.save(update_fields=["used_at", "updated_at"])
    audit_record(
        actor=staff_actor(user),
        action="accounts.staff.password_set",
        subject_type=USER_SUBJECT,
        subject_id=user.pk,
        details={"purpose": link.purpose},
    )
    return PasswordSet(user=user, link_id=str(link.pk), purpose=str(link.purpose))


@transaction.atomic
def staff_password_change(*, user: User, password: str) -> None:
    """Change ``user``'s own password (the caller re-authenticated first); raise WeakPasswordError."""
    _validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(
        actor=staff_actor(user),
        action="accounts.staff.password_changed",
        subject_type=USER_SUBJECT,
        subject_id=user.pk,
    )


@transaction.atomic
def staff_deactivate(*, actor: Actor, user: User) -> bool:
    """Deactivate ``user`` (sessions end at their next request); return False if already inactive.

    Unused set-password links stop working. Audited when something changed.
    """
    if not user.is_active:
        return False
    user.is_active = False
    user.save(update_fields=["is_active"])
    StaffPasswordLink.objects.filter(user=user, used_at__isnull=True).update(expires_at=clock.now())
    audit_record(actor=actor, action="accounts.staff.deactivated", subject_type=USER_SUBJECT, subject_id=user.pk)
    return True


@transaction.atomic
def staff_sessions_end(*, actor: Actor, user: User) -> int:
    """End every open session of staff member ``user`` now (ASVS 7.4.5); return how many ended.

    For an administrator who must cut someone off at once (a lost laptop, a
    suspected compromise) without deactivating the account. The session table
    has no index from account to session, so this reads each unexpired
    session (an operator action, not a page: its cost grows with the number
    of open sessions). Audited as ``accounts.staff.sessions_ended`` with the
    count, also when it is zero.
    """
    store = import_module(settings.SESSION_ENGINE).SessionStore
    user_id = str(user.pk)
    ended: list[str] = []
    for key, data in Session.objects.filter(expire_date__gt=timezone.now()).values_list("session_key", "session_data"):
        decoded = store().decode(data)
        if decoded.get(signin.KIND) == signin.KIND_STAFF and str(decoded.get(SESSION_KEY, "")) == user_id:
            ended.append(key)
    if ended:
        Session.objects.filter(session_key__in=ended).delete()
    audit_record(
        actor=actor,
        action="accounts.staff.sessions_ended",
        subject_type=USER_SUBJECT,
        subject_id=user.pk,
        details={"sessions": len(ended)},
    )
    return len(ended)


@transaction.atomic
def staff_mfa_reset(*, actor: Actor, user: User, send_email: bool = False) -> MfaReset:
    """Remove every authenticator device of ``user`` and issue a one-time link to set up a new one.

    Open sessions end at their next request (django-otp finds no device).
    The person cannot enrol from a password sign-in: they open the link,
    confirm their password, and set up the new app there. An account without
    a usable password (invited, never set) gets a set-password link instead,
    which goes on to the app set-up. Earlier unused links of the account stop
    working. With ``send_email`` the link is also emailed (through the
    outbox, in this transaction); ValidationError when there is no address
    (nothing changes). Audited as ``accounts.staff.mfa_reset``.
    """
    removed, _counts = TOTPDevice.objects.filter(user=user).delete()
    purpose = StaffPasswordLinkPurpose.MFA_ENROLMENT if user.has_usable_password() else StaffPasswordLinkPurpose.RESET
    issued = _issue_password_link(user=user, purpose=purpose)
    if send_email:
        _email_password_link(issued)
    audit_record(
        actor=actor,
        action="accounts.staff.mfa_reset",
        subject_type=USER_SUBJECT,
        subject_id=user.pk,
        details={"devices_removed": removed, "link": issued.link_id, "link_purpose": str(purpose)},
    )
    return MfaReset(devices_removed=int(removed), link=issued)


@transaction.atomic
def staff_unlock(*, actor: Actor, username: str) -> int:
    """Clear the sign-in lockout of ``username`` (failures counted by django-axes); return records cleared."""
    from axes.handlers.proxy import AxesProxyHandler  # noqa: PLC0415  (axes reads settings when imported)

    user = User.objects.filter(username=username).first()
    cleared = int(AxesProxyHandler.reset_attempts(username=username))
    audit_record(
        actor=actor,
        action="accounts.staff.unlocked",
        subject_type=USER_SUBJECT if user else "",
        subject_id=user.pk if user else "",
        details={"records_cleared": cleared},
    )
    return cleared


# --- roles --------------------------------------------------------------------------------


@transaction.atomic
def role_assign(*, actor: Actor, user: User, institution_code: str, role: str) -> RoleAssignment:
    """Grant ``role`` in the institution to ``user``.

    Raise RoleAlreadyHeldError, InvalidRoleError or InstitutionNotFoundError.
    """
    institution = institution_get(institution_code)
    _validate_role(role)
    assignment, created = RoleAssignment.objects.get_or_create(user=user, institution=institution, role=role)
    if not created:
        raise errors.RoleAlreadyHeldError(
            _("%(username)s already holds %(role)s in %(institution)s")
            % {"username": user.username, "role": role, "institution": institution_code}
        )
    policies.forget_roles(user)
    audit_record(
        actor=actor,
        action="accounts.role.assigned",
        subject_type=USER_SUBJECT,
        subject_id=user.pk,
        details={"institution": institution_code, "role": role},
    )
    return assignment


@transaction.atomic
def role_remove(*, actor: Actor, user: User, institution_code: str, role: str) -> None:
    """Take ``role`` in the institution from ``user``; raise RoleNotHeldError, InstitutionNotFoundError."""
    institution = institution_get(institution_code)
    deleted, _counts = RoleAssignment.objects.filter(user=user, institution=institution, role=role).delete()
    if not deleted:
        raise errors.RoleNotHeldError(
            _("%(username)s does not hold %(role)s in %(institution)s")
            % {"username": user.username, "role": role, "institution": institution_code}
        )
    policies.forget_roles(user)
    audit_record(
        actor=actor,
        action="accounts.role.removed",
        subject_type=USER_SUBJECT,
        subject_id=user.pk,
        details={"institution": institution_code, "role": role},
    )


# --- working-day calendars -------------------------------------------------------------


@transaction.atomic
def institution_holiday_set(
    *, actor: Actor, institution_code: str, date: datetime.date, name: str, is_working_day: bool = False
) -> InstitutionHoliday:
    """Create or replace the local override of ``date`` for the institution."""
    institution = institution_get(institution_code)
    name = name.strip()
    if not name or len(name) > 200:
        raise ValidationError(_("Enter a name for the day, 200 characters or fewer"), code="invalid_holiday_name")
    holiday, _created = InstitutionHoliday.objects.update_or_create(
        institution=institution, date=date, defaults={"name": name, "is_working_day": is_working_day}
    )
    audit_record(
        actor=actor,
        action="accounts.institution.holiday_set",
        subject_type="accounts.institution",
        subject_id=institution.pk,
        details={"date": date.isoformat(), "is_working_day": is_working_day},
    )
    return holiday


@transaction.atomic
def institution_holiday_remove(*, actor: Actor, institution_code: str, date: datetime.date) -> bool:
    """Remove the local override of ``date``; return False if there was none."""
    institution = institution_get(institution_code)
    deleted, _counts = InstitutionHoliday.objects.filter(institution=institution, date=date).delete()
    if deleted:
        audit_record(
            actor=actor,
            action="accounts.institution.holiday_removed",
            subject_type="accounts.institution",
            subject_id=institution.pk,
            details={"date": date.isoformat()},
        )
    return bool(deleted)


# --- housekeeping -------------------------------------------------------------------------------


def one_time_links_purge(*, older_than: datetime.timedelta = datetime.timedelta(days=7)) -> int:
    """Delete citizen and staff one-time links that expired more than ``older_than`` ago; return how many.

    Only hashes and ids are stored, but a link's row (and, for an email
    change, the sealed new address) has no use once it can no longer work.
    """
    cutoff = clock.now() - older_than
    with transaction.atomic():
        citizen_links, _counts = CitizenLink.objects.filter(expires_at__lt=cutoff).delete()
        staff_links, _counts = StaffPasswordLink.objects.filter(expires_at__lt=cutoff).delete()
    return int(citizen_links) + int(staff_links)
