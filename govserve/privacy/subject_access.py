"""Subject access: everything govserve holds about one person, as JSON, a PDF and the files themselves.

A person is found by email address: their citizen account (by the blind
index of the address) and every application they made anonymously with that
contact address (read by opening each anonymous application's sealed
contact address: it costs one data-key unwrap per anonymous application, see
docs/privacy.md). The export holds, per application: the answers
(decrypted, with their labels and data classification), the applicant's
history, documents (the files themselves in the bundle, with their SHA-256),
messages, fees and payments, the case (decisions with reasons, corrections,
internal notes, processing values), issued results (their PDFs in the
bundle); and for the person: the account, the emails and text messages sent
to them, and who in which institution and role accessed their data, and when
(:mod:`govserve.privacy.access_report`). Staff names never appear: the
export names institutions and roles.

``institutions`` narrows an export to the applications of services owned by
those institutions (a data protection officer answers for their own
institution); ``None`` is the whole platform (the operators' command).

The JSON form is versioned (``schema_version``) and documented in
docs/privacy.md, "Subject access". Each export is audited
(``privacy.subject_access.exported``, on the citizen account when there is
one) with counts, never values.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from govserve.accounts.citizens import citizen_email, citizen_find_by_email, email_normalise
from govserve.accounts.models import Citizen
from govserve.audit.actors import Actor
from govserve.audit.services import audit_record
from govserve.casework.models import CaseFile, Correction, Decision, Message, MessageSender, Note, ProcessingValue
from govserve.casework.results.models import IssuedResult, PdfState
from govserve.casework.results.services import result_pdf_bytes
from govserve.core import clock
from govserve.documents.models import Document, ScanState
from govserve.documents.services import document_plaintext, filename_field
from govserve.journeys.answers import answers_load, page_fields_by_id
from govserve.journeys.fields import display_value
from govserve.journeys.models import Application, ApplicationFee, ApplicationStatus
from govserve.journeys.selectors import compiled_for
from govserve.journeys.services import CONTACT_EMAIL_FIELD
from govserve.notifications import email as email_channel
from govserve.notifications import sms as sms_channel
from govserve.notifications.models import OutboundEmail, OutboundSms
from govserve.payments.models import Payment
from govserve.privacy.access_report import accesses_for_applications
from govserve.privacy.crypto import blind_index, data_keys_prefetch, unseal_text
from govserve.privacy.errors import DataKeyDestroyedError, SubjectAccessRequestError

FORMAT = "govserve.subject-access"
SCHEMA_VERSION = 1
SUBJECT_TYPE_CITIZEN = "accounts.citizen"
SUBJECT_TYPE_UNKNOWN = "privacy.data_subject"
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+$")


@dataclass
class SubjectAccessExport:
    """One export: ``data`` is the JSON document, ``files`` the bundle's other files by path."""

    data: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    pdf: bytes = b""
    subject_type: str = ""
    """The audit subject of the export: ``accounts.citizen``, or ``privacy.data_subject`` without an account."""
    subject_id: str = ""
    """The account id, or a blind index of the address (never the address itself)."""

    def json_bytes(self) -> bytes:
        """Return the JSON document (UTF-8, indented, keys in a stable order)."""
        return json.dumps(self.data, indent=2, ensure_ascii=False, sort_keys=False).encode()

    def zip_bytes(self) -> bytes:
        """Return the bundle: ``export.json``, ``export.pdf`` and every file the JSON names."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
            bundle.writestr("export.json", self.json_bytes())
            if self.pdf:
                bundle.writestr("export.pdf", self.pdf)
            for path, content in sorted(self.files.items()):
                bundle.writestr(path, content)
        return buffer.getvalue()


def _time(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _safe(name: str) -> str:
    return _SAFE_NAME.sub("_", name).strip("._")[:80] or "file"


def _open(owner: str, field_name: str, sealed: bytes | memoryview | None) -> str | None:
    if sealed is None or not bytes(sealed):
        return None
    return unseal_text(owner=owner, field=field_name, sealed=sealed)


def _anonymous_applications(normalised: str) -> list[Application]:
    """Return the anonymous applications whose sealed contact address is ``normalised`` (one unwrap each)."""
    found = []
    candidates = Application.objects.filter(citizen__isnull=True, contact_email_sealed__isnull=False).order_by(
        "created_at"
    )
    for application in candidates.iterator(chunk_size=500):
        try:
            address = _open(application.crypto_owner, CONTACT_EMAIL_FIELD, application.contact_email_sealed)
        except DataKeyDestroyedError:
            continue  # erased: nothing of it is held any more
        if address is not None and email_normalise(address) == normalised:
            found.append(application)
    return found


def _answers(application: Application, language: str) -> list[dict[str, Any]]:
    compiled = compiled_for(application)
    definition = compiled.definition
    answers = answers_load(application, definition)
    rows = []
    for field_id, definition_field in page_fields_by_id(definition).items():
        if field_id not in answers:
            continue
        rows.append(
            {
                "field_id": field_id,
                "label": definition_field.label.get(language),
                "classification": definition_field.classification,
                "value": display_value(
                    definition_field,
                    answers[field_id],
                    language=language,
                    catalogues=compiled.catalogues,
                    currency=definition.currency,
                    phone_region=definition.phone_region,
                ),
            }
        )
    return rows


def _documents(application: Application, files: dict[str, bytes]) -> list[dict[str, Any]]:
    rows = []
    for document in Document.objects.filter(owner=application.crypto_owner).order_by("uploaded_at", "id"):
        filename = _open(document.owner, filename_field(document.id), document.filename_sealed)
        row: dict[str, Any] = {
            "id": str(document.id),
            "slot": document.slot,
            "filename": filename,
            "kind": document.kind,
            "content_type": document.content_type,
            "size_bytes": document.size_bytes,
            "scan_state": document.scan_state,
            "uploaded_at": _time(document.uploaded_at),
            "removed_at": _time(document.removed_at),
            "sha256": None,
            "file": None,
        }
        if document.purged_at is None and document.scan_state != ScanState.INFECTED:
            try:
                content = document_plaintext(document)
            except FileNotFoundError:
                content = None
            if content is not None:
                path = f"documents/{application.reference}/{document.id}-{_safe(filename or document.slot)}"
                files[path] = content
                row["sha256"] = hashlib.sha256(content).hexdigest()
                row["file"] = path
        rows.append(row)
    return rows


def _case(application: Application) -> dict[str, Any] | None:
    case_file = CaseFile.objects.filter(application=application).first()
    if case_file is None:
        return None
    owner = case_file.crypto_owner
    return {
        "reference": case_file.reference,
        "state": case_file.state,
        "outcome": case_file.outcome or None,
        "opened_at": _time(case_file.opened_at),
        "closed_at": _time(case_file.closed_at),
        "expected_decision_on": _time(case_file.expected_decision_on),
        "decisions": [
            {
                "decided_at": _time(decision.decided_at),
                "role": decision.role_id,
                "decision": decision.decision,
                "automatic": decision.automatic,
                "reason": _open(owner, decision.reason_field, decision.reason_sealed),
                "flagged_fields": list(decision.flagged_fields),
                "flagged_documents": list(decision.flagged_documents),
            }
            for decision in Decision.objects.filter(case_file=case_file).order_by("decided_at", "id")
        ],
        "messages": [
            {
                "sent_at": _time(message.created_at),
                "from": message.sender,
                "body": _open(owner, message.body_field, message.body_sealed),
            }
            for message in Message.objects.filter(case_file=case_file).order_by("created_at", "id")
        ],
        "corrections": [
            {
                "corrected_at": _time(correction.created_at),
                "field_id": correction.field_id,
                "original": _open(owner, correction.sealing_field("original"), correction.original_sealed),
                "corrected": _open(owner, correction.sealing_field("corrected"), correction.corrected_sealed),
                "reason": _open(owner, correction.sealing_field("reason"), correction.reason_sealed),
            }
            for correction in Correction.objects.filter(case_file=case_file).order_by("created_at", "id")
        ],
        "internal_notes": [
            {"written_at": _time(note.created_at), "body": _open(owner, note.body_field, note.body_sealed)}
            for note in Note.objects.filter(case_file=case_file).order_by("created_at", "id")
        ],
        "processing": [
            {
                "role": row.role_id,
                "field_id": row.field_id,
                "value": json.loads(_open(owner, row.value_field, row.value_sealed) or "null"),
            }
            for row in ProcessingValue.objects.filter(case_file=case_file).order_by("created_at", "id")
        ],
    }


def _fees_and_payments(application: Application) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    fees = [
        {
            "registration_id": fee.registration_id,
            "fee_id": fee.fee_id,
            "amount_minor": fee.amount_minor,
            "currency": fee.currency,
            "paid_when": fee.paid_when,
            "status": fee.status,
            # "increase": what a paid fee rose by after the application was changed (not a second fee)
            "kind": fee.kind,
            "refund_due_minor": fee.refund_due_minor,
            "refunded_minor": fee.refunded_minor,
        }
        for fee in ApplicationFee.objects.filter(application=application).order_by("id")
    ]
    payments = [
        {
            "created_at": _time(payment.created_at),
            "amount_minor": payment.amount_minor,
            "currency": payment.currency,
            "provider": payment.provider,
            "state": payment.state,
            "card_brand": payment.card_brand or None,
            "card_last_digits": payment.last_digits or None,
            "finished_at": _time(payment.finished_at),
            "refunds": [
                {"amount_minor": refund.amount_minor, "state": refund.state, "created_at": _time(refund.created_at)}
                for refund in payment.refunds.order_by("created_at")
            ],
        }
        for payment in Payment.objects.filter(application=application).order_by("created_at", "id")
    ]
    return fees, payments


def _results(application: Application, files: dict[str, bytes]) -> list[dict[str, Any]]:
    rows = []
    for result in IssuedResult.objects.filter(application=application).order_by("issued_at", "number"):
        row: dict[str, Any] = {
            "number": result.number,
            "registration_id": result.registration_id,
            "result_id": result.result_id,
            "issued_by": result.institution_code,
            "issued_at": _time(result.issued_at),
            "valid_until": _time(result.valid_until),
            "holder_name": _open(result.crypto_owner, result.holder_name_field, result.holder_name_sealed),
            "revoked_at": _time(result.revoked_at),
            "file": None,
        }
        if result.pdf_state == PdfState.READY:
            try:
                content = result_pdf_bytes(result)
            except FileNotFoundError:
                content = None
            if content is not None:
                path = f"results/{_safe(result.number)}.pdf"
                files[path] = content
                row["file"] = path
                row["sha256"] = hashlib.sha256(content).hexdigest()
        rows.append(row)
    return rows


def _application(application: Application, language: str, files: dict[str, bytes]) -> dict[str, Any]:
    definition = compiled_for(application).definition
    row: dict[str, Any] = {
        "reference": application.reference,
        "service": {
            "id": application.service_id,
            "title": definition.title.get(language),
            "version": application.version_number,
            "institution": definition.institution,
        },
        "status": application.status,
        "channel": application.channel,
        "language": application.language,
        "started_at": _time(application.created_at),
        "submitted_at": _time(application.submitted_at),
        "withdrawn_at": _time(application.withdrawn_at),
        "erased": False,
        "contact_email": None,
        "history": [
            {
                "occurred_at": _time(event.occurred_at),
                "event": event.kind,
                "from_status": event.from_status or None,
                "to_status": event.to_status or None,
            }
            for event in application.events.order_by("occurred_at", "id")
        ],
    }
    fees, payments = _fees_and_payments(application)
    row["fees"] = fees
    row["payments"] = payments
    try:
        data_keys_prefetch(owners=[application.crypto_owner])
        row["contact_email"] = _open(application.crypto_owner, CONTACT_EMAIL_FIELD, application.contact_email_sealed)
        row["answers"] = _answers(application, language)
        row["documents"] = _documents(application, files)
        row["case"] = _case(application)
        row["results"] = _results(application, files)
    except DataKeyDestroyedError:
        # Erased (crypto-shredded): the values are gone for good; what is left carries no personal value.
        row.update(erased=True, contact_email=None, answers=[], documents=[], case=None, results=[])
    return row


def _notifications(owners: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    emails = []
    owner_list = list(owners)
    for message in OutboundEmail.objects.filter(owner__in=owner_list).order_by("created_at", "id"):
        removed = message.content_removed_at is not None
        try:
            content = (
                (None, None, None)
                if removed
                else (
                    _open(message.owner, email_channel.FIELD_RECIPIENT, message.recipient_sealed),
                    _open(message.owner, email_channel.FIELD_SUBJECT, message.subject_sealed),
                    _open(message.owner, email_channel.FIELD_BODY, message.body_sealed),
                )
            )
        except DataKeyDestroyedError:
            content, removed = (None, None, None), True
        emails.append(
            {
                "created_at": _time(message.created_at),
                "purpose": message.purpose,
                "status": message.status,
                "sent_at": _time(message.sent_at),
                "recipient": content[0],
                "subject": content[1],
                "body": content[2],
                "content_removed": removed,
            }
        )
    texts = []
    for text in OutboundSms.objects.filter(owner__in=owner_list).order_by("created_at", "id"):
        removed = text.content_removed_at is not None
        try:
            recipient, body = (
                (None, None)
                if removed
                else (
                    _open(text.owner, sms_channel.FIELD_RECIPIENT, text.recipient_sealed),
                    _open(text.owner, sms_channel.FIELD_BODY, text.body_sealed),
                )
            )
        except DataKeyDestroyedError:
            recipient, body, removed = None, None, True
        texts.append(
            {
                "created_at": _time(text.created_at),
                "purpose": text.purpose,
                "status": text.status,
                "sent_at": _time(text.sent_at),
                "recipient": recipient,
                "body": body,
                "content_removed": removed,
            }
        )
    return {"emails": emails, "text_messages": texts}


def _account(citizen: Citizen) -> dict[str, Any]:
    return {
        "id": str(citizen.id),
        "email": citizen_email(citizen),
        "created_at": _time(citizen.created_at),
        "email_verified_at": _time(citizen.email_verified_at),
        "last_signed_in_at": _time(citizen.last_signed_in_at),
        "preferred_language": citizen.preferred_language,
        "has_password": citizen.has_password,
        "active": citizen.is_active,
    }


def subject_access_email_check(email: str) -> str:
    """Return ``email`` normalised (stripped, lower-cased); raise SubjectAccessRequestError if it is not an address."""
    normalised = email_normalise(email or "")
    if not _EMAIL_SHAPE.match(normalised) or len(normalised) > 320:
        raise SubjectAccessRequestError
    return normalised


def subject_access_export(
    *,
    email: str,
    actor: Actor,
    institutions: frozenset[str] | None = None,
    language: str = "en",
    with_pdf: bool = True,
    audited: bool = True,
) -> SubjectAccessExport:
    """Return everything held about the person with ``email`` (within ``institutions``); audited.

    Raise SubjectAccessRequestError when ``email`` is not an email address.
    A person of whom nothing is held gets an export saying so (the same
    shape, empty lists). The audit entry (``privacy.subject_access.exported``)
    is written before the data is returned, in its own transaction; with
    ``audited=False`` the caller writes it (:func:`subject_access_export_audit`)
    with the change that hands the export over.
    """
    normalised = subject_access_email_check(email)
    citizen = citizen_find_by_email(normalised)
    applications = list(citizen.applications.order_by("created_at")) if citizen is not None else []
    applications += _anonymous_applications(normalised)
    if institutions is not None:
        owned = set(
            Application.objects.filter(
                id__in=[application.id for application in applications],
                service__owning_institution__code__in=institutions,
            ).values_list("id", flat=True)
        )
        applications = [application for application in applications if application.id in owned]
    files: dict[str, bytes] = {}
    with translation.override(language):
        rows = [_application(application, language, files) for application in applications]
        owners = [application.crypto_owner for application in applications]
        if citizen is not None and institutions is None:
            owners.append(citizen.crypto_owner)
        accesses = accesses_for_applications(
            applications, language=language, citizen=citizen if institutions is None else None
        )
    data: dict[str, Any] = {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "generated_at": _time(clock.now()),
        "language": language,
        "scope": {"institutions": sorted(institutions) if institutions is not None else "all"},
        "subject": {"email": normalised},
        "account": _account(citizen) if citizen is not None else None,
        "applications": rows,
        "notifications": _notifications(owners),
        "accesses": [record.as_json() for record in accesses],
    }
    export = SubjectAccessExport(
        data=data,
        files=files,
        subject_type=SUBJECT_TYPE_CITIZEN if citizen is not None else SUBJECT_TYPE_UNKNOWN,
        subject_id=str(citizen.id) if citizen is not None else blind_index(normalised, purpose="subject-access"),
    )
    if with_pdf:
        export.pdf = subject_access_pdf(export, language=language)
    if audited:
        with transaction.atomic():
            subject_access_export_audit(export, actor=actor, institutions=institutions)
    return export


def subject_access_export_audit(
    export: SubjectAccessExport, *, actor: Actor, institutions: frozenset[str] | None
) -> None:
    """Write the ``privacy.subject_access.exported`` entry of ``export`` (in the caller's transaction)."""
    audit_record(
        actor=actor,
        action="privacy.subject_access.exported",
        subject_type=export.subject_type,
        subject_id=export.subject_id,
        details={
            "applications": len(export.data["applications"]),
            "files": len(export.files),
            "scope": sorted(institutions) if institutions is not None else "all",
        },
    )


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    msg = f"the subject access PDF loads no external resources ({url[:60]!r} refused)"
    raise ValueError(msg)


def subject_access_pdf(export: SubjectAccessExport, *, language: str = "en") -> bytes:
    """Return the tagged PDF of ``export`` (every section of the JSON, as people read it)."""
    import weasyprint  # noqa: PLC0415 - heavy: imported on first use only

    with translation.override(language):
        html = render_to_string(
            "privacy/subject_access_pdf.html",
            {
                "data": export.data,
                "language": language,
                "status_labels": {value: str(label) for value, label in ApplicationStatus.choices},
                "sender_labels": {value: str(label) for value, label in MessageSender.choices},
            },
        )
    document = weasyprint.HTML(string=html, url_fetcher=_no_fetch)
    content: bytes = document.write_pdf(pdf_variant="pdf/ua-1")
    return content
