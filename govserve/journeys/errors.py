"""Typed errors of the citizen journey, each with a stable code (the API maps them to problem+json)."""

from __future__ import annotations

from typing import Any

from govserve.core.errors import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError, ValidationError


class JourneyError(ApplicationError):
    """The root of the journey's expected failures."""

    code = "journey_error"


class ApplicationNotFoundError(JourneyError, NotFoundError):
    """No such application, or the caller may not know that it exists (the same answer for both)."""

    code = "application_not_found"
    status = 404


class PageNotFoundError(JourneyError, NotFoundError):
    """The page id is not a page of the application's service version."""

    code = "page_not_found"
    status = 404


class ApplicationAccessDeniedError(JourneyError, PermissionDeniedError):
    """The caller is known but may not act on this application (another citizen's, or wrong link)."""

    code = "application_access_denied"
    status = 403


class ApplicationNotEditableError(JourneyError, ConflictError):
    """The application has been sent, withdrawn or has expired: its answers can no longer change."""

    code = "application_not_editable"
    status = 409


class ApplicationAlreadySubmittedError(JourneyError, ConflictError):
    """A submission with another idempotency key for an application already sent."""

    code = "application_already_submitted"
    status = 409


class ServiceClosedError(JourneyError, ConflictError):
    """The service is retired (or has no published version): it takes no new applications."""

    code = "service_closed"
    status = 409


class SignInRequiredError(JourneyError, PermissionDeniedError):
    """The service needs a signed-in citizen."""

    code = "sign_in_required"
    status = 401


class AnswersInvalidError(JourneyError, ValidationError):
    """Answers failed validation; ``errors`` lists FieldError(field_id, code, message, anchor)."""

    code = "answers_invalid"
    status = 422

    def __init__(self, message: str, *, errors: list[Any], **extra: Any) -> None:
        super().__init__(message, errors=errors, **extra)
        self.errors = errors


class SubmissionIncompleteError(JourneyError, ValidationError):
    """The application cannot be sent yet; ``problems`` lists (where, code, message) to fix."""

    code = "submission_incomplete"
    status = 422

    def __init__(self, message: str, *, problems: list[Any], **extra: Any) -> None:
        super().__init__(message, problems=problems, **extra)
        self.problems = problems


class DeclarationRequiredError(JourneyError, ValidationError):
    """The applicant did not confirm the declaration."""

    code = "declaration_required"
    status = 422


class NotWithdrawableError(JourneyError, ConflictError):
    """The application cannot be withdrawn in its status (a decision was made, or it was never sent)."""

    code = "not_withdrawable"
    status = 409


class NotDeletableError(JourneyError, ConflictError):
    """Only drafts can be deleted."""

    code = "not_deletable"
    status = 409


class ContactEmailInvalidError(JourneyError, ValidationError):
    """The email address an anonymous applicant gave cannot receive the link (malformed, several lines)."""

    code = "contact_email_invalid"
    status = 422


class AccessLinkInvalidError(JourneyError, NotFoundError):
    """The emailed link is not (or no longer) valid."""

    code = "access_link_invalid"
    status = 404


class GroupItemNotFoundError(JourneyError, NotFoundError):
    """The repeating-group item is not in the answer (removed, or a tampered id)."""

    code = "group_item_not_found"
    status = 404


class FeedbackInvalidError(JourneyError, ValidationError):
    """The satisfaction answer is missing or out of range, or the comment is too long."""

    code = "feedback_invalid"
    status = 422
