"""Erasure: remove one person's data on request, where the law allows (UK GDPR article 17), and legal holds.

A person is named by an application reference (that file) or by their
citizen account (every file of the account, then the account itself). The
request is checked first, file by file, and refused as a whole, with a
reason per file, when any file may not be erased; nothing changes then.
The rules (docs/privacy.md, "Erasure"):

- ``file_open``: the file is being processed (``submitted``,
  ``awaiting_payment``, ``in_progress``, ``sent_back``). The applicant can
  withdraw it; once it is closed it can be erased.
- ``legal_hold``: the file is under a legal hold (litigation, an
  investigation, a complaint, a regulator): kept until the hold is released.
- ``payment_in_progress``: a payment or refund of the file is not finished
  (the money must be settled and reconciled first).
- ``result_valid``: a licence or certificate issued from the file is still
  valid: the issuer must keep the record while it can be relied on
  (article 17(3)(b), a legal obligation); it can be erased once it has
  expired or been revoked.

Otherwise every file goes through the same machinery as retention
(:func:`govserve.privacy.retention.file_personal_data_remove`, action
``anonymise``, reason ``erasure``): the statistics stay true. A file already
anonymised or deleted is skipped. For an account, the account's own data
goes too: the content of the emails sent to it, its data key (its sealed
address) and the account row. Audited: one ``privacy.file.anonymised`` entry
per file, ``accounts``' removal as ``privacy.citizen.erased``, a refusal as
``privacy.erasure.refused`` (codes only).

Who may ask: operators with the command (``govserve privacy erase``), and
staff holding the ``administrator`` role of the institution that owns the
service of every file concerned (:func:`may_erase`, :data:`ERASURE_ROLE`):
the data protection officer.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils.translation import gettext_lazy

from govserve.accounts.models import Citizen
from govserve.accounts.policies import can_act_in_role
from govserve.audit.actors import Actor
from govserve.audit.models import Outcome
from govserve.audit.services import audit_record
from govserve.casework.results.models import IssuedResult
from govserve.casework.results.selectors import result_status
from govserve.core import clock
from govserve.core.errors import ConflictError, NotFoundError, PermissionDeniedError
from govserve.journeys.models import Application, ApplicationStatus
from govserve.notifications.models import OutboundEmail, OutboundSms
from govserve.payments.models import Payment, Refund
from govserve.privacy.access_report import DATA_PROTECTION_OFFICER_ROLE
from govserve.privacy.crypto import data_key_destroy
from govserve.privacy.models import LegalHold, RetentionAction, RetentionReason, RetentionRecord
from govserve.privacy.retention import CLOSED_STATUSES, closure_expression, file_personal_data_remove

ERASURE_ROLE = DATA_PROTECTION_OFFICER_ROLE
"""The role (in the institution owning the service) that may erase a person's data from the staff pages.

The data protection officer answers people's data-protection requests
(subject access, the data-protection reports): erasure is one of them.
Administrators manage staff, not people's data, so they may not.
"""

OPEN_STATUSES = (
    ApplicationStatus.SUBMITTED,
    ApplicationStatus.AWAITING_PAYMENT,
    ApplicationStatus.IN_PROGRESS,
    ApplicationStatus.SENT_BACK,
)
UNFINISHED_PAYMENT_STATES = ("created", "started", "submitted", "capturable")
HOLD_REASONS = ("litigation", "investigation", "complaint", "regulator")

REFUSALS = {
    "file_open": gettext_lazy(
        "The application is still being processed. It can be erased once it is decided or withdrawn."
    ),
    "legal_hold": gettext_lazy("The application is under a legal hold. It can be erased once the hold is released."),
    "payment_in_progress": gettext_lazy("A payment or refund of the application is not finished yet."),
    "result_valid": gettext_lazy(
        "A licence or certificate issued from the application is still valid, so the law requires us to keep "
        "the record until it expires or is revoked."
    ),
}


class ErasureNotFoundError(NotFoundError):
    """No application has this reference, or no citizen account this id."""

    code = "erasure_subject_not_found"


class ErasureNotPermittedError(PermissionDeniedError):
    """The staff member may not erase this person's data (the erasure role in the owning institution)."""

    code = "erasure_not_permitted"


