"""The Django admin at /staff/admin/: administrators only, OTP-verified, every change audited.

:class:`StaffAdminSite` is the default admin site (through
``GovserveAdminConfig`` in INSTALLED_APPS), so every app's
``admin.site.register`` lands here. It

- admits only accounts holding ``administrator`` whose session is verified by
  an authenticator (django-otp's :class:`OTPAdminSite` check), whatever
  ``is_staff`` says;
- signs in through the staff sign-in page (password + TOTP), never its own form;
- mixes :class:`AuditedAdminMixin` into every registered ModelAdmin, so each
  addition, change and deletion writes an audit entry (``accounts.admin.*``)
  beside Django's LogEntry, in the admin's own transaction, and each *read*
  of a model holding personal data — its list page, an object's change form
  or delete confirmation — writes ``accounts.admin.viewed`` (a read of
  personal data: the model, the object id or the ids on the page, never
  values, never the search text typed).

Which models hold personal data is declared on the ModelAdmin:
``personal_data = False`` for one that holds none (institutions). The default
is ``True``: a model registered without saying is audited (fail closed).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin.models import ADDITION, CHANGE, DELETION
from django.contrib.admin.utils import unquote
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminSite

from govserve.accounts import policies, signin
from govserve.accounts.auditing import staff_actor
from govserve.accounts.models import User
from govserve.audit.services import audit_record

_ACTIONS = {ADDITION: "accounts.admin.added", CHANGE: "accounts.admin.changed", DELETION: "accounts.admin.deleted"}


def _changed_fields(message: Any) -> list[str]:
    # Django passes a list like [{"changed": {"fields": ["Name"]}}, {"added": {...}}]:
    # keep the field names (never values).
    fields: list[str] = []
    if isinstance(message, list):
        for part in message:
            if isinstance(part, dict):
                for detail in part.values():
                    if isinstance(detail, dict):
                        fields.extend(str(name) for name in detail.get("fields", []))
                        if "object" in detail and "name" in detail:
                            fields.append(f"{detail['name']}")
    return sorted(set(fields))


def _audit(request: HttpRequest, flag: int, objects: Iterable[Model], message: Any = None) -> None:
    user = request.user
    if not isinstance(user, User):  # pragma: no cover - the site admits signed-in staff only
        raise TypeError(type(user))
    for obj in objects:
        audit_record(
            actor=staff_actor(user),
            action=_ACTIONS[flag],
            subject_type=obj._meta.label_lower,
            subject_id=obj.pk,
            details={"fields": _changed_fields(message)} if flag == CHANGE else {},
        )


def _audit_view(request: HttpRequest, model: type[Model], view: str, object_ids: list[str]) -> None:
    user = request.user
    if not isinstance(user, User):  # pragma: no cover - the site admits signed-in staff only
        raise TypeError(type(user))
    details: dict[str, Any] = {"model": model._meta.label_lower, "view": view}
    if view == "list":
        details["object_ids"] = object_ids
        details["searched"] = bool(request.GET.get("q"))
    with transaction.atomic():
        audit_record(
            actor=staff_actor(user),
            action="accounts.admin.viewed",
            subject_type=model._meta.label_lower,
            subject_id=object_ids[0] if view != "list" and object_ids else "",
            details=details,
        )


def _shown(response: HttpResponse) -> bool:
    # A redirect (unknown object, bad lookup) or a refusal shows no data.
    return response.status_code == 200 and isinstance(response, TemplateResponse)


class AuditedAdminMixin:
    """Audit each admin addition, change and deletion (beside Django's LogEntry) and each read of personal data."""

    # The ModelAdmin's ``personal_data`` (default True) says whether its pages show personal data. Read
    # with getattr: the mixin comes first in the MRO, so a class attribute here would hide the admin's own.
    model: type[Model]

    def _reads_personal_data(self) -> bool:
        return bool(getattr(self, "personal_data", True))

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        """Show the list page; audit which objects it showed when the model holds personal data."""
        response: HttpResponse = super().changelist_view(request, extra_context)  # type: ignore[misc]
        if self._reads_personal_data() and request.method == "GET" and _shown(response):
            changelist = (getattr(response, "context_data", None) or {}).get("cl")
            if changelist is not None:
                ids = [str(obj.pk) for obj in changelist.result_list]
                _audit_view(request, self.model, "list", ids)
        return response

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        """Show an object's form; audit the read when the model holds personal data."""
        response: HttpResponse = super().change_view(request, object_id, form_url, extra_context)  # type: ignore[misc]
        if self._reads_personal_data() and request.method == "GET" and _shown(response):
            _audit_view(request, self.model, "change", [str(unquote(object_id))])
        return response

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        """Show the delete confirmation (it names the object and what goes with it); audit it like a read."""
        response: HttpResponse = super().delete_view(request, object_id, extra_context)  # type: ignore[misc]
        if self._reads_personal_data() and request.method == "GET" and _shown(response):
            _audit_view(request, self.model, "delete", [str(unquote(object_id))])
        return response

    def log_addition(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        _audit(request, ADDITION, [obj], message)
        return super().log_addition(request, obj, message)  # type: ignore[misc]

    def log_change(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        _audit(request, CHANGE, [obj], message)
        return super().log_change(request, obj, message)  # type: ignore[misc]

    def log_deletions(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        _audit(request, DELETION, list(queryset))
        return super().log_deletions(request, queryset)  # type: ignore[misc]


class StaffAdminSite(OTPAdminSite):  # type: ignore[misc]  # django-otp ships no types
    """The admin site for platform administrators (see the module docstring)."""

    site_header = _("govserve administration")
    site_title = _("govserve administration")
    index_title = _("Platform administration")

    def __init__(self, name: str = "admin") -> None:
        # Keep the instance name "admin" so reverse("admin:...") works everywhere.
        super().__init__(name)

    def has_permission(self, request: HttpRequest) -> bool:
        """Admit usable administrator accounts with an OTP-verified session only."""
        return (
            policies.can_use_admin(request.user)
            and signin.otp_verified(request.user)
            and request.session.get(signin.KIND) == signin.KIND_STAFF
        )

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        """Register like AdminSite.register, with the audit mixin added to the admin class."""
        base = admin_class or admin.ModelAdmin
        if not issubclass(base, AuditedAdminMixin):
            base = type(f"Audited{base.__name__}", (AuditedAdminMixin, base), {"__module__": base.__module__})
        super().register(model_or_iterable, base, **options)

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        """Send to the staff sign-in page, or refuse signed-in staff who may not use the admin (403)."""
        signed_in_staff = request.session.get(signin.KIND) == signin.KIND_STAFF and policies.account_usable(
            request.user
        )
        if signed_in_staff:
            needs_otp = policies.can_use_admin(request.user) and not signin.otp_verified(request.user)
            return render(
                request,
                "accounts/admin_forbidden.html",
                {"page_title": _("You cannot use the admin"), "needs_otp": needs_otp, "staff_signed_in": True},
                status=403,
            )
        next_url = request.GET.get("next") or reverse("admin:index")
        return HttpResponseRedirect(f"{reverse('accounts:staff_sign_in')}?{urlencode({'next': next_url})}")

    def logout(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        """Sign out through the staff sign-out page (POST with CSRF protection, as the admin's button sends)."""
        if request.method == "POST":
            signin.session_end(request, reason="signed_out")
            return HttpResponseRedirect(reverse("accounts:staff_signed_out"))
        return HttpResponseRedirect(reverse("accounts:staff_sign_out"))
