"""Subject access requests of data protection officers: asked on a page, prepared by a job, kept for a short time.

A person with many applications takes tens of seconds to export (the PDF
dominates: about 41 s for 100 applications, benchmarks/README.md), longer
than a web worker may take over a request. So the officer's page only
records the request (:func:`subject_access_request_create`: the person's
email address sealed in the row, the job ``privacy.subject_access.prepare``
enqueued in the same transaction with the request's id as its only
argument), and the worker prepares the zip (:func:`subject_access_prepare`):
the same export as the ``govserve subject_access`` command, sealed under the
request's own data key and stored as a randomly named object. The officer
follows the request on its status page and downloads the zip there
(:func:`subject_access_bundle`, audited, after a recent sign-in).

Only the officer who asked, and only while they are still data protection
officer of every institution of the request's scope, sees it
(:func:`subject_access_request_for_officer`); anyone else is told it does
not exist. A request is kept ``GOVSERVE_SUBJECT_ACCESS_KEEP_DAYS`` (7) after
it is ready (or after it was asked, if it never became ready); then the
scheduled job ``privacy.subject_access.remove_expired`` destroys its data key
(crypto-shredding: the email address and the zip become unreadable at once,
wherever copies of the object are), deletes the object, and audits it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import structlog
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.db import transaction

from govserve.accounts.models import User
from govserve.accounts.policies import roles_of
from govserve.audit.actors import Actor
from govserve.audit.services import audit_record
from govserve.core import clock
from govserve.core.errors import NotFoundError
from govserve.core.jobs import PermanentJobError, enqueue
from govserve.core.models import JobRecord, JobState
from govserve.privacy.access_report import DATA_PROTECTION_OFFICER_ROLE
from govserve.privacy.crypto import data_key_destroy, seal, unseal, unseal_text
from govserve.privacy.models import SubjectAccessRequest, SubjectAccessState
from govserve.privacy.subject_access import (
    subject_access_email_check,
    subject_access_export,
    subject_access_export_audit,
)

logger = structlog.get_logger(__name__)

PREPARE_JOB = "privacy.subject_access.prepare"
REQUEST_SUBJECT = "privacy.subject_access_request"
EMAIL_FIELD = "email"
BUNDLE_FIELD = "bundle"
STORAGE_PREFIX = "subject-access"
DEFAULT_KEEP_DAYS = 7
FAILED = "failed"
"""The status shown for a request whose job is in the dead letter (not a stored state)."""


class SubjectAccessRequestNotFoundError(NotFoundError):
    """No such request for this officer (it does not exist, another officer asked it, or the role was lost)."""

    code = "subject_access_request_not_found"


def keep_for() -> dt.timedelta:
    """Return how long a prepared request is kept: ``GOVSERVE_SUBJECT_ACCESS_KEEP_DAYS`` (default 7, at least 1)."""
    days = int(getattr(settings, "GOVSERVE_SUBJECT_ACCESS_KEEP_DAYS", DEFAULT_KEEP_DAYS))
    if days < 1:
        msg = f"GOVSERVE_SUBJECT_ACCESS_KEEP_DAYS must be at least 1; got {days}"
        raise ImproperlyConfigured(msg)
    return dt.timedelta(days=days)


def _storage() -> Storage:
    # The storage of sealed uploads (the file system under MEDIA_ROOT, or an S3 bucket), another prefix.
    return storages[str(getattr(settings, "GOVSERVE_DOCUMENTS_STORAGE", "default"))]


def officer_institutions(user: User) -> frozenset[str]:
    """Return the institutions ``user`` is data protection officer of (empty: none)."""
    return frozenset(code for code, role in roles_of(user) if role == DATA_PROTECTION_OFFICER_ROLE)


def subject_access_request_create(
    *, user: User, email: str, institutions: Iterable[str], language: str
) -> SubjectAccessRequest:
    """Record an officer's request for everything ``institutions`` hold about ``email``, and queue its preparation.

    One transaction: the request row (the normalised address sealed under the
    request's own data key), the job ``privacy.subject_access.prepare`` (its
    only argument the request id; idempotency key ``<job>:<request id>``) and
    the audit entry ``privacy.subject_access.requested`` (scope and language,
    never the address). Raise SubjectAccessRequestError, writing nothing,
    when ``email`` is not an email address. The caller checks the role.
    """
    normalised = subject_access_email_check(email)
    scope = sorted(set(institutions))
    request = SubjectAccessRequest(
        id=uuid.uuid4(),
        requested_by=user,
        institutions=scope,
        language="cy" if language == "cy" else "en",
        expires_at=clock.now() + keep_for(),
    )
    with transaction.atomic():
        request.email_sealed = seal(owner=request.crypto_owner, field=EMAIL_FIELD, plaintext=normalised)
        record = enqueue(PREPARE_JOB, idempotency_key=f"{PREPARE_JOB}:{request.id}", request_id=str(request.id))
        request.job_id = record.id
        request.save(force_insert=True)
        audit_record(
            actor=Actor.for_user(user),
            action="privacy.subject_access.requested",
            subject_type=REQUEST_SUBJECT,
            subject_id=str(request.id),
            details={"scope": scope, "language": request.language},
        )
    return request


def subject_access_prepare(*, request_id: uuid.UUID) -> str:
    """Prepare the zip of a queued request and store it sealed; return the request's state afterwards.

    The export is :func:`~govserve.privacy.subject_access.subject_access_export`
    with the request's scope and language, audited as before
    (``privacy.subject_access.exported``, the officer as actor) in the
    transaction that makes it ready, so a retried delivery writes one entry. Idempotent:
    a request already ready or removed is left as it is (a repeated
    delivery, or removed while queued); a request whose officer is no
    longer data protection officer of its whole scope is removed instead of
    exported (no one could download it). Every other failure is raised for
    the worker to record and retry: the officer's page shows the request as
    failed once the job is in the dead letter. Raise PermanentJobError for
    a request that does not exist.
    """
    request = SubjectAccessRequest.objects.select_related("requested_by").filter(id=request_id).first()
    if request is None:
        msg = f"subject access request {request_id} does not exist"
        raise PermanentJobError(msg)
    if request.state != SubjectAccessState.PREPARING:
        return str(request.state)
    if not set(request.institutions) <= officer_institutions(request.requested_by):
        # The officer lost the role since asking: nobody may see the export, so it is not made at all.
        subject_access_request_remove(request_id=request.id, actor=Actor.system("privacy"))
        return str(SubjectAccessState.REMOVED)
    email = unseal_text(owner=request.crypto_owner, field=EMAIL_FIELD, sealed=request.email_sealed)
    officer = Actor.for_user(request.requested_by)
    scope = frozenset(request.institutions)
    # Audited below, with the change that makes it downloadable: a retried delivery (the storage failed,
    # the worker stopped) writes one "exported" entry, for the export the officer can have.
    export = subject_access_export(
        email=email, actor=officer, institutions=scope, language=request.language, audited=False
    )
    bundle = export.zip_bytes()
    name = f"{STORAGE_PREFIX}/{uuid.uuid4().hex}"
    storage = _storage()
    saved = storage.save(name, ContentFile(seal(owner=request.crypto_owner, field=BUNDLE_FIELD, plaintext=bundle)))
    if saved != name:
        storage.delete(saved)
        msg = f"the storage renamed {name!r} to {saved!r}"
        raise RuntimeError(msg)
    now = clock.now()
    with transaction.atomic():
        locked = SubjectAccessRequest.objects.select_for_update().get(id=request_id)
        state = str(locked.state)
        if locked.state == SubjectAccessState.PREPARING:
            locked.state = SubjectAccessState.READY
            locked.storage_name = name
            locked.size_bytes = len(bundle)
            locked.applications = len(export.data["applications"])
            locked.subject_type = export.subject_type
            locked.subject_id = export.subject_id
            locked.ready_at = now
            locked.expires_at = now + keep_for()
            locked.save()
            subject_access_export_audit(export, actor=officer, institutions=scope)
            state = str(locked.state)
    if locked.storage_name != name:
        storage.delete(name)  # removed (or prepared by another delivery) while this one worked
    logger.info("privacy.subject_access.prepared", request_id=str(request_id), state=state)
    return state


@dataclass(frozen=True)
class SubjectAccessStatus:
    """What the officer's status page shows: the request, where it stands, and the address while it is kept."""

    request: SubjectAccessRequest
    status: str
    """``preparing``, ``ready``, ``failed`` (the job is in the dead letter) or ``removed``."""
    email: str | None


