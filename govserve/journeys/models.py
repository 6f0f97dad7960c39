"""Applications and what the journey records about them.

An :class:`Application` is created when a person starts a service and stays
pinned to the published version it started on. Its answers are
:class:`Answer` rows, one per field, each value sealed with the application's
data key (owner ``application:<uuid>``, field ``answer:<field id>``), so no
answer is ever in clear in the database. The history an applicant sees is
:class:`ApplicationEvent`; :class:`JourneyEvent` is the service data (page
views, submissions, validation error codes) and never holds a personal value.

The status vocabulary of the whole product is :class:`ApplicationStatus`, here
and only here (docs/statuses.md maps it to GovStack's).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from govserve.core import clock
from govserve.core.models import BaseModel


class ApplicationStatus(models.TextChoices):
    """Where an application is in its life (one vocabulary for the product; docs/statuses.md)."""

    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    IN_PROGRESS = "in_progress", _("In progress")
    SENT_BACK = "sent_back", _("Changes needed")
    AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    EXPIRED = "expired", _("Expired")


GOVSTACK_STATUS: dict[str, str | None] = {
    ApplicationStatus.DRAFT: None,
    ApplicationStatus.SUBMITTED: "PENDING",
    ApplicationStatus.IN_PROGRESS: "PENDING",
    ApplicationStatus.AWAITING_PAYMENT: "PENDING",
    ApplicationStatus.SENT_BACK: "SENDBACK",
    ApplicationStatus.APPROVED: "APPROVED",
    ApplicationStatus.REJECTED: "REJECTED",
    ApplicationStatus.WITHDRAWN: None,
    ApplicationStatus.EXPIRED: None,
}
"""GovStack Registration BB status code per status; None: not an application file in GovStack's sense."""

SUBMITTED_STATUSES = frozenset(
    {
        ApplicationStatus.SUBMITTED,
        ApplicationStatus.IN_PROGRESS,
        ApplicationStatus.SENT_BACK,
        ApplicationStatus.AWAITING_PAYMENT,
        ApplicationStatus.APPROVED,
        ApplicationStatus.REJECTED,
        ApplicationStatus.WITHDRAWN,
    }
)
"""Statuses of an application the applicant has sent (it has a ``submitted_at``)."""

WITHDRAWABLE_STATUSES = frozenset(
    {
        ApplicationStatus.SUBMITTED,
        ApplicationStatus.IN_PROGRESS,
        ApplicationStatus.SENT_BACK,
        ApplicationStatus.AWAITING_PAYMENT,
    }
)
"""Statuses from which the applicant may withdraw (no decision made yet)."""

OPEN_STATUSES = WITHDRAWABLE_STATUSES
"""Statuses of a submitted application still waiting for a decision."""


class Channel(models.TextChoices):
    """How the application was made (digital take-up counts ``web`` and ``api`` against ``assisted``)."""

    WEB = "web", _("Online")
    API = "api", _("Through an app or partner system")
    ASSISTED = "assisted", _("With help from staff")


class Application(BaseModel):
    """One person's application to one service, pinned to the version it started on.

    ``reference`` is issued at creation (short, unambiguous alphabet) and is
    never enough to open the application: a signed-in applicant is its
    ``citizen``; an anonymous one proves access with the token of the link
    emailed to them, of which only ``access_token_hash`` (SHA-256) is kept.
    ``contact_email_sealed`` is the anonymous applicant's address, sealed
    (field ``contact_email``). ``pages_completed`` lists the page ids the
    applicant has saved (ids only). ``expires_at`` applies to drafts: each save
    moves it to ``draft_expiry_days`` from then. ``submit_key`` is the
    idempotency key of the submission that sent it.
    """

    service = models.ForeignKey("catalogue.Service", on_delete=models.PROTECT, related_name="applications")
    service_version = models.ForeignKey("catalogue.ServiceVersion", on_delete=models.PROTECT, related_name="+")
    version_number = models.PositiveIntegerField(help_text="The pinned version's number (copied for fast loads).")
    citizen = models.ForeignKey(
        "accounts.Citizen", on_delete=models.PROTECT, null=True, blank=True, related_name="applications"
    )
    status = models.CharField(max_length=20, choices=ApplicationStatus.choices, default=ApplicationStatus.DRAFT)
    reference = models.CharField(max_length=16, unique=True)
    language = models.CharField(max_length=8, default="en")
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.WEB)
    is_test = models.BooleanField(default=False, help_text="Made on a staff preview: never counted in statistics.")
    current_page = models.CharField(max_length=64, blank=True, default="")
    pages_completed = models.JSONField(default=list, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submit_key = models.CharField(max_length=100, blank=True, default="")
    start_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    access_token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    contact_email_sealed = models.BinaryField(null=True, blank=True)
    registrations = models.JSONField(default=list, blank=True, help_text="Registration ids applied for (at submit).")
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["citizen", "status"], name="journeys_app_citizen_idx"),
            models.Index(fields=["expires_at"], name="journeys_app_draft_expiry_idx", condition=Q(status="draft")),
            models.Index(fields=["service", "status"], name="journeys_app_service_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ApplicationStatus.values), name="journeys_application_status_valid"
            ),
            models.CheckConstraint(condition=Q(channel__in=Channel.values), name="journeys_application_channel_valid"),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "expired"]) | Q(submitted_at__isnull=False),
                name="journeys_application_submitted_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="draft") | Q(expires_at__isnull=False),
                name="journeys_application_draft_expires",
            ),
            models.CheckConstraint(
                condition=Q(citizen__isnull=False) | Q(access_token_hash__isnull=False),
                name="journeys_application_reachable",
            ),
        ]

    def __str__(self) -> str:
        return f"application {self.reference} ({self.status})"

    @property
    def crypto_owner(self) -> str:
        """Return the owner its answers, documents and messages are sealed under."""
        return f"application:{self.id}"

    @property
    def is_draft(self) -> bool:
        """Return whether the applicant can still change and send it."""
        return self.status == ApplicationStatus.DRAFT


