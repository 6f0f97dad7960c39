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
from govserve.casework.tests.support import at, newborn_submitted, open_task, staff
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
