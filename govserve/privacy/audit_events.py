"""Audit event types of govserve.privacy's key management (imported by PrivacyConfig.ready)."""

from govserve.audit.events import register_event

register_event(
    "privacy.data_key.destroyed",
    description="An owner's data key was destroyed (crypto-shredding): its sealed values are unreadable for good.",
)
register_event(
    "privacy.data_keys.rewrapped",
    description="One committed batch of a key rotation re-wrapped data keys under the current key-encryption key.",
)
register_event(
    "privacy.keys.rotated",
    description="A key rotation run ended (complete or stopped), with its counts per key-encryption key.",
)
register_event(
    "privacy.keys.retired",
    description="A key-encryption key was retired: no data key uses it any more and it may leave GOVSERVE_KEYS.",
)
register_event(
    "privacy.subject_access.exported",
    description="Everything held about a person was exported (details: counts and institution scope, never values).",
    reads_personal_data=True,
)
register_event(
    "privacy.subject_access.requested",
    description="A data protection officer asked for a subject access export (details: scope, language; no address).",
)
register_event(
    "privacy.subject_access.downloaded",
    description="A prepared subject access export was downloaded (details: request id, size, scope).",
    reads_personal_data=True,
)
register_event(
    "privacy.subject_access.removed",
    description="A subject access request's data key was destroyed and its zip deleted (details: state before).",
)
register_event(
    "privacy.file.anonymised",
    description=(
        "A file's personal data was removed and an anonymised record kept (details: service, version, reason "
        "retention or erasure, closure date, counts)."
    ),
)
register_event(
    "privacy.file.deleted",
    description=(
        "A file's personal data and descriptive rows were removed, its statistics kept (details as anonymised)."
    ),
)
register_event(
    "privacy.erasure.refused",
    description="An erasure request was refused (details: how it was asked, the refusal codes of each file).",
)
register_event("privacy.legal_hold.placed", description="A legal hold was placed on a file (details: reason code).")
register_event("privacy.legal_hold.released", description="A legal hold on a file was released.")
register_event(
    "privacy.citizen.erased",
    description="A citizen account's own data was erased after its files (details: file count, account removed).",
)