class Answer(models.Model):
    """The answer to one field of one application, sealed (JSON of the field's canonical form)."""

    id = models.BigAutoField(primary_key=True)
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="answers")
    field_id = models.CharField(max_length=64)
    value_sealed = models.BinaryField()
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["application", "field_id"], name="journeys_answer_one_per_field"),
        ]

    def __str__(self) -> str:
        return f"answer {self.field_id} of {self.application_id}"


class ApplicationEventKind(models.TextChoices):
    STARTED = "started", _("Started")
    SUBMITTED = "submitted", _("Sent")
    STATUS_CHANGED = "status_changed", _("Status changed")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    EXPIRED = "expired", _("Expired")


class ApplicationEvent(models.Model):
    """One entry of an application's history, as the applicant sees it (status changes, no personal values).

    Casework adds its own entries (decisions, requests for changes) through
    the same table when it takes submitted applications.
    """

    id = models.BigAutoField(primary_key=True)
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    occurred_at = models.DateTimeField(default=clock.now)
    kind = models.CharField(max_length=32, choices=ApplicationEventKind.choices)
    from_status = models.CharField(max_length=20, blank=True, default="")
    to_status = models.CharField(max_length=20, blank=True, default="")
    actor_kind = models.CharField(
        max_length=16, help_text="citizen, applicant (anonymous), user, api_client or system (never a name)."
    )

    class Meta:
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.from_status}->{self.to_status} of {self.application_id}"


class JourneyEventKind(models.TextChoices):
    START_PAGE_VIEW = "start_page_view", "Start page viewed"
    STARTED = "started", "Application started"
    PAGE_VIEW = "page_view", "Page viewed"
    PAGE_SUBMIT = "page_submit", "Page saved"
    VALIDATION_ERROR = "validation_error", "Validation errors shown"
    EXIT = "exit", "Exit page reached"
    SUBMISSION = "submission", "Application sent"
    FEEDBACK = "feedback", "Satisfaction answered"


class JourneyEvent(models.Model):
    """One step of a journey, for the service's performance data; never a personal value.

    ``details`` holds codes and numbers only: the field ids and error codes of
    a validation error (never what was typed), a satisfaction rating, a count.
    ``application_id`` is a random id without a foreign key, so events outlive
    deleted drafts and are written without touching the application row.
    """

    id = models.BigAutoField(primary_key=True)
    occurred_at = models.DateTimeField(default=clock.now)
    kind = models.CharField(max_length=32, choices=JourneyEventKind.choices)
    service_id = models.CharField(max_length=64)
    version = models.PositiveIntegerField(null=True, blank=True)
    page_id = models.CharField(max_length=64, blank=True, default="")
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.WEB)
    language = models.CharField(max_length=8, default="en")
    application_id = models.UUIDField(null=True, blank=True)
    is_test = models.BooleanField(default=False)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["service_id", "occurred_at"], name="journeys_event_service_idx"),
            models.Index(fields=["kind", "occurred_at"], name="journeys_event_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.service_id}/{self.page_id}"


class Feedback(BaseModel):
    """A satisfaction answer (1 very dissatisfied … 5 very satisfied) with optional sealed free text.

    People write personal things in free text, so the comment is sealed: with
    the application's data key when there is one (erasing the application
    erases the comment), else under its own owner ``feedback:<id>``; the
    field ``feedback.<id>.comment`` binds it to this row. The rating is plain
    data for the KPIs.
    """

    service_id = models.CharField(max_length=64)
    version = models.PositiveIntegerField(null=True, blank=True)
    application = models.ForeignKey(
        Application, on_delete=models.SET_NULL, null=True, blank=True, related_name="feedback"
    )
    page_id = models.CharField(max_length=64, help_text="confirmation, or the id of the exit page.")
    rating = models.PositiveSmallIntegerField()
    comment_sealed = models.BinaryField(null=True, blank=True)
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.WEB)
    language = models.CharField(max_length=8, default="en")
    is_test = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="journeys_feedback_rating_range"),
        ]

    def __str__(self) -> str:
        return f"feedback {self.rating} on {self.service_id}/{self.page_id}"

    @property
    def crypto_owner(self) -> str:
        """Return the owner the comment is sealed under."""
        if self.application_id is not None:
            return f"application:{self.application_id}"
        return f"feedback:{self.id}"

    @property
    def comment_field(self) -> str:
        """Return the sealing field of the comment (binds it to this row)."""
        return f"feedback.{self.id}.comment"


