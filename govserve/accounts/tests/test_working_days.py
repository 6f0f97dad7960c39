"""Working days per institution: weekends, England & Wales bank holidays, local overrides."""

from __future__ import annotations

import datetime

import pytest

from govserve.accounts import services
from govserve.accounts.models import Institution
from govserve.accounts.tests.factories import institution_create
from govserve.accounts.working_days import (
    MAX_WORKING_DAYS,
    holidays_in_year,
    is_working_day,
    working_days_add,
    working_days_between,
)
from govserve.audit.actors import Actor

pytestmark = pytest.mark.django_db

D = datetime.date
CLI = Actor.system("cli")


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (D(2026, 11, 23), 0, D(2026, 11, 23)),  # Monday, nothing to add
        (D(2026, 11, 23), 1, D(2026, 11, 24)),  # Monday -> Tuesday
        (D(2026, 11, 27), 1, D(2026, 11, 30)),  # Friday -> Monday
        (D(2026, 11, 28), 1, D(2026, 11, 30)),  # Saturday -> Monday
        (D(2026, 11, 23), 5, D(2026, 11, 30)),  # a week
        (D(2026, 11, 23), 10, D(2026, 12, 7)),  # two weeks
        # Christmas 2026: Fri 25 Christmas Day, Sat 26 Boxing Day, Mon 28 Boxing Day (substitute)
        (D(2026, 12, 24), 1, D(2026, 12, 29)),
        (D(2026, 12, 23), 3, D(2026, 12, 30)),
        # New Year's Day 2027 is a Friday
        (D(2026, 12, 31), 1, D(2027, 1, 4)),
        # Easter 2026: Good Friday 3 April, Easter Monday 6 April
        (D(2026, 4, 2), 1, D(2026, 4, 7)),
        (D(2026, 3, 30), 5, D(2026, 4, 8)),
        # Early May bank holiday 2026: Monday 4 May
        (D(2026, 5, 1), 1, D(2026, 5, 5)),
    ],
)
def test_working_days_add_across_weekends_and_bank_holidays(
    start: datetime.date, days: int, due: datetime.date
) -> None:
    institution = institution_create(code="council", holiday_country="GB", holiday_subdivision="ENG")

    assert working_days_add(institution, start, days) == due


def test_scotland_has_different_bank_holidays(db: None) -> None:
    england = institution_create(code="england", holiday_subdivision="ENG")
    scotland = institution_create(code="scotland", holiday_subdivision="SCT")

    # 2 January is a bank holiday in Scotland only (Friday 2 January 2026)
    assert working_days_add(england, D(2026, 1, 1), 1) == D(2026, 1, 2)
    assert working_days_add(scotland, D(2026, 1, 1), 1) == D(2026, 1, 5)


def test_a_local_closure_is_skipped(db: None) -> None:
    institution = institution_create(code="council")
    services.institution_holiday_set(actor=CLI, institution_code="council", date=D(2026, 11, 24), name="Office move")

    assert working_days_add(institution, D(2026, 11, 23), 1) == D(2026, 11, 25)
    assert is_working_day(institution, D(2026, 11, 24)) is False


def test_a_bank_holiday_the_institution_works_counts(db: None) -> None:
    institution = institution_create(code="council")
    services.institution_holiday_set(
        actor=CLI, institution_code="council", date=D(2026, 12, 28), name="Open on substitute day", is_working_day=True
    )

    assert working_days_add(institution, D(2026, 12, 24), 1) == D(2026, 12, 28)


def test_a_saturday_opening_counts(db: None) -> None:
    institution = institution_create(code="council")
    services.institution_holiday_set(
        actor=CLI, institution_code="council", date=D(2026, 11, 28), name="Saturday surgery", is_working_day=True
    )

    assert working_days_add(institution, D(2026, 11, 27), 1) == D(2026, 11, 28)
    assert working_days_add(institution, D(2026, 11, 27), 2) == D(2026, 11, 30)


