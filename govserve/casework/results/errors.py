"""Typed errors of results (codes are stable)."""

from __future__ import annotations

from govserve.core.errors import ConflictError, NotFoundError, ValidationError


class ResultNotFoundError(NotFoundError):
    """No such result, or the caller may not know it exists (the same message for both)."""

    code = "result_not_found"


class ResultNotReadyError(ConflictError):
    """The result's PDF is still being prepared."""

    code = "result_not_ready"


class ResultAlreadyRevokedError(ConflictError):
    code = "result_already_revoked"


class RevocationReasonError(ValidationError):
    """A revocation needs a reason (1 to 1,000 characters)."""

    code = "revocation_reason_invalid"


class ResultTemplateMissingError(ValidationError):
    """The pinned version has no stored text for a result's template (a version imported without templates)."""

    code = "result_template_missing"
