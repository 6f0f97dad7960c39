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
SMS_QUEUED = register_event(
    "notifications.sms.queued",
    description="A text message was sealed and queued for delivery (template, language, purpose; no content).",
)
SMS_SENT = register_event(
    "notifications.sms.sent",
    description="The text-message provider accepted a message (provider name and status).",
)
SMS_FAILED = register_event(
    "notifications.sms.failed",
    description="A text message could not be delivered and will not be retried (error code).",
)
DELIVERY_UPDATED = register_event(
    "notifications.delivery.updated",
    description="A provider's delivery callback changed a message's delivery status (channel, status).",
)
CONTENT_REMOVED = register_event(
    "notifications.content.removed",
    description="The retention job removed the sealed content of old messages (counts; the records stay).",
)
