"""Who accessed a person's data: staff reads of their files, read back from the access audit.

Every read of personal data by staff writes an audit entry (``reads_personal_data``
event types: ``casework.file.viewed``, ``documents.document.viewed``,
``casework.result.downloaded``, ``accounts.citizen.email_read``, and this
app's ``privacy.subject_access.exported``). This module turns those entries
into what an applicant may be told: **which institution, in which role, did
what, and when** — never the staff member's name or id (the audit keeps
that for auditors).

The institution and role of a file view come from the entry itself (the
role the member saw the file as, whose institution the pinned definition
names); for the other reads, from the staff member's role assignments that
match the file's roles (else their first assignment in the service's owning
institution). Reads by the applicant themselves, by bots and by the system
are not accesses by someone else and are left out; refused reads (outcome
``denied``) disclosed nothing and are left out too.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from govserve.accounts.models import Citizen, Institution, PlatformRole, RoleAssignment
from govserve.audit.models import AuditEntry, Outcome
from govserve.casework.models import CaseFile
from govserve.casework.permissions import TEAM_LEADER_ROLE
from govserve.casework.results.models import IssuedResult
from govserve.catalogue.compiled import CompiledDefinition
from govserve.documents.models import Document
from govserve.documents.services import SUBJECT as DOCUMENT_SUBJECT
from govserve.journeys.models import Application
from govserve.journeys.selectors import compiled_for

DATA_PROTECTION_OFFICER_ROLE = "data-protection-officer"
"""The role (``accounts.RoleAssignment``) that lets staff export a person's data and read data-protection reports."""

FILE_SUBJECT = "casework.file"
RESULT_SUBJECT = "casework_results.issuedresult"
CITIZEN_SUBJECT = "accounts.citizen"

ACTION_LABELS = {
    "viewed": gettext_lazy("Looked at your application"),
    "printed": gettext_lazy("Printed your application"),
    "document": gettext_lazy("Opened a document you sent"),
    "result": gettext_lazy("Downloaded your result"),
    "email": gettext_lazy("Read your email address"),
    "export": gettext_lazy("Exported the data held about you (subject access request)"),
}
"""What each kind of access is called for the applicant (English and Welsh)."""

PLATFORM_ROLE_LABELS = {
    PlatformRole.ADMINISTRATOR.value: gettext_lazy("Administrator"),
    PlatformRole.ANALYST.value: gettext_lazy("Analyst"),
    PlatformRole.REVIEWER.value: gettext_lazy("Reviewer"),
    PlatformRole.AUDITOR.value: gettext_lazy("Auditor"),
    TEAM_LEADER_ROLE: gettext_lazy("Team leader"),
    DATA_PROTECTION_OFFICER_ROLE: gettext_lazy("Data protection officer"),
}


@dataclass(frozen=True)
class AccessRecord:
    """One read of the person's data by staff (no staff name or id)."""

    occurred_at: dt.datetime
    kind: str
    institution_code: str
    institution_name: str
    role_id: str
    role_name: str
    supplier: bool
    application_id: uuid.UUID | None
    application_reference: str

    @property
    def action_label(self) -> str:
        """Return what was done, as the applicant reads it."""
        return str(ACTION_LABELS[self.kind])

    def as_json(self) -> dict[str, Any]:
        """Return the record in the subject access export's JSON form."""
        return {
            "occurred_at": self.occurred_at.isoformat(),
            "action": self.kind,
            "description": self.action_label,
            "institution": {"code": self.institution_code, "name": self.institution_name},
            "role": {"id": self.role_id, "name": self.role_name},
            "supplier_staff": self.supplier,
            "application_reference": self.application_reference or None,
        }


@dataclass(frozen=True)
class AccessSummaryRow:
    """Accesses of one kind by one institution and role on one day (what the applicant's page lists)."""

    day: dt.date
    kind: str
    institution_name: str
    role_name: str
    supplier: bool
    count: int
    last_at: dt.datetime

    @property
    def action_label(self) -> str:
        """Return what was done, as the applicant reads it."""
        return str(ACTION_LABELS[self.kind])


