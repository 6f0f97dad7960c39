"""The catalogue in the staff admin: read-only.

Services, versions and catalogues change only through the service layer
(``govserve publish``/``retire``/``import``, later the staff pages), which
validates, numbers, pins and audits. The admin shows what is there: nothing
can be added, changed or deleted from it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from govserve.catalogue.models import CatalogueVersion, Service, ServiceVersion


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    """Show rows and their fields; refuse add, change and delete."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ServiceVersionInline(admin.TabularInline[ServiceVersion, Service]):
    model = ServiceVersion
    fields = ("number", "state", "content_hash", "published_at", "published_by", "publish_reason")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Service)
class ServiceAdmin(ReadOnlyAdmin):
    list_display = ("id", "title", "owning_institution", "status", "retired_at")
    list_filter = ("status", "owning_institution")
    search_fields = ("id", "title")
    inlines = (ServiceVersionInline,)


@admin.register(ServiceVersion)
class ServiceVersionAdmin(ReadOnlyAdmin):
    list_display = ("service", "number", "state", "published_at", "published_by", "content_hash")
    list_filter = ("state",)
    search_fields = ("service__id", "content_hash")
    exclude = ("parsed",)


@admin.register(CatalogueVersion)
class CatalogueVersionAdmin(ReadOnlyAdmin):
    list_display = ("catalogue", "number", "published_at", "source_name", "content_hash")
    search_fields = ("catalogue__id",)
    exclude = ("parsed",)
