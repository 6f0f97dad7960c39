"""Audit event types of govserve.documents (imported by DocumentsConfig.ready).

Details carry ids, kinds, sizes, states and reason codes: never a file name or content.
"""

from govserve.audit.events import register_event

register_event("documents.document.uploaded", description="A file was uploaded for a slot (kind, size, scan state).")
register_event(
    "documents.document.replaced",
    description="A slot's file was replaced by a new upload (details: the replaced document's id).",
)
register_event("documents.document.removed", description="A slot's file was removed.")
register_event(
    "documents.document.scanned",
    description="A pending document got its scan verdict in the background (clean, infected or failed).",
)
register_event("documents.document.purged", description="A removed or infected document's stored bytes were deleted.")
register_event(
    "documents.document.viewed",
    description="A document was opened through the download view (outcome denied: the viewer was refused).",
    reads_personal_data=True,
)
register_event(
    "documents.upload.refused",
    description="An upload was refused before anything was stored (details.code: why; infected: the signature).",
)
register_event(
    "documents.storage.orphans_deleted",
    description="Sealed objects with no document row (left by a crash or a rolled-back upload) were deleted.",
)
