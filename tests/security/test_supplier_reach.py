"""A supplier limited to named services reaches only their tasks and files in casework (issue 8, supplier staff).

The supplier holds the street trading licence's officer role in
``city-council``; limited to another service, the trading task is not in
its queue, its file and task answer as if they did not exist, and nothing
it tries changes anything. Limited to the trading service, it works as a
civil servant holding the role would, and its audit entries are marked.
"""

from __future__ import annotations

import datetime as dt
import html
import uuid
from typing import Any

import pytest

from govserve.accounts import services as accounts_services
from govserve.accounts.models import Institution, User
from govserve.accounts.tests.factories import device_create, institution_create, role_grant, staff_create
from govserve.audit.actors import Actor
from govserve.audit.models import AuditEntry
from govserve.casework import selectors as casework_selectors
from govserve.casework import services as casework_services
from govserve.casework.errors import AssigneeNotEligibleError, TaskNotFoundError
from govserve.casework.models import Task, TaskStatus
from govserve.casework.tests.support import file_of, open_task, staff, trading_paid
from govserve.core import clock
from govserve.journeys.models import Application
from govserve.journeys.tests.conftest import _fresh_compiled_cache, media_root  # noqa: F401 - fixtures reused
from govserve.journeys.tests.support import examples_publish
from tests.security.world import staff_client

CLI = Actor.system("cli")


@pytest.fixture
def paid(db: None) -> Application:
    examples_publish()
    application, _who = trading_paid()
    return application


def _supplier(*services: str) -> User:
    accounts_services.staff_invite(
        actor=CLI,
        username=f"vendor-{'-'.join(services) or 'all'}",
        roles=[("city-council", "licensing-officer")],
        is_supplier=True,
        access_expires_at=clock.now() + dt.timedelta(days=7),
        supplier_company="Acme Digital",
        supplier_services=services,
    )
    user = User.objects.get(username=f"vendor-{'-'.join(services) or 'all'}")
    device_create(user=user)
    return user


def test_a_supplier_limited_to_another_service_sees_and_changes_nothing_of_it(paid: Application) -> None:
    vendor = _supplier("register-newborn")
    client = staff_client(vendor)
    task = open_task(paid)
    case_file = file_of(paid)

    queue = client.get("/staff/queues/")
    theirs = client.get(f"/staff/files/{case_file.id}/")
    missing = client.get(f"/staff/files/{uuid.UUID(int=7)}/")
    claim = client.post(f"/staff/tasks/{task.id}/claim", {"version": task.version})

    assert paid.reference not in queue.content.decode()
    assert theirs.status_code == missing.status_code == 404
    assert claim.status_code == 404
    task.refresh_from_db()
    assert (task.status, task.assignee_id) == (TaskStatus.PENDING, None)
    with pytest.raises(TaskNotFoundError):
        casework_services.task_claim(user=vendor, task_id=task.id, version=task.version)
    assert casework_selectors._visible_tasks(vendor).filter(pk=task.pk).exists() is False


def test_a_supplier_limited_to_the_service_works_on_it_and_is_marked_in_the_audit(paid: Application) -> None:
    vendor = _supplier("street-trading-licence")
    client = staff_client(vendor)
    task = open_task(paid)

    queue = client.get("/staff/queues/")
    claim = client.post(f"/staff/tasks/{task.id}/claim", {"version": task.version})
    page = client.get(f"/staff/files/{file_of(paid).id}/")

    assert paid.reference in queue.content.decode()
    assert claim.status_code == 302
    assert page.status_code == 200
    task.refresh_from_db()
    assert task.assignee_id == vendor.pk
    caused = AuditEntry.objects.filter(actor_kind="user", actor_id=str(vendor.pk))
    assert {"casework.task.claimed", "casework.file.viewed"} <= {entry.action for entry in caused}
    assert all(entry.actor_is_supplier for entry in caused)


def test_an_expired_supplier_is_sent_to_sign_in_from_every_casework_page(paid: Application) -> None:
    vendor = _supplier("street-trading-licence")
    client = staff_client(vendor)
    User.objects.filter(pk=vendor.pk).update(access_expires_at=clock.now() - dt.timedelta(seconds=1))
    task = open_task(paid)

    answers: list[Any] = [
        client.get("/staff/queues/"),
        client.get(f"/staff/files/{file_of(paid).id}/"),
    ]
    answers.append(staff_client(vendor).post(f"/staff/tasks/{task.id}/claim", {"version": task.version}))

    assert [answer.status_code for answer in answers] == [302, 302, 302]
    assert all(answer["Location"].startswith("/staff/sign-in") for answer in answers)
    assert Task.objects.get(pk=task.pk).assignee_id is None


