"""Who may see a document: pure functions, called inside the selectors (no caller can forget them).

The viewer is one of:

- a :class:`~govserve.accounts.models.Citizen` (signed in): may see the
  documents *they* uploaded (``Document.citizen``) while those are current;
- an :class:`OwnerAccess`: proof, checked by the journey, that the bearer
  holds the access token of the owner (an anonymous applicant following the
  link emailed to them) — may see that owner's current documents. The
  journey creates it after verifying the token and keeps it in the session
  with :func:`govserve.documents.access.owner_access_grant`; it may extend
  :func:`can_view_document` (e.g. a citizen who owns the *application* but
  did not upload the file) when applications exist;
- a staff :class:`~govserve.accounts.models.User`: :func:`staff_may_view_document`,
  which DENIES until casework defines who works on which application;
- anything else (anonymous, None): denied.

Removed and replaced documents are seen by nobody through these rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from govserve.accounts.models import Citizen, User
from govserve.accounts.policies import account_usable

if TYPE_CHECKING:
    from govserve.documents.models import Document


@dataclass(frozen=True)
class OwnerAccess:
    """The bearer proved (by the owner's access token, checked by the caller) that they act for ``owner``."""

    owner: str


def staff_may_view_document(user: User, document: Document) -> bool:
    """Return whether staff ``user`` may see ``document``: DENY, until casework defines the rule.

    Placeholder on purpose. Casework will allow staff holding a role of the
    institution that processes the owning application's service (with the
    access audited as ``documents.document.viewed``); until that rule and
    its tests exist, no staff member — administrator included — may open a
    citizen's document. Never change this to allow without that rule.
    """
    return False


def can_view_document(viewer: Citizen | User | OwnerAccess | Any, document: Document) -> bool:
    """Return whether ``viewer`` may open ``document`` (see the module docstring for the rules)."""
    if document.removed_at is not None:
        return False
    if isinstance(viewer, OwnerAccess):
        return viewer.owner == document.owner
    if isinstance(viewer, Citizen):
        return bool(viewer.is_active) and document.citizen_id is not None and document.citizen_id == viewer.id
    if isinstance(viewer, User):
        return account_usable(viewer) and staff_may_view_document(viewer, document)
    return False
