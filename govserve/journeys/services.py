"""Every write of the citizen journey: start, save pages, repeating groups, submit, withdraw, delete, expire.

Each service runs in one transaction, writes its audit entry (ids and codes,
never an answer) and records the journey event for the service's data.
Callers pass the :class:`~govserve.journeys.access.Applicant` making the
request; every service checks that they may act on the application (the
same "not found" whether the application does not exist or is someone
else's, so ids cannot be probed).

Saving a page follows GOV.UK's rule: the page's answers are parsed and
validated together, and on any error nothing from that page is saved (the
page is shown again with the person's input and the errors). Uploads of a
page's file fields go through govserve.documents, each in its own
transaction, after the other answers validated and before they are saved
(documents must not run inside an outer transaction, see its module).

Submission (:func:`application_submit`) is idempotent on the submission key
of the check-answers form: the same key again (double click, refresh, back
and resubmit) returns the same application and reference and changes
nothing. It needs the declaration, every page answered and valid, every
required upload present and scanned clean; answers off the path are deleted
(the submission holds what the applicant checked); fees are recorded as due,
and an application with a fee payable before submission waits in
``awaiting_payment``. The confirmation email goes through the outbox in the
same transaction. Casework joins through :mod:`govserve.journeys.hooks`.
"""

from __future__ import annotations

import atexit
import datetime as dt
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Required, TypedDict, Unpack
from zoneinfo import ZoneInfo

import structlog
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from govserve.accounts.citizens import citizen_email
from govserve.audit.actors import Actor
from govserve.audit.services import audit_record
from govserve.catalogue.compiled import CompiledDefinition
from govserve.catalogue.definitions.schema import AnyField, FileField, GroupField, Page
from govserve.catalogue.errors import ServiceNotFoundError, ServiceRetiredError, VersionNotFoundError
from govserve.catalogue.selectors import published_version_with_row
from govserve.core import clock
from govserve.core.commits import deferred_sync
from govserve.core.errors import ApplicationError
from govserve.core.ids import new_reference
from govserve.core.queries import row_insert, row_insert_unless_taken
from govserve.documents import errors as document_errors
from govserve.documents import services as documents
from govserve.documents.selectors import DocumentSummary, documents_blocking_submission, submission_blocks
from govserve.documents.services import UploadedFileLike
from govserve.journeys import emails, errors, hooks
from govserve.journeys.access import Applicant, token_hash, token_new
from govserve.journeys.answers import (
    answer_rows,
    answers_from_rows,
    answers_store,
    answers_write,
    from_json,
    to_json,
)
from govserve.journeys.fields import FieldError, parse_field, validate_field
from govserve.journeys.fields.parse import FormData
from govserve.journeys.models import (
    SUBMITTED_STATUSES,
    WITHDRAWABLE_STATUSES,
    Answer,
    Application,
    ApplicationDocument,
    ApplicationEvent,
    ApplicationEventKind,
    ApplicationFee,
    ApplicationStatus,
    Channel,
    Feedback,
    JourneyEvent,
    JourneyEventKind,
)
from govserve.journeys.queries import application_by_id, application_update, journey_events_insert
from govserve.journeys.registrations import (
    FeeSummary,
    RequiredDocument,
    document_slot,
    fee_summary,
    field_slot,
    registrations_applied,
    required_documents,
)
from govserve.journeys.routing import ITEM_ID, Evaluator, JourneyState, cel_value, journey_walk, visible_fields
from govserve.journeys.selectors import (
    compiled_for,
    documents_of,
    state_cache_evict,
    state_from_rows,
    state_load,
    state_remember,
)
from govserve.notifications.email import PlatformTemplate, email_send, normalise_recipient
from govserve.privacy.crypto import data_key_destroy, seal, unseal_text

if TYPE_CHECKING:
    from govserve.documents.models import Document

logger = structlog.get_logger(__name__)

SYSTEM = Actor.system("journeys")
SUBJECT = "journeys.application"
CONTACT_EMAIL_FIELD = "contact_email"
FEEDBACK_COMMENT_MAX = 1200
SUBMIT_KEY = re.compile(r"^[A-Za-z0-9_-]{8,100}$")
REFERENCE_ATTEMPTS = 5


# --- Loading -------------------------------------------------------------------------------------


def _locked(application_id: uuid.UUID, applicant: Applicant) -> Application:
    """Return the application row locked for update; raise ApplicationNotFoundError unless ``applicant`` may act."""
    application = application_by_id(application_id, for_update=True)
    if application is None or not applicant.may_act_on(application):
        raise errors.ApplicationNotFoundError("There is no application with this link")
    return _with_citizen(application, applicant)


def _with_citizen(application: Application, applicant: Applicant) -> Application:
    """Return ``application`` with its citizen set to the applicant's row already read (saves reading it again)."""
    if applicant.citizen is not None and application.citizen_id == applicant.citizen.id:
        application.citizen = applicant.citizen
    return application


def draft_open(application: Application, *, now: dt.datetime | None = None) -> bool:
    """Return whether ``application`` can still be changed: a draft not past its expiry time."""
    moment = now or clock.now()
    return (
        application.status == ApplicationStatus.DRAFT
        and application.expires_at is not None
        and application.expires_at > moment
    )


def _require_draft(application: Application) -> None:
    if not draft_open(application):
        raise errors.ApplicationNotEditableError("This application can no longer be changed")


def _expiry_from_now(compiled: CompiledDefinition) -> dt.datetime:
    return clock.now() + dt.timedelta(days=compiled.definition.draft_expiry_days)


def _application_event(application: Application, *, kind: str, from_status: str, actor_kind: str) -> None:
    row_insert(
        ApplicationEvent(
            application=application,
            kind=kind,
            from_status=from_status,
            to_status=application.status,
            actor_kind=actor_kind,
        )
    )


class JourneyEventFields(TypedDict, total=False):
    """What a journey event is made of; the given ``application`` sets its channel and test flag.

    Defaults: no page, no application, channel ``web``, language ``en``, not
    a test, no details. ``details`` hold codes and numbers, never a personal
    value.
    """

    kind: Required[JourneyEventKind]
    service_id: Required[str]
    version: Required[int | None]
    page_id: str
    application: Application | None
    channel: str
    language: str
    is_test: bool
    details: Mapping[str, Any] | None


def journey_event_new(**fields: Unpack[JourneyEventFields]) -> JourneyEvent:
    """Return one journey event made of ``fields`` (:class:`JourneyEventFields`), not saved yet."""
    application = fields.get("application")
    return JourneyEvent(
        occurred_at=clock.now(),
        kind=fields["kind"],
        service_id=fields["service_id"],
        version=fields["version"],
        page_id=fields.get("page_id", ""),
        application_id=application.id if application is not None else None,
        channel=application.channel if application is not None else fields.get("channel", Channel.WEB),
        language=fields.get("language", "en"),
        is_test=application.is_test if application is not None else fields.get("is_test", False),
        details=dict(fields.get("details") or {}),
    )


def journey_event_record(**fields: Unpack[JourneyEventFields]) -> JourneyEvent:
    """Record one journey event made of ``fields`` (:class:`JourneyEventFields`) with one insert; return it."""
    event = journey_event_new(**fields)
    event.save(force_insert=True)
    return event


# --- Page views: buffered, written with the process's next journey write ------------------------------
#
# A page view is the only write of most GETs. Writing it on its own would
# cost a statement and a commit (an fsync on SQLite) per page, so page views
# (kinds ``page_view`` and ``start_page_view``) are kept in this process and
# written in bulk: inside the transaction of the next journey write of the
# process (a page saved, an item saved, an application started or sent, a
# validation error recorded), or on their own once
# GOVSERVE_JOURNEY_PAGE_VIEW_BUFFER are held (default 20; 0 writes each at
# once) or the oldest is GOVSERVE_JOURNEY_PAGE_VIEW_BUFFER_SECONDS old
# (default 2) when another is added, and when the process exits normally
# (gunicorn replacing a worker). Their time is when they happened. A
# process killed without exiting (SIGKILL, out of memory, power) loses the
# page views it held: at most the buffer's size. Every other kind (page
# saved, validation error, exit, submission, feedback) is written in the
# transaction of what it records, never buffered.

DEFAULT_PAGE_VIEW_BUFFER = 20
DEFAULT_PAGE_VIEW_BUFFER_SECONDS = 2.0


