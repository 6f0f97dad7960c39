"""Accounts: institutions and their units, staff users and their roles, citizens.

Staff are Django auth users (``AUTH_USER_MODEL``); citizens are a separate
kind of account (:class:`Citizen`) whose email address is stored encrypted
with a blind index for look-up, never in clear.
"""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models

from govserve.core import clock
from govserve.core.models import BaseModel


class Institution(BaseModel):
    """An organisation that owns services and processes applications (a ministry, an agency, a council)."""

    code = models.SlugField(max_length=64, unique=True, help_text="The id service definitions refer to.")
    name = models.CharField(max_length=200)
    name_cy = models.CharField(max_length=200, blank=True, default="")
    holiday_country = models.CharField(max_length=8, default="GB", help_text="ISO country for the holidays package.")
    holiday_subdivision = models.CharField(max_length=16, blank=True, default="ENG")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Unit(BaseModel):
    """A team inside an institution (licensing, registry office, street lighting)."""

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="units")
    code = models.SlugField(max_length=64)
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["institution__code", "code"]
        constraints = [models.UniqueConstraint(fields=["institution", "code"], name="unit_code_unique_per_institution")]

    def __str__(self) -> str:
        return f"{self.institution.code}/{self.code}"


class User(AbstractUser):
    """A staff member (civil servant or supplier engineer); citizens are :class:`Citizen`.

    Roles are held through :class:`RoleAssignment`; MFA devices through django-otp.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="staff")
    is_supplier = models.BooleanField(
        default=False, help_text="Supplier staff: time-limited, marked in every audit entry."
    )
    access_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["username"]

    @property
    def institution(self) -> Institution | None:
        """Return the institution of the user's unit, if any."""
        return self.unit.institution if self.unit is not None else None


class SupplierScope(BaseModel):
    """What a supplier account may reach: named institutions, and optionally named services within them.

    A supplier's roles count only in ``institutions`` (a role granted anywhere
    else is ignored), and when ``services`` is not empty only the tasks and
    files of those service ids are in reach. A supplier account without a
    scope reaches nothing (fail closed). ``company`` names the supplier for
    the service owner's report.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="supplier_scope")
    company = models.CharField(max_length=200, blank=True, default="")
    institutions = models.ManyToManyField(Institution, related_name="supplier_scopes")
    services = models.JSONField(default=list, blank=True, help_text="Service ids; empty: all of the institutions'.")

    def __str__(self) -> str:
        return f"supplier scope of {self.user_id}"


class PlatformRole(models.TextChoices):
    """Roles that are not named by a service flow."""

    ADMINISTRATOR = "administrator", "Administrator"
    ANALYST = "analyst", "Analyst"
    REVIEWER = "reviewer", "Reviewer"
    AUDITOR = "auditor", "Auditor"
    SERVICE_OWNER = "service-owner", "Service owner"


class RoleAssignment(BaseModel):
    """A role held by a staff member in an institution.

    ``role`` is either a platform role (:class:`PlatformRole`) or a role id that
    a service flow names (``licensing_officer``); flow roles are matched by id.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="role_assignments")
    role = models.SlugField(max_length=64)
    granted_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "institution", "role"], name="role_assignment_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.institution_id}:{self.role}"


class InstitutionHoliday(BaseModel):
    """A local override of an institution's working-day calendar.

    The national calendar comes from the ``holidays`` package (the
    institution's ``holiday_country``/``holiday_subdivision``); a row here
    either closes a day the package says is working (``is_working_day=False``:
    a local holiday, an office closure) or opens a day it says is not
    (``is_working_day=True``: a bank holiday the institution works, a Saturday
    opening).
    """

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="holiday_overrides")
    date = models.DateField()
    name = models.CharField(max_length=200)
    is_working_day = models.BooleanField(default=False)

    class Meta:
        ordering = ["institution__code", "date"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "date"], name="institution_holiday_unique_date"),
        ]

    def __str__(self) -> str:
        return f"{self.institution_id}:{self.date.isoformat()}"


