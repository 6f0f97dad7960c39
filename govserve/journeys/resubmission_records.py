"""Bring what a submission recorded up to date with the answers of a resubmission: registrations, fees, documents.

At the first submission :func:`govserve.journeys.services.application_submit`
records the registrations that apply, the fees (one
:class:`~govserve.journeys.models.ApplicationFee` row per fee) and the
required documents (:class:`~govserve.journeys.models.ApplicationDocument`).
A sent-back application's corrected answers may change all three, so
:func:`~govserve.journeys.resubmission.application_resubmit` calls
:func:`records_recompute` inside its transaction (the application's row
locked). The fee rules, and why:

- **A fee not paid** (``due`` or ``waived``) takes the new amount; one that
  no longer applies is deleted; a new one is added ``due``. A fee the
  definition has paid ``before_submission`` is recorded as due
  ``after_decision`` instead: the application has passed that gate (it was
  paid, or nothing was due), and payments takes at most one successful
  payment per application and ``paid_when``, so money a resubmission adds is
  collected with the fees after the decision.
- **A fee paid** keeps its row as it was paid (its payment, ledger, receipt
  and reconciliation read it). What the fee now costs beyond what was paid is
  an ``increase`` row of the same fee, ``due`` ``after_decision`` (paid
  through the ordinary pages once approved, announced by payments' fee-due
  email); what was paid beyond what it now costs (less, or no longer
  applying) is the paid row's ``refund_due_minor``, shown to staff and
  finance on the file's fees, where the payment's *Refund* link is. Nothing
  is refunded automatically: refunds are finance's decision
  (``payments/refunds.py``). A later resubmission recomputes both again.

This is ``_fees_record``/``_documents_record`` of the journey's services
applied to rows that already exist, written apart from them (those insert
the first rows only).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import structlog

from govserve.documents.selectors import DocumentSummary
from govserve.journeys.models import Application, ApplicationDocument, ApplicationFee, FeeKind, FeeStatus
from govserve.journeys.registrations import FeeDue, FeeSummary, RequiredDocument

logger = structlog.get_logger(__name__)

LATER = "after_decision"
"""When money a resubmission adds to a fee paid (or payable) before submission is due."""


@dataclass(frozen=True)
class FeeChange:
    """How one fee changed on a resubmission (ids and amounts in minor units: no personal data).

    ``from_minor``/``to_minor``: what the fee cost before and costs now (0:
    it does not apply); ``paid_minor``: what was paid for it; ``due_minor``:
    what is left to pay; ``refund_due_minor``: what was paid that it no
    longer owes.
    """

    registration_id: str
    fee_id: str
    from_minor: int
    to_minor: int
    paid_minor: int
    due_minor: int
    refund_due_minor: int

    def as_details(self) -> dict[str, str | int]:
        """Return the change as audit details."""
        return {
            "registration": self.registration_id,
            "fee": self.fee_id,
            "from_minor": self.from_minor,
            "to_minor": self.to_minor,
            "paid_minor": self.paid_minor,
            "due_minor": self.due_minor,
            "refund_due_minor": self.refund_due_minor,
        }


@dataclass(frozen=True)
class RecordsChanged:
    """What :func:`records_recompute` changed (requirement, registration and fee ids: no personal data)."""

    registrations: tuple[str, ...] | None = None
    fees: tuple[FeeChange, ...] = ()
    documents_added: tuple[str, ...] = ()
    documents_removed: tuple[str, ...] = ()
    documents_replaced: tuple[str, ...] = field(default=())

    def as_details(self) -> dict[str, object]:
        """Return the changes as audit details (only what changed)."""
        details: dict[str, object] = {}
        if self.registrations is not None:
            details["registrations"] = list(self.registrations)
        if self.fees:
            details["fees"] = [change.as_details() for change in self.fees]
        for name in ("documents_added", "documents_removed", "documents_replaced"):
            if getattr(self, name):
                details[name] = list(getattr(self, name))
        return details


def records_recompute(
    application: Application,
    *,
    registrations: Sequence[str],
    fees: FeeSummary,
    requirements: Sequence[RequiredDocument],
    uploads: Sequence[DocumentSummary],
) -> RecordsChanged:
    """Recompute ``application``'s registrations, fees and documents (module docstring); return what changed.

    Call inside the caller's transaction with the application's row locked: a
    resubmission, or a caseworker's correction (casework). Not audited here:
    the caller's entry (``journeys.application.resubmitted``,
    ``casework.correction.made``) carries :meth:`RecordsChanged.as_details`.
    """
    changed_registrations = None
    if list(application.registrations or []) != list(registrations):
        application.registrations = list(registrations)
        application.save(update_fields=["registrations", "updated_at"])
        changed_registrations = tuple(registrations)
    added, removed, replaced = _documents_recompute(application, requirements, uploads)
    return RecordsChanged(
        registrations=changed_registrations,
        fees=tuple(fees_recompute(application, fees)),
        documents_added=added,
        documents_removed=removed,
        documents_replaced=replaced,
    )


def fees_recompute(application: Application, fees: FeeSummary) -> list[FeeChange]:
    """Bring ``application``'s fee rows to ``fees`` (module docstring); return the fees whose amount changed."""
    rows: dict[tuple[str, str], list[ApplicationFee]] = defaultdict(list)
    for row in ApplicationFee.objects.filter(application=application).order_by("id"):
        rows[(row.registration_id, row.fee_id)].append(row)
    wanted = {(item.registration.id, item.fee.id): item for item in fees.items}
    keys = list(wanted) + [key for key in rows if key not in wanted]
    changes = []
    for key in keys:
        change = _fee_recompute(application, key, rows.get(key, []), wanted.get(key), fees.currency)
        if change is not None:
            changes.append(change)
    return changes


