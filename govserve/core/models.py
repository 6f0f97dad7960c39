"""The shared base model: every row has a UUID and creation/update times."""

import uuid

from django.db import models

from govserve.core import clock


class BaseModel(models.Model):
    """Abstract base: UUID primary key, ``created_at`` and ``updated_at`` (aware UTC)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(default=clock.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


# --- Background work (govserve.core.jobs) --------------------------------------------
# The task rows themselves live in django-tasks-db's table; these tables carry
# what django.tasks does not: the job's identity (idempotency key), its
# attempts, retries, dead letter and the once-per-period schedule claims.


class JobState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    RETRYING = "retrying", "Waiting to retry"
    SUCCEEDED = "succeeded", "Succeeded"
    DEAD = "dead", "Dead letter"


class JobRecord(BaseModel):
    """One job: enqueued once per idempotency key, run by one or more attempts.

    ``task_result_id`` names the django-tasks-db row of the current (or last)
    attempt; each retry gets a new row with ``run_after`` set to the backoff.
    ``kwargs`` holds ids only, never personal values (checked at enqueue).
    """

    name = models.CharField(max_length=100)
    module = models.CharField(max_length=200)
    idempotency_key = models.CharField(max_length=200, unique=True)
    kwargs = models.JSONField(default=dict)
    state = models.CharField(max_length=16, choices=JobState.choices, default=JobState.QUEUED)
    priority = models.SmallIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    attempts_left = models.PositiveIntegerField()
    max_attempts = models.PositiveIntegerField()
    run_after = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    task_result_id = models.UUIDField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    finished_at = models.DateTimeField(null=True, blank=True)
    manual_retries = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(fields=["state", "created_at"], name="core_job_state_idx"),
            models.Index(fields=["name", "state"], name="core_job_name_state_idx"),
            models.Index(fields=["lease_expires_at"], name="core_job_lease_idx", condition=models.Q(state="running")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=["queued", "running", "retrying", "succeeded", "dead"]),
                name="core_job_state_valid",
            ),
            models.CheckConstraint(condition=models.Q(max_attempts__gte=1), name="core_job_max_attempts_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} [{self.state}] {self.idempotency_key}"


class AttemptOutcome(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    LOST = "lost", "Lost (worker stopped or lease expired)"


class JobAttempt(models.Model):
    """One run of a job by one worker, with its outcome and error (class, message, traceback)."""

    id = models.BigAutoField(primary_key=True)
    job = models.ForeignKey(JobRecord, on_delete=models.CASCADE, related_name="attempt_set")
    number = models.PositiveIntegerField()
    task_result_id = models.UUIDField(null=True, blank=True)
    worker_id = models.CharField(max_length=64, blank=True, default="")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=AttemptOutcome.choices, default=AttemptOutcome.RUNNING)
    error_class = models.CharField(max_length=200, blank=True, default="")
    error_message = models.TextField(blank=True, default="")
    traceback = models.TextField(blank=True, default="")
    retry_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job", "number"]
        constraints = [models.UniqueConstraint(fields=["job", "number"], name="core_jobattempt_unique_number")]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.job_id}: {self.outcome}"


class ScheduledRun(models.Model):
    """The claim of one period of a scheduled job: the unique constraint makes N workers run it once."""

    id = models.BigAutoField(primary_key=True)
    name = models.CharField(max_length=100)
    period_start = models.DateTimeField()
    # Set in the claiming transaction, right after the claim row (which must come first: it is the lock).
    job = models.OneToOneField(JobRecord, on_delete=models.CASCADE, related_name="scheduled_run", null=True, blank=True)
    claimed_at = models.DateTimeField(default=clock.now)
    worker_id = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["name", "period_start"]
        constraints = [models.UniqueConstraint(fields=["name", "period_start"], name="core_scheduledrun_once")]

    def __str__(self) -> str:
        return f"{self.name} @ {self.period_start.isoformat()}"
