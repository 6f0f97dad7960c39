"""Typed errors of platform email, each with a stable code.

These are failures of a caller's request to send (a bad address, a template
without the values it needs). Provider failures during delivery are not
ApplicationErrors: see :mod:`govserve.notifications.providers.base`.
"""

from __future__ import annotations

from govserve.core.errors import ApplicationError, ConflictError, NotFoundError, ValidationError


class TemplateNotFoundError(NotFoundError):
    """No template of that name exists (platform default or service override)."""

    code = "email_template_not_found"


class TemplateSyntaxError(ValidationError):
    """A template's text is malformed (unbalanced ``((`` / ``))``, a bad placeholder name)."""

    code = "email_template_syntax"


class PlaceholderMissingError(ValidationError):
    """A placeholder of the template has no value; ``extra['missing']`` lists the names."""

    code = "email_placeholder_missing"


class PlaceholderValueError(ValidationError):
    """A placeholder value is unusable (a conditional flag that is not yes/no, CR/LF in a subject)."""

    code = "email_placeholder_value"


class InvalidRecipientError(ValidationError):
    """The recipient is not a single, well-formed email address."""

    code = "email_recipient_invalid"


class HeaderInjectionError(ValidationError):
    """A header value (recipient, subject) carries a line break or NUL: refused, never sent."""

    code = "email_header_injection"


class EmailIdempotencyConflictError(ConflictError):
    """The idempotency key was already used for a different email (other template, purpose or owner)."""

    code = "email_idempotency_conflict"


class EmailRequestError(ApplicationError):
    """A malformed call (empty idempotency key, unknown language, owner not ``kind:id``)."""

    code = "email_request_invalid"
    status = 400


class CallbackPayloadError(ApplicationError):
    """A delivery receipt without a known status or notification type."""

    code = "notification_callback_invalid"
    status = 400


class CallbackTokenError(ApplicationError):
    """A delivery callback without the configured bearer token."""

    code = "notification_callback_unauthorised"
    status = 401