def fees_preview(application: Application, fees: FeeSummary) -> list[FeeChange]:
    """Return what :func:`fees_recompute` would change for ``fees``, changing nothing (the applicant's preview).

    The same rules, read off the rows: a fee something was paid for is owed
    its new amount, the difference from what was paid being due after the
    decision or to refund; a fee nothing was paid for is due its new amount
    (nothing, if waived). Tested equal to what the recomputation records.
    """
    rows: dict[tuple[str, str], list[ApplicationFee]] = defaultdict(list)
    for row in ApplicationFee.objects.filter(application=application).order_by("id"):
        rows[(row.registration_id, row.fee_id)].append(row)
    wanted = {(item.registration.id, item.fee.id): item.amount_minor for item in fees.items}
    changes = []
    for key in list(wanted) + [key for key in rows if key not in wanted]:
        existing = rows.get(key, [])
        before, target = _costs(existing), wanted.get(key, 0)
        paid = sum(row.amount_minor for row in existing if row.status == FeeStatus.PAID)
        waived = any(row.status == FeeStatus.WAIVED and row.kind == FeeKind.FEE for row in existing)
        if paid:
            due, refund_due = max(target - paid, 0), max(paid - target, 0)
            unchanged = before == target and bool(due) == any(row.kind == FeeKind.INCREASE for row in existing)
        else:
            due, refund_due = (0 if waived else target), 0
            unchanged = before == target and bool(existing) == (key in wanted)
        if unchanged:
            continue
        changes.append(
            FeeChange(
                registration_id=key[0],
                fee_id=key[1],
                from_minor=before,
                to_minor=target,
                paid_minor=paid,
                due_minor=due,
                refund_due_minor=refund_due,
            )
        )
    return changes


def _costs(rows: Sequence[ApplicationFee]) -> int:
    """Return what the rows of one fee say it costs (every row's amount less what is to be refunded)."""
    return sum(row.amount_minor - row.refund_due_minor for row in rows)


def _payable(paid_when: str) -> str:
    return LATER if paid_when == "before_submission" else paid_when


def _fee_recompute(
    application: Application,
    key: tuple[str, str],
    rows: list[ApplicationFee],
    item: FeeDue | None,
    currency: str,
) -> FeeChange | None:
    registration_id, fee_id = key
    before = _costs(rows)
    target = item.amount_minor if item is not None else 0
    if any(row.status == FeeStatus.PAID for row in rows):
        after_rows = _paid_recompute(application, key, rows, target=target, currency=currency)
    else:
        after_rows = _unpaid_recompute(application, key, rows, item, currency)
    after = _costs(after_rows)
    if after == before and len(after_rows) == len(rows):
        return None
    return FeeChange(
        registration_id=registration_id,
        fee_id=fee_id,
        from_minor=before,
        to_minor=after,
        paid_minor=sum(row.amount_minor for row in after_rows if row.status == FeeStatus.PAID),
        due_minor=sum(row.amount_minor for row in after_rows if row.status == FeeStatus.DUE),
        refund_due_minor=sum(row.refund_due_minor for row in after_rows),
    )


