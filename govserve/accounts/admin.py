"""Admin registrations for accounts (served by the audited, MFA-guarded StaffAdminSite).

Roles are the source of permissions, so Django's is_staff, is_superuser,
groups and per-user permissions are not offered. Reading staff and citizen
pages is audited (``accounts.admin.viewed``; see
:mod:`govserve.accounts.admin_site`); institutions hold no personal data. Citizens are listed without
any personal value: their email address is sealed and never shown here.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from govserve.accounts import signin
from govserve.accounts.models import Citizen, Institution, InstitutionHoliday, RoleAssignment, Unit, User

# Setting another person's password is sensitive: the administrator must
# have given their own password and code within the last five minutes.
PASSWORD_CHANGE_REAUTH_SECONDS = 300


class UnitInline(admin.TabularInline[Unit, Institution]):
    model = Unit
    extra = 0


class InstitutionHolidayInline(admin.TabularInline[InstitutionHoliday, Institution]):
    model = InstitutionHoliday
    extra = 0
    fields = ("date", "name", "is_working_day")


@admin.register(Institution)
class InstitutionAdmin(admin.ModelAdmin[Institution]):
    personal_data = False  # organisations, their units and calendars: nothing about a person
    list_display = ("code", "name", "holiday_country", "holiday_subdivision", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name")
    inlines = (UnitInline, InstitutionHolidayInline)


class RoleAssignmentInline(admin.TabularInline[RoleAssignment, User]):
    model = RoleAssignment
    extra = 0
    fields = ("institution", "role", "granted_at")
    readonly_fields = ("granted_at",)


@admin.register(User)
class StaffUserAdmin(UserAdmin[User]):
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Person", {"fields": ("first_name", "last_name", "email", "unit")}),
        ("Access", {"fields": ("is_active", "is_supplier", "access_expires_at", "last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "usable_password", "password1", "password2")}),
        ("Person", {"fields": ("first_name", "last_name", "email", "unit")}),
        ("Access", {"fields": ("is_supplier", "access_expires_at")}),
    )
    readonly_fields = ("last_login", "date_joined")
    list_display = ("username", "first_name", "last_name", "unit", "is_active", "is_supplier", "access_expires_at")
    list_filter = ("is_active", "is_supplier", "unit__institution")
    search_fields = ("username", "first_name", "last_name", "email")
    filter_horizontal = ()
    inlines = (RoleAssignmentInline,)

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        """Require a recent re-authentication before an administrator sets someone's password."""
        if signin.seconds_since_reauthentication(request) > PASSWORD_CHANGE_REAUTH_SECONDS:
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"{reverse('accounts:staff_reauthenticate')}?{query}")
        return super().user_change_password(request, id, form_url)


@admin.register(Citizen)
class CitizenAdmin(admin.ModelAdmin[Citizen]):
    list_display = ("id", "preferred_language", "created_at", "last_signed_in_at", "is_active")
    list_filter = ("is_active", "preferred_language")
    fields = ("id", "preferred_language", "email_verified_at", "created_at", "last_signed_in_at", "is_active")
    readonly_fields = ("id", "preferred_language", "email_verified_at", "created_at", "last_signed_in_at")
    search_fields = ("=id",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Citizens create their own accounts."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Erasure goes through privacy's erasure process (crypto-shredding), not a delete button."""
        return False
