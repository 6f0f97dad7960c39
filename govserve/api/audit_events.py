"""Audit event types of the API (imported by :class:`ApiConfig.ready`)."""

from govserve.audit.events import register_event

register_event("api.client.created", description="An API client (partner system, bot) was registered.")
register_event("api.token.issued", description="A scoped token was issued to an API client; details: prefix, scopes.")
register_event("api.token.revoked", description="An API client's token was revoked; details: prefix.")
register_event(
    "api.token.rotated", description="An API client's token was replaced by a new one; details: old and new prefix."
)
register_event(
    "api.call.handled",
    description="An authenticated API call was answered; details: method, operation, status (never a body).",
)
