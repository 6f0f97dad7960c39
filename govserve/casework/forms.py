"""Reading the casework forms: queue filters, bulk reassignment, and the small text forms.

Each reader returns the typed values and a ``{field anchor: message}`` map of
what a person must fix (GOV.UK error messages); the business rules (who may
claim, which decisions a role has) stay in the services.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext as _

SORTS = ("due_on", "-due_on", "submitted_at", "-submitted_at", "reference")
REFERENCE_MAX = 32
TEXT_MAX = 5000


@dataclass(frozen=True)
class DateParts:
    """The three inputs of a date filter as typed (shown back after an error)."""

    day: str = ""
    month: str = ""
    year: str = ""

    @property
    def empty(self) -> bool:
        """Return whether nothing was typed."""
        return not (self.day or self.month or self.year)


@dataclass(frozen=True)
class QueueFilters:
    """The filters of a queue page, as typed and as understood."""

    reference: str = ""
    role: str = ""
    service: str = ""
    status: str = ""
    overdue: bool = False
    submitted_from: dt.date | None = None
    submitted_to: dt.date | None = None
    from_parts: DateParts = field(default_factory=DateParts)
    to_parts: DateParts = field(default_factory=DateParts)
    sort: str = "due_on"
    page: int = 1


def _date(parts: DateParts, anchor: str, errors: dict[str, str], what: str) -> dt.date | None:
    if parts.empty:
        return None
    try:
        return dt.date(int(parts.year), int(parts.month), int(parts.day))
    except (TypeError, ValueError, OverflowError):
        errors[anchor] = _("%(what)s must be a real date, like 27 3 2026") % {"what": what}
        return None


def _parts(query: QueryDict, prefix: str) -> DateParts:
    return DateParts(
        day=query.get(f"{prefix}-day", "").strip()[:2],
        month=query.get(f"{prefix}-month", "").strip()[:2],
        year=query.get(f"{prefix}-year", "").strip()[:4],
    )


def reference_normalise(raw: str) -> str:
    """Return a typed reference as stored: no spaces, upper case (``gs-7k2 q`` reads ``GS-7K2Q``)."""
    return "".join(raw.split()).upper()[:REFERENCE_MAX]


def queue_filters_read(query: QueryDict) -> tuple[QueueFilters, dict[str, str]]:
    """Return the queue filters of a GET query and the errors to show (anything unreadable is ignored)."""
    errors: dict[str, str] = {}
    from_parts = _parts(query, "submitted_from")
    to_parts = _parts(query, "submitted_to")
    submitted_from = _date(from_parts, "submitted_from-day", errors, _("The first submission date"))
    submitted_to = _date(to_parts, "submitted_to-day", errors, _("The last submission date"))
    if submitted_from and submitted_to and submitted_to < submitted_from:
        errors["submitted_to-day"] = _("The last submission date must be the same as or after the first")
        submitted_to = None
    sort = query.get("sort", "due_on")
    try:
        page = max(1, min(int(query.get("page", "1")), 10_000))
    except ValueError:
        page = 1
    return (
        QueueFilters(
            reference=reference_normalise(query.get("reference", "")),
            role=query.get("role", "")[:64],
            service=query.get("service", "")[:64],
            status=query.get("status", "")[:16],
            overdue=query.get("overdue") == "1",
            submitted_from=submitted_from,
            submitted_to=submitted_to,
            from_parts=from_parts,
            to_parts=to_parts,
            sort=sort if sort in SORTS else "due_on",
            page=page,
        ),
        errors,
    )


def text_read(data: Mapping[str, Any], name: str, *, empty_message: str, max_length: int = TEXT_MAX) -> tuple[str, str]:
    """Return the stripped text of ``name`` and an error message ("" when it is fine)."""
    text = str(data.get(name, "")).strip()
    if not text:
        return text, empty_message
    if len(text) > max_length:
        return text, _("Enter %(max)s characters or fewer") % {"max": f"{max_length:,}"}
    return text, ""


def uuid_list(values: list[str]) -> list[uuid.UUID] | None:
    """Return ``values`` as UUIDs, or None when any is not one (a tampered form)."""
    result = []
    for value in values:
        try:
            result.append(uuid.UUID(value))
        except ValueError:
            return None
    return result
