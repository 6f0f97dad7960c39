"""The root of govserve's typed errors.

Only subclasses of :class:`ApplicationError` are expected failures: the web
shows their message to the person, the API maps them to a problem+json (RFC
9457) body with a 4xx status. Anything else is a bug and stays a 500.
"""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """An expected failure with a stable code and a message fit for the person.

    ``code`` is stable (clients and tests rely on it); ``message`` is specific
    and translatable; ``status`` is the HTTP status the API answers with;
    ``extra`` carries structured detail (field errors, locations).
    """

    code: str = "application_error"
    status: int = 400

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.extra = extra

    def __str__(self) -> str:
        return self.message


class NotFoundError(ApplicationError):
    """The thing does not exist, or the caller may not know that it does."""

    code = "not_found"
    status = 404


class PermissionDeniedError(ApplicationError):
    """The caller is known but may not do this."""

    code = "permission_denied"
    status = 403


class ConflictError(ApplicationError):
    """The request conflicts with the current state (already claimed, already decided...)."""

    code = "conflict"
    status = 409


class ValidationError(ApplicationError):
    """The input is well-formed but not acceptable; ``extra['errors']`` lists field errors."""

    code = "validation_error"
    status = 422