class _PageViewBuffer:
    """The page views of this process not written yet, safe across threads.

    Each is held for the database it was recorded against (its name): a
    process that changes databases (the tests) never writes one into another.
    """

    def __init__(self) -> None:
        self._database = ""
        self._events: list[JourneyEvent] = []
        self._oldest = 0.0
        self._lock = threading.Lock()

    @staticmethod
    def limits() -> tuple[int, float]:
        size = int(getattr(settings, "GOVSERVE_JOURNEY_PAGE_VIEW_BUFFER", DEFAULT_PAGE_VIEW_BUFFER))
        seconds = float(
            getattr(settings, "GOVSERVE_JOURNEY_PAGE_VIEW_BUFFER_SECONDS", DEFAULT_PAGE_VIEW_BUFFER_SECONDS)
        )
        return size, seconds

    def _switch(self) -> None:
        database = str(connection.settings_dict.get("NAME", ""))
        if database != self._database:
            self._database, self._events = database, []

    def add(self, event: JourneyEvent) -> bool:
        """Hold ``event``; return whether the buffer should be written now (full, or its oldest too old)."""
        size, seconds = self.limits()
        now = time.monotonic()
        with self._lock:
            self._switch()
            if not self._events:
                self._oldest = now
            self._events.append(event)
            return len(self._events) >= size or now - self._oldest >= seconds

    def take(self) -> list[JourneyEvent]:
        """Return every event held, and forget them (the caller writes them or puts them back)."""
        with self._lock:
            self._switch()
            taken, self._events = self._events, []
            return taken

    def put_back(self, events: Sequence[JourneyEvent]) -> None:
        """Hold ``events`` again (their write was rolled back)."""
        if not events:
            return
        with self._lock:
            self._switch()
            if not self._events:
                self._oldest = time.monotonic()
            self._events[:0] = events

    def discard(self) -> None:
        """Forget every event held (tests)."""
        with self._lock:
            self._events = []

    def __len__(self) -> int:
        return len(self._events)


_page_views = _PageViewBuffer()


class JoinedEvents:
    """Journey events to insert in one statement inside a transaction, with the page views taken from the buffer."""

    def __init__(self, taken: list[JourneyEvent]) -> None:
        self.taken = taken
        self.events = list(taken)
        self.written = False

    def append(self, event: JourneyEvent) -> None:
        """Add ``event`` to the insert."""
        self.events.append(event)

    def insert(self) -> None:
        """Insert every event in one statement (call last inside the caller's transaction)."""
        journey_events_insert(self.events)
        self.written = True


def page_view_record(
    *,
    kind: JourneyEventKind,
    service_id: str,
    version: int | None,
    page_id: str = "",
    application: Application | None = None,
    language: str,
    is_test: bool = False,
) -> None:
    """Record a page view (``page_view`` or ``start_page_view``): buffered, see above."""
    event = journey_event_new(
        kind=kind,
        service_id=service_id,
        version=version,
        page_id=page_id,
        application=application,
        language=language,
        is_test=is_test,
    )
    if _page_views.add(event):
        page_views_flush()


def page_views_held() -> int:
    """Return how many page views this process holds, not written yet."""
    return len(_page_views)


def page_views_discard() -> None:
    """Forget the page views this process holds without writing them (tests start from none)."""
    _page_views.discard()


def page_views_flush() -> int:
    """Write every page view this process holds, in one transaction (at exit, in tests); return how many."""
    with journey_events_joined() as joined, transaction.atomic():
        joined.insert()
    return len(joined.events)


@contextmanager
def journey_events_joined() -> Iterator[JoinedEvents]:
    """Yield the buffered page views, for the caller to add its events and insert them in its transaction.

    Enter it outside the caller's ``transaction.atomic()`` (``with
    journey_events_joined() as joined, transaction.atomic():``) and call
    ``joined.insert()`` last inside. If the transaction fails or rolls back,
    or the caller leaves without inserting, the page views taken are held
    again: never lost, never written twice.
    """
    joined = JoinedEvents(_page_views.take())
    try:
        yield joined
    except BaseException:
        _page_views.put_back(joined.taken)
        raise
    if not joined.written:
        _page_views.put_back(joined.taken)


atexit.register(lambda: page_views_flush() if len(_page_views) else 0)


def _absolute(path: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}{path}"


def _date_text(moment: dt.datetime, language: str) -> str:
    with translation.override(language):
        return date_format(moment.astimezone(ZoneInfo(settings.TIME_ZONE)).date(), "j F Y")


# --- Starting ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StartResult:
    """A started application, and the access token of its emailed link (anonymous applicants only)."""

    application: Application
    access_token: str | None
    created: bool


def application_start(
    *,
    service_id: str,
    applicant: Applicant,
    language: str,
    channel: Channel = Channel.WEB,
    start_key: str | None = None,
    contact_email: str | None = None,
    link_email: bool = True,
    savepoint: bool = True,
) -> StartResult:
    """Start an application to ``service_id`` on its latest published version; return it.

    A ``sign_in: required`` service needs a signed-in citizen
    (SignInRequiredError). An anonymous applicant (nobody signed in) gives
    ``contact_email``: the application gets an access token, and the link
    with it is emailed (template ``resume_application``) in the same
    transaction; the token is returned once, for the caller to grant the
    session, and never stored. ``start_key`` (the start form's random key)
    makes a repeated start (double click) return the same application.
    Raise ServiceClosedError for a retired service or one never published,
    ApplicationNotFoundError for an unknown service, ContactEmailInvalidError
    for an email address that cannot receive the link. Audited as ``journeys.application.started``.
    ``link_email=False``: the caller sends the application in the same
    transaction and passes the token to :func:`application_submit`, whose
    confirmation then carries the link (one email, not a "continue your
    application" email for an application already sent).
    ``savepoint=False``: the caller's open transaction rolls back with any
    error of the start, which then takes no savepoint of its own (one
    statement and a round trip fewer each way); a start with a ``start_key``
    keeps its savepoint, since a concurrent start with the key is answered
    after rolling back to it.
    """
    try:
        compiled, version_row_id = published_version_with_row(service_id)
    except ServiceRetiredError as error:
        raise errors.ServiceClosedError("This service is closed: it no longer takes applications") from error
    except VersionNotFoundError as error:
        raise errors.ServiceClosedError("This service is not open for applications yet") from error
    except ServiceNotFoundError as error:
        raise errors.ApplicationNotFoundError("There is no such service") from error
    definition = compiled.definition
    if definition.sign_in == "required" and applicant.citizen is None:
        raise errors.SignInRequiredError("Sign in to apply for this service")
    if start_key is not None:
        keyed = Application.objects.filter(start_key=start_key).first()  # the key is unique: one row or none
        if keyed is not None:
            if _resumable_start(keyed, applicant):
                return StartResult(application=keyed, access_token=None, created=False)
            start_key = None  # someone else's key (a copied form): start afresh
    recipient = None
    if applicant.citizen is None:
        try:
            recipient = normalise_recipient(contact_email or "")
        except ApplicationError as error:  # the email kernel's InvalidRecipientError or HeaderInjectionError
            raise errors.ContactEmailInvalidError(
                "Enter an email address in the correct format, like name@example.com"
            ) from error
    token = token_new() if applicant.citizen is None else None
    try:
        return _application_start(
            compiled=compiled,
            version_row_id=version_row_id,
            applicant=applicant,
            language=language,
            channel=channel,
            start_key=start_key,
            token=token,
            recipient=recipient,
            link_email=link_email,
            savepoint=savepoint or start_key is not None,
        )
    except _StartKeyTakenError:
        # A concurrent start with the same key (double click) won the insert: that one is the application.
        existing = _started_with(start_key or "", applicant)
        if existing is None:
            raise errors.ApplicationNotEditableError("This application was started in another window") from None
        return StartResult(application=existing, access_token=None, created=False)


START_KEY_REUSE = dt.timedelta(minutes=10)


class _StartKeyTakenError(Exception):
    """Another request inserted an application with this start key first."""


def _started_with(start_key: str, applicant: Applicant) -> Application | None:
    """Return the application this start key created, if it is this applicant's.

    For anonymous applicants, whose session may not hold the grant yet (a
    double click sends two requests at once), the random key of the start
    form is the proof, for a few minutes and while the application is a draft.
    """
    existing = Application.objects.filter(start_key=start_key).first()
    return existing if existing is not None and _resumable_start(existing, applicant) else None


def _resumable_start(existing: Application, applicant: Applicant) -> bool:
    """Return whether ``existing``, the application of a start key, is the one ``applicant`` started (see above)."""
    if applicant.may_act_on(existing):
        return True
    fresh = clock.now() - existing.created_at < START_KEY_REUSE
    return existing.citizen_id is None and applicant.citizen is None and fresh and existing.is_draft


