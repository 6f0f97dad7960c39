"""Working-day calendars per institution, for SLA due dates.

A day is a working day for an institution unless it is a Saturday, a Sunday
or a public holiday of the institution's country/subdivision (the
``holidays`` package, which includes substitute "observed" days) — and a
local :class:`~govserve.accounts.models.InstitutionHoliday` row overrides
both ways: ``is_working_day=False`` closes a day, ``True`` opens one.
"""

from __future__ import annotations

import datetime
import functools
import uuid
from typing import Any

import holidays

from govserve.accounts.models import Institution, InstitutionHoliday
from govserve.core.queries import PreparedFilter

# No SLA counts more than about ten years of working days; past that the
# caller has a bug, and we refuse rather than loop for a long time.
MAX_WORKING_DAYS = 2600


@functools.lru_cache(maxsize=64)
def _national_calendar(country: str, subdivision: str) -> Any:
    # The holidays object fills years lazily as dates are looked up.
    return holidays.country_holidays(country, subdiv=subdivision or None)


# No order: a dict needs none, and the model's ordering (institution code) joined the institutions table. Every
# due date reads them (each file opened, each decision): the ORM's statement built once per process.
_OVERRIDES = PreparedFilter(
    InstitutionHoliday,
    samples={
        "institution_id": uuid.UUID(int=0x4011_DA75_0000_4000_8000_0000_0000_0001),
        "date__gte": datetime.date(1901, 2, 3),
        "date__lte": datetime.date(1901, 2, 4),
    },
    values=("date", "is_working_day"),
)


def _overrides(institution: Institution, start: datetime.date, end: datetime.date) -> dict[datetime.date, bool]:
    return dict(_OVERRIDES.tuples(institution_id=institution.pk, date__gte=start, date__lte=end))


def _is_working(day: datetime.date, national: Any, overrides: dict[datetime.date, bool]) -> bool:
    override = overrides.get(day)
    if override is not None:
        return override
    return day.weekday() < 5 and day not in national


def is_working_day(institution: Institution, day: datetime.date) -> bool:
    """Return whether ``day`` is a working day for ``institution``."""
    national = _national_calendar(institution.holiday_country, institution.holiday_subdivision)
    return _is_working(day, national, _overrides(institution, day, day))


def working_days_add(institution: Institution, start_date: datetime.date, days: int) -> datetime.date:
    """Return the date ``days`` working days after ``start_date`` for ``institution``.

    ``start_date`` itself is never counted (a case received on Friday with a
    1-working-day SLA is due on Monday, or Tuesday after a bank holiday
    Monday); ``days=0`` returns ``start_date`` unchanged. Raise ValueError for a
    negative ``days`` or one above :data:`MAX_WORKING_DAYS`.
    """
    if days < 0:
        msg = f"days must be zero or more, not {days}"
        raise ValueError(msg)
    if days > MAX_WORKING_DAYS:
        msg = f"days must be at most {MAX_WORKING_DAYS}, not {days}"
        raise ValueError(msg)
    if days == 0:
        return start_date
    national = _national_calendar(institution.holiday_country, institution.holiday_subdivision)
    # Five working days a week plus holidays: twice the calendar span bounds the search
    # unless overrides close weeks at a time; widen the window if they do.
    span = days * 2 + 14
    overrides = _overrides(institution, start_date, start_date + datetime.timedelta(days=span))
    day = start_date
    remaining = days
    while remaining:
        day += datetime.timedelta(days=1)
        if day > start_date + datetime.timedelta(days=span):
            span *= 2
            overrides = _overrides(institution, start_date, start_date + datetime.timedelta(days=span))
        if _is_working(day, national, overrides):
            remaining -= 1
    return day


def working_days_between(institution: Institution, start_date: datetime.date, end_date: datetime.date) -> int:
    """Return how many working days lie after ``start_date`` up to and including ``end_date`` (0 if not after)."""
    if end_date <= start_date:
        return 0
    national = _national_calendar(institution.holiday_country, institution.holiday_subdivision)
    overrides = _overrides(institution, start_date, end_date)
    count = 0
    day = start_date
    while day < end_date:
        day += datetime.timedelta(days=1)
        if _is_working(day, national, overrides):
            count += 1
    return count


def holidays_in_year(institution: Institution, year: int) -> list[tuple[datetime.date, str, bool, str]]:
    """Return ``(date, name, is_working_day, source)`` for every national holiday and override in ``year``.

    ``source`` is ``"national"`` or ``"local"``; a local override replaces the
    national entry of the same date.
    """
    national = holidays.country_holidays(
        institution.holiday_country, subdiv=institution.holiday_subdivision or None, years=year
    )
    rows: dict[datetime.date, tuple[datetime.date, str, bool, str]] = {
        day: (day, str(name), False, "national") for day, name in national.items()
    }
    for override in InstitutionHoliday.objects.filter(institution=institution, date__year=year):
        rows[override.date] = (override.date, override.name, override.is_working_day, "local")
    return [rows[day] for day in sorted(rows)]
