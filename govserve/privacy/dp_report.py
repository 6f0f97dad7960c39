"""The data-protection report of a service: what personal data it collects, why, for how long, and who processes it.

Everything comes from the service definition (fields' ``classification``,
``retention``, the optional ``data_protection`` section: purpose, lawful
basis, article 9 condition, processors) and from the platform's own
configuration (the email, text message and payment providers, the file
store and the virus scanner: processors of every service's data). The
report holds no personal data, so reading it is not audited; the staff page
is limited to data protection officers and administrators of the owning
institution all the same (it is an internal document). See docs/privacy.md,
"Data-protection report".
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from govserve.catalogue.compiled import CompiledDefinition
from govserve.catalogue.definitions.schema import GroupField, ServiceDefinition
from govserve.catalogue.errors import ServiceRetiredError
from govserve.catalogue.models import ServiceVersion, VersionState
from govserve.catalogue.selectors import published_version_load

LAWFUL_BASES = {
    "consent": gettext_lazy("Consent (UK GDPR article 6(1)(a))"),
    "contract": gettext_lazy("Contract (article 6(1)(b))"),
    "legal_obligation": gettext_lazy("Legal obligation (article 6(1)(c))"),
    "vital_interests": gettext_lazy("Vital interests (article 6(1)(d))"),
    "public_task": gettext_lazy("Public task (article 6(1)(e))"),
    "legitimate_interests": gettext_lazy("Legitimate interests (article 6(1)(f))"),
}
CLASSIFICATIONS = {
    "personal": gettext_lazy("Personal"),
    "special_category": gettext_lazy("Special category"),
}
_PERIOD = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")


@dataclass(frozen=True)
class FieldRow:
    """One field that collects personal data: where it is asked and how sensitive it is."""

    field_id: str
    label: str
    classification: str
    asked_on: str

    @property
    def classification_label(self) -> str:
        """Return the classification as people read it."""
        return str(CLASSIFICATIONS[self.classification])


@dataclass(frozen=True)
class ProcessorRow:
    """A processor of the service's personal data; ``platform`` when it serves every service."""

    name: str
    purpose: str
    location: str
    platform: bool


@dataclass(frozen=True)
class DataProtectionReport:
    """What :func:`dp_report_build` returns (``declared`` is False when the definition has no section)."""

    service_id: str
    version: int | None
    title: str
    institution: str
    declared: bool
    purpose: str
    lawful_basis: str
    lawful_basis_label: str
    special_category_condition: str
    retention: str
    retention_text: str
    retention_action: str
    fields: list[FieldRow]
    documents: list[str]
    processors: list[ProcessorRow]

    @property
    def has_special_category(self) -> bool:
        """Return whether the service collects special category data."""
        return any(row.classification == "special_category" for row in self.fields)

    def as_json(self) -> dict[str, Any]:
        """Return the report as one JSON object (the command's ``--json``)."""
        return {
            "service": {"id": self.service_id, "version": self.version, "title": self.title},
            "institution": self.institution,
            "declared": self.declared,
            "purpose": self.purpose or None,
            "lawful_basis": self.lawful_basis or None,
            "special_category_condition": self.special_category_condition or None,
            "retention": {"period": self.retention, "action": self.retention_action or None},
            "fields": [
                {"id": row.field_id, "label": row.label, "classification": row.classification, "asked_on": row.asked_on}
                for row in self.fields
            ],
            "documents": self.documents,
            "processors": [
                {"name": row.name, "purpose": row.purpose, "location": row.location, "platform": row.platform}
                for row in self.processors
            ],
        }


def period_text(period: str) -> str:
    """Return an ISO 8601 period (``P6Y``, ``P18M``, ``P90D``) as people read it: ``6 years``."""
    match = _PERIOD.match(period)
    if match is None or not any(match.groups()):
        return period
    # Each call names its literal strings, so that `scripts/i18n.py extract` finds them.
    units: tuple[Callable[[int], str], ...] = (
        lambda n: ngettext("%(count)s year", "%(count)s years", n),
        lambda n: ngettext("%(count)s month", "%(count)s months", n),
        lambda n: ngettext("%(count)s week", "%(count)s weeks", n),
        lambda n: ngettext("%(count)s day", "%(count)s days", n),
    )
    parts = []
    for value, unit in zip(match.groups(), units, strict=True):
        if value is not None and int(value):
            parts.append(unit(int(value)) % {"count": int(value)})
    return ", ".join(parts)


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).hostname or ""


