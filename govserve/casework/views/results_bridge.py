"""The results of a file (casework-results), as the file page lists them, and revoking one.

One place that knows casework-results' selector and revoke service, so the
file views stay the same when they change.
"""

from __future__ import annotations

import uuid

from govserve.accounts.models import User
from govserve.casework.results import errors as result_errors
from govserve.casework.results import selectors as result_selectors
from govserve.casework.results import services as result_services
from govserve.casework.results.selectors import ResultRow

__all__ = ["ResultRow", "result_errors", "result_for_file", "result_revoke", "results_for_file"]


def results_for_file(*, user: User, file_id: uuid.UUID, language: str = "en") -> list[ResultRow]:
    """Return the issued results of the file (none when the person may not see them)."""
    try:
        return result_selectors.results_for_file(user=user, file_id=file_id, language=language)
    except result_errors.ResultNotFoundError:
        return []


def result_for_file(*, user: User, file_id: uuid.UUID, result_id: uuid.UUID, language: str = "en") -> ResultRow | None:
    """Return one issued result of the file, or None when there is none the person may see."""
    return next(
        (row for row in results_for_file(user=user, file_id=file_id, language=language) if row.id == result_id), None
    )


def result_revoke(*, user: User, result_id: uuid.UUID, reason: str) -> None:
    """Revoke an issued result with a reason.

    Raise RevocationReasonError, ResultAlreadyRevokedError or ResultNotFoundError (nothing changes).
    """
    result_services.result_revoke_by_staff(user=user, result_id=result_id, reason=reason)