class ErasureRefusedError(ConflictError):
    """At least one file may not be erased now; ``refusals`` lists (reference, code, message) for each."""

    code = "erasure_refused"

    def __init__(self, refusals: list[tuple[str, str, str]]) -> None:
        lines = "; ".join(f"{reference}: {message}" for reference, _, message in refusals)
        super().__init__(f"Nothing was erased. {lines}")
        self.refusals = refusals


class LegalHoldError(ConflictError):
    """A hold is already active (placing) or none is (releasing), or the reason code is unknown."""

    code = "legal_hold_invalid"


@dataclass(frozen=True)
class ErasureResult:
    """What an erasure did: the references erased, those already done, and whether an account went."""

    erased: list[str]
    already_done: list[str]
    account_removed: bool


# --- Rules ------------------------------------------------------------------------------------------


def refusal_codes(application: Application) -> list[str]:
    """Return why ``application`` may not be erased now (empty: it may); see the module docstring."""
    codes = []
    if application.status in OPEN_STATUSES:
        codes.append("file_open")
    if LegalHold.objects.filter(application_id=application.id, released_at__isnull=True).exists():
        codes.append("legal_hold")
    if (
        Payment.objects.filter(application=application, state__in=UNFINISHED_PAYMENT_STATES).exists()
        or Refund.objects.filter(payment__application=application, state="submitted").exists()
    ):
        codes.append("payment_in_progress")
    results = IssuedResult.objects.filter(application=application).select_related("application")
    if any(result_status(row) == "valid" for row in results):
        codes.append("result_valid")
    return codes


def may_erase(user: Any, applications: list[Application]) -> bool:
    """Return whether the staff ``user`` holds the erasure role in the owning institution of every file."""
    if not applications:
        return False
    codes = set(
        Application.objects.filter(pk__in=[a.pk for a in applications]).values_list(
            "service__owning_institution__code", flat=True
        )
    )
    return all(code and can_act_in_role(user, code, ERASURE_ROLE) for code in codes)


# --- Finding the person -----------------------------------------------------------------------------


def _by_reference(reference: str) -> list[Application]:
    application = Application.objects.filter(reference=reference.strip().upper()).first()
    if application is None:
        raise ErasureNotFoundError("There is no application with this reference")
    return [application]


def _citizen(citizen_id: str | uuid.UUID) -> Citizen:
    try:
        key = uuid.UUID(str(citizen_id))
    except ValueError:
        raise ErasureNotFoundError("There is no citizen account with this id") from None
    citizen = Citizen.objects.filter(pk=key).first()
    if citizen is None:
        raise ErasureNotFoundError("There is no citizen account with this id")
    return citizen


# --- Erasing ----------------------------------------------------------------------------------------


def _refuse(applications: list[Application], *, actor: Actor, asked_by: str) -> None:
    refusals = [
        (application.reference, code, str(REFUSALS[code]))
        for application in applications
        for code in refusal_codes(application)
    ]
    if refusals:
        with transaction.atomic():
            audit_record(
                actor=actor,
                action="privacy.erasure.refused",
                subject_type="privacy.erasure",
                subject_id=asked_by,
                outcome=Outcome.FAILURE,
                details={"files": {reference: code for reference, code, _ in refusals}},
            )
        raise ErasureRefusedError(refusals)


def _erase_files(applications: list[Application], *, actor: Actor) -> tuple[list[str], list[str]]:
    erased: list[str] = []
    done: list[str] = []
    for application in applications:
        with transaction.atomic():
            locked = (
                Application.objects.select_for_update(of=("self",))
                .annotate(closed_at=closure_expression())
                .get(pk=application.pk)
            )
            if RetentionRecord.objects.filter(application_id=locked.pk).exists():
                done.append(locked.reference)
                continue
            codes = refusal_codes(locked)
            if codes:  # changed since the check: refuse this one (the earlier ones are erased)
                raise ErasureRefusedError([(locked.reference, code, str(REFUSALS[code])) for code in codes])
            file_personal_data_remove(
                locked,
                action=RetentionAction.ANONYMISE,
                reason=RetentionReason.ERASURE,
                closed_at=locked.closed_at if locked.status in CLOSED_STATUSES else None,
                actor=actor,
            )
            erased.append(locked.reference)
    return erased, done


