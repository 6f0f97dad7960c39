"""Audit event types of accounts (imported by AccountsConfig.ready)."""

from govserve.audit.events import register_event

# Staff sign-in and sessions
register_event("accounts.staff.signed_in", description="A staff member signed in (password and second factor).")
register_event(
    "accounts.staff.sign_in_failed",
    description="A staff sign-in attempt failed; details.reason gives the code (never the value typed).",
)
register_event("accounts.staff.locked_out", description="Repeated failures locked staff sign-in for a username.")
register_event("accounts.staff.unlocked", description="An operator cleared a sign-in lockout.")
register_event("accounts.staff.signed_out", description="A staff member signed out.")
register_event("accounts.staff.session_expired", description="A session ended by the idle or absolute timeout.")
register_event("accounts.staff.reauthenticated", description="A staff member confirmed password and code again.")
register_event(
    "accounts.staff.access_refused",
    description="A signed-in staff member's request was refused (403 or 404): details give the method, route "
    "pattern, status, reason code and the URL's object ids, never the query string or a personal value.",
)
register_event(
    "accounts.staff.sessions_ended",
    description="An administrator ended every open session of a staff member (details.sessions: how many).",
)
register_event("accounts.staff.mfa_enrolled", description="A staff member confirmed a new authenticator app.")
register_event(
    "accounts.staff.mfa_reset",
    description="A staff member's authenticator devices were removed and a one-time set-up link issued.",
)
register_event(
    "accounts.staff.enrolment_link_used",
    description="A staff member confirmed their password on an authenticator set-up link (enrolment granted).",
)
register_event("accounts.staff.invited", description="A staff account was created with a set-password link.")
register_event("accounts.staff.password_link_issued", description="A set-password link was issued for a staff account.")
register_event("accounts.staff.password_set", description="A staff member set their password from a one-time link.")
register_event("accounts.staff.password_changed", description="A staff member changed their password.")
register_event("accounts.staff.deactivated", description="A staff account was deactivated.")
register_event("accounts.role.assigned", description="A role in an institution was granted to a staff member.")
register_event("accounts.role.removed", description="A role in an institution was taken from a staff member.")
register_event(
    "accounts.supplier.scope_set",
    description="A supplier account's reach was set: its institutions, services and access expiry (codes only).",
)
register_event(
    "accounts.supplier.report_viewed",
    description="The supplier staff report of an institution was shown or printed (institution code, row count).",
)

# The Django admin
register_event("accounts.admin.added", description="An object was added through the Django admin.")
register_event("accounts.admin.changed", description="An object was changed through the Django admin.")
register_event("accounts.admin.deleted", description="An object was deleted through the Django admin.")
register_event(
    "accounts.admin.viewed",
    description="A list page, change form or delete confirmation of a model holding personal data was shown "
    "in the Django admin (model and object ids, never values).",
    reads_personal_data=True,
)

# Institutions
register_event("accounts.institution.holiday_set", description="A local working-day override was set.")
register_event("accounts.institution.holiday_removed", description="A local working-day override was removed.")

# Citizens
register_event("accounts.citizen.created", description="A citizen account was created.")
register_event("accounts.citizen.sign_in_link_requested", description="A one-time sign-in link was emailed.")
register_event("accounts.citizen.signed_in", description="A citizen signed in (details.method: link or password).")
register_event("accounts.citizen.sign_in_failed", description="A citizen sign-in attempt failed (reason code).")
register_event("accounts.citizen.signed_out", description="A citizen signed out.")
register_event(
    "accounts.citizen.password_set",
    description="A citizen set or changed their password (details.proof: how they proved it was them).",
)
register_event(
    "accounts.citizen.password_change_refused",
    description="A citizen's password change was refused (wrong current password, or a fresh link needed).",
)
register_event("accounts.citizen.email_change_requested", description="A citizen asked to change their email address.")
register_event("accounts.citizen.email_changed", description="A citizen confirmed a new email address.")
register_event(
    "accounts.citizen.removed_unused",
    description="A citizen account created by a link request and never used was removed (its data key destroyed).",
)
register_event(
    "accounts.citizen.email_read",
    description="Staff read a citizen's email address.",
    reads_personal_data=True,
)
