"""Documents in the admin: metadata only, read-only. No file name, no bytes, no download link.

Operators see what they need to run the service (kind, size, scan state and
verdict, whether the bytes were purged); the person's file is only ever
opened through the permission-checked, audited download view.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from govserve.documents.models import Document
from govserve.documents.scanning.base import TEST_SCANNER_LABEL


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "id",
        "owner",
        "slot",
        "kind",
        "size_bytes",
        "scan_state",
        "scanner_shown",
        "uploaded_at",
        "removed_at",
    )
    list_filter = ("scan_state", "kind", "scanner")
    search_fields = ("=id", "=owner")
    fields = (
        "id",
        "owner",
        "slot",
        "kind",
        "content_type",
        "size_bytes",
        "scan_state",
        "scanner_shown",
        "scan_signature",
        "scanned_at",
        "uploaded_at",
        "removed_at",
        "purged_at",
        "storage_name",
        "sealed_sha256",
    )
    readonly_fields = fields
    actions = None

    @admin.display(description="scanner")
    def scanner_shown(self, document: Document) -> str:
        """Return the scanner name, with the test scanner labelled for what it is."""
        return f"test ({TEST_SCANNER_LABEL})" if document.scanner == "test" else document.scanner

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