def platform_processors() -> list[ProcessorRow]:
    """Return the processors the platform's configuration sends every service's data to (read now)."""
    rows = []
    email_url = str(getattr(settings, "EMAIL_URL", "log://"))
    email_scheme = urllib.parse.urlsplit(email_url).scheme.lower()
    if email_scheme == "notify":
        rows.append(ProcessorRow("GOV.UK Notify", _("Sends emails"), _("United Kingdom"), platform=True))
    elif email_scheme.startswith(("smtp", "submi")):
        rows.append(
            ProcessorRow(
                _("Email relay %(host)s") % {"host": _host(email_url)},
                _("Sends emails"),
                _("As contracted with the relay's operator"),
                platform=True,
            )
        )
    sms_scheme = urllib.parse.urlsplit(str(getattr(settings, "SMS_URL", "log://"))).scheme.lower()
    if sms_scheme == "notify":
        rows.append(ProcessorRow("GOV.UK Notify", _("Sends text messages"), _("United Kingdom"), platform=True))
    payment_scheme = urllib.parse.urlsplit(str(getattr(settings, "PAYMENT_URL", "") or "sandbox://")).scheme.lower()
    if payment_scheme == "govukpay":
        rows.append(ProcessorRow("GOV.UK Pay", _("Takes card payments"), _("United Kingdom"), platform=True))
    storages: dict[str, Any] = settings.STORAGES
    default_storage: dict[str, Any] = storages.get("default") or {}
    if "s3" in str(default_storage.get("BACKEND", "")).lower():
        options: dict[str, Any] = default_storage.get("OPTIONS") or {}
        region = str(options.get("region_name", "") or "")
        rows.append(
            ProcessorRow(
                _("S3 object storage"),
                _("Stores uploaded documents and issued results (encrypted)"),
                region or _("As configured"),
                platform=True,
            )
        )
    return rows


def _fields(definition: ServiceDefinition, language: str) -> list[FieldRow]:
    rows = []
    for page in definition.pages:
        stack = list(page.fields)
        while stack:
            definition_field = stack.pop(0)
            if isinstance(definition_field, GroupField):
                stack[:0] = list(definition_field.fields)
            if definition_field.classification in CLASSIFICATIONS:
                rows.append(
                    FieldRow(
                        field_id=definition_field.id,
                        label=definition_field.label.get(language),
                        classification=definition_field.classification,
                        asked_on=page.title.get(language),
                    )
                )
    for role in definition.flow.roles:
        for definition_field in role.fields:
            if definition_field.classification in CLASSIFICATIONS:
                rows.append(
                    FieldRow(
                        field_id=definition_field.id,
                        label=definition_field.label.get(language),
                        classification=definition_field.classification,
                        asked_on=_("Filled in by staff: %(role)s") % {"role": role.name.get(language)},
                    )
                )
    return rows


def dp_report_build(
    definition: ServiceDefinition, *, version: int | None = None, language: str = "en"
) -> DataProtectionReport:
    """Return the report of ``definition`` (pure: the platform's processors come from settings)."""
    section = definition.data_protection
    processors = (
        [ProcessorRow(row.name, row.purpose.get(language), row.location, platform=False) for row in section.processors]
        if section is not None
        else []
    )
    documents = sorted(
        {
            document.name.get(language)
            for registration in definition.registrations
            for document in registration.documents
        }
    )
    return DataProtectionReport(
        service_id=definition.id,
        version=version,
        title=definition.title.get(language),
        institution=definition.institution,
        declared=section is not None,
        purpose=section.purpose.get(language) if section is not None else "",
        lawful_basis=section.lawful_basis if section is not None else "",
        lawful_basis_label=str(LAWFUL_BASES[section.lawful_basis]) if section is not None else "",
        special_category_condition=(
            section.special_category_condition.get(language)
            if section is not None and section.special_category_condition is not None
            else ""
        ),
        retention=definition.retention,
        retention_text=period_text(definition.retention),
        retention_action=str(getattr(definition, "retention_action", "") or ""),
        fields=_fields(definition, language),
        documents=documents,
        processors=processors + platform_processors(),
    )


def dp_report(*, service_id: str, language: str = "en") -> DataProtectionReport:
    """Return the report of the latest published version of ``service_id``.

    A retired service's report is that of its last version (its
    applications' data is still held). Raise the catalogue's
    ServiceNotFoundError / VersionNotFoundError as
    :func:`published_version_load` does.
    """
    try:
        compiled: CompiledDefinition = published_version_load(service_id)
    except ServiceRetiredError:
        # A retired service still holds its applications' data: report on its last version.
        last = (
            ServiceVersion.objects.filter(service_id=service_id, state=VersionState.RETIRED)
            .order_by("-number")
            .values_list("number", flat=True)
            .first()
        )
        if last is None:
            raise
        compiled = published_version_load(service_id, last)
    return dp_report_build(compiled.definition, version=compiled.version, language=language)
