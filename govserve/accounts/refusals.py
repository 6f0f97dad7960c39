"""Audit every staff request that was refused (ASVS 5.0 16.3.2: failed authorisation attempts are logged).

One central mechanism instead of an audit call in each refusal path: a view
that refuses a signed-in member of staff answers 404 (a file or task of
another institution, or one that does not exist: the same answer, by design)
or 403 (not allowed), whether it raised ``Http404``, ``PermissionDenied``, a
not-found or permission-denied :class:`~govserve.core.errors.ApplicationError`,
or rendered a refusal page itself (``casework.views.common.problem_page``).
:class:`StaffRefusalAuditMiddleware` sees the final status (and notes a
refusing exception: a typed not-found error a view forgot to turn into a page
ends 500, and is still a refusal) and writes
``accounts.staff.access_refused`` with:

- actor: the staff member (supplier accounts marked, as in every entry);
- outcome: ``denied``;
- subject: ``staff_page`` and the route's name (``casework:file``), empty when no route matched;
- details: the method, the route pattern, the status, the reason code of the
  error when the view raised one (``not_found``, ``permission_denied``,
  ``not_team_leader``...), and the URL's object ids (its path arguments:
  UUIDs, numbers, slugs). Never the query string, never a form value, never a
  one-time link's token; an argument that is not a plain id is written as
  ``[omitted]``.

The entry is written after the view returned, in its own transaction: a
view's failed transaction has already rolled back, and cannot take the entry
with it. Only requests under the staff prefixes count, from a signed-in staff
session; the sign-in pages and one-time links (whoever holds them is not
signed in yet) and static files never do. A 2xx/3xx response costs one
integer comparison: no database work unless the status is 403 or 404.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse

from govserve.accounts import signin
from govserve.accounts.auditing import staff_actor
from govserve.accounts.models import User
from govserve.audit.models import Outcome
from govserve.audit.services import audit_record
from govserve.core.errors import ApplicationError

ACTION = "accounts.staff.access_refused"
REFUSED_STATUSES = frozenset({403, 404})
# Where staff pages live: the workspace, privacy and payments pages (/staff/...) and document downloads.
STAFF_PREFIXES = ("/staff/", "/documents/")
# Pages reached before signing in (or by a one-time link): a refusal there is not an authorisation failure.
EXEMPT_PREFIXES = (
    "/staff/sign-in",
    "/staff/sign-out",
    "/staff/signed-out",
    "/staff/set-password/",
    "/staff/set-up-authenticator/",
)
# Path arguments holding a secret (one-time links): never written, not even as a shape.
SECRET_ARGUMENTS = frozenset({"token"})
OMITTED = "[omitted]"
_PLAIN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,79}$")
_REASON_ATTRIBUTE = "_gs_refusal_reason"


class StaffRefusalAuditMiddleware:
    """Write ``accounts.staff.access_refused`` when a signed-in staff member's request ends 403 or 404.

    Sits after ``SessionTimeoutMiddleware`` (an ended session is anonymous by then).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        status = response.status_code
        refused = status >= 400 and (status in REFUSED_STATUSES or hasattr(request, _REASON_ATTRIBUTE))
        if refused and _audited_path(request.path):
            user = _staff_member(request)
            if user is not None:
                refusal_record(request, user=user, status=status)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        """Note the reason code of a refusal the view raised (the response is made further out)."""
        reason = refusal_reason(exception)
        if reason:
            setattr(request, _REASON_ATTRIBUTE, reason)


def refusal_reason(exception: BaseException) -> str:
    """Return the stable code of a refusing exception, or "" for any other exception."""
    if isinstance(exception, Http404):
        return "not_found"
    if isinstance(exception, PermissionDenied):
        return "permission_denied"
    if isinstance(exception, ApplicationError) and exception.status in REFUSED_STATUSES:
        return exception.code
    return ""


def refusal_record(request: HttpRequest, *, user: User, status: int) -> None:
    """Write the audit entry of ``user``'s refused ``request`` (answered ``status``), in its own transaction."""
    match = getattr(request, "resolver_match", None)
    details: dict[str, object] = {
        "method": request.method or "",
        "route": match.route if match is not None else "",
        "status": status,
        "ids": object_ids(match.kwargs if match is not None else {}),
    }
    reason = getattr(request, _REASON_ATTRIBUTE, "")
    if reason:
        details["reason"] = reason
    with transaction.atomic():
        audit_record(
            actor=staff_actor(user),
            action=ACTION,
            subject_type="staff_page",
            subject_id=match.view_name if match is not None and match.url_name else "",
            outcome=Outcome.DENIED,
            details=details,
        )


def object_ids(arguments: Mapping[str, object]) -> dict[str, str | int]:
    """Return the URL's path arguments fit for an audit entry: ids as they are, anything else omitted."""
    ids: dict[str, str | int] = {}
    for name, value in arguments.items():
        if name in SECRET_ARGUMENTS:
            continue
        if isinstance(value, bool):
            ids[name] = OMITTED
        elif isinstance(value, int):
            ids[name] = value
        elif isinstance(value, uuid.UUID):
            ids[name] = str(value)
        elif isinstance(value, str) and _PLAIN_ID.match(value):
            ids[name] = value
        else:
            ids[name] = OMITTED
    return ids


def _audited_path(path: str) -> bool:
    if not path.startswith(STAFF_PREFIXES) or path.startswith(EXEMPT_PREFIXES):
        return False
    return not path.startswith(settings.STATIC_URL or "/static/")


def _staff_member(request: HttpRequest) -> User | None:
    """Return the signed-in staff member of ``request``, or None (anonymous, a citizen, a pending sign-in)."""
    session = getattr(request, "session", None)
    if session is None or session.get(signin.KIND) != signin.KIND_STAFF:
        return None
    user = getattr(request, "user", None)
    if isinstance(user, User) and user.is_authenticated:
        return user
    return None