def _application_start(
    *,
    compiled: CompiledDefinition,
    version_row_id: uuid.UUID,
    applicant: Applicant,
    language: str,
    channel: Channel,
    start_key: str | None,
    token: str | None,
    recipient: str | None,
    link_email: bool,
    savepoint: bool,
) -> StartResult:
    service_id = compiled.service_id
    with journey_events_joined() as events, transaction.atomic(savepoint=savepoint):
        application = _application_create(
            compiled=compiled,
            version_row_id=version_row_id,
            applicant=applicant,
            language=language,
            channel=channel,
            start_key=start_key,
            token=token,
            contact_email=recipient,
        )
        _application_event(
            application, kind=ApplicationEventKind.STARTED, from_status="", actor_kind=applicant.actor_kind
        )
        audit_record(
            actor=applicant.actor,
            action="journeys.application.started",
            subject_type=SUBJECT,
            subject_id=application.id,
            details={
                "service": service_id,
                "version": compiled.version,
                "channel": channel,
                "anonymous": token is not None,
            },
        )
        events.append(
            journey_event_new(
                kind=JourneyEventKind.STARTED,
                service_id=service_id,
                version=compiled.version,
                application=application,
                language=language,
            )
        )
        if recipient is not None and token is not None and link_email:
            _access_link_email(application, compiled=compiled, token=token, recipient=recipient)
        events.insert()
    return StartResult(application=application, access_token=token, created=True)


def _application_create(
    *,
    compiled: CompiledDefinition,
    version_row_id: uuid.UUID,
    applicant: Applicant,
    language: str,
    channel: Channel,
    start_key: str | None,
    token: str | None,
    contact_email: str | None,
) -> Application:
    """Insert the application, drawing a fresh reference if one collides (about 36 bits: rare).

    ``contact_email`` is sealed under the application's own key, its id drawn first, in the same insert.
    """
    now = clock.now()
    application_id = uuid.uuid4()
    sealed_email = (
        seal(owner=f"application:{application_id}", field=CONTACT_EMAIL_FIELD, plaintext=contact_email)
        if contact_email is not None
        else None
    )
    for attempt in range(REFERENCE_ATTEMPTS):
        application = Application(
            id=application_id,
            contact_email_sealed=sealed_email,
            created_at=now,
            service_id=compiled.service_id,
            service_version_id=version_row_id,
            version_number=compiled.version,
            citizen=applicant.citizen,
            status=ApplicationStatus.DRAFT,
            reference=new_reference(),
            language=language,
            channel=channel,
            is_test=compiled.preview,
            expires_at=now + dt.timedelta(days=compiled.definition.draft_expiry_days),
            start_key=start_key,
            access_token_hash=token_hash(token) if token is not None else None,
        )
        if start_key is None:
            # No other unique value can clash: a taken reference writes nothing (no savepoint needed).
            if row_insert_unless_taken(application, unique="reference"):
                return application
            if attempt == REFERENCE_ATTEMPTS - 1:
                msg = f"no free reference after {REFERENCE_ATTEMPTS} attempts"
                raise IntegrityError(msg)
            continue
        try:
            with transaction.atomic():
                application.save(force_insert=True)
        except IntegrityError:
            if Application.objects.filter(start_key=start_key).exists():
                raise _StartKeyTakenError from None
            if attempt == REFERENCE_ATTEMPTS - 1:
                raise
            continue
        return application
    msg = "unreachable"
    raise AssertionError(msg)


def _access_link_email(application: Application, *, compiled: CompiledDefinition, token: str, recipient: str) -> None:
    language = application.language
    assert application.expires_at is not None  # noqa: S101 - a draft always has one (database constraint)
    email_send(
        to=recipient,
        template=PlatformTemplate.RESUME_APPLICATION,
        context={
            "service_name": compiled.definition.title.get(language),
            "resume_url": _absolute(reverse("journeys:resume", args=[token])),
            "expires_on": _date_text(application.expires_at, language),
        },
        language=language,
        # One email per token: the key names the token by (a prefix of) its stored hash.
        idempotency_key=f"journeys.access-link:{application.id}:{token_hash(token)[:16]}",
        owner=application.crypto_owner,
        purpose="resume_application",
    )
    audit_record(
        actor=SYSTEM,
        action="journeys.application.access_link_sent",
        subject_type=SUBJECT,
        subject_id=application.id,
        details={},
    )


def access_link_resend(*, application_id: uuid.UUID, applicant: Applicant) -> None:
    """Email a new link to the anonymous applicant's address; the previous link stops working.

    Only for anonymous drafts (a signed-in applicant returns through the
    dashboard). Raise ApplicationNotFoundError or ApplicationNotEditableError.
    Audited as ``journeys.application.access_link_sent``.
    """
    with transaction.atomic():
        application = _locked(application_id, applicant)
        _require_draft(application)
        if application.citizen_id is not None or application.contact_email_sealed is None:
            raise errors.ApplicationNotEditableError("Return to this application from your account")
        recipient = unseal_text(
            owner=application.crypto_owner, field=CONTACT_EMAIL_FIELD, sealed=bytes(application.contact_email_sealed)
        )
        token = token_new()
        application.access_token_hash = token_hash(token)
        application.save(update_fields=["access_token_hash", "updated_at"])
        _access_link_email(application, compiled=compiled_for(application), token=token, recipient=recipient)


def access_link_use(*, token: str) -> Application:
    """Return the application the emailed ``token`` opens; audited. Raise AccessLinkInvalidError.

    The caller grants its session the application
    (:func:`govserve.journeys.access.session_grant`).
    """
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        raise errors.AccessLinkInvalidError("This link is not valid")
    with transaction.atomic():
        application = Application.objects.filter(access_token_hash=token_hash(token)).first()
        if application is None or application.status == ApplicationStatus.EXPIRED:
            raise errors.AccessLinkInvalidError(
                "This link is not valid, or the application it was for has been deleted"
            )
        audit_record(
            actor=Actor.system("anonymous_applicant"),
            action="journeys.application.access_link_used",
            subject_type=SUBJECT,
            subject_id=application.id,
        )
    return application


# --- Saving pages ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageSaveResult:
    """The application after a page was saved, its new journey state and the field ids changed."""

    application: Application
    state: JourneyState
    changed: list[str]


def _page_of(state: JourneyState, page_id: str) -> tuple[int, Page]:
    for number, page in enumerate(state.definition.pages):
        if page.id == page_id:
            return number, page
    raise errors.PageNotFoundError("There is no such page in this application")


def _validate(definition_field: AnyField, value: Any, evaluator: Evaluator, language: str) -> list[FieldError]:
    """Validate one answer with the answers ``evaluator`` holds (custom rules read them)."""
    return validate_field(
        definition_field,
        value,
        context=evaluator.context,
        language=language,
        today=evaluator.today,
        currency=evaluator.compiled.definition.currency,
    )


def _validation_event(application: Application, state: JourneyState, page_id: str, found: Sequence[FieldError]) -> None:
    with journey_events_joined() as events, transaction.atomic():
        events.append(
            journey_event_new(
                kind=JourneyEventKind.VALIDATION_ERROR,
                service_id=application.service_id,
                version=application.version_number,
                page_id=page_id,
                application=application,
                language=application.language,
                details={"errors": [{"field": error.field_id, "code": error.code} for error in found]},
            )
        )
        events.insert()


def page_answers_parse(
    *,
    state: JourneyState,
    page_id: str,
    data: FormData,
    language: str,
    adding_item: bool = False,
) -> tuple[dict[str, Any], list[AnyField], list[FieldError]]:
    """Parse and validate the posted answers of ``page_id``; return (values, visible fields, errors).

    Pure (no database). File fields are not parsed here (uploads are the
    caller's); a group field is checked for its number of items and rules
    unless ``adding_item`` (the applicant asked to add another).
    """
    number, page = _page_of(state, page_id)
    definition = state.definition
    phone_region = definition.phone_region
    values: dict[str, Any] = {}
    found: list[FieldError] = []
    parse_errors: dict[str, list[FieldError]] = {}
    for page_field in page.fields:
        if isinstance(page_field, GroupField | FileField):
            values[page_field.id] = state.answers.get(page_field.id)
            continue
        value, problems = parse_field(
            page_field,
            data,
            language=language,
            phone_region=phone_region,
            currency=definition.currency,
            catalogues=state.compiled.catalogues,
        )
        values[page_field.id] = value
        if problems:
            parse_errors[page_field.id] = problems
    evaluator = state.page_evaluator(
        page_id, {page_field.id: cel_value(page_field, values.get(page_field.id)) for page_field in page.fields}
    )
    shown = visible_fields(evaluator, definition, number)
    for page_field in shown:
        if page_field.id in parse_errors:
            found.extend(parse_errors[page_field.id])
            continue
        if isinstance(page_field, FileField):
            continue  # checked by the caller, who has the upload
        if isinstance(page_field, GroupField):
            if adding_item:
                continue
            found.extend(_validate(page_field, values[page_field.id] or [], evaluator, language))
            continue
        found.extend(_validate(page_field, values[page_field.id], evaluator, language))
    hidden = {page_field.id for page_field in page.fields} - {page_field.id for page_field in shown}
    return {key: value for key, value in values.items() if key not in hidden}, shown, found