def subject_access_request_for_officer(*, user: User, request_id: uuid.UUID) -> SubjectAccessStatus:
    """Return the status of ``request_id`` for the officer who asked it; not audited (their own input).

    A request past ``expires_at`` is ``removed`` even before the hourly job
    has destroyed its key (it cannot be downloaded any more).

    Raise SubjectAccessRequestNotFoundError when it does not exist, another
    member asked it, or ``user`` is no longer data protection officer of every
    institution of its scope: the same error, so nothing says which.
    """
    return _status(subject_access_request_owned(user=user, request_id=request_id))


def subject_access_request_owned(*, user: User, request_id: uuid.UUID) -> SubjectAccessRequest:
    """Return the request row if ``user`` asked it and is still officer of its scope (no unsealing, no job read).

    Raise SubjectAccessRequestNotFoundError otherwise, as
    :func:`subject_access_request_for_officer` does.
    """
    request = SubjectAccessRequest.objects.filter(id=request_id, requested_by=user).first()
    if request is None or not set(request.institutions) <= officer_institutions(user):
        raise SubjectAccessRequestNotFoundError(f"subject access request {request_id} not found")
    return request


def subject_access_requests_of(*, user: User, limit: int = 20) -> list[SubjectAccessStatus]:
    """Return the officer's requests still kept, newest first (at most ``limit``), those they may still see."""
    scope = officer_institutions(user)
    requests = SubjectAccessRequest.objects.filter(
        requested_by=user, removed_at__isnull=True, expires_at__gt=clock.now()
    ).order_by("-created_at")[:limit]
    return [_status(request) for request in requests if set(request.institutions) <= scope]


