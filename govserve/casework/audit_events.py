"""Audit event types of casework (imported by CaseworkConfig.ready)."""

from govserve.audit.events import register_event

register_event("casework.file.opened", description="A submitted application's case file was opened (first task).")
register_event("casework.task.claimed", description="A staff member claimed a task from the pool.")
register_event("casework.task.assigned", description="A task was assigned to a staff member (details: assignee id).")
register_event("casework.task.released", description="A task was put back in the pool.")
register_event(
    "casework.tasks.bulk_reassigned", description="A team leader reassigned several tasks (details: task ids)."
)
register_event(
    "casework.decision.recorded",
    description="A decision was recorded on a task (details: role, decision, target, automatic, flagged ids).",
)
register_event("casework.file.closed", description="A case file was closed with an outcome.")
register_event("casework.file.resubmitted", description="The applicant sent a sent-back application again.")
register_event("casework.file.withdrawn", description="The open tasks of a withdrawn application were cancelled.")
register_event("casework.note.added", description="An internal note was added to a file (never its text).")
register_event("casework.message.sent", description="A message was sent on a file's thread (details: sender).")
register_event(
    "casework.correction.made",
    description=(
        "An operator corrected an answer (details: field id; the registrations, fees and required documents "
        "the corrected answer recomputed, by id and amount)."
    ),
)
register_event("casework.counter.recorded", description="A document or signature was recorded at a counter.")
register_event("casework.processing.saved", description="Processing field values were saved (field ids only).")
register_event("casework.assisted.started", description="A staff member started an application on a citizen's behalf.")
register_event(
    "casework.file.viewed",
    description="A staff member read a file's personal data (details: purpose, role seen as).",
    reads_personal_data=True,
)
