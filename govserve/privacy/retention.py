"""Retention: application files whose retention period has passed since they closed lose their personal data.

A service version's definition says how long a closed file is kept
(``retention``, an ISO 8601 period) and what happens then
(``retention_action``: ``anonymise``, the default, or ``delete``). A file is
*closed* when its status is ``approved``, ``rejected`` or ``withdrawn``
(docs/statuses.md); its closure time is the case file's ``closed_at``, else
the withdrawal time, else the time of the history event that moved it there.
Drafts are not this module's: they follow their own expiry
(``journeys.drafts.expire``).

What goes, for every due file (:func:`file_personal_data_remove`, shared with
erasure): the answers, processing values, notes, messages and corrections
(rows deleted), uploaded documents (rows and stored objects), issued results
(rows and their PDFs: the public verification page then says no record is
held), decision reasons and counter notes, the content of its notification
records, the payment's card and failure details and refund reasons, the
feedback comment, the link to the applicant (account, contact email, access
link); then the application's data key is destroyed (crypto-shredding), so
anything sealed under it that a backup still holds can never be opened.
What stays, for the statistics and the audit chain: the application's
service, version, reference, status, channel, dates, fees (amounts and
states), the case file (state, outcome, dates), its tasks and decisions
(outcome, dates), payments' amounts and states, feedback ratings, and the
audit entries. ``delete`` also removes the file's remaining descriptive
rows: its history as the applicant saw it, its document requirement rows and
counter records. Nothing personal is left under either action.

Each file is handled in its own transaction with one ``privacy.file.anonymised``
or ``privacy.file.deleted`` audit entry (ids, codes and counts only) and a
:class:`~govserve.privacy.models.RetentionRecord`, so a re-run skips it.
A file under a legal hold is skipped until the hold is released.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import structlog
from django.db import transaction
from django.db.models import DateTimeField, F, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from govserve.audit.actors import Actor
from govserve.audit.services import audit_record
from govserve.casework.models import CaseEvent, Correction, CounterRecord, Decision, Message, Note, ProcessingValue
from govserve.casework.results.models import IssuedResult
from govserve.catalogue.definitions.loader import load_definition_text
from govserve.catalogue.errors import ServiceNotFoundError, VersionNotFoundError
from govserve.catalogue.models import ServiceVersion
from govserve.catalogue.selectors import published_version_load
from govserve.core import clock
from govserve.documents.models import Document
from govserve.documents.storage import sealed_object_delete
from govserve.journeys.models import (
    Answer,
    Application,
    ApplicationDocument,
    ApplicationEvent,
    ApplicationStatus,
    Feedback,
)
from govserve.journeys.selectors import state_cache_evict
from govserve.notifications.models import OutboundEmail, OutboundSms
from govserve.payments.models import Payment, PaymentTransaction, Refund
from govserve.privacy.crypto import data_key_destroy
from govserve.privacy.models import LegalHold, RetentionAction, RetentionReason, RetentionRecord

logger = structlog.get_logger(__name__)

SYSTEM = Actor.system("privacy.retention")
SUBJECT = "journeys.application"
CLOSED_STATUSES: tuple[str, ...] = (ApplicationStatus.APPROVED, ApplicationStatus.REJECTED, ApplicationStatus.WITHDRAWN)

_PERIOD = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")


# --- Periods ----------------------------------------------------------------------------------------


def period_before(moment: dt.datetime, period: str) -> dt.datetime:
    """Return ``moment`` minus the ISO 8601 ``period`` (years, months, weeks, days; month ends clamp).

    ``P1M`` before 31 March is 28 or 29 February. Raise ValueError for a text
    that is not such a period (the definition's schema refuses those first).
    """
    match = _PERIOD.fullmatch(period)
    if match is None or period == "P":
        msg = f"not an ISO 8601 period of years, months, weeks and days: {period!r}"
        raise ValueError(msg)
    years, months, weeks, days = (int(part or 0) for part in match.groups())
    total_months = moment.year * 12 + (moment.month - 1) - (years * 12 + months)
    year, month = divmod(total_months, 12)
    month += 1
    following = dt.date(year + (month == 12), month % 12 + 1, 1)
    last_day = (following - dt.timedelta(days=1)).day
    shifted = moment.replace(year=year, month=month, day=min(moment.day, last_day))
    return shifted - dt.timedelta(weeks=weeks, days=days)


# --- Which files are due ----------------------------------------------------------------------------


def closure_expression() -> Coalesce:
    """Return the SQL expression of an application's closure time (see the module docstring)."""
    closing_event = (
        ApplicationEvent.objects.filter(application=OuterRef("pk"), to_status__in=CLOSED_STATUSES)
        .values("application")
        .annotate(at=Max("occurred_at"))
        .values("at")
    )
    return Coalesce(
        F("case_file__closed_at"),
        F("withdrawn_at"),
        Subquery(closing_event, output_field=DateTimeField()),
        output_field=DateTimeField(),
    )


def held_application_ids() -> QuerySet[LegalHold, uuid.UUID]:
    """Return the ids of the applications under an active legal hold (a subquery)."""
    return LegalHold.objects.filter(released_at__isnull=True).values_list("application_id", flat=True)


@dataclass(frozen=True)
class VersionPolicy:
    """The retention of one service version, read from its published definition."""

    service_id: str
    version_number: int
    retention: str
    action: str


def version_policy(service_id: str, version_number: int) -> VersionPolicy:
    """Return the retention and retention action of ``service_id`` version ``version_number``.

    A published or retired version comes from the catalogue's cache; any other
    (a draft a staff preview's test application was made on) is read from its
    saved source. Raise VersionNotFoundError when neither has it.
    """
    try:
        definition = published_version_load(service_id, version_number).definition
    except (ServiceNotFoundError, VersionNotFoundError):
        source = ServiceVersion.objects.filter(service_id=service_id, number=version_number).first()
        loaded = load_definition_text(source.source_text, filename=source.source_name) if source else None
        if loaded is None or loaded.definition is None:
            raise VersionNotFoundError(f"Service '{service_id}' has no version {version_number}.") from None
        definition = loaded.definition
    return VersionPolicy(service_id, version_number, definition.retention, definition.retention_action)


def _closed_versions() -> list[tuple[str, int]]:
    pending = Application.objects.filter(status__in=CLOSED_STATUSES).exclude(
        pk__in=RetentionRecord.objects.values("application_id")
    )
    pairs = pending.values_list("service_id", "version_number").distinct()
    return sorted(set(pairs))


def due_applications(policy: VersionPolicy, *, now: dt.datetime) -> QuerySet[Application]:
    """Return the closed files of ``policy``'s version whose retention has passed, not done, not held."""
    cutoff = period_before(now, policy.retention)
    return (
        Application.objects.filter(
            service_id=policy.service_id, version_number=policy.version_number, status__in=CLOSED_STATUSES
        )
        .annotate(closed_at=closure_expression())
        .filter(closed_at__lte=cutoff)
        .exclude(pk__in=RetentionRecord.objects.values("application_id"))
        .exclude(pk__in=held_application_ids())
    )


def _due_by_version(now: dt.datetime) -> Iterator[tuple[VersionPolicy, QuerySet[Application]]]:
    for service_id, version_number in _closed_versions():
        try:
            policy = version_policy(service_id, version_number)
        except VersionNotFoundError:
            # Not expected (versions are never deleted): log it and carry on with the other services.
            logger.warning("privacy.retention.version_missing", service=service_id, version=version_number)
            continue
        yield policy, due_applications(policy, now=now)


# --- The report -------------------------------------------------------------------------------------


@dataclass
class ServiceRetention:
    """What retention removes (dry run) or removed (run) for one service, all its versions together."""

    service_id: str
    files: int = 0
    anonymised: int = 0
    deleted: int = 0
    answers: int = 0
    documents: int = 0
    messages: int = 0
    notifications: int = 0
    payments: int = 0
    results: int = 0
    oldest_closed_at: dt.datetime | None = None
    retention: set[str] = field(default_factory=set)
    held: int = 0

    def as_dict(self) -> dict[str, object]:
        """Return the figures as JSON-ready values (no personal data: codes, counts and a date)."""
        return {
            "service": self.service_id,
            "retention": sorted(self.retention),
            "files": self.files,
            "anonymised": self.anonymised,
            "deleted": self.deleted,
            "answers": self.answers,
            "documents": self.documents,
            "messages": self.messages,
            "notifications": self.notifications,
            "payments": self.payments,
            "results": self.results,
            "held": self.held,
            "oldest_closed_at": self.oldest_closed_at.isoformat() if self.oldest_closed_at else None,
        }


@dataclass
class RetentionReport:
    """The report of a dry run or a run: per service, and the moment it was computed for."""

    now: dt.datetime
    dry_run: bool
    services: dict[str, ServiceRetention] = field(default_factory=dict)
    expired_drafts_notifications: int = 0

    @property
    def files(self) -> int:
        """Return how many files are (or would be) handled in all."""
        return sum(service.files for service in self.services.values())

    def service(self, service_id: str) -> ServiceRetention:
        """Return (creating it) the figures of ``service_id``."""
        return self.services.setdefault(service_id, ServiceRetention(service_id))


@dataclass(frozen=True)
class Removal:
    """What :func:`file_personal_data_remove` removed from one file (counts only)."""

    application_id: uuid.UUID
    action: str
    answers: int
    documents: int
    messages: int
    notifications: int
    payments: int
    results: int


def _counts(application_ids: list[uuid.UUID]) -> dict[str, int]:
    owners = [f"application:{pk}" for pk in application_ids]
    return {
        "answers": Answer.objects.filter(application_id__in=application_ids).count(),
        "documents": Document.objects.filter(owner__in=owners).count(),
        "messages": Message.objects.filter(case_file__application_id__in=application_ids).count(),
        "notifications": OutboundEmail.objects.filter(owner__in=owners, content_removed_at__isnull=True).count()
        + OutboundSms.objects.filter(owner__in=owners, content_removed_at__isnull=True).count(),
        "payments": Payment.objects.filter(application_id__in=application_ids).count(),
        "results": IssuedResult.objects.filter(application_id__in=application_ids).count(),
    }


def retention_dry_run(*, now: dt.datetime | None = None) -> RetentionReport:
    """Return what a run at ``now`` would remove, per service; change nothing (no audit entry either)."""
    moment = now or clock.now()
    report = RetentionReport(now=moment, dry_run=True)
    for policy, due in _due_by_version(moment):
        rows = list(due.values_list("pk", "closed_at"))  # type: ignore[misc]  # annotated by due_applications
        figures = report.service(policy.service_id)
        figures.retention.add(policy.retention)
        held = (
            Application.objects.filter(
                service_id=policy.service_id, version_number=policy.version_number, status__in=CLOSED_STATUSES
            )
            .annotate(closed_at=closure_expression())
            .filter(closed_at__lte=period_before(moment, policy.retention), pk__in=held_application_ids())
            .exclude(pk__in=RetentionRecord.objects.values("application_id"))
            .count()
        )
        figures.held += held
        if not rows:
            continue
        ids = [pk for pk, _ in rows]
        figures.files += len(ids)
        if policy.action == RetentionAction.DELETE:
            figures.deleted += len(ids)
        else:
            figures.anonymised += len(ids)
        for key, value in _counts(ids).items():
            setattr(figures, key, getattr(figures, key) + value)
        oldest = min(closed for _, closed in rows)
        if figures.oldest_closed_at is None or oldest < figures.oldest_closed_at:
            figures.oldest_closed_at = oldest
    return report


def retention_run(*, now: dt.datetime | None = None, actor: Actor = SYSTEM, batch: int = 200) -> RetentionReport:
    """Remove the personal data of every file due at ``now`` (see the module docstring); return what went.

    Each file in its own transaction, re-checked under a lock (a file put on
    hold or already done meanwhile is skipped). Idempotent: a second run finds
    nothing due. Audited once per file.
    """
    moment = now or clock.now()
    report = RetentionReport(now=moment, dry_run=False)
    for policy, due in _due_by_version(moment):
        figures = report.service(policy.service_id)
        figures.retention.add(policy.retention)
        skipped: set[uuid.UUID] = set()
        while True:
            rows = list(due.exclude(pk__in=skipped).order_by("closed_at").values_list("pk", "closed_at")[:batch])  # type: ignore[misc]
            if not rows:
                break
            for application_id, closed_at in rows:
                removal = _file_retention_remove(application_id, policy, closed_at, actor, moment)
                if removal is None:
                    skipped.add(application_id)
                    continue
                figures.files += 1
                if removal.action == RetentionAction.DELETE:
                    figures.deleted += 1
                else:
                    figures.anonymised += 1
                for key in ("answers", "documents", "messages", "notifications", "payments", "results"):
                    setattr(figures, key, getattr(figures, key) + getattr(removal, key))
                if figures.oldest_closed_at is None or closed_at < figures.oldest_closed_at:
                    figures.oldest_closed_at = closed_at
    report.expired_drafts_notifications = expired_drafts_notifications_empty()
    logger.info("privacy.retention.ran", files=report.files)
    return report


def expired_drafts_notifications_empty() -> int:
    """Empty the content of the notification records of expired drafts; return how many records.

    The draft expiry (journeys) deletes the answers and uploads and destroys
    the key, so what its emails hold is unreadable already; this removes the
    ciphertext too, like the retention of a closed file. Idempotent.
    """
    owners = [
        f"application:{pk}"
        for pk in Application.objects.filter(status=ApplicationStatus.EXPIRED).values_list("pk", flat=True)
    ]
    emptied = 0
    now = clock.now()
    for start in range(0, len(owners), 500):
        chunk = owners[start : start + 500]
        with transaction.atomic():
            emptied += OutboundEmail.objects.filter(owner__in=chunk, content_removed_at__isnull=True).update(
                recipient_sealed=b"", subject_sealed=b"", body_sealed=b"", content_removed_at=now
            )
            emptied += OutboundSms.objects.filter(owner__in=chunk, content_removed_at__isnull=True).update(
                recipient_sealed=b"", body_sealed=b"", content_removed_at=now
            )
    return emptied


def _file_retention_remove(
    application_id: uuid.UUID, policy: VersionPolicy, closed_at: dt.datetime, actor: Actor, moment: dt.datetime
) -> Removal | None:
    with transaction.atomic():
        application = Application.objects.select_for_update().filter(pk=application_id).first()
        if (
            application is None
            or application.status not in CLOSED_STATUSES
            or LegalHold.objects.filter(application_id=application_id, released_at__isnull=True).exists()
            or RetentionRecord.objects.filter(application_id=application_id).exists()
            or closed_at > period_before(moment, policy.retention)
        ):
            return None
        return file_personal_data_remove(
            application, action=policy.action, reason=RetentionReason.RETENTION, closed_at=closed_at, actor=actor
        )


# --- The machinery (retention and erasure) ----------------------------------------------------------


def file_personal_data_remove(
    application: Application, *, action: str, reason: str, closed_at: dt.datetime | None, actor: Actor
) -> Removal:
    """Remove the personal data of ``application`` (locked by the caller, in its transaction); return the counts.

    See the module docstring for what goes and what stays. Writes the
    :class:`RetentionRecord` and one audit entry (``privacy.file.anonymised``
    or ``privacy.file.deleted``). Stored objects (documents, result PDFs) are
    deleted inside the transaction: a rollback leaves rows whose objects are
    gone, which the next run removes (deleting a missing object is fine).
    """
    if action not in RetentionAction.values:
        msg = f"unknown retention action {action!r}"
        raise ValueError(msg)
    owner = application.crypto_owner
    now = clock.now()
    case_file_q = Q(case_file__application=application)

    documents = list(Document.objects.filter(owner=owner).values_list("pk", "storage_name"))
    for _, storage_name in documents:
        sealed_object_delete(storage_name)
    Document.objects.filter(owner=owner).delete()

    results = list(IssuedResult.objects.filter(application=application).values_list("pk", "pdf_storage_name"))
    for _, storage_name in results:
        if storage_name:
            sealed_object_delete(storage_name)
    IssuedResult.objects.filter(application=application).delete()

    answers, _ = Answer.objects.filter(application=application).delete()
    messages, _ = Message.objects.filter(case_file_q).delete()
    Note.objects.filter(case_file_q).delete()
    Correction.objects.filter(case_file_q).delete()
    ProcessingValue.objects.filter(case_file_q).delete()
    Decision.objects.filter(case_file_q).update(reason_sealed=None)
    CounterRecord.objects.filter(case_file_q).update(note_sealed=None)

    emails = OutboundEmail.objects.filter(owner=owner, content_removed_at__isnull=True).update(
        recipient_sealed=b"", subject_sealed=b"", body_sealed=b"", content_removed_at=now
    )
    texts = OutboundSms.objects.filter(owner=owner, content_removed_at__isnull=True).update(
        recipient_sealed=b"", body_sealed=b"", content_removed_at=now
    )

    payments = Payment.objects.filter(application=application)
    payment_count = payments.update(card_brand="", last_digits="", failure_message="", next_url="")
    Refund.objects.filter(payment__application=application).update(reason="")
    PaymentTransaction.objects.filter(payment__application=application).update(details={})

    Feedback.objects.filter(application=application).update(comment_sealed=None)

    if action == RetentionAction.DELETE:
        ApplicationEvent.objects.filter(application=application).delete()
        ApplicationDocument.objects.filter(application=application).delete()
        CounterRecord.objects.filter(case_file_q).delete()
        CaseEvent.objects.filter(case_file_q, applicant_visible=True).delete()

    # Cut the link to the person: no account, no contact address, an access link nobody holds.
    application.citizen = None
    application.contact_email_sealed = None
    application.access_token_hash = secrets.token_hex(32)
    application.start_key = None
    application.current_page = ""
    application.pages_completed = []
    application.save(
        update_fields=[
            "citizen",
            "contact_email_sealed",
            "access_token_hash",
            "start_key",
            "current_page",
            "pages_completed",
            "updated_at",
        ]
    )
    data_key_destroy(owner=owner, actor=actor)
    state_cache_evict(application.id)

    RetentionRecord.objects.create(
        application_id=application.id,
        service_id=application.service_id,
        version_number=application.version_number,
        action=action,
        reason=reason,
        closed_at=closed_at,
        done_at=now,
    )
    removal = Removal(
        application_id=application.id,
        action=action,
        answers=answers,
        documents=len(documents),
        messages=messages,
        notifications=emails + texts,
        payments=payment_count,
        results=len(results),
    )
    audit_record(
        actor=actor,
        action="privacy.file.deleted" if action == RetentionAction.DELETE else "privacy.file.anonymised",
        subject_type=SUBJECT,
        subject_id=application.id,
        details={
            "service": application.service_id,
            "version": application.version_number,
            "reason": reason,
            "closed_on": closed_at.date().isoformat() if closed_at else None,
            "answers": answers,
            "documents": len(documents),
            "messages": messages,
            "notifications": emails + texts,
            "payments": payment_count,
            "results": len(results),
        },
    )
    return removal