def _page_askable(state: JourneyState, page_id: str) -> Page:
    """Return ``page_id`` if it is on the applicant's path and asks questions; raise PageNotFoundError."""
    if not state.on_path(page_id):
        raise errors.PageNotFoundError("This page is not part of your application yet")
    _, page = _page_of(state, page_id)
    if page.exit:
        raise errors.PageNotFoundError("This page has no questions")
    return page


def _page_checked(
    state: JourneyState,
    page_id: str,
    data: FormData,
    *,
    language: str,
    uploads: Mapping[str, Any],
    adding_item: bool = False,
) -> tuple[dict[str, Any], list[AnyField], list[FieldError]]:
    """Check a page's posted answers as a save does (askable page, every answer, required files); no database.

    Return :func:`page_answers_parse`'s (values, visible fields, errors), the
    errors including each required file field with neither an upload in
    ``uploads`` nor one saved before.
    """
    _page_askable(state, page_id)
    values, shown, found = page_answers_parse(
        state=state, page_id=page_id, data=data, language=language, adding_item=adding_item
    )
    if not found:
        file_fields = [page_field for page_field in shown if isinstance(page_field, FileField)]
        found.extend(_file_fields_check(file_fields, state=state, uploads=uploads, language=language))
    return values, shown, found


def page_answers_save(
    *,
    application_id: uuid.UUID,
    applicant: Applicant,
    page_id: str,
    data: FormData,
    files: Mapping[str, UploadedFileLike] | None = None,
    language: str,
    adding_item: bool = False,
    loaded: Application | None = None,
    walked: JourneyState | None = None,
) -> PageSaveResult:
    """Validate and save the answers of one page; return the new state.

    ``data`` is the posted form (``request.POST.lists()``), ``files`` the
    uploads by field id. On any error raise AnswersInvalidError with every
    FieldError and save nothing from the page (uploads included); a
    validation-error journey event records the field ids and error codes.
    The page must be on the applicant's path (PageNotFoundError otherwise)
    and the application an open draft (ApplicationNotEditableError). Marks
    the page answered (unless ``adding_item``), moves the draft's expiry to
    ``draft_expiry_days`` from now. Audited as ``journeys.application.answers_saved``.
    ``loaded``: the application as this request already read it (saves a
    query; access and status are checked again on it and under the lock).
    ``walked``: the journey state of ``loaded`` this request already holds,
    such as the previous page's :class:`PageSaveResult` state (saves reading
    the answers again; ignored without ``loaded``).
    """
    application = _unlocked(application_id, applicant, loaded)
    _require_draft(application)
    state = walked if walked is not None and application is loaded else state_load(application)
    uploads = dict(files or {})
    values, shown, found = _page_checked(
        state, page_id, data, language=language, uploads=uploads, adding_item=adding_item
    )
    file_fields = [page_field for page_field in shown if isinstance(page_field, FileField)]
    if found:
        _validation_event(application, state, page_id, found)
        raise errors.AnswersInvalidError("There is a problem with your answers", errors=found)
    for file_field in file_fields:
        upload = uploads.get(file_field.id)
        if upload is None:
            continue
        try:
            values[file_field.id] = _file_store(application, applicant, file_field, upload)
        except document_errors.UploadRefusedError as error:
            refused = [FieldError(field_id=file_field.id, code=error.code, message=error.message, anchor=file_field.id)]
            _validation_event(application, state, page_id, refused)
            raise errors.AnswersInvalidError("There is a problem with your answers", errors=refused) from error
    # A draft's page save commits without waiting for the disk (decision 0010): the next durable commit
    # (a submission, any FULL commit) or checkpoint makes it durable; a power cut may lose it, never corrupt.
    with journey_events_joined() as pending, deferred_sync(), transaction.atomic():
        application = _locked(application_id, applicant)
        _require_draft(application)
        compiled = state.compiled
        to_write: list[AnyField] = [page_field for page_field in shown if not isinstance(page_field, GroupField)]
        if not adding_item:
            # A list confirmed with no items is an answer (an empty list), not a missing one.
            for group in (page_field for page_field in shown if isinstance(page_field, GroupField)):
                if values.get(group.id) is None:
                    to_write.append(group)
                    values[group.id] = []
        changed, rows = answers_store(application, to_write, values, rows=answer_rows(application))
        completed = list(application.pages_completed)
        if not adding_item and page_id not in completed:
            completed.append(page_id)
        application.pages_completed = completed
        application.current_page = page_id
        application.expires_at = _expiry_from_now(compiled)
        application_update(application, ["pages_completed", "current_page", "expires_at"])
        audit_record(
            actor=applicant.actor,
            action="journeys.application.answers_saved",
            subject_type=SUBJECT,
            subject_id=application.id,
            details={"page": page_id, "fields": changed},
        )
        pending.append(
            journey_event_new(
                kind=JourneyEventKind.PAGE_SUBMIT,
                service_id=application.service_id,
                version=application.version_number,
                page_id=page_id,
                application=application,
                language=language,
            )
        )
        pending.insert()
    # ``rows`` are the answers as committed (written under the row lock): the walk of the next page is ready.
    return PageSaveResult(
        application=application, state=state_from_rows(application, rows, compiled=compiled), changed=changed
    )


@dataclass(frozen=True)
class PageInput:
    """One page's answers for :func:`pages_answers_save`: the form the web would post, or the errors of making it.

    ``errors``: what was wrong before the page could be parsed (an API's
    JSON of the wrong type): the walk stops there as at a page with errors.
    """

    page_id: str
    data: FormData
    errors: Sequence[FieldError] = ()


@dataclass(frozen=True)
class PagesSaveResult:
    """The application after :func:`pages_answers_save`: its state, the pages saved and the fields changed."""

    application: Application
    state: JourneyState
    saved: list[str]
    changed: list[str]


@dataclass
class _StagedPage:
    page_id: str
    fields: list[AnyField]


def _round_trip(definition_field: AnyField, value: Any) -> Any:
    """Return ``value`` as reading it back from its sealed JSON gives it (what a save then a read sees)."""
    if value is None:
        return None
    return from_json(definition_field, json.loads(json.dumps(to_json(definition_field, value), ensure_ascii=False)))


def pages_answers_save(
    *,
    application_id: uuid.UUID,
    applicant: Applicant,
    next_page: Callable[[JourneyState], PageInput | None],
    language: str,
    loaded: Application | None = None,
    walked: JourneyState | None = None,
    created: bool = False,
) -> PagesSaveResult:
    """Validate several pages in turn and save them together; return the state after the last.

    ``next_page`` is asked, with the state the pages so far lead to, for the
    next page to save (None ends the walk): the caller decides the order (an
    API walks the path). Each page is parsed and validated exactly as
    :func:`page_answers_save` does, against the answers of the pages before
    it (its conditions and the path follow them), but nothing is written
    until the walk ends: then one transaction, the application row locked,
    writes every page's answers, the pages completed and the expiry, with one
    ``answers_saved`` audit entry naming the pages and a page journey event
    for each page. On
    the first page with errors the pages before it are saved that way, its
    validation-error event recorded, and AnswersInvalidError raised with its
    errors (nothing of that page saved), as a page-by-page walk would leave
    them. Pages with file fields take uploads: save those with
    :func:`page_answers_save` (here a required file field without an upload
    saved before is an error). ``created``: ``loaded`` was inserted, with no
    answers, by the caller's transaction, still open (a start and its
    answers in one call): no other transaction can see the row, so it is
    neither locked nor read again, and it has no answer rows to read; the
    write takes no savepoint of its own (any error in it rolls back the
    caller's transaction, which holds the application too).
    """
    application = _unlocked(application_id, applicant, loaded)
    _require_draft(application)
    state = walked if walked is not None and application is loaded else state_load(application)
    walk = _PagesWalk(state=state, answers=dict(state.answers), completed=list(application.pages_completed))
    while (page_input := next_page(walk.state)) is not None and walk.stage(page_input, language):
        pass
    changed: list[str] = []
    if walk.staged:
        held = application if created and application is loaded else None
        application, rows, changed = _pages_write(application_id, applicant, walk, language, held=held)
        if held is not None:
            # Nobody else could write between: the walked answers are exactly the rows just written.
            walk.state = state_remember(application, rows, walk.state)
        else:
            walk.state = state_from_rows(application, rows, compiled=walk.state.compiled)
    if walk.found:
        if walk.failed is not None:
            _validation_event(application, walk.state, walk.failed, walk.found)
        raise errors.AnswersInvalidError("There is a problem with your answers", errors=walk.found)
    return PagesSaveResult(
        application=application, state=walk.state, saved=[page.page_id for page in walk.staged], changed=changed
    )