def erase_by_reference(*, reference: str, actor: Actor, user: Any = None) -> ErasureResult:
    """Erase the file ``reference`` (see the module docstring); ``user``: the staff member asking, if any.

    Raise ErasureNotFoundError, ErasureNotPermittedError (staff without the
    erasure role; a refusal looks the same whether or not the file exists
    for them only when it does not exist) or ErasureRefusedError.
    """
    applications = _by_reference(reference)
    if user is not None and not may_erase(user, applications):
        raise ErasureNotPermittedError("You cannot erase applications of this service")
    _refuse(applications, actor=actor, asked_by="reference")
    erased, done = _erase_files(applications, actor=actor)
    return ErasureResult(erased=erased, already_done=done, account_removed=False)


def erase_by_account(*, citizen_id: str | uuid.UUID, actor: Actor, user: Any = None) -> ErasureResult:
    """Erase every file of the citizen account ``citizen_id``, then the account; see :func:`erase_by_reference`."""
    citizen = _citizen(citizen_id)
    applications = list(Application.objects.filter(citizen=citizen).order_by("created_at"))
    if user is not None and not (applications and may_erase(user, applications)):
        raise ErasureNotPermittedError("You cannot erase this person's data")
    _refuse(applications, actor=actor, asked_by="account")
    erased, done = _erase_files(applications, actor=actor)
    owner = citizen.crypto_owner
    with transaction.atomic():
        now = clock.now()
        OutboundEmail.objects.filter(owner=owner, content_removed_at__isnull=True).update(
            recipient_sealed=b"", subject_sealed=b"", body_sealed=b"", content_removed_at=now
        )
        OutboundSms.objects.filter(owner=owner, content_removed_at__isnull=True).update(
            recipient_sealed=b"", body_sealed=b"", content_removed_at=now
        )
        data_key_destroy(owner=owner, actor=actor)
        citizen_pk = citizen.pk
        try:
            with transaction.atomic():
                citizen.delete()
        except (ProtectedError, RestrictedError):
            removed = False  # kept (another app refers to it); its sealed address is unreadable all the same
        else:
            removed = True
        audit_record(
            actor=actor,
            action="privacy.citizen.erased",
            subject_type="accounts.citizen",
            subject_id=citizen_pk,
            details={"files": len(erased) + len(done), "account_removed": removed},
        )
    return ErasureResult(erased=erased, already_done=done, account_removed=removed)


# --- Legal holds ------------------------------------------------------------------------------------


def legal_hold_place(*, reference: str, reason_code: str, actor: Actor) -> LegalHold:
    """Put the file ``reference`` under a legal hold (``reason_code`` one of HOLD_REASONS); audited."""
    if reason_code not in HOLD_REASONS:
        raise LegalHoldError(f"The reason must be one of: {', '.join(HOLD_REASONS)}")
    application = _by_reference(reference)[0]
    with transaction.atomic():
        Application.objects.select_for_update().get(pk=application.pk)
        if LegalHold.objects.filter(application_id=application.pk, released_at__isnull=True).exists():
            raise LegalHoldError("The application is already under a legal hold")
        hold = LegalHold.objects.create(
            application_id=application.pk, reason_code=reason_code, placed_by=f"{actor.kind}:{actor.id}"
        )
        audit_record(
            actor=actor,
            action="privacy.legal_hold.placed",
            subject_type="journeys.application",
            subject_id=application.pk,
            details={"reason": reason_code, "hold": str(hold.pk)},
        )
    return hold


def legal_hold_release(*, reference: str, actor: Actor) -> LegalHold:
    """Release the active legal hold on the file ``reference``; audited."""
    application = _by_reference(reference)[0]
    with transaction.atomic():
        hold = (
            LegalHold.objects.select_for_update()
            .filter(application_id=application.pk, released_at__isnull=True)
            .first()
        )
        if hold is None:
            raise LegalHoldError("The application is not under a legal hold")
        hold.released_at = clock.now()
        hold.released_by = f"{actor.kind}:{actor.id}"
        hold.save(update_fields=["released_at", "released_by", "updated_at"])
        audit_record(
            actor=actor,
            action="privacy.legal_hold.released",
            subject_type="journeys.application",
            subject_id=application.pk,
            details={"hold": str(hold.pk)},
        )
    return hold