# --- who a task may be given to ------------------------------------------------------------------------------


def _officer() -> User:
    officer = staff(("city-council", "licensing-officer"), name="olive")
    device_create(user=officer)
    return officer


def test_the_assignee_list_leaves_out_suppliers_whose_scope_does_not_reach_the_task(paid: Application) -> None:
    officer = _officer()
    elsewhere = _supplier("register-newborn")
    trading = _supplier("street-trading-licence")
    every_service = _supplier()
    expired = _supplier("street-trading-licence", "report-street-light")
    User.objects.filter(pk=expired.pk).update(access_expires_at=clock.now() - dt.timedelta(seconds=1))
    task = open_task(paid)

    offered = {person.user_id for person in casework_selectors.eligible_assignees(user=officer, task_id=task.id)}
    page = staff_client(officer).get(f"/staff/files/{file_of(paid).id}/").content.decode()

    assert offered == {officer.pk, trading.pk, every_service.pk}
    assert f'value="{trading.pk}"' in page
    assert f'value="{elsewhere.pk}"' not in page
    assert f'value="{expired.pk}"' not in page


def test_assigning_a_task_to_a_supplier_outside_its_service_is_refused_and_changes_nothing(paid: Application) -> None:
    officer = _officer()
    leader = staff(("city-council", "team-leader"), name="lena")
    device_create(user=leader)
    elsewhere = _supplier("register-newborn")
    task = open_task(paid)
    client = staff_client(officer)

    posted = client.post(f"/staff/tasks/{task.id}/assign", {"assignee": str(elsewhere.pk), "version": task.version})
    banner = html.unescape(client.get(posted["Location"]).content.decode())
    bulk = staff_client(leader).post("/staff/team/", {"tasks": [str(task.id)], "assignee": str(elsewhere.pk)})
    with pytest.raises(AssigneeNotEligibleError) as refused:
        casework_services.task_assign(user=officer, task_id=task.id, assignee_id=elsewhere.pk, version=task.version)

    # the refusal says why: the person holds the role, but the supplier's access names another service
    why = (
        "This person works for a supplier whose access does not include this service: "
        "choose someone else who holds this task's role"
    )
    assert posted.status_code == 302
    assert why in banner
    assert bulk.status_code == 400
    assert why in html.unescape(bulk.content.decode())
    assert refused.value.message == why
    task.refresh_from_db()
    assert (task.status, task.assignee_id, task.version) == (TaskStatus.PENDING, None, 1)
    assert not AuditEntry.objects.filter(action__startswith="casework.task", subject_id=str(task.pk)).exists()


def test_a_supplier_without_a_scope_or_with_the_role_outside_its_institutions_reaches_no_task(
    paid: Application,
) -> None:
    unscoped = staff_create(username="unscoped", is_supplier=True, access_expires_at=clock.now() + dt.timedelta(days=7))
    role_grant(user=unscoped, institution=Institution.objects.get(code="city-council"), role="licensing-officer")
    device_create(user=unscoped)
    institution_create(code="other-council", name="Other Council")
    accounts_services.staff_invite(
        actor=CLI,
        username="vendor-other",
        roles=[("other-council", "licensing-officer")],
        is_supplier=True,
        access_expires_at=clock.now() + dt.timedelta(days=7),
        supplier_company="Acme Digital",
    )
    outside = User.objects.get(username="vendor-other")
    role_grant(user=outside, institution=Institution.objects.get(code="city-council"), role="licensing-officer")
    device_create(user=outside)
    task = open_task(paid)
    officer = _officer()

    offered = {person.user_id for person in casework_selectors.eligible_assignees(user=officer, task_id=task.id)}

    assert offered == {officer.pk}
    for supplier in (unscoped, outside):
        assert casework_selectors._visible_tasks(supplier).filter(pk=task.pk).exists() is False
        assert paid.reference not in staff_client(supplier).get("/staff/queues/").content.decode()
        assert staff_client(supplier).get(f"/staff/files/{file_of(paid).id}/").status_code == 404
        with pytest.raises(AssigneeNotEligibleError):
            casework_services.task_assign(user=officer, task_id=task.id, assignee_id=supplier.pk, version=task.version)
    task.refresh_from_db()
    assert (task.status, task.assignee_id) == (TaskStatus.PENDING, None)
