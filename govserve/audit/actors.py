"""Who did something: a staff user, a citizen, an API client or the system itself."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class _StaffUser(Protocol):
    """What audit needs of a staff user (audit sits above accounts, so no import of it)."""

    @property
    def pk(self) -> object:  # read-only, so any primary key type (UUID, int) matches
        """The user's primary key."""


class ActorKind(StrEnum):
    USER = "user"
    CITIZEN = "citizen"
    API_CLIENT = "api_client"
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    """The actor of an audit entry: a kind and an id, never a name or an email address."""

    kind: ActorKind
    id: str
    is_supplier: bool = False

    @classmethod
    def for_user(cls, user: _StaffUser) -> Actor:
        """Return the actor for a staff user (supplier staff are marked as such)."""
        return cls(kind=ActorKind.USER, id=str(user.pk), is_supplier=bool(getattr(user, "is_supplier", False)))

    @classmethod
    def for_citizen(cls, citizen_id: object) -> Actor:
        """Return the actor for a citizen account."""
        return cls(kind=ActorKind.CITIZEN, id=str(citizen_id))

    @classmethod
    def for_api_client(cls, client_id: object) -> Actor:
        """Return the actor for an API client (partner system, bot)."""
        return cls(kind=ActorKind.API_CLIENT, id=str(client_id))

    @classmethod
    def system(cls, component: str) -> Actor:
        """Return the actor for govserve itself (``worker``, ``scheduler``, ``cli``)."""
        return cls(kind=ActorKind.SYSTEM, id=component)
