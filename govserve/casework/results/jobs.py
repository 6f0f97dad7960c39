"""Background work of govserve.casework.results (autodiscovered by every worker).

- ``casework_results.result.render``: render and store the PDF of an issued
  result (enqueued by :func:`~govserve.casework.results.services.results_issue`
  in the approval's transaction). Retried with backoff while the storage or
  the database fails; a template that fails to render is a fault of the
  service definition that no retry mends, so the job goes to the dead letter
  at once (``govserve jobs`` shows it; publish a fixed template, then retry).
"""

from __future__ import annotations

import datetime as dt
import uuid

from jinja2 import TemplateError

from govserve.casework.results import services
from govserve.core.jobs import PermanentJobError, job


@job(name=services.RENDER_JOB, max_attempts=10, backoff_base=dt.timedelta(seconds=15), lease=dt.timedelta(minutes=5))
def result_render(*, result_id: str) -> None:
    """Render and store the PDF of the issued result ``result_id`` (idempotent)."""
    try:
        services.result_render(result_id=uuid.UUID(result_id))
    except TemplateError as error:
        msg = f"the certificate template does not render: {type(error).__name__}: {error}"
        raise PermanentJobError(msg) from error
