"""GovStack's shapes read from govserve's catalogue and casework (no second code path: their selectors and models).

Services keep their slug as govserve's id; GovStack wants a UUID, so a
service's GovStack id is the UUID 5 of its slug (stable across instances);
either is accepted. An e-form is one published (or retired) version of a
service definition: its id is the version row's UUID, its schema the JSON
Schema of the version's answers (the same one API v1 serves).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDay, TruncMonth, TruncWeek, TruncYear

from govserve.api.govstack.groups import eform_schema_groups
from govserve.api.v1.answers import answers_json_schema
from govserve.casework.models import Decision, DecisionKind
from govserve.catalogue.compiled import CompiledDefinition
from govserve.catalogue.errors import ServiceRetiredError
from govserve.catalogue.models import Service, ServiceStatus, ServiceVersion, VersionState
from govserve.catalogue.selectors import published_version_load, service_version_get
from govserve.core.errors import NotFoundError
from govserve.journeys.selectors import services_live

NAMESPACE = uuid.UUID("6f1d7a52-4f55-5b7e-9a62-2f3c51c0a7e1")
"""The namespace of the services' GovStack ids (uuid5 of the slug)."""

_LOADABLE = (VersionState.PUBLISHED, VersionState.RETIRED)
LANGUAGE = "en"


class GovStackNotFoundError(NotFoundError):
    """No such service, e-form or record (whatever the id's form)."""

    code = "not_found"


def service_uuid(slug: str) -> str:
    """Return the GovStack id (UUID 5) of the service ``slug``."""
    return str(uuid.uuid5(NAMESPACE, slug))


def _as_uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def service_slug(service_id: str) -> str:
    """Return the slug of the service named by its GovStack id or its slug; raise GovStackNotFoundError."""
    wanted = _as_uuid(service_id)
    slugs = Service.objects.values_list("id", flat=True)
    if wanted is not None:
        for slug in slugs:
            if service_uuid(slug) == str(wanted):
                return slug
    elif Service.objects.filter(pk=service_id).exists():
        return service_id
    raise GovStackNotFoundError(f"There is no service {service_id}")


def _service_body(compiled: CompiledDefinition) -> dict[str, Any]:
    definition = compiled.definition
    return {
        "id": service_uuid(compiled.service_id),
        "name": definition.title.get(LANGUAGE),
        "version": str(compiled.version),
        "type": "Public",
        "description": definition.summary.get(LANGUAGE),
        "serviceBody": [
            {"code": "serviceKey", "value": compiled.service_id},
            {"code": "signIn", "value": str(definition.sign_in)},
        ],
    }


def service_list(*, name: str | None) -> list[dict[str, Any]]:
    """Return the live services (the web's catalogue, by title), those whose name contains ``name`` if given."""
    wanted = (name or "").strip().lower()
    items = []
    for card in services_live(language=LANGUAGE):
        if wanted and wanted not in card.title.lower():
            continue
        body = _service_body(published_version_load(card.service_id))
        items.append({**body, "isExecutable": True, "isClosed": False})
    return items


def service_get(service_id: str) -> dict[str, Any]:
    """Return a service by GovStack id or slug: its latest published version (a retired one is not executable)."""
    slug = service_slug(service_id)
    try:
        compiled = published_version_load(slug)
    except ServiceRetiredError:
        compiled = published_version_load(slug, service_version_get(slug).number)
        return {**_service_body(compiled), "isExecutable": False, "isClosed": True}
    except NotFoundError as error:  # no published version yet: not a service a caller can see
        raise GovStackNotFoundError(f"There is no service {service_id}") from error
    live = Service.objects.filter(pk=slug, status=ServiceStatus.LIVE).exists()
    return {**_service_body(compiled), "isExecutable": live, "isClosed": not live}


def _versions(slug: str) -> QuerySet[ServiceVersion]:
    return ServiceVersion.objects.filter(service_id=slug, state__in=_LOADABLE).order_by("-number")


def _eform_item(compiled: CompiledDefinition, version_id: uuid.UUID, *, latest: bool) -> dict[str, Any]:
    definition = compiled.definition
    return {
        "eFormId": str(version_id),
        "name": definition.title.get(LANGUAGE),
        "description": definition.summary.get(LANGUAGE),
        "version": str(compiled.version),
        "latest": latest,
    }


def eform_list(service_id: str) -> list[dict[str, Any]]:
    """Return the e-forms of a service: its published and retired versions, newest first."""
    slug = service_slug(service_id)
    rows = list(_versions(slug).values_list("id", "number"))
    return [
        _eform_item(published_version_load(slug, number), version_id, latest=index == 0)
        for index, (version_id, number) in enumerate(rows)
    ]


