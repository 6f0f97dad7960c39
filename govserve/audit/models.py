"""Append-only audit entries, hash-chained after the fact by the sealer.

Entries are inserted unchained inside the business transaction that causes
them (no global lock on the write path). The sealer chains committed entries
in id order: ``entry_hash = SHA-256(previous_hash || canonical bytes)``; see
``govserve.audit.chain`` for the canonical form an external verifier recomputes
and ``docs/audit.md`` for the watermark that keeps the chain gap-free.

Database triggers (``govserve.audit.guards``, installed by migration 0003)
refuse UPDATE of sealed entries, any change of an unsealed entry other than
its seal, and DELETE; the verifier does not rely on them.
"""

from __future__ import annotations

from django.db import models

from govserve.audit.chain import GENESIS_HASH, CanonicalJSONEncoder
from govserve.audit.fields import CanonicalJSONField
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
    # Stored as exact canonical text, so the verifier hashes it as stored (see fields.py).
    details = CanonicalJSONField(default=dict, blank=True, encoder=CanonicalJSONEncoder)
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


class AuditChainHead(models.Model):
    """The one row that says how far the chain is sealed; sealers lock it, writers never touch it.

    ``last_sealed_id``/``last_hash`` are the head of the chain: every id from 1
    to ``last_sealed_id`` is an entry (or a recorded hole) chained in order.
    ``horizon_id``/``horizon_at`` and ``probe_upto_id`` pace the detection of
    ids that never committed (see ``govserve.audit.sealer``).
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_sealed_id = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    last_sealed_at = models.DateTimeField(null=True, blank=True)
    horizon_id = models.BigIntegerField(default=0)
    horizon_at = models.DateTimeField(null=True, blank=True)
    probe_upto_id = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audit_chain_head_single_row")]

    def __str__(self) -> str:
        return f"audit chain head #{self.last_sealed_id} {self.last_hash[:12]}"
