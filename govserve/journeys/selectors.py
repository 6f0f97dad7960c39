"""Reads of the citizen journey, with the access checks inside.

Every read of an application goes through :func:`application_for_applicant`,
which answers "not found" alike for a missing application and someone
else's. The applicant reads their own answers: no access audit entry is
written for that (staff reads are casework's, audited there).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet

from govserve.accounts.models import Citizen, Institution
from govserve.accounts.working_days import working_days_add
from govserve.catalogue.compiled import CompiledDefinition
from govserve.catalogue.definitions.schema import Fee
from govserve.catalogue.errors import ServiceNotFoundError, ServiceRetiredError, VersionNotFoundError
from govserve.catalogue.models import Service, ServiceStatus
from govserve.catalogue.selectors import published_version_load
from govserve.core import clock
from govserve.core.ids import normalise_reference
from govserve.documents.policies import OwnerAccess
from govserve.documents.selectors import DocumentSummary, documents_blocking_submission, documents_for_owner
from govserve.journeys import errors, hooks
from govserve.journeys.access import Applicant
from govserve.journeys.answers import answers_load
from govserve.journeys.models import OPEN_STATUSES, Application, ApplicationEvent, ApplicationStatus
from govserve.journeys.registrations import FeeSummary, RequiredDocument, fee_summary, required_documents
from govserve.journeys.routing import JourneyState, journey_walk


def compiled_for(application: Application) -> CompiledDefinition:
    """Return the pinned version of ``application``'s service (loadable even once the service is retired)."""
    return published_version_load(application.service_id, application.version_number)


def service_today(compiled: CompiledDefinition) -> dt.date:
    """Return today's date in the service's time zone (what conditions and date checks read)."""
    return clock.now().astimezone(ZoneInfo(compiled.definition.time_zone)).date()


def state_load(application: Application, *, today: dt.date | None = None) -> JourneyState:
    """Return the journey state of ``application``: its answers walked through its pinned version."""
    compiled = compiled_for(application)
    return journey_walk(
        compiled,
        answers_load(application, compiled.definition),
        completed=application.pages_completed,
        today=today or service_today(compiled),
    )


def application_for_applicant(*, applicant: Applicant, application_id: uuid.UUID) -> Application:
    """Return the application if ``applicant`` may act on it; raise ApplicationNotFoundError otherwise."""
    application = Application.objects.select_related("service", "citizen").filter(pk=application_id).first()
    if application is None or not applicant.may_act_on(application):
        raise errors.ApplicationNotFoundError("There is no application at this address")
    return application


# --- Documents and fees ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentRow:
    """A required document with its current upload (if any) and what stops it counting (if anything)."""

    requirement: RequiredDocument
    upload: DocumentSummary | None
    problem: str | None


def documents_of(application: Application) -> list[DocumentSummary]:
    """Return the application's current uploads (the applicant's own files; call after the access check)."""
    owner = application.crypto_owner
    return documents_for_owner(viewer=OwnerAccess(owner=owner), owner=owner)


def document_rows(application: Application, state: JourneyState) -> list[DocumentRow]:
    """Return the required documents of the answers, each with its upload and its scan problem."""
    if not state.complete:
        return []
    uploads = {summary.slot: summary for summary in documents_of(application)}
    blocked = {block.slot: block.message for block in documents_blocking_submission(application.crypto_owner)}
    return [
        DocumentRow(
            requirement=requirement, upload=uploads.get(requirement.slot), problem=blocked.get(requirement.slot)
        )
        for requirement in required_documents(state.final_evaluator())
    ]


def fees_of(state: JourneyState) -> FeeSummary:
    """Return the fees of the answers (none before every question is answered)."""
    if not state.complete:
        return FeeSummary(currency=state.definition.currency)
    return fee_summary(state.final_evaluator())


# --- Decisions -------------------------------------------------------------------------------------


def expected_decision_date(application: Application, state: JourneyState) -> dt.date | None:
    """Return when a decision is expected: the working-day SLAs of the roles still to act, one after another.

    Counted from the day it was sent, through each role that applies to the
    answers (its ``when``), in the calendar of the role's institution. Once
    casework holds the file, its date wins (the open task's due date, then the
    roles still ahead: ``hooks.expected_decision_provided``); a sent-back
    application has none (the applicant holds it).
    None for drafts, decided or closed applications, and flows without SLAs.
    """
    if application.status not in OPEN_STATUSES or application.submitted_at is None:
        return None
    if application.status == ApplicationStatus.SENT_BACK:
        return None
    provided, provided_date = hooks.expected_decision_provided(application)
    if provided:
        return provided_date
    roles = [
        (number, role)
        for number, role in enumerate(state.definition.flow.roles)
        if role.sla_working_days is not None
        and (role.when is None or state.final_evaluator().condition(f"flow.roles[{number}].when"))
    ]
    if not roles:
        return None
    institutions = {
        institution.code: institution
        for institution in Institution.objects.filter(code__in={role.institution for _, role in roles})
    }
    day = application.submitted_at.astimezone(ZoneInfo(state.definition.time_zone)).date()
    for _, role in roles:
        institution = institutions.get(role.institution)
        assert role.sla_working_days is not None  # noqa: S101 - filtered above
        if institution is None:
            day += dt.timedelta(days=role.sla_working_days)  # an institution deleted since: calendar days
        else:
            day = working_days_add(institution, day, role.sla_working_days)
    return day


