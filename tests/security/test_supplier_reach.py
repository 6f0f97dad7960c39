"""A supplier limited to named services reaches only their tasks and files in casework (issue 8, supplier staff).

The supplier holds the street trading licence's officer role in
``city-council``; limited to another service, the trading task is not in
its queue, its file and task answer as if they did not exist, and nothing
it tries changes anything. Limited to the trading service, it works as a
civil servant holding the role would, and its audit entries are marked.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from govserve.accounts import services as accounts_services
from govserve.accounts.models import User
from govserve.accounts.tests.factories import device_create
from govserve.audit.actors import Actor
from govserve.audit.models import AuditEntry
from govserve.casework import selectors as casework_selectors
from govserve.casework import services as casework_services
from govserve.casework.errors import TaskNotFoundError
from govserve.casework.models import Task, TaskStatus
from govserve.casework.tests.support import file_of, open_task, trading_paid
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
