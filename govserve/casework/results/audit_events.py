"""Audit event types of govserve.casework.results (imported by ResultsConfig.ready).

Details carry ids, numbers and codes of the definition, never a name or the PDF.
"""

from govserve.audit.events import register_event

register_event(
    "casework.result.issued",
    description="A result was issued on final approval: number, registration and result ids, key id, expiry.",
)
register_event(
    "casework.result.rendered",
    description="An issued result's PDF was rendered and stored sealed (size, render time in milliseconds).",
)
register_event(
    "casework.result.revoked",
    description="An issued result was revoked (the reason is sealed with the file, never in the entry).",
)
register_event(
    "casework.result.downloaded",
    description="An issued result's PDF was downloaded (by its applicant or by staff who may see the file).",
    reads_personal_data=True,
)
