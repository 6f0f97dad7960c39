"""Reads of issued results, with the permission checks inside.

- :func:`result_verify`: what the public page says about a code. Anyone may
  ask; the answer is "genuine" only when the signature verifies under a
  configured key *and* the result it names exists with the same issue date
  and key. Nothing about the file is shown beyond the result's type, number,
  issuer, dates, status and (where the service opts in) the holder's name.
- :func:`result_download`: the PDF for its applicant, or for staff who may
  see the file; every download writes ``casework.result.downloaded``.
- :func:`results_for_file` / :func:`result_for_staff`: what casework's file
  view lists and revokes (404 alike for a missing result and one the user may
  not see).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils.translation import gettext as _

from govserve.audit.actors import Actor
from govserve.audit.services import audit_record
from govserve.casework.models import CaseFile
from govserve.casework.results import errors
from govserve.casework.results.models import IssuedResult, PdfState
from govserve.casework.results.rendering import verify_url
from govserve.casework.results.services import issuer_name, result_pdf_bytes
from govserve.casework.results.signing import code_verify
from govserve.core import clock
from govserve.journeys.access import Applicant
from govserve.journeys.hooks import ResultLink
from govserve.journeys.models import Application
from govserve.journeys.selectors import compiled_for
from govserve.privacy.crypto import unseal_text
from govserve.privacy.errors import DataKeyDestroyedError, DataKeyMissingError

Outcome = Literal["genuine", "not_genuine", "no_record"]
Status = Literal["valid", "expired", "revoked"]


def _result_name(row: IssuedResult, language: str) -> str:
    compiled = compiled_for(row.application)
    for registration in compiled.definition.registrations:
        if registration.id == row.registration_id:
            for result in registration.results:
                if result.id == row.result_id:
                    return result.name.get(language)
    return row.result_id


def _today(row: IssuedResult) -> dt.date:
    zone = compiled_for(row.application).definition.time_zone
    return clock.now().astimezone(ZoneInfo(zone)).date()


def result_status(row: IssuedResult, *, today: dt.date | None = None) -> Status:
    """Return revoked (whenever revoked), expired (after its last valid day) or valid."""
    if row.revoked_at is not None:
        return "revoked"
    if row.valid_until is not None and (today or _today(row)) > row.valid_until:
        return "expired"
    return "valid"


def status_label(status: str) -> str:
    """Return the status as people read it (translated)."""
    labels = {"valid": _("Valid"), "expired": _("Expired"), "revoked": _("Revoked")}
    return labels.get(status, status)


@dataclass(frozen=True)
class Verification:
    """The answer to "is this code genuine?"; the details are set only when ``outcome`` is genuine."""

    outcome: Outcome
    result_name: str = ""
    number: str = ""
    issuer: str = ""
    issued_on: dt.date | None = None
    valid_until: dt.date | None = None
    status: Status | None = None
    revoked_on: dt.date | None = None
    holder_name: str | None = None

    @property
    def genuine(self) -> bool:
        """Return whether the code is ours and names an existing result."""
        return self.outcome == "genuine"

    def as_json(self) -> dict[str, Any]:
        """Return the machine-readable answer (dates ISO 8601; no holder name unless shown)."""
        if not self.genuine:
            return {"genuine": False, "outcome": self.outcome}
        body: dict[str, Any] = {
            "genuine": True,
            "outcome": self.outcome,
            "result": self.result_name,
            "number": self.number,
            "issuer": self.issuer,
            "issued_on": self.issued_on.isoformat() if self.issued_on else None,
            "valid_until": self.valid_until.isoformat() if self.valid_until else None,
            "status": self.status,
            "revoked_on": self.revoked_on.isoformat() if self.revoked_on else None,
        }
        if self.holder_name is not None:
            body["holder_name"] = self.holder_name
        return body


def _holder_name(row: IssuedResult) -> str | None:
    if not row.show_holder_name or not row.holder_name_sealed:
        return None
    try:
        return unseal_text(owner=row.crypto_owner, field=row.holder_name_field, sealed=bytes(row.holder_name_sealed))
    except (DataKeyDestroyedError, DataKeyMissingError):
        return None  # the application was erased: its holder's name with it


def result_verify(code: str, *, language: str = "en") -> Verification:
    """Return what ``code`` proves (see the module docstring); never raises for any input."""
    payload = code_verify(code)
    if payload is None:
        return Verification(outcome="not_genuine")
    row = IssuedResult.objects.select_related("application").filter(pk=payload.result_id).first()
    if row is None:
        return Verification(outcome="no_record")
    if row.issued_on != payload.issued_on or row.key_id != payload.key_id:
        return Verification(outcome="not_genuine")
    zone = ZoneInfo(compiled_for(row.application).definition.time_zone)
    return Verification(
        outcome="genuine",
        result_name=_result_name(row, language),
        number=row.number,
        issuer=issuer_name(row.institution_code, language),
        issued_on=row.issued_on,
        valid_until=row.valid_until,
        status=result_status(row, today=clock.now().astimezone(zone).date()),
        revoked_on=row.revoked_at.astimezone(zone).date() if row.revoked_at else None,
        holder_name=_holder_name(row),
    )


# --- The applicant ---------------------------------------------------------------------------------


def results_for_applicant_page(application: Application, language: str) -> list[ResultLink]:
    """Return the results of ``application`` for its applicant's page (journeys checked the access)."""
    rows = IssuedResult.objects.filter(application=application).select_related("application")
    links = []
    for row in rows.order_by("issued_at", "number"):
        ready = row.pdf_state == PdfState.READY
        links.append(
            ResultLink(
                name=_result_name(row, language),
                number=row.number,
                issued_on=row.issued_on,
                valid_until=row.valid_until,
                status=status_label(result_status(row)),
                download_url=reverse("casework_results:download", args=[row.id]) if ready else "",
                verify_url=verify_url(row.code),
            )
        )
    return links