@dataclass
class _PagesWalk:
    """The pages :func:`pages_answers_save` has validated so far, and the answers and state they lead to."""

    state: JourneyState
    answers: dict[str, Any]
    completed: list[str]
    staged: list[_StagedPage] = field(default_factory=list)
    found: list[FieldError] = field(default_factory=list)
    failed: str | None = None

    def stage(self, page_input: PageInput, language: str) -> bool:
        """Validate the page against the answers so far; keep it and walk on (True), or keep its errors (False)."""
        page_id = page_input.page_id
        if page_input.errors:
            _page_askable(self.state, page_id)
            self.found = list(page_input.errors)
            return False
        values, shown, found = _page_checked(self.state, page_id, page_input.data, language=language, uploads={})
        if found:
            self.found, self.failed = found, page_id
            return False
        to_write: list[AnyField] = []
        for page_field in shown:
            if isinstance(page_field, FileField):
                continue  # kept as saved before (no upload here)
            if isinstance(page_field, GroupField):
                if values.get(page_field.id) is not None:
                    continue  # its items are saved by the item pages
                values[page_field.id] = []  # a list confirmed with no items is an answer
            to_write.append(page_field)
            value = _round_trip(page_field, values.get(page_field.id))
            if value is None:
                self.answers.pop(page_field.id, None)
            else:
                self.answers[page_field.id] = value
        self.staged.append(_StagedPage(page_id=page_id, fields=to_write))
        if page_id not in self.completed:
            self.completed.append(page_id)
        self.state = journey_walk(self.state.compiled, self.answers, completed=self.completed, today=self.state.today)
        return True


def _pages_write(
    application_id: uuid.UUID, applicant: Applicant, walk: _PagesWalk, language: str, *, held: Application | None
) -> tuple[Application, dict[str, bytes], list[str]]:
    """Write the staged pages in one transaction; return the application, its answer rows and the fields changed.

    ``held``: the application as created by the open transaction (no lock to take, no answer rows yet).
    """
    staged = walk.staged
    with journey_events_joined() as pending, deferred_sync(), transaction.atomic(savepoint=held is None):
        application = held if held is not None else _locked(application_id, applicant)
        _require_draft(application)
        written = [page_field for page in staged for page_field in page.fields]
        stored_rows = {} if held is not None else answer_rows(application)
        changed, rows = answers_store(application, written, walk.answers, rows=stored_rows)
        stored = list(application.pages_completed)
        stored.extend(page.page_id for page in staged if page.page_id not in stored)
        application.pages_completed = stored
        application.current_page = staged[-1].page_id
        application.expires_at = _expiry_from_now(walk.state.compiled)
        application_update(application, ["pages_completed", "current_page", "expires_at"])
        audit_record(
            actor=applicant.actor,
            action="journeys.application.answers_saved",
            subject_type=SUBJECT,
            subject_id=application.id,
            details={"pages": [page.page_id for page in staged], "fields": changed},
        )
        for page in staged:
            pending.append(
                journey_event_new(
                    kind=JourneyEventKind.PAGE_SUBMIT,
                    service_id=application.service_id,
                    version=application.version_number,
                    page_id=page.page_id,
                    application=application,
                    language=language,
                )
            )
        pending.insert()
    return application, rows, changed


def _unlocked(application_id: uuid.UUID, applicant: Applicant, loaded: Application | None) -> Application:
    """Return the application (``loaded`` if given) if ``applicant`` may act on it; raise ApplicationNotFoundError."""
    application = loaded
    if application is None or application.id != application_id:
        application = application_by_id(application_id)
    if application is None or not applicant.may_act_on(application):
        raise errors.ApplicationNotFoundError("There is no application with this link")
    return _with_citizen(application, applicant)


def _file_fields_check(
    file_fields: Sequence[FileField], *, state: JourneyState, uploads: Mapping[str, Any], language: str
) -> list[FieldError]:
    """Return the error of each required file field with neither an upload now nor one saved before."""
    found: list[FieldError] = []
    for file_field in file_fields:
        if uploads.get(file_field.id) is not None or state.answers.get(file_field.id) is not None:
            continue
        found.extend(_validate(file_field, None, state.final_evaluator(), language))
    return found


def _file_store(
    application: Application, applicant: Applicant, file_field: FileField, upload: UploadedFileLike
) -> dict[str, Any]:
    """Upload (or replace) the file of ``file_field``; return its answer value. Raise UploadRefusedError."""
    document = slot_document_store(
        application,
        applicant,
        slot=field_slot(file_field.id),
        upload=upload,
        allowed_types=file_field.validation.types,
        max_size_mb=file_field.validation.max_size_mb,
    )
    name = (upload.name or "").rsplit("/", 1)[-1][:255]
    return {
        "id": str(document.id),
        "name": name,
        "size": document.size_bytes,
        "content_type": document.content_type,
    }


def slot_document_store(
    application: Application,
    applicant: Applicant,
    *,
    slot: str,
    upload: UploadedFileLike | None,
    allowed_types: Sequence[str],
    max_size_mb: int,
) -> Document:
    """Upload the file of ``slot``, or replace the one already there; return it. Raise UploadRefusedError."""
    limit = max_size_mb * 1024 * 1024

    def first_upload() -> Document:
        return documents.document_upload(
            owner=application.crypto_owner,
            slot=slot,
            uploaded_file=upload,
            allowed_types=allowed_types,
            max_size_bytes=limit,
            actor=applicant.actor,
            citizen=applicant.citizen,
        )

    try:
        # Most uploads are a slot's first: no need to list the owner's documents (and unseal their names) to know.
        # The upload refuses an occupied slot before it reads the file, and records nothing then.
        return first_upload()
    except document_errors.SlotOccupiedError:
        current = _current_document_id(application, slot)
    if current is None:  # removed since the refusal: the slot is free again
        return first_upload()
    return documents.document_replace(
        owner=application.crypto_owner,
        document_id=current,
        uploaded_file=upload,
        allowed_types=allowed_types,
        max_size_bytes=limit,
        actor=applicant.actor,
        citizen=applicant.citizen,
    )


def _current_document_id(application: Application, slot: str) -> uuid.UUID | None:
    for summary in documents_of(application):
        if summary.slot == slot:
            return summary.id
    return None


# --- Repeating groups ------------------------------------------------------------------------------


def _group_of(state: JourneyState, page_id: str, group_id: str) -> tuple[str, Page, GroupField]:
    """Return (path of the group in the definition, its page, the group); raise PageNotFoundError."""
    number, page = _page_of(state, page_id)
    for field_number, page_field in enumerate(page.fields):
        if page_field.id == group_id and isinstance(page_field, GroupField):
            return f"pages[{number}].fields[{field_number}]", page, page_field
    raise errors.PageNotFoundError("There is no such list on this page")


def group_item_parse(
    *,
    state: JourneyState,
    page_id: str,
    group_id: str,
    data: FormData,
    language: str,
) -> tuple[dict[str, Any], list[FieldError]]:
    """Parse and validate one item of a repeating group; return (child values, errors). Pure.

    Child fields read the answers before the page and their sibling answers
    of the same item, bare (``age(assistant_date_of_birth) >= 16``).
    """
    group_path, _, group = _group_of(state, page_id, group_id)
    phone_region = state.definition.phone_region
    values: dict[str, Any] = {}
    parse_errors: dict[str, list[FieldError]] = {}
    for child in group.fields:
        if isinstance(child, GroupField | FileField):
            continue  # nested groups and files in groups are refused by `check`
        value, problems = parse_field(
            child,
            data,
            language=language,
            phone_region=phone_region,
            currency=state.definition.currency,
            catalogues=state.compiled.catalogues,
        )
        values[child.id] = value
        if problems:
            parse_errors[child.id] = problems
    evaluator = state.page_evaluator(
        page_id, {child.id: cel_value(child, values.get(child.id)) for child in group.fields}
    )
    found: list[FieldError] = []
    for child_number, child in enumerate(group.fields):
        if child.id not in values:
            continue
        if child.when is not None and not evaluator.condition(f"{group_path}.fields[{child_number}].when"):
            values[child.id] = None
            continue
        if child.id in parse_errors:
            found.extend(parse_errors[child.id])
            continue
        found.extend(_validate(child, values[child.id], evaluator, language))
    return values, found


