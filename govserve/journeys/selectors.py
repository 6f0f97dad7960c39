"""Reads of the citizen journey, with the access checks inside.

Every read of an application goes through :func:`application_for_applicant`,
which answers "not found" alike for a missing application and someone
else's. The applicant reads their own answers: no access audit entry is
written for that (staff reads are casework's, audited there).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import translation
from django.utils.translation import gettext

from govserve.accounts.models import Citizen, Institution
from govserve.accounts.working_days import MAX_WORKING_DAYS, working_days_add
from govserve.catalogue.compiled import CompiledDefinition
from govserve.catalogue.definitions.schema import Fee
from govserve.catalogue.errors import ServiceNotFoundError, ServiceRetiredError, VersionNotFoundError
from govserve.catalogue.models import Service, ServiceStatus
from govserve.catalogue.selectors import pinned_version_load, published_version_load
from govserve.core import clock
from govserve.core.ids import normalise_reference
from govserve.core.queries import PreparedFilter
from govserve.documents.policies import OwnerAccess
from govserve.documents.selectors import DocumentSummary, documents_for_owner, submission_blocks
from govserve.journeys import errors, hooks
from govserve.journeys.access import Applicant
from govserve.journeys.answers import answer_rows, answers_from_rows
from govserve.journeys.fields.formats import format_money
from govserve.journeys.models import OPEN_STATUSES, Application, ApplicationEvent, ApplicationStatus
from govserve.journeys.queries import application_and_answers_by_id, application_by_id
from govserve.journeys.registrations import FeeSummary, RequiredDocument, fee_summary, required_documents
from govserve.journeys.resubmission_records import fees_preview
from govserve.journeys.routing import JourneyState, journey_walk


def compiled_for(application: Application) -> CompiledDefinition:
    """Return the pinned version of ``application``'s service (loadable even once the service is retired)."""
    return pinned_version_load(
        service_id=application.service_id, number=application.version_number, version_id=application.service_version_id
    )


def service_today(compiled: CompiledDefinition) -> dt.date:
    """Return today's date in the service's time zone (what conditions and date checks read)."""
    return clock.now().astimezone(ZoneInfo(compiled.definition.time_zone)).date()


# --- The journey state, and the process's cache of it -----------------------------------------------
#
# Walking an application (unsealing every answer, following the pages,
# evaluating the conditions) is most of a journey page's own work, and the
# pages of one walk come one after the other: each POST is followed by the GET
# of the next page. The walk is therefore kept in memory per application,
# under a key made of everything it depends on: the pinned version (its
# content hash), the day, the pages saved, and a digest of the sealed answers
# as the database holds them, read on every request. Every write of an
# answer seals it with a fresh random nonce, so any change of any answer by
# any process changes the key: a cached walk is used only while the stored
# answers are byte for byte the ones it was made from, and there is nothing
# to invalidate across processes. What the cache saves is the unsealing and
# the walk, not the read of the (sealed) rows.
#
# The cache holds decrypted answers, so it lives in this process only (never
# in a shared cache), is bounded (GOVSERVE_JOURNEY_STATE_CACHE_SIZE entries,
# default 256) and forgets an entry GOVSERVE_JOURNEY_STATE_CACHE_SECONDS
# after it was made (default 30, the data key cache's time); 0 turns it off.
# Deleting or expiring a draft forgets it at once in the process that does it.

DEFAULT_STATE_CACHE_SIZE = 256
DEFAULT_STATE_CACHE_SECONDS = 30.0

StateKey = tuple[str, int, str, bool, dt.date, tuple[str, ...], bytes]


@dataclass(frozen=True)
class _CachedState:
    key: StateKey
    state: JourneyState
    sealed: Mapping[str, tuple[bytes, Any]]  # field id -> (sealed bytes, typed answer): unsealed once
    expires_at: float


