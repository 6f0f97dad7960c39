"""Audit helpers of accounts."""

from __future__ import annotations

from typing import Any, cast

from govserve.accounts.models import User
from govserve.audit.actors import Actor


def staff_actor(user: User) -> Actor:
    """Return the audit actor for staff ``user`` (supplier accounts marked as such)."""
    # Actor.for_user takes a structural type whose ``pk`` is a plain attribute;
    # our UUID ``pk`` satisfies it at run time.
    return Actor.for_user(cast("Any", user))