def group_item_save(
    *,
    application_id: uuid.UUID,
    applicant: Applicant,
    page_id: str,
    group_id: str,
    item_id: str | None,
    data: FormData,
    language: str,
    loaded: Application | None = None,
    walked: JourneyState | None = None,
) -> str:
    """Add (``item_id`` None) or change one item of a repeating group; return the item's id.

    Raise AnswersInvalidError (nothing saved) for invalid answers or when the
    list is already at ``max_items``; GroupItemNotFoundError for an unknown
    ``item_id``. Audited as ``journeys.application.group_item_saved``.
    ``loaded`` and ``walked``: the application and its journey state as this
    request already read them (see :func:`page_answers_save`).
    """
    application = _unlocked(application_id, applicant, loaded)
    _require_draft(application)
    state = walked if walked is not None and application is loaded else state_load(application)
    if not state.on_path(page_id):
        raise errors.PageNotFoundError("This page is not part of your application yet")
    _, _, group = _group_of(state, page_id, group_id)
    values, found = group_item_parse(state=state, page_id=page_id, group_id=group_id, data=data, language=language)
    if found:
        _validation_event(application, state, page_id, found)
        raise errors.AnswersInvalidError("There is a problem with your answers", errors=found)
    # A draft save like a page's: it commits without waiting for the disk (decision 0010).
    with deferred_sync(), transaction.atomic():
        application = _locked(application_id, applicant)
        _require_draft(application)
        rows = answer_rows(application)
        stored = {group_id: rows[group_id]} if group_id in rows else {}
        items = [dict(item) for item in (answers_from_rows(application, state.definition, stored).get(group_id) or [])]
        if item_id is None:
            if len(items) >= group.validation.max_items:
                limit = FieldError(
                    field_id=group_id,
                    code="max_items",
                    message=_max_items_message(group, language),
                    anchor=group_id,
                )
                raise errors.AnswersInvalidError("There is a problem with your answers", errors=[limit])
            item_id = uuid.uuid4().hex[:12]
            items.append({ITEM_ID: item_id, **values})
        else:
            position = _item_position(items, item_id)
            items[position] = {ITEM_ID: item_id, **values}
        answers_store(application, [group], {group_id: items}, rows=rows)
        application.current_page = page_id
        application.expires_at = _expiry_from_now(state.compiled)
        application_update(application, ["current_page", "expires_at"])
        audit_record(
            actor=applicant.actor,
            action="journeys.application.group_item_saved",
            subject_type=SUBJECT,
            subject_id=application.id,
            details={"page": page_id, "group": group_id, "items": len(items)},
        )
    return item_id


def _max_items_message(group: GroupField, language: str) -> str:
    custom = group.validation.messages.max_items
    if custom is not None:
        return custom.get(language)
    with translation.override(language):
        return _("You can add up to %(count)d %(items)s") % {
            "count": group.validation.max_items,
            "items": group.item_label.get(language),
        }


def _item_position(items: Sequence[Mapping[str, Any]], item_id: str) -> int:
    for position, item in enumerate(items):
        if item.get(ITEM_ID) == item_id:
            return position
    raise errors.GroupItemNotFoundError("This item is not in your list")


def group_item_remove(
    *, application_id: uuid.UUID, applicant: Applicant, page_id: str, group_id: str, item_id: str
) -> None:
    """Remove one item of a repeating group; the page must be confirmed again. Raise GroupItemNotFoundError.

    Audited as ``journeys.application.group_item_removed``.
    """
    with transaction.atomic():
        application = _locked(application_id, applicant)
        _require_draft(application)
        state = state_load(application)
        if not state.on_path(page_id):
            raise errors.PageNotFoundError("This page is not part of your application yet")
        _, _, group = _group_of(state, page_id, group_id)
        items = [dict(item) for item in (state.answers.get(group_id) or [])]
        del items[_item_position(items, item_id)]
        answers_write(application, [group], {group_id: items})
        # The list changed under the page: the applicant confirms it again ("Do you need to add another?").
        application.pages_completed = [page for page in application.pages_completed if page != page_id]
        application.expires_at = _expiry_from_now(state.compiled)
        application.save(update_fields=["pages_completed", "expires_at", "updated_at"])
        audit_record(
            actor=applicant.actor,
            action="journeys.application.group_item_removed",
            subject_type=SUBJECT,
            subject_id=application.id,
            details={"page": page_id, "group": group_id, "items": len(items)},
        )


# --- Documents ------------------------------------------------------------------------------------


def requirement_upload(
    *,
    application_id: uuid.UUID,
    applicant: Applicant,
    document_id: str,
    upload: UploadedFileLike | None,
    loaded: Application | None = None,
    walked: JourneyState | None = None,
) -> None:
    """Upload (or replace) the file for the required document ``document_id``.

    The document must be required by the current answers and delivered by
    upload (PageNotFoundError otherwise). Raise the documents app's
    UploadRefusedError with the person's message. Audited by documents.
    ``loaded`` and ``walked``: the application and its journey state as this
    request already read them (see :func:`page_answers_save`).
    """
    application = _unlocked(application_id, applicant, loaded)
    _require_draft(application)
    state = walked if walked is not None and application is loaded else state_load(application)
    requirement = _upload_requirement(state, document_id)
    slot_document_store(
        application,
        applicant,
        slot=requirement.slot,
        upload=upload,
        allowed_types=requirement.document.types,
        max_size_mb=requirement.document.max_size_mb,
    )
    # The upload has just committed durably (documents' own transaction, synchronous=FULL on SQLite); moving the
    # draft's expiry is a draft save like a page's (decision 0010): a power cut may lose it, never the upload.
    with deferred_sync(), transaction.atomic():
        application = _locked(application_id, applicant)
        application.expires_at = _expiry_from_now(state.compiled)
        application_update(application, ["expires_at"])


def requirement_remove(*, application_id: uuid.UUID, applicant: Applicant, document_id: str) -> None:
    """Remove the uploaded file of the required document ``document_id`` (nothing to remove: DocumentNotFoundError)."""
    application = Application.objects.filter(pk=application_id).first()
    if application is None or not applicant.may_act_on(application):
        raise errors.ApplicationNotFoundError("There is no application with this link")
    _require_draft(application)
    current = _current_document_id(application, document_slot(document_id))
    if current is None:
        raise document_errors.DocumentNotFoundError
    documents.document_remove(owner=application.crypto_owner, document_id=current, actor=applicant.actor)


def _upload_requirement(state: JourneyState, document_id: str) -> RequiredDocument:
    if not state.complete:
        raise errors.PageNotFoundError("Answer the questions before you upload documents")
    for requirement in required_documents(state.final_evaluator()):
        if requirement.id == document_id and requirement.delivery == "upload":
            return requirement
    raise errors.PageNotFoundError("This document is not needed for your application")


# --- Submitting ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubmitResult:
    """The sent application; ``replayed`` when this key had already sent it (nothing changed); its journey state."""

    application: Application
    replayed: bool
    state: JourneyState | None = None


@dataclass(frozen=True)
class SubmissionProblem:
    """Something that stops an application being sent: where to fix it, a code and the person's message."""

    where: str
    code: str
    message: str


def submission_problems(
    application: Application,
    state: JourneyState,
    *,
    language: str,
    uploads: Sequence[DocumentSummary] | None = None,
) -> list[SubmissionProblem]:
    """Return what must be fixed before ``application`` can be sent (empty: it can be sent).

    Every page answered and every answer valid (checked again: rules may read
    other pages' answers), every required upload present, none blocked by
    the virus scan. Messages are in ``language``. ``uploads``: the
    application's current uploads when the caller has read them already.
    """
    with translation.override(language):
        if state.exit_page is not None:
            return [
                SubmissionProblem(where=state.exit_page, code="exit", message=_("Your answers mean you cannot apply"))
            ]
        if state.first_unanswered is not None:
            message = _("Answer all the questions before you send your application")
            return [SubmissionProblem(where=state.first_unanswered, code="unanswered", message=message)]
        return _answer_problems(state, language) + _document_problems(application, state, language, uploads)


