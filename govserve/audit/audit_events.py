"""The audit log's own events."""

from govserve.audit.events import register_event

ID_SKIPPED = register_event(
    "audit.chain.id_skipped",
    description=(
        "The sealer recorded a hole: an entry id was allocated but never committed "
        "(its transaction rolled back) within the grace period."
    ),
)
VERIFIED = register_event(
    "audit.chain.verified",
    description="Someone verified the audit chain (govserve audit verify); the outcome says whether it was intact.",
)
HEAD_EXPORTED = register_event(
    "audit.chain.head_exported",
    description="The chain head (id, hash, sealed_at) was exported for external anchoring.",
)
ENTRIES_EXPORTED = register_event(
    "audit.entries.exported",
    description="Sealed audit entries were exported as JSON lines (for an external verifier or an auditor).",
)