def history_of(application: Application) -> list[ApplicationEvent]:
    """Return the application's history, oldest first."""
    return list(application.events.order_by("occurred_at", "id"))


# --- The applicant's applications -----------------------------------------------------------------


STATUS_GROUPS: dict[str, tuple[str, ...]] = {
    "draft": (ApplicationStatus.DRAFT,),
    "open": tuple(OPEN_STATUSES),
    "decided": (ApplicationStatus.APPROVED, ApplicationStatus.REJECTED),
    "closed": (ApplicationStatus.WITHDRAWN, ApplicationStatus.EXPIRED),
}


def applications_for_citizen(
    citizen: Citizen, *, status: str | None = None, search: str | None = None
) -> QuerySet[Application]:
    """Return ``citizen``'s applications, newest first; ``status`` a status or group, ``search`` a reference or title.

    An unknown ``status`` matches nothing rather than everything.
    """
    applications = Application.objects.filter(citizen=citizen).select_related("service").order_by("-updated_at")
    if status:
        statuses = STATUS_GROUPS.get(status) or ((status,) if status in ApplicationStatus.values else ())
        applications = applications.filter(status__in=statuses)
    text = (search or "").strip()[:100]
    if text:
        reference = normalise_reference(text)
        applications = applications.filter(Q(reference=reference) | Q(service__title__icontains=text))
    return applications


# --- The catalogue of services -----------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceCard:
    """A live service as the catalogue lists it."""

    service_id: str
    title: str
    summary: str
    sign_in: str


def services_live(*, language: str, search: str | None = None) -> list[ServiceCard]:
    """Return the services taking applications, by title, optionally those matching ``search`` (title, summary)."""
    cards: list[ServiceCard] = []
    text = (search or "").strip().lower()[:100]
    for service_id in Service.objects.filter(status=ServiceStatus.LIVE).values_list("id", flat=True):
        try:
            definition = published_version_load(service_id).definition
        except (ServiceRetiredError, VersionNotFoundError, ServiceNotFoundError):
            continue
        title, summary = definition.title.get(language), definition.summary.get(language)
        if text and text not in f"{title}\n{summary}".lower():
            continue
        cards.append(ServiceCard(service_id=service_id, title=title, summary=summary, sign_in=definition.sign_in))
    return sorted(cards, key=lambda card: card.title.lower())


@dataclass(frozen=True)
class FeeLine:
    """A fee as the start page states it: a fixed amount, or one that depends on the answers."""

    registration: str
    name: str
    amount_minor: int | None
    paid: str


@dataclass(frozen=True)
class StartInfo:
    """What the start page says about a service."""

    compiled: CompiledDefinition
    decision_working_days: int
    fees: Sequence[FeeLine]


def service_start_info(service_id: str, *, language: str) -> StartInfo:
    """Return the start page facts of ``service_id``'s latest version.

    Raise ServiceClosedError (retired or never published) or ApplicationNotFoundError (no such service).
    """
    try:
        compiled = published_version_load(service_id)
    except ServiceRetiredError as error:
        raise errors.ServiceClosedError("This service is closed: it no longer takes applications") from error
    except VersionNotFoundError as error:
        raise errors.ServiceClosedError("This service is not open for applications yet") from error
    except ServiceNotFoundError as error:
        raise errors.ApplicationNotFoundError("There is no such service") from error
    definition = compiled.definition
    days = sum(role.sla_working_days or 0 for role in definition.flow.roles)
    fees = [
        _fee_line(registration.name.get(language), fee, language)
        for registration in definition.registrations
        for fee in registration.fees
    ]
    return StartInfo(compiled=compiled, decision_working_days=days, fees=fees)


def _fee_line(registration: str, fee: Fee, language: str) -> FeeLine:
    return FeeLine(registration=registration, name=fee.name.get(language), amount_minor=fee.amount, paid=fee.paid)
