"""The audit log in the admin: read-only. Nobody adds, changes or deletes an entry through it."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from govserve.audit.models import AuditChainHead, AuditEntry


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """No add, change or delete permission, whatever the user's permissions say; no bulk actions."""

    actions = None

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "occurred_at",
        "action",
        "actor_kind",
        "actor_id",
        "actor_is_supplier",
        "outcome",
        "subject_type",
        "subject_id",
        "sealed_at",
    )
    list_filter = ("outcome", "actor_kind", "actor_is_supplier", "action")
    search_fields = ("=subject_id", "=actor_id", "=request_id", "=action")
    date_hierarchy = "occurred_at"
    show_full_result_count = False  # a COUNT(*) over millions of entries on every page is slow
    list_per_page = 100
    readonly_fields = tuple(field.name for field in AuditEntry._meta.fields)


@admin.register(AuditChainHead)
class AuditChainHeadAdmin(ReadOnlyAdmin):
    list_display = ("last_sealed_id", "last_hash", "last_sealed_at", "horizon_id", "horizon_at", "probe_upto_id")
    readonly_fields = tuple(field.name for field in AuditChainHead._meta.fields)
