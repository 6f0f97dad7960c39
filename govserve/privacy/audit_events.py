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
