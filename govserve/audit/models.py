"""Append-only audit entries, hash-chained after the fact by the sealer.

Entries are inserted unchained inside the business transaction that causes
them (no global lock on the write path). The sealer chains committed entries
in id order: ``entry_hash = SHA-256(previous_hash || canonical bytes)``; see
``govserve.audit.chain`` for the canonical form an external verifier recomputes.
"""

from __future__ import annotations

from django.db import models

from govserve.core import clock


class Outcome(models.TextChoices):
    SUCCESS = "success", "Success"
    DENIED = "denied", "Denied"
    FAILURE = "failure", "Failure"


class AuditEntry(models.Model):
    """One audited action: who, what, on which subject, when, with which outcome."""

    id = models.BigAutoField(primary_key=True)
    occurred_at = models.DateTimeField(default=clock.now)
    actor_kind = models.CharField(max_length=16)
    actor_id = models.CharField(max_length=64)
    actor_is_supplier = models.BooleanField(default=False)
    action = models.CharField(max_length=100)
    subject_type = models.CharField(max_length=64, blank=True, default="")
    subject_id = models.CharField(max_length=64, blank=True, default="")
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.SUCCESS)
    request_id = models.CharField(max_length=64, blank=True, default="")
    details = models.JSONField(default=dict, blank=True)
    # Filled by the sealer, never by the writer.
    previous_hash = models.CharField(max_length=64, blank=True, default="")
    entry_hash = models.CharField(max_length=64, blank=True, default="")
    sealed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["subject_type", "subject_id"], name="audit_subject_idx"),
            models.Index(fields=["actor_kind", "actor_id"], name="audit_actor_idx"),
            models.Index(fields=["action"], name="audit_action_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.id} {self.action} {self.subject_type}:{self.subject_id}"