def _answer_problems(state: JourneyState, language: str) -> list[SubmissionProblem]:
    problems: list[SubmissionProblem] = []
    for page_id in state.path:
        number, page = _page_of(state, page_id)
        evaluator = state.page_evaluator(
            page_id,
            {page_field.id: cel_value(page_field, state.answers.get(page_field.id)) for page_field in page.fields},
        )
        for page_field in visible_fields(evaluator, state.definition, number):
            value = state.answers.get(page_field.id)
            if isinstance(page_field, GroupField):
                value = value or []
            problems.extend(
                SubmissionProblem(where=page_id, code=error.code, message=error.message)
                for error in _validate(page_field, value, evaluator, language)
            )
    return problems


def _document_problems(
    application: Application, state: JourneyState, language: str, uploads: Sequence[DocumentSummary] | None = None
) -> list[SubmissionProblem]:
    problems: list[SubmissionProblem] = []
    present: set[str] | None = None  # read only when a document is to be uploaded (most services ask for none)
    slots_used: set[str] = set()
    for requirement in required_documents(state.final_evaluator()):
        if requirement.delivery != "upload":
            continue
        if present is None:
            uploads = documents_of(application) if uploads is None else uploads
            present = {summary.slot for summary in uploads}
        slots_used.add(requirement.slot)
        if requirement.slot not in present:
            name = requirement.document.name.get(language)
            message = _("Upload %(document)s") % {"document": name[:1].lower() + name[1:]}
            problems.append(SubmissionProblem(where="documents", code="document_missing", message=message))
    for page_id in state.path:
        for field_id in state.visible.get(page_id, []):
            if _is_file_answer(state.answers.get(field_id)):
                slots_used.add(field_slot(field_id))
    if not slots_used:
        return problems  # no upload is used: none can block the submission (saves reading them)
    # The uploads read above (or given) answer the scan states too: no second read.
    owner = application.crypto_owner
    blocks = submission_blocks(uploads) if uploads is not None else documents_blocking_submission(owner)
    for block in blocks:
        if block.slot in slots_used:
            where = "documents" if block.slot.startswith("document:") else _page_of_slot(state, block.slot)
            problems.append(SubmissionProblem(where=where, code=block.code, message=block.message))
    return problems


def _is_file_answer(value: Any) -> bool:
    return isinstance(value, Mapping) and "id" in value and "content_type" in value


def _page_of_slot(state: JourneyState, slot: str) -> str:
    field_id = slot.removeprefix("field:")
    for page_id in state.path:
        if field_id in state.visible.get(page_id, []):
            return page_id
    return "documents"


def application_submit(
    *,
    application_id: uuid.UUID,
    applicant: Applicant,
    idempotency_key: str,
    declaration_accepted: bool,
    language: str | None,
    access_token: str | None = None,
    loaded: Application | None = None,
    walked: JourneyState | None = None,
    created: bool = False,
) -> SubmitResult:
    """Send the application (module docstring); return it. Idempotent on ``idempotency_key``.

    Raise DeclarationRequiredError, SubmissionIncompleteError (``problems``:
    SubmissionProblem list), ApplicationAlreadySubmittedError (sent with
    another key), ApplicationNotEditableError (expired, withdrawn),
    ApplicationNotFoundError. ``language``: of the problems' messages (None:
    the application's own). Concurrent submissions of one application are
    serialised by a row lock: exactly one sends it. Audited as
    ``journeys.application.submitted``. ``access_token``: the anonymous
    application's emailed-link token, when it was started in the same
    transaction without its link email (:func:`application_start`
    ``link_email=False``): the confirmation links to it. ``created``:
    ``loaded`` (with its state ``walked``) was inserted by the caller's
    transaction, still open: no other transaction can see it, so it is
    neither locked nor read again, and the submission takes no savepoint of
    its own (any error rolls back the caller's transaction, which holds the
    application too).
    """
    if not isinstance(idempotency_key, str) or not SUBMIT_KEY.match(idempotency_key):
        raise errors.SubmissionIncompleteError(
            "The form was not sent correctly: go back to check your answers and try again",
            problems=[SubmissionProblem(where="check-answers", code="submit_key_invalid", message="Try again")],
        )
    with journey_events_joined() as events, transaction.atomic(savepoint=not created):
        # Created by this open transaction, with its walked state: nobody else can see it, so no lock, no reads.
        fresh = (
            created
            and walked is not None
            and loaded is not None
            and loaded.id == application_id
            and applicant.may_act_on(loaded)
        )
        application = (
            _with_citizen(loaded, applicant) if fresh and loaded is not None else _locked(application_id, applicant)
        )
        if application.status in SUBMITTED_STATUSES:
            if application.submit_key == idempotency_key:
                return SubmitResult(application=application, replayed=True)
            raise errors.ApplicationAlreadySubmittedError("This application has already been sent")
        if not declaration_accepted:
            raise errors.DeclarationRequiredError("Confirm that the information you have given is correct and complete")
        _require_draft(application)
        language = language or application.language
        state = walked if fresh and walked is not None else state_load(application)
        # Uploads go through the documents service in transactions of their own: a fresh application has none.
        uploads = [] if fresh else documents_of(application)
        problems = submission_problems(application, state, language=language, uploads=uploads)
        if problems:
            raise errors.SubmissionIncompleteError("Your application is not ready to send", problems=problems)
        evaluator = state.final_evaluator()
        fees = fee_summary(evaluator)
        requirements = required_documents(evaluator)
        effective = state.effective_answers()
        # The submission holds what the applicant checked: answers off the path go. (A fresh application
        # holds exactly the answers it walked: nothing to delete when all of them count.)
        if not fresh or not set(state.answers) <= set(effective):
            Answer.objects.filter(application=application).exclude(field_id__in=list(effective)).delete()
        previous = application.status
        application.status = (
            ApplicationStatus.AWAITING_PAYMENT if fees.due_before_submission_minor > 0 else ApplicationStatus.SUBMITTED
        )
        application.submitted_at = clock.now()
        application.submit_key = idempotency_key
        application.expires_at = None
        application.registrations = [registration.id for _, registration in registrations_applied(evaluator)]
        application_update(application, ["status", "submitted_at", "submit_key", "expires_at", "registrations"])
        _fees_record(application, fees)
        _documents_record(application, requirements, uploads)
        _application_event(
            application, kind=ApplicationEventKind.SUBMITTED, from_status=previous, actor_kind=applicant.actor_kind
        )
        audit_record(
            actor=applicant.actor,
            action="journeys.application.submitted",
            subject_type=SUBJECT,
            subject_id=application.id,
            details={
                "status": application.status,
                "fees_due_minor": fees.total_minor,
                "due_before_submission_minor": fees.due_before_submission_minor,
                "answers": len(effective),
            },
        )
        events.append(
            journey_event_new(
                kind=JourneyEventKind.SUBMISSION,
                service_id=application.service_id,
                version=application.version_number,
                page_id="check-answers",
                application=application,
                language=language,
                details={"status": application.status, "fees_minor": fees.total_minor, "documents": len(requirements)},
            )
        )
        _confirmation_email(application, state, access_token=access_token)
        hooks.submitted_hooks_run(application)
        events.insert()
    return SubmitResult(application=application, replayed=False, state=state)


def _fees_record(application: Application, fees: FeeSummary) -> None:
    ApplicationFee.objects.bulk_create(
        ApplicationFee(
            application=application,
            registration_id=item.registration.id,
            fee_id=item.fee.id,
            amount_minor=item.amount_minor,
            currency=fees.currency,
            paid_when=item.fee.paid,
        )
        for item in fees.items
    )


def _documents_record(
    application: Application, requirements: Sequence[RequiredDocument], uploads: Sequence[DocumentSummary]
) -> None:
    present = {summary.slot: summary.id for summary in uploads}
    ApplicationDocument.objects.bulk_create(
        ApplicationDocument(
            application=application,
            requirement_id=requirement.id,
            registration_ids=list(requirement.registration_ids),
            delivery=requirement.delivery,
            document_id=present.get(requirement.slot) if requirement.delivery == "upload" else None,
        )
        for requirement in requirements
    )


def applicant_email(application: Application) -> str | None:
    """Return the address the applicant is written to: their account's, or the one given at the start."""
    if application.citizen is not None:
        return citizen_email(application.citizen)
    if application.contact_email_sealed is not None:
        return unseal_text(
            owner=application.crypto_owner, field=CONTACT_EMAIL_FIELD, sealed=bytes(application.contact_email_sealed)
        )
    return None


