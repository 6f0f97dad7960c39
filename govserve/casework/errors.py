"""Typed errors of casework (codes are stable: the UI and the API rely on them).

Not found and "not yours" are the same error with the same message, so staff
of another institution learn nothing about a file's existence.
"""

from __future__ import annotations

from govserve.core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError


class TaskNotFoundError(NotFoundError):
    code = "task_not_found"


class CaseFileNotFoundError(NotFoundError):
    code = "case_file_not_found"


class TaskAlreadyClaimedError(ConflictError):
    code = "task_already_claimed"


class TaskClosedError(ConflictError):
    code = "task_closed"


class TaskChangedError(ConflictError):
    code = "task_changed"


class ClaimingDisabledError(ConflictError):
    code = "claiming_disabled"


class FileNotOpenError(ConflictError):
    code = "file_not_open"


class NotAssigneeError(PermissionDeniedError):
    code = "not_assignee"


class NotTeamLeaderError(PermissionDeniedError):
    code = "not_team_leader"


class MessageNotAllowedError(PermissionDeniedError):
    code = "message_not_allowed"


class CorrectionNotPermittedError(PermissionDeniedError):
    code = "correction_not_permitted"


class AssigneeNotEligibleError(ValidationError):
    code = "assignee_not_eligible"


class DecisionNotAllowedError(ValidationError):
    code = "decision_not_allowed"


class ReasonRequiredError(ValidationError):
    code = "reason_required"


class ProcessingFieldsInvalidError(ValidationError):
    """``extra['errors']`` lists the journeys ``FieldError`` of each processing field."""

    code = "processing_fields_invalid"


class FlagsInvalidError(ValidationError):
    code = "flags_invalid"


class MessageInvalidError(ValidationError):
    code = "message_invalid"


class NoteInvalidError(ValidationError):
    code = "note_invalid"


class CorrectionInvalidError(ValidationError):
    """``extra['errors']`` lists the journeys ``FieldError`` of the corrected value."""

    code = "correction_invalid"


class CounterRecordInvalidError(ValidationError):
    code = "counter_record_invalid"


class AssistedStartInvalidError(ValidationError):
    code = "assisted_start_invalid"