def _status(request: SubjectAccessRequest) -> SubjectAccessStatus:
    status = str(request.state)
    if request.state != SubjectAccessState.REMOVED and request.expires_at <= clock.now():
        # Past its time but the hourly removal has not run yet: gone for the officer already.
        return SubjectAccessStatus(request=request, status=str(SubjectAccessState.REMOVED), email=None)
    if request.state == SubjectAccessState.PREPARING and request.job_id is not None:
        job_state = JobRecord.objects.filter(id=request.job_id).values_list("state", flat=True).first()
        if job_state == JobState.DEAD:
            status = FAILED
    email = None
    if request.state != SubjectAccessState.REMOVED:
        email = unseal_text(owner=request.crypto_owner, field=EMAIL_FIELD, sealed=request.email_sealed)
    return SubjectAccessStatus(request=request, status=status, email=email)


def subject_access_bundle(*, user: User, request_id: uuid.UUID) -> tuple[SubjectAccessRequest, bytes] | None:
    """Return the prepared zip of ``request_id`` for the officer who asked it, audited; None when not ready.

    Raise as :func:`subject_access_request_for_officer`. Each download is
    audited as ``privacy.subject_access.downloaded`` on the export's subject
    (an account id or a blind index) with the request id and size.
    """
    status = subject_access_request_for_officer(user=user, request_id=request_id)
    request = status.request
    if status.status != SubjectAccessState.READY:
        return None
    with _storage().open(request.storage_name, "rb") as handle:
        sealed = handle.read()
    bundle = unseal(owner=request.crypto_owner, field=BUNDLE_FIELD, sealed=sealed)
    with transaction.atomic():
        audit_record(
            actor=Actor.for_user(user),
            action="privacy.subject_access.downloaded",
            subject_type=request.subject_type,
            subject_id=request.subject_id,
            details={"request": str(request.id), "size_bytes": len(bundle), "scope": list(request.institutions)},
        )
    return request, bundle


def subject_access_request_remove(*, request_id: uuid.UUID, actor: Actor) -> bool:
    """Remove a request's personal data for good: destroy its data key, then delete the stored zip; audited.

    Return False when it was removed already (idempotent). The key's
    destruction (``privacy.data_key.destroyed``), the row's new state and
    ``privacy.subject_access.removed`` commit together; the object is
    deleted after the commit (it is unreadable from then on, so a failed
    deletion leaves only sealed bytes nobody can open, and is logged).
    """
    with transaction.atomic():
        request = SubjectAccessRequest.objects.select_for_update().filter(id=request_id).first()
        if request is None or request.removed_at is not None:
            return False
        data_key_destroy(owner=request.crypto_owner, actor=actor)
        name = request.storage_name
        was = str(request.state)
        request.state = SubjectAccessState.REMOVED
        request.removed_at = clock.now()
        request.email_sealed = b""
        request.save()
        audit_record(
            actor=actor,
            action="privacy.subject_access.removed",
            subject_type=REQUEST_SUBJECT,
            subject_id=str(request.id),
            details={"was": was, "had_file": bool(name)},
        )
    if name:
        try:
            _storage().delete(name)
        except Exception:
            logger.exception("privacy.subject_access.object_delete_failed", request_id=str(request_id))
    return True


def subject_access_requests_remove_expired(*, now: dt.datetime | None = None, limit: int = 1000) -> int:
    """Remove every request kept past its time (``expires_at``); return how many were removed."""
    due = list(
        SubjectAccessRequest.objects.filter(removed_at__isnull=True, expires_at__lte=now or clock.now())
        .order_by("expires_at")
        .values_list("id", flat=True)[:limit]
    )
    actor = Actor.system("privacy")
    return sum(subject_access_request_remove(request_id=request_id, actor=actor) for request_id in due)
