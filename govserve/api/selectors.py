"""Reads of the API app: clients and tokens, the applications a client made, submission keys."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q

from govserve.accounts.models import Citizen
from govserve.api.models import ApiClient, ApiToken, ClientApplication, SubmissionKey
from govserve.core.queries import PreparedFilter
from govserve.journeys.models import Application
from govserve.journeys.selectors import applications_for_citizen


@dataclass(frozen=True)
class ClientSummary:
    """A client and its tokens, as ``govserve api_client_list`` shows them (never a token's text)."""

    client: ApiClient
    tokens: list[ApiToken]


def api_clients_list() -> list[ClientSummary]:
    """Return every client by name, each with its tokens, newest first."""
    tokens: dict[uuid.UUID, list[ApiToken]] = {}
    for token in ApiToken.objects.order_by("-created_at"):
        tokens.setdefault(token.client_id, []).append(token)
    return [
        ClientSummary(client=client, tokens=tokens.get(client.id, []))
        for client in ApiClient.objects.select_related("user")
    ]


def client_owns(client: ApiClient, application_id: uuid.UUID) -> bool:
    """Return whether ``client`` made the application.

    Every call on an application asks this first: the statement is the
    ORM's ``.exists()`` on the unique application, written out once instead
    of compiled on each call.
    """
    meta = ClientApplication._meta
    application_field = meta.get_field("application")
    client_field = meta.get_field("client")
    quote = connection.ops.quote_name
    sql = (
        f"SELECT 1 FROM {quote(meta.db_table)} "  # noqa: S608 - the model's own names
        f"WHERE {quote(application_field.column)} = %s AND {quote(client_field.column)} = %s LIMIT 1"
    )
    parameters = [
        application_field.get_db_prep_value(application_id, connection, prepared=False),
        client_field.get_db_prep_value(client.pk, connection, prepared=False),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)
        return cursor.fetchone() is not None


def client_application_page(
    client: ApiClient, *, after: tuple[dt.datetime, int] | None, limit: int
) -> list[ClientApplication]:
    """Return up to ``limit`` of the client's applications, newest first, after the cursor ``(created_at, id)``."""
    rows = ClientApplication.objects.filter(client=client).select_related("application", "application__service")
    if after is not None:
        created_at, row_id = after
        rows = rows.filter(Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=row_id))
    return list(rows.order_by("-created_at", "-id")[:limit])


def citizen_application_page(
    citizen: Citizen, *, after: tuple[dt.datetime, uuid.UUID] | None, limit: int
) -> list[Application]:
    """Return up to ``limit`` of the citizen's applications (web or API), newest first, after ``(created_at, id)``."""
    rows = applications_for_citizen(citizen).order_by("-created_at", "-id")
    if after is not None:
        created_at, application_id = after
        rows = rows.filter(Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=application_id))
    return list(rows[:limit])


# Every submission asks it once: the ORM's statement (by the unique client and key) built once per process.
_SUBMISSION_KEY = PreparedFilter(
    SubmissionKey,
    samples={"client_id": uuid.UUID(int=0x5B0D_0000_0000_4000_8000_0000_0000_0001), "key": "\x00sample key"},
    limit=1,
)


def submission_key_get(client: ApiClient, key: str) -> SubmissionKey | None:
    """Return the record of the client's submission ``key``, if it was used."""
    return _SUBMISSION_KEY.first(client_id=client.pk, key=key)
