"""Issuing, rendering and revoking results.

**Issuing** (:func:`results_issue`) runs inside casework's final-approval
transaction: for each registration the application holds and each of its
results whose ``when`` holds, it allocates the number, signs the code, writes
the row and its audit entry, and enqueues the render job, all in that
transaction. It does **not** render the PDF there: weasyprint takes about
0.3 s per certificate (plus seconds and tens of megabytes to import it in a
fresh process), and a decision transaction must stay short (on SQLite it
holds the database's write lock). So a result is genuine and verifiable from
the moment the approval commits; its PDF is *being prepared* until the job
(:func:`result_render`, usually within seconds) stores it. Issuing again for
the same application returns the rows already issued and issues nothing twice.

**Rendering** (:func:`result_render`) builds the template context, renders
outside any transaction, then in one short transaction stores the sealed PDF,
marks the row ready, records ``casework.result.rendered`` and runs the
``result_ready`` hooks (:mod:`.hooks`: notifications sends ``result_issued``
from there). Run twice, the second run finds the row ready and does nothing.

**Revoking** (:func:`result_revoke`) records when, by whom and why (the
reason sealed); /verify shows the result as revoked from then on.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from govserve.accounts.models import Institution, User
from govserve.audit.actors import Actor
from govserve.audit.services import audit_record
from govserve.casework.models import CaseFile
from govserve.casework.results import errors
from govserve.casework.results.hooks import ResultReady, result_ready_hooks_run
from govserve.casework.results.models import IssuedResult, PdfState, ResultSequence
from govserve.casework.results.rendering import (
    CertificateFacts,
    add_period,
    holder_name_of,
    pdf_render,
    result_context_build,
    template_render,
    verify_url,
)
from govserve.casework.results.signing import code_sign
from govserve.casework.services import processing_values_load
from govserve.catalogue.templates import template_compile
from govserve.core import clock
from govserve.core.errors import ConflictError
from govserve.core.jobs import enqueue
from govserve.documents.storage import document_storage
from govserve.journeys.models import Application, ApplicationStatus
from govserve.journeys.selectors import compiled_for, state_load
from govserve.privacy.crypto import seal, unseal, unseal_text

if TYPE_CHECKING:
    from govserve.catalogue.compiled import CompiledDefinition
    from govserve.catalogue.definitions.schema import Registration, Result
    from govserve.journeys.routing import JourneyState

RENDER_JOB = "casework_results.result.render"
STORAGE_PREFIX = "results"
MAX_REASON_LENGTH = 1000
MAX_PREFIX_ATTEMPTS = 5
SYSTEM = Actor.system("casework_results")


class ApplicationNotApprovedError(ConflictError):
    """Results are issued for approved applications only."""

    code = "application_not_approved"


# --- Numbers --------------------------------------------------------------------------------------


def _initials(identifier: str) -> str:
    return "".join(word[0] for word in identifier.replace("_", "-").split("-") if word).upper()[:6] or "R"


def _sequence_for(service_id: str, result_id: str) -> ResultSequence:
    """Return the sequence of (service, result), locked for this transaction; create it on first use.

    Two first issues at once: one insert wins, the other's fails on the unique
    (service, result) and it reads the winner's row (its lock waits for that
    commit). A prefix taken meanwhile by another result is retried with the next suffix.
    """
    base = f"{_initials(service_id)}-{_initials(result_id)}"
    for _attempt in range(MAX_PREFIX_ATTEMPTS):
        found = ResultSequence.objects.select_for_update().filter(service_id=service_id, result_id=result_id).first()
        if found is not None:
            return found
        taken = set(ResultSequence.objects.filter(prefix__startswith=base).values_list("prefix", flat=True))
        prefix, suffix = base, 2
        while prefix in taken:
            prefix, suffix = f"{base}{suffix}", suffix + 1
        try:
            with transaction.atomic():
                ResultSequence.objects.create(service_id=service_id, result_id=result_id, prefix=prefix)
        except IntegrityError:
            continue  # a concurrent first issue created it, or took the prefix: look again
    msg = f"no number sequence could be created for {service_id}/{result_id}"
    raise RuntimeError(msg)


def number_allocate(service_id: str, result_id: str, *, year: int) -> str:
    """Return the next number of (service, result): ``STL-L-2026-000042`` (inside the caller's transaction)."""
    sequence = _sequence_for(service_id, result_id)
    sequence.last_value += 1
    sequence.save(update_fields=["last_value"])
    return f"{sequence.prefix}-{year}-{sequence.last_value:06d}"


# --- Issuing --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Due:
    registration: Registration
    result: Result


def processing_values(application: Application, compiled: CompiledDefinition) -> dict[str, Any]:
    """Return the processing values casework recorded on ``application``'s file (every role's), typed."""
    case_file = CaseFile.objects.filter(application=application).first()
    if case_file is None:
        return {}
    values: dict[str, Any] = {}
    for role in compiled.definition.flow.roles:
        if role.fields:
            values.update(processing_values_load(case_file, role))
    return values


def _results_due(application: Application, state: JourneyState) -> list[_Due]:
    evaluator = state.final_evaluator()
    extra = processing_values(application, state.compiled)
    if extra:
        evaluator = evaluator.with_values(extra)
    held = set(application.registrations or [])
    due: list[_Due] = []
    for number, registration in enumerate(state.definition.registrations):
        if registration.id not in held:
            continue
        for result_number, result in enumerate(registration.results):
            if result.when is not None and not evaluator.condition(
                f"registrations[{number}].results[{result_number}].when"
            ):
                continue
            due.append(_Due(registration=registration, result=result))
    return due


def _template_text(compiled: CompiledDefinition, result: Result) -> str:
    from jinja2 import TemplateSyntaxError  # noqa: PLC0415 - jinja2 is loaded already; kept beside its use

    text = compiled.templates.get(result.template or "")
    if text is None:
        raise errors.ResultTemplateMissingError(
            _(
                "The certificate template of %(result)s is missing from version %(version)s of this service: "
                "publish the service again with its template"
            )
            % {"result": result.id, "version": compiled.version}
        )
    try:
        template_compile(text)
    except TemplateSyntaxError as error:
        raise errors.ResultTemplateMissingError(
            _("The certificate template of %(result)s cannot be used: %(problem)s (line %(line)s)")
            % {"result": result.id, "problem": error.message, "line": error.lineno}
        ) from None
    return text


def results_issue(application: Application, *, actor: Actor) -> list[IssuedResult]:
    """Issue every result ``application`` obtains and return them all (those issued before included).

    Idempotent per (application, registration, result). Runs in the caller's
    transaction (a savepoint of it); each new result writes its row, the
    audit entry ``casework.result.issued`` and its render job. Raise
    ApplicationNotApprovedError unless the application is approved, and
    ResultTemplateMissingError when a result's template is not stored with the
    pinned version or does not compile.
    """
    if application.status != ApplicationStatus.APPROVED:
        raise ApplicationNotApprovedError(_("Results are issued only when the application is approved"))
    with transaction.atomic():
        state = state_load(application)
        compiled = state.compiled
        issued: list[IssuedResult] = []
        existing = {
            (row.registration_id, row.result_id): row for row in IssuedResult.objects.filter(application=application)
        }
        for due in _results_due(application, state):
            found = existing.get((due.registration.id, due.result.id))
            if found is not None:
                issued.append(found)
                continue
            _template_text(compiled, due.result)
            issued.append(_issue_one(application, compiled, state, due, actor=actor))
        return issued


def results_issue_on_approval(application: Application, *, actor: Actor) -> None:
    """Casework's final-approval hook: issue the application's results (see :func:`results_issue`)."""
    results_issue(application, actor=actor)


def _issue_one(
    application: Application, compiled: CompiledDefinition, state: JourneyState, due: _Due, *, actor: Actor
) -> IssuedResult:
    now = clock.now()
    issued_on = now.astimezone(ZoneInfo(compiled.definition.time_zone)).date()
    result_uuid = uuid.uuid4()
    code, key_id = code_sign(result_id=result_uuid, issued_on=issued_on)
    answers = {field_id: value for field_id, value in state.answers.items() if isinstance(value, str)}
    holder = holder_name_of(due.result, answers)
    row = IssuedResult(
        id=result_uuid,
        application=application,
        service_id=application.service_id,
        version_number=application.version_number,
        registration_id=due.registration.id,
        result_id=due.result.id,
        institution_code=due.registration.institution,
        number=number_allocate(application.service_id, due.result.id, year=issued_on.year),
        issued_at=now,
        issued_on=issued_on,
        valid_until=add_period(issued_on, due.result.valid_for) if due.result.valid_for else None,
        key_id=key_id,
        code=code,
        show_holder_name=due.result.show_holder_name and bool(holder),
    )
    if holder:
        row.holder_name_sealed = seal(owner=row.crypto_owner, field=row.holder_name_field, plaintext=holder)
    row.save(force_insert=True)
    audit_record(
        actor=actor,
        action="casework.result.issued",
        subject_type="casework_results.issuedresult",
        subject_id=row.id,
        details={
            "application": str(application.id),
            "service": row.service_id,
            "registration": row.registration_id,
            "result": row.result_id,
            "number": row.number,
            "key_id": key_id,
            "valid_until": row.valid_until.isoformat() if row.valid_until else None,
        },
    )
    enqueue(RENDER_JOB, idempotency_key=f"{RENDER_JOB}:{row.id}", result_id=str(row.id))
    return row


# --- Rendering ------------------------------------------------------------------------------------


def _definition_parts(compiled: CompiledDefinition, row: IssuedResult) -> tuple[Registration, Result]:
    for registration in compiled.definition.registrations:
        if registration.id == row.registration_id:
            for result in registration.results:
                if result.id == row.result_id:
                    return registration, result
    msg = f"{row} names a registration or result its pinned version does not have"
    raise LookupError(msg)


def issuer_name(code: str, language: str) -> str:
    """Return the display name of the institution ``code`` (the code itself if it is gone)."""
    institution = Institution.objects.filter(code=code).first()
    if institution is None:
        return code
    if language == "cy" and institution.name_cy:
        return institution.name_cy
    return institution.name


def result_html(row: IssuedResult) -> str:
    """Return the certificate HTML of ``row``: its version's template filled with the file's data."""
    application = row.application
    compiled = compiled_for(application)
    registration, result = _definition_parts(compiled, row)
    text = _template_text(compiled, result)
    language = application.language if application.language in {"en", "cy"} else "en"
    holder = (
        unseal_text(owner=row.crypto_owner, field=row.holder_name_field, sealed=bytes(row.holder_name_sealed))
        if row.holder_name_sealed
        else ""
    )
    context = result_context_build(
        compiled=compiled,
        registration=registration,
        result=result,
        state=state_load(application),
        facts=CertificateFacts(
            number=row.number,
            code=row.code,
            issued_on=row.issued_on,
            valid_until=row.valid_until,
            holder_name=holder,
            issuer_name=issuer_name(row.institution_code, language),
            issuer_code=row.institution_code,
        ),
        reference=application.reference,
        submitted_at=application.submitted_at,
        language=language,
        processing=processing_values(application, compiled),
    )
    return template_render(text, context)


def _pdf_object_write(sealed: bytes) -> str:
    token = uuid.uuid4().hex
    name = f"{STORAGE_PREFIX}/{token[:2]}/{token}"
    storage = document_storage()
    saved = storage.save(name, ContentFile(sealed))
    if saved != name:
        storage.delete(saved)
        msg = f"the document storage renamed {name!r} to {saved!r}"
        raise RuntimeError(msg)
    return name


def result_render(*, result_id: uuid.UUID) -> bool:
    """Render and store the PDF of the result ``result_id``; return False when there was nothing to do.

    Nothing to do: the result is gone (erased with its application) or its
    PDF is ready already. Rendering happens outside any transaction; storing
    is one short transaction with the audit entry ``casework.result.rendered``.
    A jinja2 error from the template propagates (the job makes it permanent).
    """
    row = IssuedResult.objects.select_related("application").filter(pk=result_id).first()
    if row is None or row.pdf_state == PdfState.READY:
        return False
    started = time.perf_counter()
    pdf = pdf_render(result_html(row))
    elapsed_ms = round((time.perf_counter() - started) * 1000)
    sealed = seal(owner=row.crypto_owner, field=row.pdf_field, plaintext=pdf)
    name = _pdf_object_write(sealed)
    stored = False
    try:
        stored = _pdf_store(row, result_id=result_id, name=name, sealed=sealed, pdf=pdf, elapsed_ms=elapsed_ms)
    finally:
        if not stored:  # nothing names the object: a concurrent render won, or the transaction failed
            document_storage().delete(name)
    return stored


def _pdf_store(
    row: IssuedResult, *, result_id: uuid.UUID, name: str, sealed: bytes, pdf: bytes, elapsed_ms: int
) -> bool:
    with transaction.atomic():
        locked = IssuedResult.objects.select_for_update().filter(pk=result_id).first()
        if locked is None or locked.pdf_state == PdfState.READY:
            return False
        locked.pdf_state = PdfState.READY
        locked.pdf_storage_name = name
        locked.pdf_sealed_sha256 = hashlib.sha256(sealed).hexdigest()
        locked.pdf_size_bytes = len(pdf)
        locked.rendered_at = clock.now()
        locked.save(
            update_fields=[
                "pdf_state",
                "pdf_storage_name",
                "pdf_sealed_sha256",
                "pdf_size_bytes",
                "rendered_at",
                "updated_at",
            ]
        )
        audit_record(
            actor=SYSTEM,
            action="casework.result.rendered",
            subject_type="casework_results.issuedresult",
            subject_id=locked.id,
            details={"number": locked.number, "size_bytes": len(pdf), "render_ms": elapsed_ms},
        )
        _, result = _definition_parts(compiled_for(row.application), locked)
        result_ready_hooks_run(
            ResultReady(
                application=row.application,
                result_id=locked.id,
                number=locked.number,
                name=result.name,
                issued_on=locked.issued_on,
                valid_until=locked.valid_until,
                verify_url=verify_url(locked.code),
                download_path=reverse("casework_results:download", args=[locked.id]),
            )
        )
    return True


def result_pdf_bytes(row: IssuedResult) -> bytes:
    """Return the decrypted PDF of a ready result (no permission check: callers are selectors).

    Raise ResultNotReadyError while it is prepared; FileNotFoundError when the
    stored object is gone; ValueError when it is not the object the row recorded.
    """
    if row.pdf_state != PdfState.READY:
        raise errors.ResultNotReadyError(_("This result is still being prepared. Try again in a few minutes."))
    with document_storage().open(row.pdf_storage_name, "rb") as handle:
        sealed: bytes = handle.read()
    if hashlib.sha256(sealed).hexdigest() != row.pdf_sealed_sha256:
        msg = f"the stored PDF of {row} is not the one recorded"
        raise ValueError(msg)
    return unseal(owner=row.crypto_owner, field=row.pdf_field, sealed=sealed)


# --- Revoking -------------------------------------------------------------------------------------


def result_revoke(result: IssuedResult, *, reason: str, actor: Actor) -> IssuedResult:
    """Revoke ``result`` with ``reason`` (sealed; 1 to 1,000 characters) and return it.

    Audited (``casework.result.revoked``; the entry has no reason text).
    Raise RevocationReasonError for an empty or over-long reason and
    ResultAlreadyRevokedError when it is revoked already (nothing changes).
    Callers check who may revoke (:func:`result_revoke_by_staff` for staff).
    """
    text = (reason or "").strip()
    if not text:
        raise errors.RevocationReasonError(_("Enter why the result is revoked"))
    if len(text) > MAX_REASON_LENGTH:
        raise errors.RevocationReasonError(
            _("The reason must be %(count)s characters or fewer") % {"count": f"{MAX_REASON_LENGTH:,}"}
        )
    with transaction.atomic():
        locked = IssuedResult.objects.select_for_update().get(pk=result.pk)
        if locked.revoked_at is not None:
            raise errors.ResultAlreadyRevokedError(_("This result was revoked already"))
        locked.revoked_at = clock.now()
        locked.revoked_by = f"{actor.kind.value}:{actor.id}"[:100]
        locked.revocation_reason_sealed = seal(
            owner=locked.crypto_owner, field=locked.revocation_reason_field, plaintext=text
        )
        locked.save(update_fields=["revoked_at", "revoked_by", "revocation_reason_sealed", "updated_at"])
        audit_record(
            actor=actor,
            action="casework.result.revoked",
            subject_type="casework_results.issuedresult",
            subject_id=locked.id,
            details={"number": locked.number, "application": str(locked.application_id)},
        )
    return locked


def result_revoke_by_staff(*, user: User, result_id: uuid.UUID, reason: str) -> IssuedResult:
    """Revoke a result on behalf of a staff ``user`` who may see its file; raise ResultNotFoundError otherwise."""
    from govserve.casework.results.selectors import result_for_staff  # noqa: PLC0415 - selectors import services

    row = result_for_staff(user=user, result_id=result_id)
    return result_revoke(row, reason=reason, actor=Actor.for_user(user))