# --- Staff -----------------------------------------------------------------------------------------


def _staff_may_see(user: Any, application: Application) -> bool:
    """Return whether the staff ``user`` may see the file of ``application`` (casework's rule)."""
    # Imported here: casework's selectors import the models this app's hook is registered against.
    from govserve.casework.errors import CaseFileNotFoundError  # noqa: PLC0415
    from govserve.casework.selectors import file_for_reference  # noqa: PLC0415

    if user is None or not getattr(user, "is_authenticated", False):
        return False
    try:
        file_for_reference(user=user, reference=application.reference)
    except CaseFileNotFoundError:
        return False
    return True


@dataclass(frozen=True)
class ResultRow:
    """One issued result as casework's file view lists it."""

    id: uuid.UUID
    name: str
    number: str
    issued_on: dt.date
    valid_until: dt.date | None
    status: Status
    status_label: str
    revoked_at: dt.datetime | None
    pdf_ready: bool
    download_url: str
    verify_url: str


def _row(row: IssuedResult, language: str) -> ResultRow:
    status = result_status(row)
    ready = row.pdf_state == PdfState.READY
    return ResultRow(
        id=row.id,
        name=_result_name(row, language),
        number=row.number,
        issued_on=row.issued_on,
        valid_until=row.valid_until,
        status=status,
        status_label=status_label(status),
        revoked_at=row.revoked_at,
        pdf_ready=ready,
        download_url=reverse("casework_results:download", args=[row.id]) if ready else "",
        verify_url=verify_url(row.code),
    )


def results_of_application(application: Application, *, language: str = "en") -> list[ResultRow]:
    """Return the results of ``application`` with their ids, for its applicant (the caller checked the access)."""
    rows = IssuedResult.objects.filter(application=application).select_related("application")
    return [_row(row, language) for row in rows.order_by("issued_at", "number")]


def results_for_file(*, user: Any, file_id: uuid.UUID, language: str = "en") -> list[ResultRow]:
    """Return the results of the case file ``file_id`` if ``user`` may see it; raise ResultNotFoundError otherwise."""
    case_file = CaseFile.objects.select_related("application").filter(pk=file_id).first()
    if case_file is None or not _staff_may_see(user, case_file.application):
        raise errors.ResultNotFoundError(_("There is no file at this address"))
    rows = IssuedResult.objects.filter(application=case_file.application).select_related("application")
    return [_row(row, language) for row in rows.order_by("issued_at", "number")]


def result_for_staff(*, user: Any, result_id: uuid.UUID) -> IssuedResult:
    """Return the result ``result_id`` if ``user`` may see its file; raise ResultNotFoundError otherwise."""
    row = IssuedResult.objects.select_related("application").filter(pk=result_id).first()
    if row is None or not _staff_may_see(user, row.application):
        raise errors.ResultNotFoundError(_("There is no result at this address"))
    return row


@dataclass(frozen=True)
class DownloadedResult:
    """A result's PDF as it is sent: the bytes and the file name (its number)."""

    content: bytes
    filename: str


def result_download(*, result_id: uuid.UUID, applicant: Applicant | None = None, user: Any = None) -> DownloadedResult:
    """Return the PDF of ``result_id`` for its applicant or for staff who may see the file; audited.

    Raise ResultNotFoundError (the same for a missing result and one the
    caller may not have) and ResultNotReadyError while it is prepared.
    """
    row = IssuedResult.objects.select_related("application").filter(pk=result_id).first()
    actor: Actor | None = None
    if row is not None and applicant is not None and applicant.may_act_on(row.application):
        actor = applicant.actor
    elif row is not None and user is not None and _staff_may_see(user, row.application):
        actor = Actor.for_user(user)
    if row is None or actor is None:
        raise errors.ResultNotFoundError(_("There is no result at this address"))
    try:
        content = result_pdf_bytes(row)
    except (DataKeyDestroyedError, DataKeyMissingError):
        # The application was erased (its data key destroyed): the PDF went with it.
        raise errors.ResultNotFoundError(_("There is no result at this address")) from None
    audit_record(
        actor=actor,
        action="casework.result.downloaded",
        subject_type="casework_results.issuedresult",
        subject_id=row.id,
        details={"number": row.number, "application": str(row.application_id)},
    )
    return DownloadedResult(content=content, filename=f"{row.number}.pdf")
