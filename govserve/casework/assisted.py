"""Assisted digital on the journey's pages: a staff session fills in the application it started for a citizen.

The staff page ``/staff/assisted/<id>`` checks :func:`~govserve.casework.services.assisted_applicant`
and keeps the application id in the session (:data:`SESSION_KEY`). On the
journey's pages (``/apply/<id>/...``), :func:`assisted_applicant_resolve`
(registered as the journey's applicant resolver) answers for such a request:
the citizen's identity limited to that one application, recorded as the staff
member. A staff session reaches nothing else: any other application, or the
same one once sent, is refused as the journey refuses strangers.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from govserve.accounts.decorators import staff_session_valid
from govserve.audit.actors import Actor
from govserve.casework import errors
from govserve.casework.selectors import assisted_sent_citizen
from govserve.casework.services import assisted_applicant
from govserve.journeys.access import Applicant

if TYPE_CHECKING:
    from django.http import HttpRequest

CONFIRMATION_ROUTE = "journeys:confirmation"
SESSION_KEY = "gs.casework.assisted"
"""The session key listing the application ids this staff session is filling in (set by the staff page)."""


def assisted_applicant_resolve(request: HttpRequest, applicant: Applicant) -> Applicant | None:
    """Return the assisted identity for a staff request on an application it is filling in; None otherwise."""
    match = getattr(request, "resolver_match", None)
    raw = match.kwargs.get("application_id") if match is not None else None
    if raw is None or str(raw) not in request.session.get(SESSION_KEY, []):
        return None
    if not staff_session_valid(request):
        return None
    try:
        resolved = assisted_applicant(user=request.user, application_id=uuid.UUID(str(raw)))  # type: ignore[arg-type]
    except errors.CaseFileNotFoundError:
        # Once sent, only the confirmation page (the reference to give the citizen) is shown, read-only.
        if request.method != "GET" or match is None or match.view_name != CONFIRMATION_ROUTE:
            return None
        sent = assisted_sent_citizen(user=request.user, application_id=uuid.UUID(str(raw)))  # type: ignore[arg-type]
        if sent is None:
            return None
        resolved = Applicant(citizen=sent)
    return Applicant(
        citizen=resolved.citizen,
        only=frozenset({uuid.UUID(str(raw))}),
        assisted_by=Actor.for_user(request.user),
    )