def test_overrides_of_one_institution_do_not_affect_another(db: None) -> None:
    closed = institution_create(code="closed")
    other = institution_create(code="other")
    services.institution_holiday_set(actor=CLI, institution_code="closed", date=D(2026, 11, 24), name="Closed")

    assert working_days_add(closed, D(2026, 11, 23), 1) == D(2026, 11, 25)
    assert working_days_add(other, D(2026, 11, 23), 1) == D(2026, 11, 24)


def test_a_long_local_closure_widens_the_search(db: None) -> None:
    institution = institution_create(code="council")
    for offset in range(60):
        services.institution_holiday_set(
            actor=CLI, institution_code="council", date=D(2026, 1, 5) + datetime.timedelta(days=offset), name="Closed"
        )

    # closed from Monday 5 January to Thursday 5 March: the first working day is Friday 6 March
    assert working_days_add(institution, D(2026, 1, 2), 1) == D(2026, 3, 6)


def test_working_days_between_counts_the_days_after_the_start(db: None) -> None:
    institution = institution_create(code="council")

    assert working_days_between(institution, D(2026, 12, 24), D(2026, 12, 31)) == 3  # 29, 30, 31
    assert working_days_between(institution, D(2026, 12, 31), D(2026, 12, 24)) == 0


@pytest.mark.parametrize("days", [-1, MAX_WORKING_DAYS + 1])
def test_out_of_range_day_counts_are_refused(days: int, db: None) -> None:
    institution = institution_create(code="council")

    with pytest.raises(ValueError, match="days must be"):
        working_days_add(institution, D(2026, 1, 1), days)


def test_holidays_in_year_merges_national_and_local(db: None) -> None:
    institution = institution_create(code="council")
    services.institution_holiday_set(
        actor=CLI, institution_code="council", date=D(2026, 12, 28), name="Open", is_working_day=True
    )
    services.institution_holiday_set(actor=CLI, institution_code="council", date=D(2026, 12, 29), name="Closed")

    rows = [row for row in holidays_in_year(institution, 2026) if row[0].month == 12]

    assert rows == [
        (D(2026, 12, 25), "Christmas Day", False, "national"),
        (D(2026, 12, 26), "Boxing Day", False, "national"),
        (D(2026, 12, 28), "Open", True, "local"),
        (D(2026, 12, 29), "Closed", False, "local"),
    ]


def test_holiday_overrides_are_audited_and_removable(db: None) -> None:
    from govserve.audit.models import AuditEntry  # noqa: PLC0415

    institution: Institution = institution_create(code="council")
    services.institution_holiday_set(actor=CLI, institution_code="council", date=D(2026, 11, 24), name="Closed")

    assert services.institution_holiday_remove(actor=CLI, institution_code="council", date=D(2026, 11, 24)) is True
    assert services.institution_holiday_remove(actor=CLI, institution_code="council", date=D(2026, 11, 24)) is False
    assert is_working_day(institution, D(2026, 11, 24)) is True
    assert list(
        AuditEntry.objects.filter(subject_id=str(institution.pk)).order_by("id").values_list("action", "details")
    ) == [
        ("accounts.institution.holiday_set", {"date": "2026-11-24", "is_working_day": False}),
        ("accounts.institution.holiday_removed", {"date": "2026-11-24"}),
    ]


def test_the_holidays_command(db: None) -> None:
    import io  # noqa: PLC0415

    from django.core.management import call_command  # noqa: PLC0415
    from django.core.management.base import CommandError  # noqa: PLC0415

    institution_create(code="council")

    def run(*args: str) -> str:
        out = io.StringIO()
        call_command("holidays", *args, stdout=out)
        return out.getvalue()

    assert run("set", "council", "2026-12-29", "Office closed") == "2026-12-29 is closed for council\n"
    listing = run("list", "council", "--year", "2026").splitlines()
    assert listing[-2:] == [
        "2026-12-28  Mon  closed       national  Boxing Day (observed)",
        "2026-12-29  Tue  closed       local     Office closed",
    ]
    assert run("due", "council", "2026-12-24", "1") == "2026-12-30\n"
    assert run("remove", "council", "2026-12-29") == "removed\n"
    with pytest.raises(CommandError, match="There is no institution with the code nowhere"):
        run("list", "nowhere")
    with pytest.raises(CommandError, match="days must be zero or more"):
        run("due", "council", "2026-12-24", "-1")