class _Context:
    """Resolve (institution, role) names for staff actors, with each look-up done once."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._institutions: dict[str, Institution] = {}
        self._assignments: dict[str, list[tuple[str, str]]] = {}
        self._compiled: dict[uuid.UUID, CompiledDefinition] = {}

    def institutions_load(self, codes: Iterable[str]) -> None:
        missing = {code for code in codes if code and code not in self._institutions}
        if missing:
            self._institutions.update({row.code: row for row in Institution.objects.filter(code__in=missing)})

    def assignments_load(self, user_ids: Iterable[str]) -> None:
        missing = {user_id for user_id in user_ids if user_id not in self._assignments}
        valid = []
        for user_id in missing:
            self._assignments[user_id] = []
            try:
                valid.append(uuid.UUID(user_id))
            except ValueError:
                continue
        rows = (
            RoleAssignment.objects.filter(user_id__in=valid)
            .order_by("granted_at", "id")
            .values_list("user_id", "institution__code", "role")
        )
        for assignee, code, role in rows:
            self._assignments[str(assignee)].append((code, role))
        self.institutions_load(code for pairs in self._assignments.values() for code, _ in pairs)

    def compiled(self, application: Application) -> CompiledDefinition:
        if application.id not in self._compiled:
            self._compiled[application.id] = compiled_for(application)
        return self._compiled[application.id]

    def institution_name(self, code: str) -> str:
        institution = self._institutions.get(code)
        if institution is None:
            return code
        if self.language == "cy" and institution.name_cy:
            return institution.name_cy
        return institution.name

    def role_name(self, application: Application | None, role_id: str) -> str:
        if application is not None:
            for role in self.compiled(application).definition.flow.roles:
                if role.id == role_id:
                    return role.name.get(self.language)
        label = PLATFORM_ROLE_LABELS.get(role_id)
        return str(label) if label is not None else role_id

    def staff_role(self, application: Application | None, user_id: str) -> tuple[str, str]:
        """Return the (institution code, role id) a staff member most likely acted in on ``application``."""
        pairs = self._assignments.get(user_id, [])
        if application is not None:
            flow = {(role.institution, role.id) for role in self.compiled(application).definition.flow.roles}
            for pair in pairs:
                if pair in flow:
                    return pair
            owner = self.compiled(application).definition.institution
            for code, role in pairs:
                if code == owner:
                    return code, role
        return pairs[0] if pairs else ("", "")

    def file_role(self, application: Application, role_id: str, user_id: str) -> tuple[str, str]:
        for role in self.compiled(application).definition.flow.roles:
            if role.id == role_id:
                return role.institution, role_id
        code, _ = self.staff_role(application, user_id)
        return code, role_id


def _staff_reads(**filters: Any) -> list[AuditEntry]:
    return list(
        AuditEntry.objects.filter(actor_kind="user", **filters)
        .exclude(outcome=Outcome.DENIED)
        .order_by("occurred_at", "id")
    )


def accesses_for_applications(
    applications: Sequence[Application], *, language: str = "en", citizen: Citizen | None = None
) -> list[AccessRecord]:
    """Return the staff reads of ``applications`` (and of ``citizen``'s account when given), oldest first.

    Reads: file views and prints, documents opened, results downloaded;
    for the account, email addresses read and subject access exports. No
    permission check: callers are the applicant's own page (their
    applications) and the subject access export (already checked).
    """
    by_id = {application.id: application for application in applications}
    files = dict(CaseFile.objects.filter(application_id__in=by_id).values_list("id", "application_id"))
    documents = dict(
        Document.objects.filter(owner__in=[f"application:{key}" for key in by_id]).values_list("id", "owner")
    )
    results = dict(IssuedResult.objects.filter(application_id__in=by_id).values_list("id", "application_id"))
    entries: list[tuple[AuditEntry, Application | None, str]] = []
    if files:
        for entry in _staff_reads(
            action="casework.file.viewed", subject_type=FILE_SUBJECT, subject_id__in=map(str, files)
        ):
            entries.append((entry, by_id[files[uuid.UUID(entry.subject_id)]], "file"))
    if documents:
        for entry in _staff_reads(
            action="documents.document.viewed", subject_type=DOCUMENT_SUBJECT, subject_id__in=map(str, documents)
        ):
            owner = documents[uuid.UUID(entry.subject_id)]
            entries.append((entry, by_id[uuid.UUID(owner.split(":", 1)[1])], "document"))
    if results:
        for entry in _staff_reads(
            action="casework.result.downloaded", subject_type=RESULT_SUBJECT, subject_id__in=map(str, results)
        ):
            entries.append((entry, by_id[results[uuid.UUID(entry.subject_id)]], "result"))
    if citizen is not None:
        for entry in _staff_reads(
            action__in=["accounts.citizen.email_read", "privacy.subject_access.exported"],
            subject_type=CITIZEN_SUBJECT,
            subject_id=str(citizen.id),
        ):
            kind = "email" if entry.action == "accounts.citizen.email_read" else "export"
            entries.append((entry, None, kind))
    context = _Context(language)
    context.assignments_load(entry.actor_id for entry, _, _ in entries)
    context.institutions_load(
        role.institution
        for application in {application for _, application, _ in entries if application is not None}
        for role in context.compiled(application).definition.flow.roles
    )
    records = []
    for entry, application, source in entries:
        details = entry.details if isinstance(entry.details, dict) else {}
        if source == "file":
            assert application is not None  # noqa: S101 - file entries always have one
            kind = "printed" if details.get("purpose") == "print" else "viewed"
            code, role_id = context.file_role(application, str(details.get("role", "")), entry.actor_id)
        else:
            kind = source
            code, role_id = context.staff_role(application, entry.actor_id)
            if source == "email" and details.get("institution"):
                code = str(details["institution"])
        records.append(
            AccessRecord(
                occurred_at=entry.occurred_at,
                kind=kind,
                institution_code=code,
                institution_name=context.institution_name(code),
                role_id=role_id,
                role_name=context.role_name(application, role_id),
                supplier=entry.actor_is_supplier,
                application_id=application.id if application is not None else None,
                application_reference=application.reference if application is not None else "",
            )
        )
    records.sort(key=lambda record: record.occurred_at)
    return records


def access_summary(records: Iterable[AccessRecord], *, time_zone: dt.tzinfo = dt.UTC) -> list[AccessSummaryRow]:
    """Group ``records`` by local day, kind, institution and role; newest day first."""
    groups: dict[tuple[dt.date, str, str, str, bool], list[AccessRecord]] = defaultdict(list)
    for record in records:
        day = record.occurred_at.astimezone(time_zone).date()
        groups[(day, record.kind, record.institution_name, record.role_name, record.supplier)].append(record)
    rows = [
        AccessSummaryRow(
            day=day,
            kind=kind,
            institution_name=institution or _("Unknown institution"),
            role_name=role or _("Unknown role"),
            supplier=supplier,
            count=len(members),
            last_at=max(member.occurred_at for member in members),
        )
        for (day, kind, institution, role, supplier), members in groups.items()
    ]
    rows.sort(key=lambda row: row.last_at, reverse=True)
    return rows
