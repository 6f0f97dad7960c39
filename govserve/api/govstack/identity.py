"""Who calls the GovStack API: the X-Road identity in ``Information-Mediator-Client`` (or ``X-Road-Client``).

X-Road (or mutual TLS at the edge) authenticates the calling system in front
of govserve and passes its identity ``INSTANCE/CLASS/MEMBER/SUBSYSTEM`` in
the header; govserve maps it to an :class:`~govserve.api.models.ApiClient`
whose ``govstack_identity`` it is. The client must be active and hold a
usable token with the ``govstack`` scope: revoking that token (or switching
the client off) stops its GovStack access, as for bearer callers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.http import HttpRequest

from govserve.api.models import ApiClient, ApiToken
from govserve.core import clock
from govserve.core.errors import ApplicationError, PermissionDeniedError

HEADERS = ("Information-Mediator-Client", "X-Road-Client")
SCOPE = "govstack"
_PART = r"[A-Za-z0-9._:\-]{1,64}"
_IDENTITY = re.compile(rf"^{_PART}/{_PART}/{_PART}/{_PART}$")


class ClientHeaderMissingError(ApplicationError):
    """The operation needs the caller's X-Road identity and none was sent."""

    code = "client_header_missing"
    status = 400


class ClientHeaderInvalidError(ApplicationError):
    """The X-Road identity is not INSTANCE/CLASS/MEMBER/SUBSYSTEM."""

    code = "client_header_invalid"
    status = 400


class ClientUnknownError(PermissionDeniedError):
    """No active client with the ``govstack`` scope has this identity."""

    code = "client_unknown"
    status = 403


@dataclass(frozen=True)
class Caller:
    """The caller's identity as sent (None: not sent) and its client (None: not known)."""

    identity: str | None
    client: ApiClient | None


def identity_of(request: HttpRequest) -> str | None:
    """Return the X-Road identity the request names (the first header present), None if none.

    Raise ClientHeaderInvalidError when it is not INSTANCE/CLASS/MEMBER/SUBSYSTEM.
    """
    for header in HEADERS:
        value = request.headers.get(header)
        if value is None:
            continue
        text = value.strip()
        if not _IDENTITY.match(text):
            msg = f"The {header} header must be INSTANCE/CLASS/MEMBER/SUBSYSTEM, e.g. eGovStack/GOV/90000009/portal"
            raise ClientHeaderInvalidError(msg)
        return text
    return None


def client_for(identity: str) -> ApiClient | None:
    """Return the active client with this GovStack identity and a usable ``govstack`` token, None otherwise."""
    client = ApiClient.objects.filter(govstack_identity=identity, is_active=True).first()
    if client is None:
        return None
    tokens = ApiToken.objects.filter(client=client, revoked_at__isnull=True, expires_at__gt=clock.now())
    if not any(SCOPE in token.scopes for token in tokens.only("scopes")):
        return None
    return client


def caller_of(identity: str | None, *, required: bool) -> Caller:
    """Return the caller named ``identity`` (read by :func:`identity_of`).

    ``required``: the identity must be sent (ClientHeaderMissingError) and be
    a known client (ClientUnknownError). Otherwise a missing or unknown
    identity reads as anonymous; a malformed one is refused either way.
    """
    if identity is None:
        if required:
            raise ClientHeaderMissingError(
                "Send the caller's X-Road identity in the Information-Mediator-Client header"
            )
        return Caller(identity=None, client=None)
    client = client_for(identity)
    if client is None and required:
        raise ClientUnknownError(f"{identity} is not a client of this GovStack API")
    return Caller(identity=identity, client=client)
