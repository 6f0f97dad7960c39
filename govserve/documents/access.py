"""Who a request is, for the document view: the signed-in citizen, staff, and owner grants in the session.

An anonymous applicant proves they may act for an application by the access
token in the link emailed to them; the journey verifies that token and then
calls :func:`owner_access_grant`, which keeps the owner id (not the token,
nothing personal) in the session, so the download view can let them open
their files. Signing in or out (which flushes the session) drops the grants.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from govserve.accounts.decorators import staff_session_valid
from govserve.accounts.selectors import current_citizen
from govserve.documents.policies import OwnerAccess
from govserve.privacy.crypto import OWNER_PATTERN

SESSION_KEY = "gs.documents.owner_grants"
MAX_GRANTS = 20


def owner_access_grant(request: HttpRequest, *, owner: str) -> None:
    """Let this session open ``owner``'s documents (call only after verifying the owner's access token).

    Keeps the most recent MAX_GRANTS owners. Raise ValueError for a malformed owner.
    """
    if not OWNER_PATTERN.match(owner):
        msg = f"not an owner: {owner!r}"
        raise ValueError(msg)
    granted = [existing for existing in request.session.get(SESSION_KEY, []) if existing != owner]
    granted.append(owner)
    request.session[SESSION_KEY] = granted[-MAX_GRANTS:]


def owner_access_revoke(request: HttpRequest, *, owner: str) -> None:
    """Stop this session from opening ``owner``'s documents (idempotent)."""
    granted = [existing for existing in request.session.get(SESSION_KEY, []) if existing != owner]
    request.session[SESSION_KEY] = granted


def viewers_for_request(request: HttpRequest) -> list[Any]:
    """Return every identity ``request`` carries: citizen, then staff (valid MFA session), then owner grants."""
    viewers: list[Any] = []
    citizen = current_citizen(request)
    if citizen is not None:
        viewers.append(citizen)
    if staff_session_valid(request):
        viewers.append(request.user)
    viewers.extend(
        OwnerAccess(owner=owner)
        for owner in request.session.get(SESSION_KEY, [])
        if isinstance(owner, str) and OWNER_PATTERN.match(owner)
    )
    return viewers
