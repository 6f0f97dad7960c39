"""The results of a file (casework-results), as the file page lists them.

One place that knows casework-results' selector and revoke service, so the
file views stay the same when they change.
"""

from __future__ import annotations

import uuid
from typing import Any


def results_for_file(*, user: Any, file_id: uuid.UUID) -> list[Any]:
    """Return the issued results of the file that ``user`` may see (none until casework-results lands)."""
    return []


def result_for_file(*, user: Any, file_id: uuid.UUID, result_id: uuid.UUID) -> Any | None:
    """Return one issued result of the file, or None when there is none the person may see."""
    for row in results_for_file(user=user, file_id=file_id):
        if str(row.result_id) == str(result_id):
            return row
    return None


def result_revoke(*, user: Any, result_id: uuid.UUID, reason: str) -> None:
    """Revoke an issued result with a reason (casework-results' service)."""
    raise NotImplementedError
