"""Audit event types of the citizen journey (imported by JourneysConfig.ready)."""

from govserve.audit.events import register_event

register_event("journeys.application.started", description="An application was started (details: service, version).")
register_event(
    "journeys.application.answers_saved",
    description=(
        "Answers were saved (details: the page id, or the pages saved together, and the field ids changed;"
        " never the values)."
    ),
)
register_event(
    "journeys.application.group_item_saved", description="An item of a repeating group was added or changed."
)
register_event("journeys.application.group_item_removed", description="An item of a repeating group was removed.")
register_event(
    "journeys.application.submitted",
    description="An application was sent (details: status reached, fees due in minor units, idempotency key hash).",
)
register_event("journeys.application.withdrawn", description="The applicant withdrew a sent application.")
register_event("journeys.application.draft_deleted", description="The applicant deleted a draft.")
register_event("journeys.application.expired", description="A draft passed its expiry date and was deleted.")
register_event(
    "journeys.application.access_link_sent",
    description="A link to continue an anonymous application was emailed (the address is never recorded).",
)
register_event(
    "journeys.application.access_link_used",
    description="An anonymous applicant opened their application with the emailed link.",
)
register_event("journeys.feedback.recorded", description="A satisfaction answer was recorded (details: rating).")
