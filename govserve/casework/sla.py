"""Service levels: the due date of a task and the applicant's expected decision date.

A task's due date is ``sla_working_days`` working days of the role's
institution (weekends, the institution's national holidays and its local
overrides: ``accounts.working_days``) after the day the task was created, in
the service's time zone; a role without an SLA has no due date. A task is
overdue from the day after its due date.

The expected decision date shown to the applicant is computed here, at each
transition, and stored on the file (``CaseFile.expected_decision_on``): the
open task's due date, then the SLAs of the roles still ahead in list order
(those whose ``when`` holds), one after another. Journeys reads it through the
``expected_decision_provider`` hook (no casework import above it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from zoneinfo import ZoneInfo

from govserve.accounts.models import Institution
from govserve.accounts.working_days import working_days_add
from govserve.catalogue.definitions.schema import Role, ServiceDefinition
from govserve.core import clock


def service_today(definition: ServiceDefinition, *, at: dt.datetime | None = None) -> dt.date:
    """Return the date in the service's time zone at ``at`` (default now)."""
    return (at or clock.now()).astimezone(ZoneInfo(definition.time_zone)).date()


def due_on(role: Role, institution: Institution, start: dt.date) -> dt.date | None:
    """Return the due date of ``role``'s task created on ``start``; None when the role has no SLA."""
    if role.sla_working_days is None:
        return None
    return working_days_add(institution, start, role.sla_working_days)


def expected_decision_on(
    *,
    current_due: dt.date | None,
    start: dt.date,
    roles_ahead: list[Role],
    institutions: Mapping[str, Institution],
) -> dt.date | None:
    """Return the expected decision date: ``current_due`` (or ``start``), then each role ahead's SLA.

    None when neither the current task nor any role ahead has an SLA.
    """
    if current_due is None and not any(role.sla_working_days for role in roles_ahead):
        return None
    day = current_due or start
    for role in roles_ahead:
        if role.sla_working_days is None:
            continue
        institution = institutions.get(role.institution)
        if institution is None:
            day += dt.timedelta(days=role.sla_working_days)  # an institution deleted since: calendar days
        else:
            day = working_days_add(institution, day, role.sla_working_days)
    return day


def is_overdue(due: dt.date | None, today: dt.date) -> bool:
    """Return whether a task due on ``due`` is overdue on ``today``."""
    return due is not None and due < today
