"""Due dates in working days of the role's institution: weekends, bank holidays, local closures; overdue work."""

from __future__ import annotations

import datetime as dt

import pytest

from govserve.accounts.models import Institution, InstitutionHoliday
from govserve.casework import selectors
from govserve.casework.sla import expected_decision_on, is_overdue
from govserve.casework.tests.support import at, file_of, newborn_submitted, open_task, staff
from govserve.core import clock
from govserve.journeys.tests.support import example_compiled

pytestmark = pytest.mark.usefixtures("examples")

FRIDAY_BEFORE_SPRING_BANK_HOLIDAY = dt.date(2026, 5, 22)  # Monday 25 May 2026 is a bank holiday in England


def test_a_task_created_on_friday_skips_the_weekend_and_the_bank_holiday(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: at(FRIDAY_BEFORE_SPRING_BANK_HOLIDAY))

    application, _ = newborn_submitted()

    # 5 working days after Fri 22 May: Tue 26, Wed 27, Thu 28, Fri 29, Mon 1 June.
    assert open_task(application).due_on == dt.date(2026, 6, 1)
    # Then the health visitor's 3 working days: 2, 3, 4 June.
    assert file_of(application).expected_decision_on == dt.date(2026, 6, 4)


def test_a_local_closure_of_the_institution_moves_the_due_date(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = Institution.objects.get(code="civil-registry")
    InstitutionHoliday.objects.create(institution=registry, date=dt.date(2026, 5, 27), name="Office move")
    monkeypatch.setattr(clock, "now", lambda: at(FRIDAY_BEFORE_SPRING_BANK_HOLIDAY))

    application, _ = newborn_submitted()

    assert open_task(application).due_on == dt.date(2026, 6, 2)


def test_work_past_its_due_date_is_overdue_in_the_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: at(FRIDAY_BEFORE_SPRING_BANK_HOLIDAY))
    application, _ = newborn_submitted()
    registrar = staff(("civil-registry", "registrar"))

    on_due_day = at(dt.date(2026, 6, 1), hour=15)
    monkeypatch.setattr(clock, "now", lambda: on_due_day)
    assert selectors.task_queue(user=registrar, view="all", overdue=True).total == 0
    day_after = at(dt.date(2026, 6, 2))
    monkeypatch.setattr(clock, "now", lambda: day_after)
    late = selectors.task_queue(user=registrar, view="all", overdue=True)

    assert [(row.reference, row.overdue) for row in late.rows] == [(application.reference, True)]
    assert selectors.task_queue(user=registrar, view="all", overdue=False).total == 0


def test_the_expected_date_adds_each_role_ahead_in_its_own_calendar() -> None:
    roles = example_compiled("register-newborn").definition.flow.roles
    institutions = {code: Institution(code=code, name=code) for code in ("civil-registry", "health-agency")}

    expected = expected_decision_on(
        current_due=dt.date(2026, 12, 23), start=dt.date(2026, 12, 16), roles_ahead=roles[1:], institutions=institutions
    )

    # 3 working days after Wed 23 Dec 2026 in England: Thu 24, (25, 26 Christmas; 28 substitute Boxing Day), 29, 30.
    assert expected == dt.date(2026, 12, 30)
    assert expected_decision_on(current_due=None, start=dt.date(2026, 12, 16), roles_ahead=[], institutions={}) is None
    assert is_overdue(dt.date(2026, 1, 1), dt.date(2026, 1, 2)) is True
    assert is_overdue(dt.date(2026, 1, 2), dt.date(2026, 1, 2)) is False
    assert is_overdue(None, dt.date(2026, 1, 2)) is False


def test_the_applicants_expected_date_follows_the_task_that_holds_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    from govserve.casework import services  # noqa: PLC0415
    from govserve.journeys.selectors import expected_decision_date, state_load  # noqa: PLC0415

    monkeypatch.setattr(clock, "now", lambda: at(FRIDAY_BEFORE_SPRING_BANK_HOLIDAY))
    application, _ = newborn_submitted()
    registrar = staff(("civil-registry", "registrar"))
    late = at(dt.date(2026, 6, 10))  # the registrar decides late, on Wednesday 10 June
    monkeypatch.setattr(clock, "now", lambda: late)

    services.decision_record(
        user=registrar, task_id=open_task(application).id, decision="approve", data={"register_entry_number": ["E9"]}
    )

    application.refresh_from_db()
    # The health visitor's 3 working days from 10 June: 11, 12, 15 June (not the 4 June planned at submission).
    assert expected_decision_date(application, state_load(application)) == dt.date(2026, 6, 15)
    assert open_task(application).due_on == dt.date(2026, 6, 15)
