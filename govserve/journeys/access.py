"""Who may act on an application: its signed-in citizen, or the holder of its emailed link.

An application started by a signed-in citizen belongs to that citizen. An
anonymous application (a ``sign_in: anonymous`` service, nobody signed in)
is reached only through the link emailed to the applicant: the link carries
a random token (256 bits) of which only the SHA-256 is stored
(``Application.access_token_hash``). Opening the link (or starting the
application) *grants* this browser session the application: the session
keeps the application's id, never the token and nothing personal. The
reference alone never opens anything.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from govserve.accounts.selectors import current_citizen
from govserve.audit.actors import Actor

if TYPE_CHECKING:
    from django.http import HttpRequest

    from govserve.accounts.models import Citizen
    from govserve.journeys.models import Application

SESSION_GRANTS = "gs.journeys.applications"
MAX_GRANTS = 20
TOKEN_BYTES = 32
ANONYMOUS_ACTOR = Actor.system("anonymous_applicant")


@dataclass(frozen=True)
class Applicant:
    """The person making a request: a signed-in citizen and/or the applications this session was granted.

    Assisted digital: a staff member filling in an application on a
    citizen's behalf acts as that citizen (``citizen``) but only on the
    applications in ``only``, and is recorded as themselves (``assisted_by``)
    in the audit log and the history. Casework builds such an applicant
    (:func:`govserve.journeys.hooks.applicant_resolver_register`).
    """

    citizen: Citizen | None = None
    granted: frozenset[uuid.UUID] = field(default_factory=frozenset)
    only: frozenset[uuid.UUID] | None = None
    assisted_by: Actor | None = None

    def may_act_on(self, application: Application) -> bool:
        """Return whether this person may see and change ``application``."""
        if self.only is not None and application.id not in self.only:
            return False
        if application.citizen_id is not None:
            return self.citizen is not None and self.citizen.id == application.citizen_id
        return application.id in self.granted

    @property
    def actor(self) -> Actor:
        """Return the audit actor: the assisting staff member, the citizen, or the anonymous applicant."""
        if self.assisted_by is not None:
            return self.assisted_by
        return Actor.for_citizen(self.citizen.id) if self.citizen is not None else ANONYMOUS_ACTOR

    @property
    def actor_kind(self) -> str:
        """Return the actor kind recorded in an application's history (``user`` for assisting staff)."""
        if self.assisted_by is not None:
            return "user"
        return "citizen" if self.citizen is not None else "applicant"


def token_new() -> str:
    """Return a new random access token for an emailed link (URL-safe)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """Return the stored form of an access token (SHA-256, hex)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def session_grants(request: HttpRequest) -> frozenset[uuid.UUID]:
    """Return the application ids this session was granted (malformed entries ignored)."""
    grants: set[uuid.UUID] = set()
    for raw in request.session.get(SESSION_GRANTS, []):
        try:
            grants.add(uuid.UUID(str(raw)))
        except ValueError:
            continue
    return frozenset(grants)


def session_grant(request: HttpRequest, application_id: uuid.UUID) -> None:
    """Let this session act on ``application_id`` (call only after checking the emailed token)."""
    kept = [raw for raw in request.session.get(SESSION_GRANTS, []) if raw != str(application_id)]
    kept.append(str(application_id))
    request.session[SESSION_GRANTS] = kept[-MAX_GRANTS:]


def session_revoke(request: HttpRequest, application_id: uuid.UUID) -> None:
    """Stop this session from acting on ``application_id`` (idempotent)."""
    request.session[SESSION_GRANTS] = [
        raw for raw in request.session.get(SESSION_GRANTS, []) if raw != str(application_id)
    ]


def applicant_from_request(request: HttpRequest) -> Applicant:
    """Return who the request is: the signed-in citizen (if any) and the session's grants.

    A registered resolver (casework's assisted digital) may answer instead
    for a staff session helping a citizen (:mod:`govserve.journeys.hooks`).
    """
    from govserve.journeys.hooks import applicant_resolved  # noqa: PLC0415 - hooks imports this module's types

    return applicant_resolved(request, Applicant(citizen=current_citizen(request), granted=session_grants(request)))