class _StateCache:
    """A bounded LRU of walked journey states with a time-to-live, per application, safe across threads."""

    def __init__(self) -> None:
        self._entries: OrderedDict[uuid.UUID, _CachedState] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def limits() -> tuple[int, float]:
        size = int(getattr(settings, "GOVSERVE_JOURNEY_STATE_CACHE_SIZE", DEFAULT_STATE_CACHE_SIZE))
        seconds = float(getattr(settings, "GOVSERVE_JOURNEY_STATE_CACHE_SECONDS", DEFAULT_STATE_CACHE_SECONDS))
        return size, seconds

    def get(self, application_id: uuid.UUID) -> _CachedState | None:
        with self._lock:
            entry = self._entries.get(application_id)
            if entry is None:
                return None
            if entry.expires_at <= time.monotonic():
                del self._entries[application_id]
                return None
            self._entries.move_to_end(application_id)
            return entry

    def put(self, application_id: uuid.UUID, entry: _CachedState) -> None:
        size, _ = self.limits()
        with self._lock:
            self._entries[application_id] = entry
            self._entries.move_to_end(application_id)
            while len(self._entries) > size:
                self._entries.popitem(last=False)

    def evict(self, application_id: uuid.UUID) -> None:
        with self._lock:
            self._entries.pop(application_id, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_states = _StateCache()


def state_cache_clear() -> None:
    """Forget every journey state this process holds (tests, benchmarks)."""
    _states.clear()


def state_cache_evict(application_id: uuid.UUID) -> None:
    """Forget the journey state of one application in this process (its draft was deleted or expired)."""
    _states.evict(application_id)


def _state_key(
    application: Application, compiled: CompiledDefinition, rows: Mapping[str, bytes], today: dt.date
) -> StateKey:
    digest = hashlib.blake2b(digest_size=20)
    for field_id in sorted(rows):
        sealed = rows[field_id]
        digest.update(f"{field_id}\x00{len(sealed)}\x00".encode())
        digest.update(sealed)
    return (
        compiled.service_id,
        compiled.version,
        compiled.content_hash,
        compiled.preview,
        today,
        tuple(str(page_id) for page_id in application.pages_completed),
        digest.digest(),
    )


def state_load(application: Application, *, today: dt.date | None = None) -> JourneyState:
    """Return the journey state of ``application``: its answers walked through its pinned version.

    Reads the sealed answers (one query); the walk itself may come from this
    process's cache (see above), which gives the same state as walking again.
    """
    return state_from_rows(application, answer_rows(application), today=today)


def state_from_rows(
    application: Application,
    rows: Mapping[str, bytes],
    *,
    today: dt.date | None = None,
    compiled: CompiledDefinition | None = None,
) -> JourneyState:
    """Return the journey state of ``application`` whose stored answers are ``rows`` (:func:`answer_rows`).

    For callers that hold the rows already, such as a save that knows what it
    has just written under the application's lock; ``compiled``: its pinned
    version, when the caller has just loaded it (else it is loaded).
    """
    if (
        compiled is None
        or compiled.service_id != application.service_id
        or compiled.version != application.version_number
    ):
        compiled = compiled_for(application)
    day = today or service_today(compiled)
    size, seconds = _StateCache.limits()
    if size <= 0 or seconds <= 0:
        return journey_walk(
            compiled,
            answers_from_rows(application, compiled.definition, rows),
            completed=application.pages_completed,
            today=day,
        )
    key = _state_key(application, compiled, rows, day)
    cached = _states.get(application.id)
    if cached is not None and cached.key == key:
        return cached.state.copy()
    known = cached.sealed if cached is not None else None
    answers = answers_from_rows(application, compiled.definition, rows, known=known)
    state = journey_walk(compiled, answers, completed=application.pages_completed, today=day)
    sealed = {field_id: (rows[field_id], value) for field_id, value in answers.items()}
    _states.put(
        application.id,
        _CachedState(key=key, state=state.copy(), sealed=sealed, expires_at=time.monotonic() + seconds),
    )
    return state


def state_remember(application: Application, rows: Mapping[str, bytes], state: JourneyState) -> JourneyState:
    """Keep ``state`` as the journey state of ``application`` whose stored answers are ``rows``; return it.

    For a caller that has just written ``rows`` from the typed answers
    ``state`` walked, in a transaction no other could interleave with (an
    application it created itself): the state a load would compute, without
    opening every answer again. ``state.answers`` must be exactly what
    ``rows`` open to, and ``application.pages_completed`` what it walked.
    """
    compiled = state.compiled
    size, seconds = _StateCache.limits()
    if size > 0 and seconds > 0:
        key = _state_key(application, compiled, rows, state.today)
        sealed = {field_id: (rows[field_id], value) for field_id, value in state.answers.items() if field_id in rows}
        _states.put(
            application.id,
            _CachedState(key=key, state=state.copy(), sealed=sealed, expires_at=time.monotonic() + seconds),
        )
    return state


def application_for_applicant(*, applicant: Applicant, application_id: uuid.UUID) -> Application:
    """Return the application if ``applicant`` may act on it; raise ApplicationNotFoundError otherwise."""
    return _acted_on(applicant, application_by_id(application_id))


def application_and_answers_for_applicant(
    *, applicant: Applicant, application_id: uuid.UUID
) -> tuple[Application, dict[str, bytes]]:
    """Return the application if ``applicant`` may act on it and its sealed answers (:func:`answer_rows`), read at once.

    The check of :func:`application_for_applicant`; the answers are read in
    the same statement on PostgreSQL (one round trip fewer), for a request
    whose first read after the check is the journey state
    (``state_from_rows(application, rows)``). They are the answers as they
    were when read: once anything may have written answers since, read them
    again (:func:`state_load`). Raise ApplicationNotFoundError as
    :func:`application_for_applicant` does (nothing of the answers is given
    to someone who may not act on the application).
    """
    found = application_and_answers_by_id(application_id)
    application, rows = found if found is not None else (None, {})
    return _acted_on(applicant, application), rows


def _acted_on(applicant: Applicant, application: Application | None) -> Application:
    if application is None or not applicant.may_act_on(application):
        raise errors.ApplicationNotFoundError("There is no application at this address")
    if applicant.citizen is not None and application.citizen_id == applicant.citizen.id:
        application.citizen = applicant.citizen  # the row the sign-in check has just read: no second read
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
    current = documents_of(application)
    uploads = {summary.slot: summary for summary in current}
    blocked = {block.slot: block.message for block in submission_blocks(current)}
    return [
        DocumentRow(
            requirement=requirement, upload=uploads.get(requirement.slot), problem=blocked.get(requirement.slot)
        )
        for requirement in required_documents(state.final_evaluator())
    ]


def documents_needed(state: JourneyState) -> bool:
    """Return whether the answers need any document (:func:`document_rows` is not empty), without reading uploads."""
    return state.complete and bool(required_documents(state.final_evaluator()))


def fees_of(state: JourneyState) -> FeeSummary:
    """Return the fees of the answers (none before every question is answered)."""
    if not state.complete:
        return FeeSummary(currency=state.definition.currency)
    return fee_summary(state.final_evaluator())


@dataclass(frozen=True)
class FeeChangeLine:
    """What sending a changed application again does to one of its fees, in the applicant's words."""

    fee_id: str
    text: str


def fee_changes_of(application: Application, state: JourneyState, language: str) -> list[FeeChangeLine]:
    """Return what the changed answers of a sent-back application do to its fees, before it is sent again.

    Read off :func:`~govserve.journeys.resubmission_records.fees_preview`
    (the recomputation's rules, nothing written): a fee now costing more
    after it was paid is paid after the decision; one costing less than was
    paid is refunded; one not paid simply takes its new amount. Empty until
    every question is answered, or when no fee changes.
    """
    if not state.complete:
        return []
    summary = fees_of(state)
    names = {
        (registration.id, fee.id): fee.name.get(language)
        for registration in state.definition.registrations
        for fee in registration.fees
    }
    lines = []
    with translation.override(language):
        for change in fees_preview(application, summary):
            if change.from_minor == change.to_minor:
                continue
            values = {
                "fee": names.get((change.registration_id, change.fee_id), change.fee_id),
                "amount": format_money(change.to_minor, summary.currency),
                "paid": format_money(change.paid_minor, summary.currency),
                "more": format_money(change.due_minor, summary.currency),
                "refund": format_money(change.refund_due_minor, summary.currency),
            }
            if change.paid_minor and change.due_minor:
                text = gettext(
                    "%(fee)s is now %(amount)s. You have paid %(paid)s, "
                    "so you will pay %(more)s more after the decision."
                )
            elif change.paid_minor and change.to_minor == 0:
                text = gettext("%(fee)s no longer applies. You have paid %(paid)s: the council will refund it.")
            elif change.paid_minor and change.refund_due_minor:
                text = gettext(
                    "%(fee)s is now %(amount)s. You have paid %(paid)s: "
                    "the council will refund the %(refund)s difference."
                )
            elif change.to_minor == 0:
                text = gettext("%(fee)s no longer applies.")
            else:
                text = gettext("%(fee)s is now %(amount)s.")
            lines.append(FeeChangeLine(fee_id=change.fee_id, text=text % values))
    return lines


# --- Decisions -------------------------------------------------------------------------------------


# The confirmation and application pages of a sent application read the roles' institutions: the ORM's statement
# built once per process (core.queries), one indexed read an institution (a flow names one or a few).
_INSTITUTION_BY_CODE = PreparedFilter(Institution, samples={"code": "\x00sample code"}, limit=1)


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
        code: institution
        for code in {role.institution for _, role in roles}
        if (institution := _INSTITUTION_BY_CODE.first(code=code)) is not None
    }
    # Consecutive roles of one institution count their working days together: n working days after m working
    # days of one calendar are the (m + n)th after the start (the start itself is never counted), and the
    # calendar's local overrides are read once instead of once a role.
    counts: list[tuple[Institution | None, int]] = []
    for _, role in roles:
        institution = institutions.get(role.institution)
        days = role.sla_working_days
        assert days is not None  # noqa: S101 - filtered above
        # Past MAX_WORKING_DAYS together, each role counts (and refuses) on its own, as before.
        if (
            institution is not None
            and counts
            and counts[-1][0] is institution
            and counts[-1][1] + days <= MAX_WORKING_DAYS
        ):
            counts[-1] = (institution, counts[-1][1] + days)
        else:
            counts.append((institution, days))
    day = application.submitted_at.astimezone(ZoneInfo(state.definition.time_zone)).date()
    for institution, days in counts:
        if institution is None:
            day += dt.timedelta(days=days)  # an institution deleted since: calendar days
        else:
            day = working_days_add(institution, day, days)
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
