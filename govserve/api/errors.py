"""Typed errors of the API, each with a stable code (docs/api.md lists them all)."""

from __future__ import annotations

from govserve.core.errors import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError, ValidationError


class ApiError(ApplicationError):
    """The root of the API's own expected failures."""

    code = "api_error"


class TokenMissingError(ApiError):
    """No ``Authorization: Bearer`` header."""

    code = "token_missing"
    status = 401


class TokenInvalidError(ApiError):
    """The bearer token is not one govserve issued (malformed, unknown prefix, wrong secret)."""

    code = "token_invalid"
    status = 401


class TokenExpiredError(ApiError):
    """The token's lifetime has ended: issue or rotate to a new one."""

    code = "token_expired"
    status = 401


class TokenRevokedError(ApiError):
    """The token was revoked (or replaced by a rotation)."""

    code = "token_revoked"
    status = 401


class ScopeMissingError(ApiError, PermissionDeniedError):
    """The token is valid but lacks the scope this operation needs."""

    code = "scope_missing"
    status = 403


class ClientNotFoundError(ApiError, NotFoundError):
    """No API client of that name or id."""

    code = "api_client_not_found"
    status = 404


class ClientInvalidError(ApiError, ValidationError):
    """The client's name, description or rate limit is not acceptable (or the name is taken)."""

    code = "api_client_invalid"
    status = 422


class TokenNotFoundError(ApiError, NotFoundError):
    """No token with that prefix."""

    code = "api_token_not_found"
    status = 404


class TokenRequestInvalidError(ApiError, ValidationError):
    """Unknown scopes, no scopes, or a lifetime out of range."""

    code = "api_token_request_invalid"
    status = 422


class TokenNotActiveError(ApiError, ConflictError):
    """The token is already revoked: it cannot be rotated (issue a new one)."""

    code = "api_token_not_active"
    status = 409


class CursorInvalidError(ApiError, ValidationError):
    """The pagination cursor is not one this API returned."""

    code = "cursor_invalid"
    status = 400


class IdempotencyKeyMissingError(ApiError, ValidationError):
    """A submission without an ``Idempotency-Key`` header (8 to 100 characters: letters, digits, ``-``, ``_``)."""

    code = "idempotency_key_missing"
    status = 400


class IdempotencyKeyReusedError(ApiError, ConflictError):
    """The ``Idempotency-Key`` was used before for a different request (another application or body)."""

    code = "idempotency_key_reused"
    status = 409


class AnswersUnknownError(ApiError, ValidationError):
    """The body answers fields that the page (or the service) does not have."""

    code = "answers_unknown"
    status = 422


class AnswersMalformedError(ApiError, ValidationError):
    """The ``answers`` part of a multipart upload is not a JSON object."""

    code = "malformed_json"
    status = 400


class DocumentFileMissingError(ApiError, ValidationError):
    """A document upload without its ``file`` part."""

    code = "document_file_missing"
    status = 422


class OperatorNotFoundError(ApiError, NotFoundError):
    """No staff account with that email address (or username)."""

    code = "operator_not_found"
    status = 404


class OperatorNotEligibleError(ApiError, ValidationError):
    """The staff account cannot have an operator token: deactivated, or not enrolled in MFA."""

    code = "operator_not_eligible"
    status = 422


class TokenAccountUnusableError(ApiError):
    """The staff account behind an operator or bot token can no longer act (deactivated, MFA removed, ...)."""

    code = "token_account_unusable"
    status = 401


class OperatorRequiredError(ApiError, PermissionDeniedError):
    """A task operation called with a partner's token: tasks are for operator and bot clients only."""

    code = "operator_required"
    status = 403


class FeedbackNotOpenError(ApiError, ConflictError):
    """A satisfaction answer for an application that is neither sent nor stopped on an exit page."""

    code = "feedback_not_open"
    status = 409


class AnswersCopyNotReadyError(ApiError, ConflictError):
    """The PDF copy of the answers asked for before the application was sent (the web offers it once sent)."""

    code = "application_not_sent"
    status = 409
