"""Case files, tasks, decisions and what staff record about a submitted application.

A submitted application has one :class:`CaseFile`; the file moves through the
roles of the pinned version's flow as :class:`Task` rows, at most one open at
a time (a partial unique constraint: no double transitions even if a bug
tried). Everything personal that staff write (decision reasons, processing
values, notes, messages, corrections, counter notes) is sealed with the
application's data key (owner ``application:<uuid>``), the field name binding
each value to its row. :class:`CaseEvent` is the staff history (ids and codes
only); the applicant's timeline stays journeys' ``ApplicationEvent``.

Queue columns (service, reference, submitted time, institution) are copied
onto the task so the queue of 100,000 open tasks is one indexed table scan.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from govserve.core import clock
from govserve.core.models import BaseModel


class FileState(models.TextChoices):
    OPEN = "open", _("Open")
    SENT_BACK = "sent_back", _("Sent back to the applicant")
    CLOSED = "closed", _("Closed")


class FileOutcome(models.TextChoices):
    NONE = "", _("No decision yet")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class TaskStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    CLAIMED = "claimed", _("Assigned")
    DONE = "done", _("Decided")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_TASK_STATUSES = (TaskStatus.PENDING, TaskStatus.CLAIMED)


class TaskKind(models.TextChoices):
    HUMAN = "human", _("Staff")
    BOT = "bot", _("Automatic")


class DecisionKind(models.TextChoices):
    APPROVE = "approve", _("Approve")
    REJECT = "reject", _("Reject")
    SEND_BACK = "send_back", _("Send back")


class CaseEventKind(models.TextChoices):
    FILE_OPENED = "file_opened", _("File opened")
    TASK_CREATED = "task_created", _("Task created")
    ROLE_SKIPPED = "role_skipped", _("Role skipped")
    TASK_CLAIMED = "task_claimed", _("Task claimed")
    TASK_ASSIGNED = "task_assigned", _("Task assigned")
    TASK_RELEASED = "task_released", _("Task released")
    DECISION_RECORDED = "decision_recorded", _("Decision recorded")
    SENT_BACK = "sent_back", _("Sent back to the applicant")
    RESUBMITTED = "resubmitted", _("Sent again by the applicant")
    FILE_CLOSED = "file_closed", _("File closed")
    WITHDRAWN = "withdrawn", _("Withdrawn by the applicant")
    NOTE_ADDED = "note_added", _("Internal note added")
    MESSAGE_SENT = "message_sent", _("Message sent")
    CORRECTION_MADE = "correction_made", _("Answer corrected")
    COUNTER_RECORDED = "counter_recorded", _("Recorded at the counter")
    PROCESSING_SAVED = "processing_saved", _("Processing details saved")


class CounterKind(models.TextChoices):
    PRESENTED = "presented", _("Document presented in person")
    SIGNED = "signed", _("Signed in front of an operator")


class MessageSender(models.TextChoices):
    APPLICANT = "applicant", _("Applicant")
    STAFF = "staff", _("Staff")


class CaseFile(BaseModel):
    """The file of one submitted application: where it is in the flow and how it ended.

    ``current_role_id`` is the role of the open task ("" when none);
    ``return_to_role_id`` is where the file goes when a sent-back application
    is sent again; ``sent_back_fields``/``sent_back_documents`` are the flagged
    answer and document ids (ids only). ``expected_decision_on`` is the
    applicant's expected decision date (the open task's due date plus the SLAs
    of the roles still ahead), kept up to date by every transition.
    """

    application = models.OneToOneField("journeys.Application", on_delete=models.CASCADE, related_name="case_file")
    service_id = models.CharField(max_length=64)
    version_number = models.PositiveIntegerField()
    reference = models.CharField(max_length=16, unique=True)
    submitted_at = models.DateTimeField()
    state = models.CharField(max_length=16, choices=FileState.choices, default=FileState.OPEN)
    outcome = models.CharField(max_length=16, choices=FileOutcome.choices, blank=True, default="")
    current_role_id = models.CharField(max_length=64, blank=True, default="")
    return_to_role_id = models.CharField(max_length=64, blank=True, default="")
    sent_back_fields = models.JSONField(default=list, blank=True)
    sent_back_documents = models.JSONField(default=list, blank=True)
    opened_at = models.DateTimeField(default=clock.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    expected_decision_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at"]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=FileState.values), name="casework_file_state_valid"),
            models.CheckConstraint(condition=Q(outcome__in=FileOutcome.values), name="casework_file_outcome_valid"),
            models.CheckConstraint(
                condition=Q(state="closed", closed_at__isnull=False) | (~Q(state="closed") & Q(outcome="")),
                name="casework_file_closed_consistent",
            ),
        ]

    def __str__(self) -> str:
        return f"case file {self.reference} ({self.state})"

    @property
    def crypto_owner(self) -> str:
        """Return the owner staff-written values are sealed under (the application's)."""
        return f"application:{self.application_id}"


class Task(BaseModel):
    """One role's work on one file: pending in the pool, claimed by (or assigned to) someone, then done.

    ``version`` is bumped by every change, so a form posted from a stale page
    is refused (:class:`~govserve.casework.errors.TaskChangedError`).
    """

    case_file = models.ForeignKey(CaseFile, on_delete=models.CASCADE, related_name="tasks")
    application = models.ForeignKey("journeys.Application", on_delete=models.CASCADE, related_name="+")
    institution = models.ForeignKey("accounts.Institution", on_delete=models.PROTECT, related_name="+")
    service_id = models.CharField(max_length=64)
    reference = models.CharField(max_length=16)
    submitted_at = models.DateTimeField()
    role_id = models.CharField(max_length=64)
    role_index = models.PositiveIntegerField()
    kind = models.CharField(max_length=8, choices=TaskKind.choices, default=TaskKind.HUMAN)
    status = models.CharField(max_length=16, choices=TaskStatus.choices, default=TaskStatus.PENDING)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="casework_tasks"
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    due_on = models.DateField(null=True, blank=True)
    decision = models.CharField(max_length=16, blank=True, default="")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["due_on", "submitted_at"]
        indexes = [
            # The pool and "all" queues: open tasks of a role in an institution, by due date.
            models.Index(
                fields=["institution", "role_id", "due_on", "submitted_at"],
                name="casework_task_queue_idx",
                condition=Q(status__in=["pending", "claimed"]),
            ),
            # The same queues sorted or filtered by submission time.
            models.Index(
                fields=["institution", "role_id", "submitted_at"],
                name="casework_task_queue_sub_idx",
                condition=Q(status__in=["pending", "claimed"]),
            ),
            # The pool (waiting tasks for people), in its default order: the capped count and the ids of a page
            # read the index alone (EXPLAIN ANALYZE at 20,000 open tasks: the count 21 -> 2.5 ms).
            models.Index(
                fields=["institution", "role_id", "due_on", "submitted_at", "id"],
                name="casework_task_pool_idx",
                condition=Q(status="pending", kind="human"),
            ),
            # The pool sorted by submission time (newest or oldest first), walked in that order and stopped after a
            # page: SQLite cannot use ``casework_task_queue_sub_idx`` for the pool (it does not infer "status IN
            # (pending, claimed)" from "status = pending"), so it sorted the whole pool on every request (~87,000
            # overdue tasks at 100,000 open: 595 ms p95). ``due_on`` last: the overdue filter is checked in the index,
            # without reading the task, while the walk skips the tasks not yet due.
            models.Index(
                fields=["institution", "role_id", "submitted_at", "id", "due_on"],
                name="casework_task_pool_sub_idx",
                condition=Q(status="pending", kind="human"),
            ),
            # "My tasks".
            models.Index(
                fields=["assignee", "due_on"],
                name="casework_task_mine_idx",
                condition=Q(status__in=["pending", "claimed"]),
            ),
            models.Index(fields=["reference"], name="casework_task_reference_idx"),
            models.Index(fields=["case_file", "created_at"], name="casework_task_file_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["case_file"],
                condition=Q(status__in=["pending", "claimed"]),
                name="casework_task_one_open_per_file",
            ),
            models.CheckConstraint(condition=Q(status__in=TaskStatus.values), name="casework_task_status_valid"),
            models.CheckConstraint(condition=Q(kind__in=TaskKind.values), name="casework_task_kind_valid"),
            models.CheckConstraint(
                condition=(Q(status="claimed") & Q(assignee__isnull=False))
                | (Q(status="pending") & Q(assignee__isnull=True))
                | Q(status__in=["done", "cancelled"]),
                name="casework_task_assignee_consistent",
            ),
        ]

    def __str__(self) -> str:
        return f"task {self.role_id} of {self.reference} ({self.status})"

    @property
    def is_open(self) -> bool:
        """Return whether the task is still waiting for a decision."""
        return self.status in OPEN_TASK_STATUSES


class Decision(BaseModel):
    """A decision recorded on a task, by a person or automatically by a bot role's rule.

    ``reason_sealed`` is the reason given (field ``casework.decision.<id>.reason``);
    for a bot, ``rule_path``/``rule_result`` say which rule decided and how.
    """

    case_file = models.ForeignKey(CaseFile, on_delete=models.CASCADE, related_name="decisions")
    task = models.OneToOneField(Task, on_delete=models.CASCADE, related_name="decision_record")
    role_id = models.CharField(max_length=64)
    decision = models.CharField(max_length=16, choices=DecisionKind.choices)
    target = models.CharField(max_length=64)
    automatic = models.BooleanField(default=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason_sealed = models.BinaryField(null=True, blank=True)
    rule_path = models.CharField(max_length=100, blank=True, default="")
    rule_result = models.BooleanField(null=True, blank=True)
    flagged_fields = models.JSONField(default=list, blank=True)
    flagged_documents = models.JSONField(default=list, blank=True)
    decided_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["decided_at"]
        constraints = [
            models.CheckConstraint(condition=Q(decision__in=DecisionKind.values), name="casework_decision_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.decision} by {self.role_id} on {self.case_file_id}"

    @property
    def reason_field(self) -> str:
        """Return the sealing field of the reason."""
        return f"casework.decision.{self.id}.reason"


class ProcessingValue(BaseModel):
    """The value of one processing field of a role (sealed, field ``casework.processing.<role>.<field>``)."""

    case_file = models.ForeignKey(CaseFile, on_delete=models.CASCADE, related_name="processing_values")
    role_id = models.CharField(max_length=64)
    field_id = models.CharField(max_length=64)
    value_sealed = models.BinaryField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case_file", "role_id", "field_id"], name="casework_processing_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.role_id}.{self.field_id} of {self.case_file_id}"

    @property
    def value_field(self) -> str:
        """Return the sealing field of the value."""
        return f"casework.processing.{self.role_id}.{self.field_id}"


class CaseEvent(models.Model):
    """One entry of a file's history as staff see it (ids and codes, never a personal value).

    ``applicant_visible`` marks the entries the applicant sees too (status
    changes, messages, corrections): the staff member behind them is never
    shown to the applicant.
    """

    id = models.BigAutoField(primary_key=True)
    case_file = models.ForeignKey(CaseFile, on_delete=models.CASCADE, related_name="events")
    occurred_at = models.DateTimeField(default=clock.now)
    kind = models.CharField(max_length=32, choices=CaseEventKind.choices)
    task = models.ForeignKey(Task, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    role_id = models.CharField(max_length=64, blank=True, default="")
    actor_kind = models.CharField(max_length=16, help_text="user, citizen, applicant or system.")
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    details = models.JSONField(default=dict, blank=True)
    applicant_visible = models.BooleanField(default=False)

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["case_file", "occurred_at"], name="casework_event_file_idx")]

    def __str__(self) -> str:
        return f"{self.kind} on {self.case_file_id}"


class Note(BaseModel):
    """An internal note on a file (sealed, field ``casework.note.<id>``); never shown to the applicant."""

    case_file = models.ForeignKey(CaseFile, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body_sealed = models.BinaryField()

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"note on {self.case_file_id}"

    @property
    def body_field(self) -> str:
        """Return the sealing field of the body."""
        return f"casework.note.{self.id}"


class Message(BaseModel):
    """A message of the applicant-staff thread of a file (sealed, field ``casework.message.<id>``)."""

    case_file = models.ForeignKey(CaseFile, on_delete=models.CASCADE, related_name="messages")
    sender = models.CharField(max_length=16, choices=MessageSender.choices)
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    body_sealed = models.BinaryField()

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(sender__in=MessageSender.values), name="casework_message_sender_valid"),
        ]

    def __str__(self) -> str:
        return f"message from {self.sender} on {self.case_file_id}"

    @property
    def body_field(self) -> str:
        """Return the sealing field of the body."""
        return f"casework.message.{self.id}"


class Correction(BaseModel):
    """An operator's correction of an answer: the original and the corrected value (canonical JSON, sealed)."""

    case_file = models.ForeignKey(CaseFile, on_delete=models.CASCADE, related_name="corrections")
    field_id = models.CharField(max_length=64)
    original_sealed = models.BinaryField(null=True, blank=True)
    corrected_sealed = models.BinaryField()
    reason_sealed = models.BinaryField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    task = models.ForeignKey(Task, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"correction of {self.field_id} on {self.case_file_id}"

    def sealing_field(self, part: str) -> str:
        """Return the sealing field of ``part`` (original, corrected, reason)."""
        return f"casework.correction.{self.id}.{part}"


class CounterRecord(BaseModel):
    """A document presented at a counter or a signature made in front of an operator (one per requirement)."""

    case_file = models.ForeignKey(CaseFile, on_delete=models.CASCADE, related_name="counter_records")
    requirement_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=16, choices=CounterKind.choices)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    note_sealed = models.BinaryField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["case_file", "requirement_id"], name="casework_counter_one_per_document"),
            models.CheckConstraint(condition=Q(kind__in=CounterKind.values), name="casework_counter_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.requirement_id} on {self.case_file_id}"

    @property
    def note_field(self) -> str:
        """Return the sealing field of the note."""
        return f"casework.counter.{self.id}.note"


class AssistedApplication(BaseModel):
    """An application a staff member made on a citizen's behalf (channel ``assisted``)."""

    application = models.OneToOneField("journeys.Application", on_delete=models.CASCADE, related_name="assisted")
    staff_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    institution = models.ForeignKey("accounts.Institution", on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return f"assisted {self.application_id}"