def eform_get(eform_id: str) -> dict[str, Any]:
    """Return an e-form with its JSON Schema, by version id (or, for a service slug or id, its latest version)."""
    wanted = _as_uuid(eform_id)
    row = None
    if wanted is not None:
        row = ServiceVersion.objects.filter(pk=wanted, state__in=_LOADABLE).values_list("service_id", "number").first()
    if row is None:
        try:
            slug = service_slug(eform_id)
        except GovStackNotFoundError:
            raise GovStackNotFoundError(f"There is no e-form {eform_id}") from None
        row = _versions(slug).values_list("service_id", "number").first()
        if row is None:
            raise GovStackNotFoundError(f"There is no e-form {eform_id}")
    slug, number = row
    version = _versions(slug).filter(number=number).values_list("id", flat=True).get()
    latest = _versions(slug).values_list("number", flat=True).first() == number
    compiled = published_version_load(slug, number)
    return {
        **_eform_item(compiled, version, latest=latest),
        "schema": eform_schema_groups(answers_json_schema(compiled, language=LANGUAGE), compiled, language=LANGUAGE),
    }


# --- Statistics ------------------------------------------------------------------


TIMEFRAMES = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth, "year": TruncYear}


@dataclass(frozen=True)
class StatisticsQuery:
    """The filters of ``/data/statistics``: dates inclusive, the rest optional."""

    start: dt.date | None = None
    end: dt.date | None = None
    registration_name: str | None = None
    operator: str | None = None
    role: str | None = None
    timeframe: str | None = None


def _decisions(query: StatisticsQuery) -> QuerySet[Decision]:
    decisions = Decision.objects.filter(case_file__application__is_test=False)
    if query.start is not None:
        decisions = decisions.filter(decided_at__date__gte=query.start)
    if query.end is not None:
        decisions = decisions.filter(decided_at__date__lte=query.end)
    if query.registration_name:
        name = query.registration_name.strip()
        services = Service.objects.filter(Q(pk__iexact=name) | Q(title__icontains=name)).values("id")
        decisions = decisions.filter(case_file__service_id__in=services)
    if query.operator:
        for word in query.operator.split():
            decisions = decisions.filter(
                Q(decided_by__first_name__icontains=word)
                | Q(decided_by__last_name__icontains=word)
                | Q(decided_by__username__iexact=word)
            )
    if query.role:
        decisions = decisions.filter(role_id__iexact=query.role.strip())
    return decisions


def _references(query: StatisticsQuery, start: dt.date | None, end: dt.date | None) -> dict[str, Any]:
    references: dict[str, Any] = {
        "registrationName": query.registration_name,
        "operator": query.operator,
        "role": query.role,
        "timeframeDay": query.timeframe == "day",
        "timeframeWeek": query.timeframe == "week",
        "timeframeMonth": query.timeframe == "month",
        "timeframeYear": query.timeframe == "year",
    }
    if start is not None:
        references["startDate"] = start.isoformat()
    if end is not None:
        references["endDate"] = end.isoformat()
    return {key: value for key, value in references.items() if value is not None}


def _counts(rows: dict[str, int]) -> dict[str, int]:
    approved = rows.get(DecisionKind.APPROVE, 0)
    sent_back = rows.get(DecisionKind.SEND_BACK, 0)
    rejected = rows.get(DecisionKind.REJECT, 0)
    return {
        "processed": approved + sent_back + rejected,
        "approved": approved,
        "sentBack": sent_back,
        "rejected": rejected,
    }


def _period_end(start: dt.date, timeframe: str) -> dt.date:
    if timeframe == "day":
        return start
    if timeframe == "week":
        return start + dt.timedelta(days=6)
    if timeframe == "month":
        following = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return following - dt.timedelta(days=1)
    return start.replace(month=12, day=31)


def statistics(query: StatisticsQuery) -> list[dict[str, Any]]:
    """Return the decisions recorded (approved, sent back, rejected; processed is their sum), test files excluded.

    Without ``timeframe``: one item for the whole period asked (zeros when
    nothing was decided). With one: an item per day, week (from Monday),
    month or year that has decisions, oldest first, each period clipped to
    the dates asked.
    """
    decisions = _decisions(query)
    if query.timeframe is None:
        rows = dict(decisions.values("decision").annotate(n=Count("id")).values_list("decision", "n"))
        return [{**_counts(rows), "references": _references(query, query.start, query.end)}]
    trunc = TIMEFRAMES[query.timeframe]
    grouped: dict[dt.date, dict[str, int]] = {}
    periods = decisions.annotate(period=trunc("decided_at")).values("period", "decision").annotate(n=Count("id"))
    for row in periods.order_by("period"):
        period = row["period"]
        day = period.date() if isinstance(period, dt.datetime) else period
        grouped.setdefault(day, {})[row["decision"]] = row["n"]
    items = []
    for start, rows in sorted(grouped.items()):
        first = max(start, query.start) if query.start else start
        last = _period_end(start, query.timeframe)
        last = min(last, query.end) if query.end else last
        items.append({**_counts(rows), "references": _references(query, first, last)})
    return items
