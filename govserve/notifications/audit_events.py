"""Audit event types of platform email (declared once, imported by the AppConfig)."""

from govserve.audit.events import register_event

EMAIL_QUEUED = register_event(
    "notifications.email.queued",
    description="An email was rendered, sealed and queued for delivery (template, language, purpose; no content).",
)
EMAIL_SENT = register_event(
    "notifications.email.sent",
    description="The email provider accepted an email (provider name and reference).",
)
EMAIL_FAILED = register_event(
    "notifications.email.failed",
    description="An email could not be delivered and will not be retried (error code).",
)