class StaffPasswordLinkPurpose(models.TextChoices):
    INVITATION = "invitation", "Invitation"
    RESET = "reset", "Password reset"
    MFA_ENROLMENT = "mfa_enrolment", "Authenticator set-up"


class StaffPasswordLink(BaseModel):
    """A one-time link for a staff member: set a password, or set up an authenticator app.

    ``invitation`` and ``reset`` links set the password (and, for an account
    without an authenticator app, go on to set one up in the same session);
    ``mfa_enrolment`` links (``govserve staff reset-mfa``) set up an
    authenticator app once the person confirms their password. Only the
    SHA-256 hash of the token is stored; the token itself is shown once
    (printed by ``govserve staff`` or emailed).
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_links")
    purpose = models.CharField(max_length=16, choices=StaffPasswordLinkPurpose.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="staff_pwlink_expires_idx")]

    def __str__(self) -> str:
        return f"{self.purpose}:{self.user_id}"


class Citizen(BaseModel):
    """A citizen's account: never a Django auth user, never an email address in clear.

    The email address is sealed by ``govserve.privacy.crypto`` with the owner
    ``citizen:<id>`` and field ``email``; ``email_index`` is its blind index
    (purpose ``citizen-email``, over the normalised address) for look-up and
    uniqueness. ``password_hash`` is empty unless the citizen chose a password
    (argon2 through Django's hashers).
    """

    email_sealed = models.BinaryField()
    email_index = models.CharField(max_length=128, unique=True)
    password_hash = models.CharField(max_length=256, blank=True, default="")
    preferred_language = models.CharField(max_length=8, default="en")
    email_verified_at = models.DateTimeField(null=True, blank=True)
    last_signed_in_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"citizen:{self.id}"

    @property
    def crypto_owner(self) -> str:
        """Return the owner string this citizen's personal data is sealed under."""
        return f"citizen:{self.id}"

    @property
    def has_password(self) -> bool:
        """Return whether the citizen has chosen a password."""
        return bool(self.password_hash)


class CitizenLinkPurpose(models.TextChoices):
    SIGN_IN = "sign_in", "Sign in"
    EMAIL_CHANGE = "email_change", "Confirm a new email address"


class CitizenLink(BaseModel):
    """An emailed one-time link: sign in, or confirm a new email address.

    Only the SHA-256 hash of the token is stored. A link is valid until
    ``expires_at`` and can be used once (``used_at``). For an email change the
    new address travels sealed (owner ``citizen:<id>``, field ``pending_email``)
    with its blind index, never in clear.
    """

    citizen = models.ForeignKey(Citizen, on_delete=models.CASCADE, related_name="links")
    purpose = models.CharField(max_length=16, choices=CitizenLinkPurpose.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    next_path = models.CharField(max_length=500, blank=True, default="")
    new_email_sealed = models.BinaryField(null=True, blank=True)
    new_email_index = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="citizen_link_expires_idx")]

    def __str__(self) -> str:
        return f"{self.purpose}:{self.citizen_id}"


class ExternalIdentity(BaseModel):
    """A link between an external identity provider's subject and a govserve account.

    Used by single sign-on adapters (staff OIDC, GOV.UK One Login for
    citizens): ``subject`` is the provider's stable, pseudonymous ``sub``.
    Exactly one of ``user`` and ``citizen`` is set.
    """

    provider = models.SlugField(max_length=64)
    subject = models.CharField(max_length=255)
    user = models.ForeignKey(User, on_delete=models.CASCADE, null=True, blank=True, related_name="external_identities")
    citizen = models.ForeignKey(
        Citizen, on_delete=models.CASCADE, null=True, blank=True, related_name="external_identities"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "subject"], name="external_identity_unique_subject"),
            models.CheckConstraint(
                condition=(models.Q(user__isnull=False, citizen__isnull=True))
                | (models.Q(user__isnull=True, citizen__isnull=False)),
                name="external_identity_one_account",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.id}"
