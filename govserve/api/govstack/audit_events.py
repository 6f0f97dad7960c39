"""Audit event types of the GovStack API (imported by its views)."""

from govserve.audit.events import register_event

register_event(
    "govstack.call.handled",
    description=(
        "A GovStack Registration BB API call was answered; details: method, operation, status and the "
        "caller's X-Road identity (never a body)."
    ),
)