def _unpaid_recompute(
    application: Application,
    key: tuple[str, str],
    rows: list[ApplicationFee],
    item: FeeDue | None,
    currency: str,
) -> list[ApplicationFee]:
    """Nothing paid for the fee: its row takes the new amount (or goes); return the rows after."""
    fee_row = next((row for row in rows if row.kind == FeeKind.FEE), None)
    others = [row for row in rows if row is not fee_row]
    if others:  # an increase with nothing paid cannot be owed: it goes with the recomputation
        ApplicationFee.objects.filter(id__in=[row.id for row in others]).delete()
    if item is None:
        if fee_row is not None:
            fee_row.delete()
        return []
    if fee_row is None:
        created = ApplicationFee.objects.create(
            application=application,
            registration_id=key[0],
            fee_id=key[1],
            kind=FeeKind.FEE,
            amount_minor=item.amount_minor,
            currency=currency,
            paid_when=_payable(item.fee.paid),
        )
        return [created]
    if fee_row.amount_minor != item.amount_minor or fee_row.currency != currency:
        fee_row.amount_minor = item.amount_minor
        fee_row.currency = currency
        fee_row.paid_when = _payable(item.fee.paid)
        fee_row.save(update_fields=["amount_minor", "currency", "paid_when"])
    return [fee_row]


def _paid_recompute(
    application: Application, key: tuple[str, str], rows: list[ApplicationFee], *, target: int, currency: str
) -> list[ApplicationFee]:
    """Something paid for the fee: the difference is an increase due, or a refund due; return the rows after."""
    paid = [row for row in rows if row.status == FeeStatus.PAID]
    paid_total = sum(row.amount_minor for row in paid)
    unpaid = [row for row in rows if row.status != FeeStatus.PAID]
    increase = next((row for row in unpaid if row.kind == FeeKind.INCREASE), None)
    stale = [row for row in unpaid if row is not increase]
    if stale:  # a fee row not paid beside a paid increase: what is owed is recomputed from the paid rows alone
        ApplicationFee.objects.filter(id__in=[row.id for row in stale]).delete()
    after = list(paid)
    more = target - paid_total
    if more > 0:
        if increase is None and any(row.kind == FeeKind.INCREASE for row in paid):
            # After-decision fees are paid once approved, and an approved file is closed: never sent back.
            logger.error("journeys.fees.increase_paid_before_resubmission", application_id=str(application.id))
        elif increase is None:
            after.append(
                ApplicationFee.objects.create(
                    application=application,
                    registration_id=key[0],
                    fee_id=key[1],
                    kind=FeeKind.INCREASE,
                    amount_minor=more,
                    currency=currency,
                    paid_when=LATER,
                )
            )
        else:
            if increase.amount_minor != more:
                increase.amount_minor = more
                increase.save(update_fields=["amount_minor"])
            after.append(increase)
    elif increase is not None:
        increase.delete()
    # What was paid beyond what the fee now costs is to be refunded: from the increase paid last first.
    over = max(paid_total - target, 0)
    for row in sorted(paid, key=lambda row: row.kind != FeeKind.INCREASE):
        share = min(over, row.amount_minor)
        over -= share
        if row.refund_due_minor != share:
            row.refund_due_minor = share
            row.save(update_fields=["refund_due_minor"])
    return after


def _documents_recompute(
    application: Application, requirements: Sequence[RequiredDocument], uploads: Sequence[DocumentSummary]
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Bring the required documents to ``requirements``; return the requirement ids (added, removed, replaced).

    A requirement no longer asked for goes (its upload stays in the documents
    store, as an upload nothing asked for does at the first submission).
    """
    present = {summary.slot: summary.id for summary in uploads}
    existing = {row.requirement_id: row for row in ApplicationDocument.objects.filter(application=application)}
    added, replaced = [], []
    for requirement in requirements:
        document_id = present.get(requirement.slot) if requirement.delivery == "upload" else None
        row = existing.pop(requirement.id, None)
        if row is None:
            ApplicationDocument.objects.create(
                application=application,
                requirement_id=requirement.id,
                registration_ids=list(requirement.registration_ids),
                delivery=requirement.delivery,
                document_id=document_id,
            )
            added.append(requirement.id)
            continue
        if row.document_id != document_id and row.document_id is not None:
            replaced.append(requirement.id)
        if (row.registration_ids, row.delivery, row.document_id) != (
            list(requirement.registration_ids),
            requirement.delivery,
            document_id,
        ):
            row.registration_ids = list(requirement.registration_ids)
            row.delivery = requirement.delivery
            row.document_id = document_id
            row.save(update_fields=["registration_ids", "delivery", "document_id"])
    if existing:
        ApplicationDocument.objects.filter(id__in=[row.id for row in existing.values()]).delete()
    return tuple(added), tuple(sorted(existing)), tuple(replaced)
