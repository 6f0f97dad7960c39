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


class PlatformRole(models.TextChoices):
    """Roles that are not named by a service flow."""

    ADMINISTRATOR = "administrator", "Administrator"
    ANALYST = "analyst", "Analyst"
    REVIEWER = "reviewer", "Reviewer"
    AUDITOR = "auditor", "Auditor"


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
