"""The pool's queries walk an index in the page's order and stop after a page, on SQLite and on PostgreSQL.

A queue page that sorts instead reads and sorts every task of the pool on
each request: at 100,000 open tasks on SQLite the overdue tasks newest first
cost 595 ms p95 that way (benchmarks/README.md). These tests read the
database's own plan of the query the page runs, so a dropped index or a
query shape the planner cannot walk fails here rather than in a benchmark.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from govserve.accounts.models import User
from govserve.casework import selectors
from govserve.casework.models import Task
from govserve.casework.tests.support import at, newborn_submitted, open_task, staff, trading_paid
from govserve.core import clock

pytestmark = pytest.mark.usefixtures("examples")

REGISTRAR = ("civil-registry", "registrar")
MONDAY = dt.date(2026, 6, 1)


def _page_query_plan(user: User, **filters: object) -> list[str]:
    """Return the plan of the query that reads the rows of the queue page (not its count)."""
    with CaptureQueriesContext(connection) as captured:
        selectors.task_queue(user=user, **filters)  # type: ignore[arg-type]
    (sql,) = [query["sql"] for query in captured.captured_queries if '"casework_task"."case_file_id"' in query["sql"]]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            return [row[3] for row in cursor.fetchall()]
        # An empty test table is read most cheaply by a sequential scan and a sort: take those away, so the plan
        # shows whether an index gives the page's order (a sort is then planned only when none does).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_incremental_sort = off")
        cursor.execute(f"EXPLAIN {sql}")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.parametrize("sort", ["-submitted_at", "submitted_at"])
@pytest.mark.parametrize("overdue", [True, False, None])
def test_the_pool_sorted_by_submission_walks_its_index_without_sorting(sort: str, overdue: bool | None) -> None:
    registrar = staff(REGISTRAR)

    plan = _page_query_plan(registrar, view="pool", sort=sort, overdue=overdue)

    text = "\n".join(plan)
    assert "casework_task_pool_sub_idx" in text, text
    # SQLite: "USE TEMP B-TREE FOR ORDER BY" (or "... FOR RIGHT PART OF ORDER BY"); PostgreSQL: "Sort" nodes.
    assert "TEMP B-TREE" not in text, text
    assert "Sort" not in text, text


def test_the_pool_by_due_date_walks_its_index_without_sorting() -> None:
    registrar = staff(REGISTRAR)

    for sort in ("due_on", "-due_on"):
        plan = "\n".join(_page_query_plan(registrar, view="pool", sort=sort, overdue=True))

        assert "casework_task_pool_idx" in plan, plan
        assert "TEMP B-TREE" not in plan, plan
        assert "Sort" not in plan, plan


def test_overdue_tasks_newest_first_are_in_order_with_ties_newest_id_first(monkeypatch: pytest.MonkeyPatch) -> None:
    # Submitted on Monday, Tuesday and Wednesday: due 5 working days later (the 8th, 9th and 10th of June).
    tasks = []
    for day in range(3):
        monkeypatch.setattr(clock, "now", lambda day=day: at(MONDAY + dt.timedelta(days=day)))
        tasks.append(open_task(newborn_submitted()[0]))
    monday, tuesday, wednesday = tasks
    registrar = staff(REGISTRAR)
    # On the 10th, Monday's and Tuesday's are overdue and Wednesday's is due today.
    monkeypatch.setattr(clock, "now", lambda: at(dt.date(2026, 6, 10)))

    def references(**filters: object) -> list[str]:
        page = selectors.task_queue(user=registrar, view="pool", **filters)  # type: ignore[arg-type]
        return [row.reference for row in page.rows]

    assert [task.due_on for task in tasks] == [dt.date(2026, 6, 8), dt.date(2026, 6, 9), dt.date(2026, 6, 10)]
    assert references(overdue=True, sort="-submitted_at") == [tuesday.reference, monday.reference]
    assert references(overdue=True, sort="submitted_at") == [monday.reference, tuesday.reference]
    assert references(overdue=False, sort="-submitted_at") == [wednesday.reference]
    assert references(overdue=True, sort="-submitted_at", page=2, per_page=1) == [monday.reference]

    # Submitted at the same moment: the later id first when newest first, the earlier id first when oldest first.
    Task.objects.filter(pk__in=[monday.pk, tuesday.pk]).update(submitted_at=at(MONDAY))
    low, high = sorted([monday, tuesday], key=lambda task: task.pk)
    assert references(overdue=True, sort="-submitted_at") == [high.reference, low.reference]
    assert references(overdue=True, sort="submitted_at") == [low.reference, high.reference]


# --- more than one role in reach ------------------------------------------------------------------------------

BOTH = (REGISTRAR, ("city-council", "licensing-officer"))
TUESDAY_AFTER = dt.date(2026, 6, 9)


def _branch_plans(user: User, **filters: object) -> list[str]:
    """Return the plans of the per-role queries of a queue page (the ids of each role's page, in order)."""
    with CaptureQueriesContext(connection) as captured:
        selectors.task_queue(user=user, **filters)  # type: ignore[arg-type]
    branches = [
        query["sql"]
        for query in captured.captured_queries
        if "ORDER BY" in query["sql"] and "LIMIT" in query["sql"] and "case_file_id" not in query["sql"]
    ]
    plans = []
    with connection.cursor() as cursor:
        for sql in branches:
            if connection.vendor == "sqlite":
                cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
                plans.append("\n".join(row[3] for row in cursor.fetchall()))
            else:
                for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort", "enable_incremental_sort"):
                    cursor.execute(f"SET LOCAL {setting} = off")
                cursor.execute(f"EXPLAIN {sql}")
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return plans


@pytest.mark.parametrize(("sort", "index"), [("-submitted_at", "pool_sub_idx"), ("due_on", "pool_idx")])
def test_two_roles_in_reach_read_each_roles_page_along_its_index(sort: str, index: str) -> None:
    both = staff(*BOTH)

    plans = _branch_plans(both, view="pool", sort=sort, overdue=True)

    assert len(plans) == 2
    for plan in plans:
        assert f"casework_task_{index}" in plan, plan
        assert "TEMP B-TREE" not in plan, plan
        assert "Sort" not in plan, plan


def test_two_roles_in_reach_page_through_one_order_as_the_database_sorts_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given two tasks of each role, submitted on alternate days, one without a due date (a role with no SLA).
    tasks = []
    for day in range(4):
        monkeypatch.setattr(clock, "now", lambda day=day: at(MONDAY + dt.timedelta(days=day)))
        application = newborn_submitted()[0] if day % 2 == 0 else trading_paid()[0]
        tasks.append(open_task(application))
    Task.objects.filter(pk=tasks[1].pk).update(due_on=None)
    both = staff(*BOTH)
    monkeypatch.setattr(clock, "now", lambda: at(TUESDAY_AFTER))
    ids = [task.pk for task in tasks]
    assert {bool(due_on and due_on < TUESDAY_AFTER) for due_on in Task.objects.values_list("due_on", flat=True)} == {
        True,
        False,
    }

    for sort in ("due_on", "-due_on", "submitted_at", "-submitted_at"):
        for overdue in (None, True, False):
            pages = [
                selectors.task_queue(user=both, view="pool", sort=sort, overdue=overdue, page=page, per_page=1)
                for page in range(1, 6)
            ]
            # Then the pages together are the database's own order of the tasks the filter keeps, counted as many.
            same = selectors.task_queue(user=both, view="pool", sort=sort, overdue=overdue, per_page=10)
            kept = [
                pk
                for pk, due_on in Task.objects.filter(pk__in=ids).values_list("pk", "due_on")
                if overdue is None or (due_on is not None and due_on < TUESDAY_AFTER) is overdue
            ]
            expected = list(
                Task.objects.filter(pk__in=kept).order_by(*selectors.QUEUE_SORTS[sort]).values_list("pk", flat=True)
            )
            assert [row.task_id for page in pages for row in page.rows] == expected, (sort, overdue)
            assert [row.task_id for row in same.rows] == expected, (sort, overdue)
            assert pages[0].total == same.total == len(expected), (sort, overdue)
    everything = selectors.task_queue(user=both, view="pool", sort="-submitted_at")
    assert [row.task_id for row in everything.rows] == ids[::-1]
    assert {row.service_id for row in everything.rows} == {"register-newborn", "street-trading-licence"}