class FeeStatus(models.TextChoices):
    DUE = "due", _("To pay")
    PAID = "paid", _("Paid")
    WAIVED = "waived", _("Waived")


class FeeKind(models.TextChoices):
    """What an :class:`ApplicationFee` row is: the fee itself, or what a paid fee rose by on a resubmission."""

    FEE = "fee", _("Fee")
    INCREASE = "increase", _("Increase after the application was changed")


class ApplicationFee(models.Model):
    """A fee an application owes, computed from its answers when it was sent (payments settle it).

    ``paid_when`` is the definition's ``paid`` (before_submission,
    after_decision, on_collection); amounts are minor units of ``currency``.

    A resubmission recomputes the fees (``govserve/journeys/resubmission_records.py``):
    a row not yet paid takes the new amount; a paid row keeps what was paid
    (its payment, receipt and ledger say so), and the difference is either an
    ``increase`` row of the same fee (``kind``, due after the decision) or
    ``refund_due_minor``: how much of what was paid the fee no longer owes
    (finance refunds it from the payment). ``refunded_minor`` is what payments
    has given back of it (``payments/refunds.py`` spreads each payment's
    refunds over its fees, those with a refund due first), so the file shows
    what is still to refund: ``refund_due_minor - refunded_minor``.
    """

    id = models.BigAutoField(primary_key=True)
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="fees")
    registration_id = models.CharField(max_length=64)
    fee_id = models.CharField(max_length=64)
    # Database defaults too: code deployed before this column (a rolling deploy) still inserts fees.
    kind = models.CharField(max_length=16, choices=FeeKind.choices, default=FeeKind.FEE, db_default=FeeKind.FEE)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    paid_when = models.CharField(max_length=32)
    status = models.CharField(max_length=16, choices=FeeStatus.choices, default=FeeStatus.DUE)
    refund_due_minor = models.BigIntegerField(
        default=0, db_default=0, help_text="Of a paid fee: what it no longer owes after a resubmission (to refund)."
    )
    refunded_minor = models.BigIntegerField(
        default=0, db_default=0, help_text="Of a paid fee: what payments has given back of it (refunds not failed)."
    )
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "registration_id", "fee_id", "kind"], name="journeys_fee_one_per_kind"
            ),
            models.CheckConstraint(condition=Q(amount_minor__gte=0), name="journeys_fee_amount_not_negative"),
            models.CheckConstraint(condition=Q(status__in=FeeStatus.values), name="journeys_fee_status_valid"),
            models.CheckConstraint(condition=Q(kind__in=FeeKind.values), name="journeys_fee_kind_valid"),
            models.CheckConstraint(
                condition=Q(refund_due_minor__gte=0, refund_due_minor__lte=models.F("amount_minor"))
                & (Q(refund_due_minor=0) | Q(status=FeeStatus.PAID)),
                name="journeys_fee_refund_due_of_paid_amount",
            ),
            models.CheckConstraint(
                condition=Q(refunded_minor__gte=0, refunded_minor__lte=models.F("amount_minor"))
                & (Q(refunded_minor=0) | Q(status=FeeStatus.PAID)),
                name="journeys_fee_refunded_of_paid_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"fee {self.registration_id}/{self.fee_id} ({self.kind}) {self.amount_minor} {self.currency}"


class ApplicationDocument(models.Model):
    """A document the application was sent with (or that must be given in person), fixed at submission.

    ``document_id`` names the uploaded file in govserve.documents (owner
    ``application:<uuid>``); it is empty for documents brought to a counter
    or signed in person, which casework records when they are given.
    """

    id = models.BigAutoField(primary_key=True)
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="submitted_documents")
    requirement_id = models.CharField(max_length=64)
    registration_ids = models.JSONField(default=list)
    delivery = models.CharField(max_length=32)
    document_id = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "requirement_id"], name="journeys_document_one_per_requirement"
            ),
        ]

    def __str__(self) -> str:
        return f"document {self.requirement_id} of {self.application_id}"