def _confirmation_email(application: Application, state: JourneyState, *, access_token: str | None = None) -> None:
    """Queue the confirmation: the definition's ``submitted`` email if it has one (govserve.journeys.emails).

    Its link is the application's page, or with ``access_token`` (an
    anonymous applicant not sent the link at the start) the emailed link
    that opens it; when the definition's email does not show its link, the
    platform's ``follow_application`` email sends that link on its own.
    """
    recipient = applicant_email(application)
    if recipient is None:
        return
    following = access_token is not None and application.citizen_id is None
    if following:
        link = _absolute(reverse("journeys:resume", args=[access_token]))
    else:
        link = _absolute(reverse("journeys:application_detail", args=[application.id]))
    chosen = emails.submission_email(
        state=state,
        reference=application.reference,
        link=link,
        language=application.language,
    )
    email_send(
        to=recipient,
        template=chosen.template,
        context=chosen.context,
        language=application.language,
        idempotency_key=f"journeys.submitted:{application.id}",
        owner=application.crypto_owner,
        purpose="submission_confirmation",
        loaded=chosen.loaded,
    )
    if following and not chosen.shows_link:
        email_send(
            to=recipient,
            template=PlatformTemplate.FOLLOW_APPLICATION,
            context={
                "service_name": state.definition.title.get(application.language),
                "reference": application.reference,
                "status_url": link,
            },
            language=application.language,
            idempotency_key=f"journeys.follow:{application.id}",
            owner=application.crypto_owner,
            purpose="follow_application",
        )


# --- Withdrawing, deleting, expiring ---------------------------------------------------------------


def application_withdraw(*, application_id: uuid.UUID, applicant: Applicant) -> Application:
    """Withdraw a sent application that has no decision yet; return it. Raise NotWithdrawableError.

    Withdrawing twice is refused the same way. Audited as ``journeys.application.withdrawn``.
    """
    with transaction.atomic():
        application = _locked(application_id, applicant)
        if application.status not in WITHDRAWABLE_STATUSES:
            raise errors.NotWithdrawableError("This application cannot be withdrawn")
        previous = application.status
        application.status = ApplicationStatus.WITHDRAWN
        application.withdrawn_at = clock.now()
        application.save(update_fields=["status", "withdrawn_at", "updated_at"])
        _application_event(
            application, kind=ApplicationEventKind.WITHDRAWN, from_status=previous, actor_kind=applicant.actor_kind
        )
        audit_record(
            actor=applicant.actor,
            action="journeys.application.withdrawn",
            subject_type=SUBJECT,
            subject_id=application.id,
            details={"from": previous},
        )
        hooks.withdrawn_hooks_run(application)
    return application


def _documents_remove_all(application: Application, actor: Actor) -> int:
    removed = 0
    for summary in documents_of(application):
        try:
            documents.document_remove(owner=application.crypto_owner, document_id=summary.id, actor=actor)
        except document_errors.DocumentNotFoundError:
            continue  # removed concurrently
        removed += 1
    return removed


def application_draft_delete(*, application_id: uuid.UUID, applicant: Applicant) -> None:
    """Delete a draft and everything in it (answers, uploads, its data key). Raise NotDeletableError.

    The row goes; the audit entry and anonymous journey events stay. Audited
    as ``journeys.application.draft_deleted``.
    """
    application = Application.objects.filter(pk=application_id).first()
    if application is None or not applicant.may_act_on(application):
        raise errors.ApplicationNotFoundError("There is no application with this link")
    if application.status != ApplicationStatus.DRAFT:
        raise errors.NotDeletableError("Only an application you have not sent can be deleted")
    with transaction.atomic():
        application = _locked(application_id, applicant)
        if application.status != ApplicationStatus.DRAFT:
            raise errors.NotDeletableError("Only an application you have not sent can be deleted")
        _documents_remove_all(application, applicant.actor)
        owner = application.crypto_owner
        service_id, reference = application.service_id, application.reference
        application.delete()
        data_key_destroy(owner=owner, actor=applicant.actor)
        state_cache_evict(application_id)
        audit_record(
            actor=applicant.actor,
            action="journeys.application.draft_deleted",
            subject_type=SUBJECT,
            subject_id=application_id,
            details={"service": service_id, "reference": reference},
        )


def drafts_expire(*, now: dt.datetime | None = None, batch: int = 200) -> int:
    """Expire every draft past its expiry time: delete answers and uploads, shred the key; return how many.

    Works through the backlog ``batch`` drafts at a time.

    The row stays with the status ``expired`` (the applicant's dashboard says
    so). Reminders before expiry ("draft_expiring" notifications) belong to
    notifications. Each draft in its own transaction; audited as
    ``journeys.application.expired``.
    """
    moment = now or clock.now()
    expired = 0
    skipped: set[uuid.UUID] = set()  # saved again while the job ran: no longer due
    due = Application.objects.filter(status=ApplicationStatus.DRAFT, expires_at__lte=moment).order_by("expires_at")
    while True:
        candidates = list(due.exclude(pk__in=skipped).values_list("id", flat=True)[:batch])
        if not candidates:
            return expired
        for application_id in candidates:
            if _draft_expire(application_id, moment):
                expired += 1
            else:
                skipped.add(application_id)


def _draft_expire(application_id: uuid.UUID, moment: dt.datetime) -> bool:
    """Expire one draft in its own transaction; return False when it was saved again meanwhile."""
    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=application_id)
        if (
            application.status != ApplicationStatus.DRAFT
            or application.expires_at is None
            or application.expires_at > moment
        ):
            return False
        _documents_remove_all(application, SYSTEM)
        Answer.objects.filter(application=application).delete()
        application.status = ApplicationStatus.EXPIRED
        application.contact_email_sealed = None
        application.save(update_fields=["status", "contact_email_sealed", "updated_at"])
        _application_event(
            application, kind=ApplicationEventKind.EXPIRED, from_status=ApplicationStatus.DRAFT, actor_kind="system"
        )
        data_key_destroy(owner=application.crypto_owner, actor=SYSTEM)
        state_cache_evict(application.id)
        audit_record(
            actor=SYSTEM,
            action="journeys.application.expired",
            subject_type=SUBJECT,
            subject_id=application.id,
            details={"service": application.service_id},
        )
    return True


# --- Satisfaction ---------------------------------------------------------------------------------

SATISFACTION_CONFIRMATION_PAGE = "confirmation"


def satisfaction_page(application: Application) -> str | None:
    """Return the page whose satisfaction question ``application`` answers now, or None when none asks it.

    A sent application answers the confirmation page's; an open draft that
    stopped on an exit page answers that page's; any other draft (or an
    expired or deleted one) is asked nothing.
    """
    if application.status in SUBMITTED_STATUSES:
        return SATISFACTION_CONFIRMATION_PAGE
    if not draft_open(application):
        return None
    return state_load(application).exit_page


def satisfaction_record(
    *,
    service_id: str,
    version: int | None,
    page_id: str,
    rating: int,
    comment: str,
    application: Application | None,
    language: str,
    channel: str = Channel.WEB,
    is_test: bool = False,
) -> Feedback:
    """Record a satisfaction answer (rating 1-5, optional comment, sealed); return it.

    Raise FeedbackInvalidError for a rating outside 1-5 or a comment over
    FEEDBACK_COMMENT_MAX characters. Audited as ``journeys.feedback.recorded``
    with the rating only.
    """
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise errors.FeedbackInvalidError("Select how satisfied you are with this service")
    text = (comment or "").strip()
    if len(text) > FEEDBACK_COMMENT_MAX:
        raise errors.FeedbackInvalidError(f"Your comments must be {FEEDBACK_COMMENT_MAX} characters or fewer")
    with transaction.atomic():
        feedback = Feedback(
            service_id=service_id,
            version=version,
            application=application,
            page_id=page_id,
            rating=rating,
            channel=application.channel if application is not None else channel,
            language=language,
            is_test=application.is_test if application is not None else is_test,
        )
        if text:
            feedback.comment_sealed = seal(owner=feedback.crypto_owner, field=feedback.comment_field, plaintext=text)
        feedback.save(force_insert=True)
        journey_event_record(
            kind=JourneyEventKind.FEEDBACK,
            service_id=service_id,
            version=version,
            page_id=page_id,
            application=application,
            channel=channel,
            language=language,
            is_test=is_test,
            details={"rating": rating, "comment": bool(text)},
        )
        audit_record(
            actor=SYSTEM,
            action="journeys.feedback.recorded",
            subject_type="journeys.feedback",
            subject_id=feedback.id,
            details={"service": service_id, "rating": rating},
        )
    return feedback
